"""Per-server settings that moderators change with `/config`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import GuildSettingsRepository


class GuildConfigService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def moderator_role(self, guild_id: int) -> int | None:
        async with self._sessions() as session:
            settings = await GuildSettingsRepository(session).get(guild_id)
            return settings.moderator_role_id if settings else None

    async def set_moderator_role(self, guild_id: int, role_id: int | None) -> None:
        async with self._sessions.begin() as session:
            settings = await GuildSettingsRepository(session).get_or_create(guild_id, self._clock())
            settings.moderator_role_id = role_id
            settings.updated_at = self._clock()

    async def on_leave_policy(self, guild_id: int) -> str:
        async with self._sessions() as session:
            settings = await GuildSettingsRepository(session).get(guild_id)
            return settings.on_leave if settings else "keep"

    async def set_on_leave_policy(self, guild_id: int, policy: str) -> None:
        if policy not in {"keep", "purge"}:
            raise ValueError(policy)
        async with self._sessions.begin() as session:
            settings = await GuildSettingsRepository(session).get_or_create(guild_id, self._clock())
            settings.on_leave = policy
            settings.updated_at = self._clock()
