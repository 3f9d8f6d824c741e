"""Server settings written at the same moment (issue: hostile use, races): no setting is lost."""

from __future__ import annotations

import asyncio

from bot.cohorts.settings import GuildConfigService
from bot.container import Services
from bot.db.engine import create_sessionmaker
from tests.db.conftest import FakeClock

GUILD = 900_000_000_000_000_001
ROLE = 900_000_000_000_000_777


async def warm_pool(services: Services) -> None:
    """Open a few connections first: a fresh one takes long enough to connect that the first
    command would finish before the second reads, and the race would never be run."""
    await asyncio.gather(*(services.guild_config.on_leave_policy(GUILD) for _ in range(4)))


async def test_two_settings_on_a_new_server_at_the_same_moment_both_take_effect(
    services: Services, clock: FakeClock
) -> None:
    # Two services over the same file: two connections, as two moderators' commands would use.
    other = GuildConfigService(create_sessionmaker(services.sessions.kw["bind"]), clock)
    await warm_pool(services)

    await asyncio.gather(
        services.guild_config.set_moderator_role(GUILD, ROLE),
        other.set_on_leave_policy(GUILD, "purge"),
    )

    assert await services.guild_config.moderator_role(GUILD) == ROLE
    assert await services.guild_config.on_leave_policy(GUILD) == "purge"


async def test_the_same_setting_twice_at_once_is_stored_once(services: Services) -> None:
    await warm_pool(services)
    await asyncio.gather(*(services.guild_config.set_on_leave_policy(GUILD, "purge") for _ in range(4)))

    assert await services.guild_config.on_leave_policy(GUILD) == "purge"


async def test_a_later_setting_keeps_the_earlier_one(services: Services) -> None:
    await services.guild_config.set_on_leave_policy(GUILD, "purge")
    await services.guild_config.set_moderator_role(GUILD, ROLE)
    await services.guild_config.set_on_leave_policy(GUILD, "keep")

    assert await services.guild_config.moderator_role(GUILD) == ROLE
    assert await services.guild_config.on_leave_policy(GUILD) == "keep"
