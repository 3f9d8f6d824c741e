"""Claimed rows for a review round: closing, reminding, announcing, opening threads — each once.

A claim is a conditional UPDATE that only one caller can win, committed before the Discord call it
guards, so two processes (or two moderators) never post the same announcement or thread twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ReviewGroup, ReviewRound

# A round being filled holds ``-(FILLING + Unix time)`` in ``announcement_message_id``: a claim
# that nobody can take (until stale) and that ``is_filling`` tells apart from a poster's claim.
FILLING = 10**12


def filling_marker(unix_time: int) -> int:
    return -(FILLING + unix_time)


def is_filling(announcement_message_id: int | None) -> bool:
    return announcement_message_id is not None and announcement_message_id <= -FILLING


class RoundClaims:
    """Claims over one session (never commits: the caller's transaction makes them count)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_close(self, round_id: int, now: datetime) -> bool:
        """Mark a round closed unless someone already did: only the winner updates streaks."""
        result = await self._session.execute(
            update(ReviewRound)
            .where(ReviewRound.id == round_id, ReviewRound.closed_at.is_(None))
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def claim_reminder(self, round_id: int, now: datetime) -> bool:
        """Mark a round's reminder as sent unless someone already did, so it goes out once."""
        result = await self._session.execute(
            update(ReviewRound)
            .where(ReviewRound.id == round_id, ReviewRound.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def claim_announcement(self, round_id: int, claim: int, stale_before: int) -> bool:
        """Take the round's announcement to post it: free, or claimed before ``stale_before``.

        A claim is stored in ``announcement_message_id`` as a negative number, minus the claim's
        Unix time (a message id is never negative), until the real message id replaces it.
        """
        column = ReviewRound.announcement_message_id
        return await self._claim(
            update(ReviewRound).where(ReviewRound.id == round_id), column, claim, stale_before
        )

    async def claim_thread(self, group_id: int, claim: int, stale_before: int) -> bool:
        """Take a group's thread to open it, the same way (``thread_id`` holds the claim)."""
        column = ReviewGroup.thread_id
        return await self._claim(
            update(ReviewGroup).where(ReviewGroup.id == group_id), column, claim, stale_before
        )

    async def release_announcement(self, round_id: int) -> None:
        await self._session.execute(
            update(ReviewRound)
            .where(ReviewRound.id == round_id, ReviewRound.announcement_message_id < 0)
            .values(announcement_message_id=None)
            .execution_options(synchronize_session=False)
        )

    async def release_thread(self, group_id: int) -> None:
        await self._session.execute(
            update(ReviewGroup)
            .where(ReviewGroup.id == group_id, ReviewGroup.thread_id < 0)
            .values(thread_id=None)
            .execution_options(synchronize_session=False)
        )

    async def _claim(self, statement: Any, column: Any, claim: int, stale_before: int) -> bool:
        free = or_(
            column.is_(None),
            and_(column < 0, column > -stale_before),
            # a round left half-filled by a process that stopped: announceable once stale too
            and_(column <= -FILLING, column > -(FILLING + stale_before)),
        )
        result = await self._session.execute(
            statement.where(free).values({column: -claim}).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]
