"""Checkpoint completions of one member, over one session (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion


class CompletionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, cohort_id: int, user_id: int, checkpoint_key: str) -> CheckpointCompletion | None:
        statement = select(CheckpointCompletion).where(
            CheckpointCompletion.cohort_id == cohort_id,
            CheckpointCompletion.user_id == user_id,
            CheckpointCompletion.checkpoint_key == checkpoint_key,
        )
        return await self._session.scalar(statement)

    def add(self, completion: CheckpointCompletion) -> None:
        self._session.add(completion)

    async def remove(self, completion: CheckpointCompletion) -> None:
        await self._session.delete(completion)

    async def completed_keys(self, cohort_id: int, user_id: int) -> dict[str, datetime]:
        statement = select(CheckpointCompletion.checkpoint_key, CheckpointCompletion.completed_at).where(
            CheckpointCompletion.cohort_id == cohort_id, CheckpointCompletion.user_id == user_id
        )
        return {row[0]: row[1] for row in await self._session.execute(statement)}
