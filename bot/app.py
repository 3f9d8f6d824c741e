"""``create_bot(settings)``: the Bot subclass, its error-handling tree and its extensions.

Nothing here touches the network or the database until ``setup_hook``, which discord.py runs at
login: it migrates the database, builds the services, loads every extension and syncs commands.

With ``SHARD_COUNT`` (and optionally ``SHARD_IDS``) the bot is an ``AutoShardedBot`` running those
shards; its scheduling facility then looks after only the guilds those shards own, and only the
process running shard 0 syncs the command tree. Without them: one plain ``Bot``, as before.
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from typing import Any

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.container import Services, build_services
from bot.content import load_catalog
from bot.db.engine import create_engine, upgrade_database
from bot.pacing import PostPacer
from bot.scheduling import Ownership, Scheduling
from bot.tree import WaypointTree

log = logging.getLogger(__name__)

EXTENSIONS_PACKAGE = "cogs"


def discover_extensions() -> list[str]:
    """Every module or package in ``cogs`` not starting with an underscore is an extension.

    Found recursively, so a command group can grow from one module into a package; the modules
    inside an extension package (``cog``, ``render``, ``jobs``) belong to it and are not loaded alone.
    """
    package = importlib.import_module(EXTENSIONS_PACKAGE)
    found = []
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{EXTENSIONS_PACKAGE}."):
        parts = module.name.split(".")
        if any(part.startswith("_") for part in parts):
            continue
        # A package is one extension (its __init__ has setup); its modules are not.
        if any(".".join(parts[:depth]) in found for depth in range(2, len(parts))):
            continue
        found.append(module.name)
    return sorted(found)


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, roadmaps, the schema, the command tree) out of every
    later garbage collection; once per process.

    A full collection walks every live object while holding the event loop: with a 10,000-member
    round in memory that was a 90-140 ms pause in the middle of members' commands. Objects made
    at start-up live as long as the process, so scanning them again finds nothing to free.
    """
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.collect()
        gc.freeze()


_startup_frozen = False


class WaypointBot(commands.Bot):
    def __init__(self, settings: Settings, clock: Clock, **shard_options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = True  # member departures and "still in the server" checks for pairing
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=WaypointTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            **shard_options,
        )
        self.settings = settings
        self.clock = clock
        self._engine: AsyncEngine | None = None
        self._services: Services | None = None
        self.scheduling = Scheduling(
            ownership=Ownership(settings.shard_count, settings.shard_ids),
            concurrency=settings.job_concurrency,
            clock=clock,
        )
        # One pacer for every request the bot sends on its own: posts, threads, reminders, DMs.
        self.pacer = PostPacer(rate=settings.post_rate)

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services exist only after setup_hook")
        return self._services

    async def setup_hook(self) -> None:
        if self._services is None:
            catalog = load_catalog(self.settings.content_dir)
            self._engine = create_engine(self.settings.database_url)
            await upgrade_database(self._engine)
            self._services = build_services(self.settings, self._engine, catalog, self.clock)
            own = await self._services.roadmaps.load()
            log.info("loaded %d roadmaps and %d servers' own", len(catalog), own)
        for extension in discover_extensions():
            if extension not in self.extensions:
                await self.load_extension(extension)
        self.scheduling.start()
        if self.settings.sync_commands and self.scheduling.ownership.syncs_commands:
            await self.sync_commands()
        freeze_startup_objects()

    async def on_ready(self) -> None:
        """Catch up what was missed while the bot was down, once per start (not per reconnect)."""
        await self.scheduling.catch_up()

    async def sync_commands(self) -> None:
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    async def close(self) -> None:
        self.scheduling.shutdown()
        try:
            await super().close()
        finally:
            if self._services is not None:
                self._services.review_rounds.shutdown()
            if self._engine is not None:
                await self._engine.dispose()
                self._engine = None
                self._services = None


class ShardedWaypointBot(WaypointBot, commands.AutoShardedBot):
    """The same bot over several gateway shards: ``SHARD_COUNT`` in all, ``SHARD_IDS`` in this process."""


def create_bot(settings: Settings, *, clock: Clock | None = None) -> WaypointBot:
    """Build an unstarted bot. ``clock`` defaults to discord's UTC clock (virtual under SimCord)."""
    if settings.shard_count is None:
        return WaypointBot(settings, clock or discord.utils.utcnow)
    shard_ids = list(settings.shard_ids) if settings.shard_ids is not None else None
    return ShardedWaypointBot(
        settings, clock or discord.utils.utcnow, shard_count=settings.shard_count, shard_ids=shard_ids
    )
