"""Sharded processes over one database: each guild's jobs run where its shard lives, once.

The bot under SimCord is an ``AutoShardedBot`` running shards 0 and 1 of 2. A second bot (a
rolling restart's newcomer, shard 1 only) is built with ``create_bot`` over the same database file
and speaks to the same simulated Discord, as a second process with the same token would. Both fire
the same slots at the same moment: every prompt goes out once, every review round is announced
once with one thread per pair, and nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import discord
import pytest
import simcord

from bot.app import ShardedWaypointBot, WaypointBot, create_bot
from bot.config import Settings
from bot.pacing import PostPacer
from bot.scheduling import prompt_job_id, shard_of, weekly_job_id

WEEK_1_SLOT = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # Monday 18:00 in Berlin: prompt and review slot
ANNOUNCEMENT = "**Code review round"


@pytest.fixture
def simcord_bot(make_bot: Callable[..., WaypointBot]) -> WaypointBot:
    return make_bot(shard_count=2, shard_ids=(0, 1))


async def _no_wait(_seconds: float) -> None:
    return None


def quick_pacer() -> PostPacer:
    return PostPacer(monotonic=lambda: 0.0, sleep=_no_wait)


class Server:
    """One guild on a chosen shard: a moderator, members who opt in to review, a study channel."""

    def __init__(self, env: simcord.Env, name: str, shard: int, members: int = 4) -> None:
        self.guild = env.create_guild(name, shard_id=shard)
        self.channel = self.guild.create_text_channel("study")
        mods = self.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        self.moderator = self.guild.add_member(env.create_user(f"mod-{name}"), roles=[mods])
        self.members = [self.guild.add_member(env.create_user(f"m{i}-{name}")) for i in range(members)]

    async def set_up(self) -> None:
        created = await self.moderator.slash(
            self.channel,
            "cohort create",
            name="Spring",
            roadmap="python-europe",
            channel=self.channel,
            start="2026-01-01",
            timezone="Europe/Berlin",
        )
        assert created.response is not None
        for member in self.members:
            await member.slash(self.channel, "cohort join", cohort="Spring")
            await member.slash(self.channel, "review join", cohort="Spring")

    def prompts(self) -> int:
        return sum(
            len(message.embeds) for message in self.channel.history() if message.interaction_metadata is None
        )

    def announcements(self) -> int:
        return sum(1 for message in self.channel.history() if message.content.startswith(ANNOUNCEMENT))


@pytest.fixture
async def newcomer(
    simcord_env: simcord.Env, settings: Settings, _bot_reuses_the_session_catalog: None
) -> AsyncIterator[Callable[[], Awaitable[WaypointBot]]]:
    """Builds the second process: shard 1 of 2, same database, same Discord (the env's HTTP state)."""
    built: list[WaypointBot] = []
    first = simcord_env.bot

    async def start() -> WaypointBot:
        """Started as discord.py's ``start`` does up to the login: the loop bound, then the hook
        (events the bot dispatches, such as a posted prompt, need the loop)."""
        bot = create_bot(settings.model_copy(update={"shard_count": 2, "shard_ids": (1,)}))
        bot.get_guild = first.get_guild  # type: ignore[method-assign]
        bot.get_partial_messageable = first.get_partial_messageable  # type: ignore[method-assign]
        bot.pacer = quick_pacer()
        built.append(bot)
        await bot._async_setup_hook()
        await bot.setup_hook()
        return bot

    yield start
    for bot in built:
        # A sharded client that never logged in has no event queue for discord.py's close to use.
        with contextlib.suppress(AttributeError):
            await bot.close()


async def fire_all(bot: WaypointBot, prefix: str) -> list[asyncio.Future[None]]:
    jobs = [job for job in bot.scheduling.scheduler.get_jobs() if job.id.startswith(f"{prefix}:")]
    return [asyncio.ensure_future(job.func(*job.args)) for job in jobs]


@pytest.mark.slow
async def test_two_processes_with_overlapping_shards_post_each_week_and_round_once(
    simcord_env: simcord.Env, newcomer: Callable[[], Awaitable[WaypointBot]]
) -> None:
    first = simcord_env.bot
    assert isinstance(first, ShardedWaypointBot)
    first.pacer = quick_pacer()
    servers = [Server(simcord_env, f"S{number}", shard=number % 2) for number in range(4)]
    for server in servers:
        await server.set_up()
    second = await newcomer()
    # The newcomer schedules only what shard 1 owns; the first process owns everything.
    owned = {server.guild.id for server in servers if shard_of(server.guild.id, 2) == 1}
    cohorts = {
        server.guild.id: (await first.services.cohorts.info(server.guild.id, "Spring")).id
        for server in servers
    }
    for guild_id, cohort_id in cohorts.items():
        assert first.scheduling.get_job(prompt_job_id(cohort_id)) is not None
        assert (second.scheduling.get_job(prompt_job_id(cohort_id)) is not None) == (guild_id in owned)
        assert (second.scheduling.get_job(weekly_job_id("review", cohort_id)) is not None) == (
            guild_id in owned
        )
    await simcord_env.advance_time((WEEK_1_SLOT - simcord_env.now()).total_seconds())
    # Both processes fire the same slots at the same moment (prompts and review rounds).
    tasks = [
        *(await fire_all(first, "prompt")),
        *(await fire_all(second, "prompt")),
        *(await fire_all(first, "review")),
        *(await fire_all(second, "review")),
    ]
    await asyncio.gather(*tasks)
    await simcord_env.settle()
    for server in servers:
        assert server.prompts() == 1, server.guild.name
        assert server.announcements() == 1, server.guild.name
        assert len(server.channel.threads) == 2, server.guild.name  # 4 members: two pairs
    assert simcord_env.errors == []


async def test_a_process_killed_mid_round_loses_nothing(
    simcord_env: simcord.Env, newcomer: Callable[[], Awaitable[WaypointBot]]
) -> None:
    """The first process pairs the round and dies before posting; the newcomer's upkeep posts it all."""
    first = simcord_env.bot
    assert isinstance(first, WaypointBot)
    server = Server(simcord_env, "Late", shard=1)
    await server.set_up()
    cohort_id = (await first.services.cohorts.info(server.guild.id, "Spring")).id
    await simcord_env.advance_time((WEEK_1_SLOT - simcord_env.now()).total_seconds())
    present = {member.id for member in server.members}
    outcome = await first.services.review_rounds.run_scheduled_round(cohort_id, present.__contains__)
    assert outcome is not None and outcome.created  # stored, nothing posted: then the process died
    assert server.announcements() == 0
    second = await newcomer()
    jobs = second.get_cog("ReviewJobs")
    assert jobs is not None
    await jobs.run_upkeep()  # type: ignore[attr-defined]
    await simcord_env.settle()
    assert server.announcements() == 1
    assert len(server.channel.threads) == 2
