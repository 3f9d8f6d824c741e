"""A server's roadmap versions, and the completions a new version touches (never commits)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion, Cohort, ServerRoadmapVersion


class RoadmapVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all_current(self) -> Sequence[ServerRoadmapVersion]:
        statement = select(ServerRoadmapVersion).where(ServerRoadmapVersion.current.is_(True))
        return (await self._session.scalars(statement.order_by(ServerRoadmapVersion.id))).all()

    async def current(self, guild_id: int, key: str) -> ServerRoadmapVersion | None:
        statement = select(ServerRoadmapVersion).where(
            ServerRoadmapVersion.guild_id == guild_id,
            ServerRoadmapVersion.key == key,
            ServerRoadmapVersion.current.is_(True),
        )
        return await self._session.scalar(statement)

    async def versions(self, guild_id: int, key: str) -> Sequence[ServerRoadmapVersion]:
        statement = select(ServerRoadmapVersion).where(
            ServerRoadmapVersion.guild_id == guild_id, ServerRoadmapVersion.key == key
        )
        return (await self._session.scalars(statement.order_by(ServerRoadmapVersion.version))).all()

    async def last_version(self, guild_id: int, key: str) -> int:
        statement = select(func.max(ServerRoadmapVersion.version)).where(
            ServerRoadmapVersion.guild_id == guild_id, ServerRoadmapVersion.key == key
        )
        return int(await self._session.scalar(statement) or 0)

    async def retire(self, row_id: int) -> bool:
        """Mark one version no longer current, if it still is: False when another process got
        there first (compare-and-set, so two confirmations never leave two current versions)."""
        result = await self._session.execute(
            update(ServerRoadmapVersion)
            .where(ServerRoadmapVersion.id == row_id, ServerRoadmapVersion.current.is_(True))
            .values(current=False)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def add(self, row: ServerRoadmapVersion) -> None:
        self._session.add(row)


class FollowerRepository:
    """The cohorts that follow one of a server's roadmaps, and their members' completions."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def cohorts(self, guild_id: int, key: str) -> Sequence[Cohort]:
        statement = select(Cohort).where(Cohort.guild_id == guild_id, Cohort.roadmap_key == key)
        return (await self._session.scalars(statement.order_by(Cohort.name))).all()

    async def members_per_key(
        self, cohort_ids: Collection[int], keys: Collection[str]
    ) -> dict[str, set[int]]:
        """For each key, the members (by user id) with a completion of it in these cohorts."""
        found: dict[str, set[int]] = {}
        if not cohort_ids or not keys:
            return found
        statement = select(CheckpointCompletion.checkpoint_key, CheckpointCompletion.user_id).where(
            CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
            CheckpointCompletion.checkpoint_key.in_(list(keys)),
        )
        for key, user_id in await self._session.execute(statement):
            found.setdefault(key, set()).add(user_id)
        return found

    async def completion_rows(
        self, cohort_ids: Collection[int], keys: Collection[str]
    ) -> list[tuple[int, tuple[int, int], str]]:
        """(row id, (cohort id, user id), key) of every completion of ``keys`` in these cohorts."""
        if not cohort_ids or not keys:
            return []
        statement = select(
            CheckpointCompletion.id,
            CheckpointCompletion.cohort_id,
            CheckpointCompletion.user_id,
            CheckpointCompletion.checkpoint_key,
        ).where(
            CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
            CheckpointCompletion.checkpoint_key.in_(list(keys)),
        )
        return [
            (row_id, (cohort_id, user_id), key)
            for row_id, cohort_id, user_id, key in await self._session.execute(statement)
        ]

    async def rename(
        self, updates: Mapping[int, str], duplicates: Collection[int]
    ) -> list[tuple[int, int, datetime]]:
        """Delete the duplicates first, so a renamed row never meets its member's other one.

        Returns the deleted rows' (cohort, member, completed at), whose scores need a recount.
        """
        deleted: list[tuple[int, int, datetime]] = []
        if duplicates:
            wanted = CheckpointCompletion.id.in_(list(duplicates))
            found = await self._session.execute(
                select(
                    CheckpointCompletion.cohort_id,
                    CheckpointCompletion.user_id,
                    CheckpointCompletion.completed_at,
                ).where(wanted)
            )
            deleted = [(cohort_id, user_id, at) for cohort_id, user_id, at in found]
            await self._session.execute(delete(CheckpointCompletion).where(wanted))
        for row_id, key in updates.items():
            await self._session.execute(
                update(CheckpointCompletion)
                .where(CheckpointCompletion.id == row_id)
                .values(checkpoint_key=key)
            )
        return deleted
