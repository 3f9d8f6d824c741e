"""``create_bot(settings)``: the Bot subclass, its error-handling tree and its extensions.

Nothing here touches the network or the database until ``setup_hook``, which discord.py runs at
login: it migrates the database, builds the services, loads every extension and syncs commands.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.container import Services, build_services
from bot.content import load_catalog
from bot.db.engine import create_engine, upgrade_database
from bot.kernel.errors import DomainError
from bot.scheduling import create_scheduler

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on our side while handling that. The error was logged; please try again."


EXTENSIONS_PACKAGE = "cogs"


def discover_extensions() -> list[str]:
    """Every module in ``cogs`` not starting with an underscore is an extension."""
    package = importlib.import_module(EXTENSIONS_PACKAGE)
    return sorted(
        f"{EXTENSIONS_PACKAGE}.{module.name}"
        for module in pkgutil.iter_modules(package.__path__)
        if not module.name.startswith("_")
    )


Guard = Callable[[discord.Interaction[Any]], Awaitable[None]]


def _answer_domain_errors(callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a command callback so expected failures become a reply instead of an exception.

    A ``DomainError`` (bad input, unknown names, no permission) is part of normal use: it is
    answered with its own sentence and never reaches ``on_error``, which stays for real bugs.
    A guard set by a decorator such as ``cogs._checks.moderator_only`` runs first.
    """
    guard: Guard | None = getattr(callback, "__waypoint_guard__", None)

    @functools.wraps(callback)
    async def answered(*args: Any, **kwargs: Any) -> Any:
        interaction = next(arg for arg in args if isinstance(arg, discord.Interaction))
        try:
            if guard is not None:
                await guard(interaction)
            return await callback(*args, **kwargs)
        except DomainError as error:
            log.info(
                "refused guild=%s user=%s command=%s: %s",
                interaction.guild_id,
                interaction.user.id,
                interaction.command.qualified_name if interaction.command else "?",
                error.message,
            )
            await send_ephemeral(interaction, error.message)
            return None

    return answered


class WaypointTree(app_commands.CommandTree["WaypointBot"]):
    """Answers every failure with one short ephemeral reply; only unexpected ones are logged."""

    def add_command(self, command: Any, /, **kwargs: Any) -> None:
        commands_to_wrap = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in commands_to_wrap:
            if isinstance(leaf, app_commands.Command) and not hasattr(leaf.callback, "__wrapped__"):
                # discord.py has no public hook around a callback; parameters were already read.
                leaf._callback = _answer_domain_errors(leaf.callback)  # type: ignore[assignment]
        super().add_command(command, **kwargs)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(original, DomainError):
            message = original.message
        elif isinstance(error, app_commands.TransformerError):
            message = f"`{error.value}` isn't a valid {error.type.name.lower()} here."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = "This command works inside a server, not in direct messages."
        elif isinstance(error, app_commands.CheckFailure):
            message = str(error) or "You can't use this command here."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "unexpected error guild=%s user=%s command=%s",
                interaction.guild_id,
                interaction.user.id,
                command,
                exc_info=original,
            )
            message = APOLOGY
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Reply ephemerally, as a followup when the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply guild=%s", interaction.guild_id, exc_info=True)


class WaypointBot(commands.Bot):
    def __init__(self, settings: Settings, clock: Clock) -> None:
        intents = discord.Intents.default()
        intents.members = True  # member departures and "still in the server" checks for pairing
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=WaypointTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
        )
        self.settings = settings
        self.clock = clock
        self._engine: AsyncEngine | None = None
        self._services: Services | None = None
        self.scheduler = create_scheduler()

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
            log.info("loaded %d roadmaps", len(catalog))
        for extension in discover_extensions():
            if extension not in self.extensions:
                await self.load_extension(extension)
        if not self.scheduler.running:
            self.scheduler.start()
        if self.settings.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands", len(synced))

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._services = None


def create_bot(settings: Settings, *, clock: Clock | None = None) -> WaypointBot:
    """Build an unstarted bot. ``clock`` defaults to discord's UTC clock (virtual under SimCord)."""
    return WaypointBot(settings, clock or discord.utils.utcnow)
