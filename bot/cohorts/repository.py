"""Repositories: queries over one session. They never commit; services own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Cohort, CohortMember, GuildSettings
from bot.db.upsert import insert_for
from bot.kernel.text import lookalike_key


class GuildSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, guild_id: int) -> GuildSettings | None:
        return await self._session.get(GuildSettings, guild_id)

    async def get_or_create(self, guild_id: int, now: datetime) -> GuildSettings:
        """The server's settings row, created if missing, safe against a concurrent creator.

        Two moderators changing two settings of a new server at the same moment both insert the
        row; ``INSERT ... ON CONFLICT DO NOTHING`` lets the second one find the first one's row
        and change only its own column, so neither setting is lost.
        """
        values = {"guild_id": guild_id, "on_leave": "keep", "updated_at": now}
        await self._session.execute(
            insert_for(self._session, GuildSettings).values(values).on_conflict_do_nothing()
        )
        settings = await self._session.get(GuildSettings, guild_id, populate_existing=True)
        assert settings is not None
        return settings


class CohortRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, cohort: Cohort) -> None:
        self._session.add(cohort)

    async def by_name(self, guild_id: int, name: str) -> Cohort | None:
        statement = select(Cohort).where(Cohort.guild_id == guild_id, Cohort.name_key == lookalike_key(name))
        return await self._session.scalar(statement)

    async def by_id(self, cohort_id: int) -> Cohort | None:
        return await self._session.get(Cohort, cohort_id)

    async def in_guild(self, guild_id: int) -> Sequence[Cohort]:
        statement = select(Cohort).where(Cohort.guild_id == guild_id).order_by(Cohort.name_key)
        return (await self._session.scalars(statement)).all()

    async def all(self) -> Sequence[Cohort]:
        return (await self._session.scalars(select(Cohort).order_by(Cohort.id))).all()

    async def member_counts(self, guild_id: int) -> dict[int, int]:
        statement = (
            select(CohortMember.cohort_id, func.count())
            .where(CohortMember.guild_id == guild_id, CohortMember.left_at.is_(None))
            .group_by(CohortMember.cohort_id)
        )
        return {row[0]: row[1] for row in await self._session.execute(statement)}


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, cohort_id: int, user_id: int) -> CohortMember | None:
        statement = select(CohortMember).where(
            CohortMember.cohort_id == cohort_id, CohortMember.user_id == user_id
        )
        return await self._session.scalar(statement)

    def add(self, member: CohortMember) -> None:
        self._session.add(member)

    async def active_cohorts_of(self, guild_id: int, user_id: int) -> Sequence[Cohort]:
        statement = (
            select(Cohort)
            .join(CohortMember, CohortMember.cohort_id == Cohort.id)
            .where(
                CohortMember.guild_id == guild_id,
                CohortMember.user_id == user_id,
                CohortMember.left_at.is_(None),
            )
            .order_by(Cohort.name_key)
        )
        return (await self._session.scalars(statement)).all()

    async def active_in(self, cohort_id: int) -> Sequence[CohortMember]:
        statement = (
            select(CohortMember)
            .where(CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None))
            .order_by(CohortMember.joined_at, CohortMember.user_id)
        )
        return (await self._session.scalars(statement)).all()
