"""Checkpoint completions of one member, over one session (never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion
from bot.db.upsert import insert_if_new


class CompletionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_if_new(self, completion: dict[str, Any]) -> bool:
        """Store a completion unless the member has that checkpoint already (a double submit may
        race us): one statement, True when this call stored it."""
        unique = ["cohort_id", "user_id", "checkpoint_key"]
        return await insert_if_new(self._session, CheckpointCompletion, completion, unique)

    async def amend(self, cohort_id: int, user_id: int, checkpoint_key: str, **given: str | None) -> None:
        """Take a newly given evidence link or note on a completion; what is not given stays."""
        changes = {name: value for name, value in given.items() if value}
        if changes:
            await self._session.execute(
                update(CheckpointCompletion)
                .where(*_one(cohort_id, user_id, checkpoint_key))
                .values(changes)
                .execution_options(synchronize_session=False)
            )

    async def remove(self, cohort_id: int, user_id: int, checkpoint_key: str) -> datetime | None:
        """Delete the member's completion; when it was completed, or None if there was none."""
        statement = (
            delete(CheckpointCompletion)
            .where(*_one(cohort_id, user_id, checkpoint_key))
            .returning(CheckpointCompletion.completed_at)
            .execution_options(synchronize_session=False)
        )
        return await self._session.scalar(statement)

    async def completed_keys(self, cohort_id: int, user_id: int) -> dict[str, datetime]:
        statement = select(CheckpointCompletion.checkpoint_key, CheckpointCompletion.completed_at).where(
            CheckpointCompletion.cohort_id == cohort_id, CheckpointCompletion.user_id == user_id
        )
        return {row[0]: row[1] for row in await self._session.execute(statement)}


def _one(cohort_id: int, user_id: int, checkpoint_key: str) -> tuple[ColumnElement[bool], ...]:
    return (
        CheckpointCompletion.cohort_id == cohort_id,
        CheckpointCompletion.user_id == user_id,
        CheckpointCompletion.checkpoint_key == checkpoint_key,
    )
