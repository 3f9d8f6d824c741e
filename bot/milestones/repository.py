"""Milestone role settings and grants, over one session (never commits).

Grants move between states with conditional updates (``WHERE state = ...``), so two requests
racing over the same grant cannot both act on it: the one whose update matched a row goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion, Cohort, MilestoneGrant, MilestoneRole
from bot.milestones.rules import NEEDS_ATTENTION, GrantState


class MilestoneRoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, guild_id: int, roadmap_key: str, phase_key: str) -> MilestoneRole | None:
        statement = select(MilestoneRole).where(
            MilestoneRole.guild_id == guild_id,
            MilestoneRole.roadmap_key == roadmap_key,
            MilestoneRole.phase_key == phase_key,
        )
        return await self._session.scalar(statement)

    async def in_guild(self, guild_id: int) -> Sequence[MilestoneRole]:
        statement = (
            select(MilestoneRole)
            .where(MilestoneRole.guild_id == guild_id)
            .order_by(MilestoneRole.roadmap_key, MilestoneRole.id)
        )
        return (await self._session.scalars(statement)).all()

    async def put(
        self, guild_id: int, roadmap_key: str, phase_key: str, role_id: int, actor_id: int, now: datetime
    ) -> int | None:
        """Set the phase's role; the role it had before (None if it had none). A racing insert is absorbed."""
        found = await self.get(guild_id, roadmap_key, phase_key)
        if found is None:
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        MilestoneRole(
                            guild_id=guild_id,
                            roadmap_key=roadmap_key,
                            phase_key=phase_key,
                            role_id=role_id,
                            configured_by=actor_id,
                            configured_at=now,
                        )
                    )
                return None
            except IntegrityError:
                found = await self.get(guild_id, roadmap_key, phase_key)
                assert found is not None
        previous = found.role_id
        if previous != role_id:
            found.role_id = role_id
            found.configured_by = actor_id
            found.configured_at = now
        return previous

    async def remove(self, guild_id: int, roadmap_key: str, phase_key: str) -> int | None:
        """Delete the phase's setting; the role it had (None if there was none)."""
        found = await self.get(guild_id, roadmap_key, phase_key)
        if found is None:
            return None
        await self._session.delete(found)
        return found.role_id


class GrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, guild_id: int, user_id: int, roadmap_key: str, phase_key: str
    ) -> MilestoneGrant | None:
        statement = select(MilestoneGrant).where(
            MilestoneGrant.guild_id == guild_id,
            MilestoneGrant.user_id == user_id,
            MilestoneGrant.roadmap_key == roadmap_key,
            MilestoneGrant.phase_key == phase_key,
        )
        return await self._session.scalar(statement)

    async def claim_new(self, grant: MilestoneGrant) -> bool:
        """Insert a claimed grant; False when another request claimed it first."""
        try:
            async with self._session.begin_nested():
                self._session.add(grant)
            return True
        except IntegrityError:
            return False

    async def move(self, grant_id: int, expected: GrantState, **values: object) -> bool:
        """Change a grant only if it is still in ``expected``; whether it was."""
        result = await self._session.execute(
            update(MilestoneGrant)
            .where(MilestoneGrant.id == grant_id, MilestoneGrant.state == expected.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    async def drop(self, grant_id: int, expected: GrantState) -> bool:
        result = await self._session.execute(
            delete(MilestoneGrant)
            .where(MilestoneGrant.id == grant_id, MilestoneGrant.state == expected.value)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    async def drop_failed(self, guild_id: int, roadmap_key: str, phase_key: str) -> int:
        """Forget refused grants of a phase whose milestone role was cleared (nothing was given)."""
        result = await self._session.execute(
            delete(MilestoneGrant)
            .where(
                MilestoneGrant.guild_id == guild_id,
                MilestoneGrant.roadmap_key == roadmap_key,
                MilestoneGrant.phase_key == phase_key,
                MilestoneGrant.state == GrantState.FAILED.value,
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def failed_in_phase(
        self, guild_id: int, roadmap_key: str, phase_key: str
    ) -> Sequence[MilestoneGrant]:
        """The phase's refused grants, oldest refusal first."""
        statement = (
            select(MilestoneGrant)
            .where(
                MilestoneGrant.guild_id == guild_id,
                MilestoneGrant.roadmap_key == roadmap_key,
                MilestoneGrant.phase_key == phase_key,
                MilestoneGrant.state == GrantState.FAILED.value,
            )
            .order_by(MilestoneGrant.failed_at, MilestoneGrant.id)
        )
        return (await self._session.scalars(statement)).all()

    async def tallies(self, guild_id: int) -> dict[tuple[str, str, str], int]:
        """(roadmap, phase, state) -> number of grants, for one server."""
        statement = (
            select(MilestoneGrant.roadmap_key, MilestoneGrant.phase_key, MilestoneGrant.state, func.count())
            .where(MilestoneGrant.guild_id == guild_id)
            .group_by(MilestoneGrant.roadmap_key, MilestoneGrant.phase_key, MilestoneGrant.state)
        )
        return {(row[0], row[1], row[2]): int(row[3]) for row in await self._session.execute(statement)}

    async def needing_attention(
        self, guild_id: int, *, cohort_id: int | None = None
    ) -> Sequence[MilestoneGrant]:
        """Grants Discord refused (to give or to take back), newest first."""
        statement = select(MilestoneGrant).where(
            MilestoneGrant.guild_id == guild_id,
            MilestoneGrant.state.in_([state.value for state in NEEDS_ATTENTION]),
        )
        if cohort_id is not None:
            statement = statement.where(MilestoneGrant.cohort_id == cohort_id)
        statement = statement.order_by(MilestoneGrant.failed_at.desc(), MilestoneGrant.id.desc())
        return (await self._session.scalars(statement)).all()


async def completed_by_cohort(
    session: AsyncSession, guild_id: int, user_id: int, roadmap_key: str, checkpoint_keys: Sequence[str]
) -> dict[int, set[str]]:
    """Which of ``checkpoint_keys`` the member has done, per cohort of theirs on ``roadmap_key``."""
    statement = (
        select(CheckpointCompletion.cohort_id, CheckpointCompletion.checkpoint_key)
        .join(Cohort, Cohort.id == CheckpointCompletion.cohort_id)
        .where(
            CheckpointCompletion.guild_id == guild_id,
            CheckpointCompletion.user_id == user_id,
            Cohort.roadmap_key == roadmap_key,
            CheckpointCompletion.checkpoint_key.in_(list(checkpoint_keys)),
        )
    )
    found: dict[int, set[str]] = {}
    for cohort_id, key in await session.execute(statement):
        found.setdefault(cohort_id, set()).add(key)
    return found
