"""Queries behind weekly prompts: the (cohort, week) post ledger, custom texts, activity counts.

The unique (cohort, week) key on ``prompt_posts`` is what makes posting idempotent: a row is
inserted ("claimed") and committed before a message is sent, so a second process, a restart or a
repeated fire finds the row and stays quiet. Like every repository, nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion, Cohort, CohortMember, CustomPrompt, PromptPost
from bot.db.upsert import insert_for, insert_if_new
from bot.kernel.slots import WeeklySlot

CLAIMED = "claimed"
SENT = "sent"
FAILED = "failed"
MISSED = "missed"
SKIPPED = "skipped"
# A week in one of these states was never delivered: a moderator may still post it by hand.
RECLAIMABLE = (FAILED, MISSED, SKIPPED)
# A week in one of these states went out, or is going out right now: it is never posted again.
DELIVERED = (SENT, CLAIMED)
# Rows per bulk insert: bounded memory however many weeks a long outage left behind.
SKIP_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class CatchUpRow:
    """What the start-up catch-up needs of a cohort, without loading whole cohort objects."""

    cohort_id: int
    guild_id: int
    name: str
    roadmap_key: str
    start_date: date
    slot: WeeklySlot


@functools.lru_cache(maxsize=20_000)
def _row_slot(weekday: int, at: time, timezone: str) -> WeeklySlot:
    """The prompt slot from its three columns, for the plain-row reads that skip ORM objects.

    Slots are immutable and cohorts share them, so 10,000 cohorts validate a few thousand at most.
    """
    return WeeklySlot(weekday=weekday, at=at, timezone=timezone)


class PromptPostRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, cohort_id: int, week: int) -> PromptPost | None:
        statement = select(PromptPost).where(PromptPost.cohort_id == cohort_id, PromptPost.week == week)
        return await self._session.scalar(statement)

    async def claim(self, guild_id: int, cohort_id: int, week: int, now: datetime) -> bool:
        """Insert the week's row as 'claimed'; False when any row for that week already exists.

        Runs in a savepoint so a lost race leaves the caller's transaction usable.
        """
        try:
            async with self._session.begin_nested():
                self._session.add(
                    PromptPost(
                        guild_id=guild_id, cohort_id=cohort_id, week=week, status=CLAIMED, claimed_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    async def reclaim(self, cohort_id: int, week: int, now: datetime) -> bool:
        """Take over a week that was never delivered (failed, missed, skipped); one winner only."""
        result = await self._session.execute(
            update(PromptPost)
            .where(
                PromptPost.cohort_id == cohort_id,
                PromptPost.week == week,
                PromptPost.status.in_(RECLAIMABLE),
            )
            .values(status=CLAIMED, claimed_at=now, error=None, message_id=None, sent_at=None)
        )
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def finish(
        self,
        cohort_id: int,
        week: int,
        status: str,
        *,
        message_id: int | None = None,
        sent_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        await self._session.execute(
            update(PromptPost)
            .where(PromptPost.cohort_id == cohort_id, PromptPost.week == week)
            .values(
                status=status, message_id=message_id, sent_at=sent_at, error=error[:300] if error else None
            )
        )

    async def skip(self, guild_id: int, cohort_id: int, weeks: Iterable[int], now: datetime) -> list[int]:
        """Record weeks as 'skipped' so they are never posted late; weeks with a row are left alone."""
        existing = set(
            await self._session.scalars(select(PromptPost.week).where(PromptPost.cohort_id == cohort_id))
        )
        wanted = [week for week in weeks if week not in existing]
        await self.skip_many([(guild_id, cohort_id, week) for week in wanted], now)
        return wanted

    async def skip_many(self, weeks: Sequence[tuple[int, int, int]], now: datetime) -> None:
        """Bulk form of ``skip`` for (guild, cohort, week) triples; a row that exists already wins.

        A few batched statements for the whole start-up catch-up: 10,000 cohorts back from a long
        outage must not cost a round trip per week.
        """
        for first in range(0, len(weeks), SKIP_BATCH):
            values = [
                {
                    "guild_id": guild_id,
                    "cohort_id": cohort_id,
                    "week": week,
                    "status": SKIPPED,
                    "claimed_at": now,
                    "error": "slot passed without a post",
                }
                for guild_id, cohort_id, week in weeks[first : first + SKIP_BATCH]
            ]
            await self._session.execute(
                insert_for(self._session, PromptPost).on_conflict_do_nothing(), values
            )

    async def last_week(self, cohort_id: int) -> int | None:
        """The newest week with any row: everything up to it has been handled one way or another."""
        statement = select(func.max(PromptPost.week)).where(PromptPost.cohort_id == cohort_id)
        value = await self._session.scalar(statement)
        return int(value) if value is not None else None

    async def last_weeks(self) -> dict[int, int]:
        statement = select(PromptPost.cohort_id, func.max(PromptPost.week)).group_by(PromptPost.cohort_id)
        return {row[0]: row[1] for row in await self._session.execute(statement)}

    async def stale_claims(self, before: datetime) -> Sequence[PromptPost]:
        """Claims never confirmed: the process died between claiming and sending."""
        statement = select(PromptPost).where(PromptPost.status == CLAIMED, PromptPost.claimed_at < before)
        return (await self._session.scalars(statement)).all()


class CustomPromptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, cohort_id: int, week: int) -> CustomPrompt | None:
        statement = select(CustomPrompt).where(CustomPrompt.cohort_id == cohort_id, CustomPrompt.week == week)
        return await self._session.scalar(statement)

    async def save(
        self, *, guild_id: int, cohort_id: int, week: int, text: str, author_id: int, now: datetime
    ) -> bool:
        """Store the week's text, replacing any there is; True when it replaced one.

        An upsert, so two moderators saving the same week at once both succeed: the later one
        replaces the earlier one and is told so, and nobody meets a unique-key error.
        """
        values = {
            "guild_id": guild_id,
            "cohort_id": cohort_id,
            "week": week,
            "text": text,
            "author_id": author_id,
            "created_at": now,
        }
        if not await self._insert_if_new(values):
            await self._session.execute(
                update(CustomPrompt)
                .where(CustomPrompt.cohort_id == cohort_id, CustomPrompt.week == week)
                .values(text=text, author_id=author_id, created_at=now)
            )
            return True
        return False

    async def _insert_if_new(self, values: dict[str, Any]) -> bool:
        """Insert the row unless the (cohort, week) has one; False when it had (or just got) one."""
        return await insert_if_new(self._session, CustomPrompt, values, ["cohort_id", "week"])


class PromptCohortRepository:
    """Cohort-wide reads for prompts: slots for the scheduler, activity for the post."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def slots(
        self, cohort_ids: Sequence[int] | None = None, *, owns: Callable[[int], bool] | None = None
    ) -> list[tuple[int, WeeklySlot]]:
        """(cohort id, prompt slot) for every cohort, or the given ones, of the guilds ``owns`` keeps."""
        statement = select(
            Cohort.id, Cohort.guild_id, Cohort.weekday, Cohort.slot_time, Cohort.timezone
        ).order_by(Cohort.id)
        if cohort_ids is not None:
            statement = statement.where(Cohort.id.in_(cohort_ids))
        return [
            (row[0], _row_slot(*row[2:]))
            for row in await self._session.execute(statement)
            if owns is None or owns(row[1])
        ]

    async def active_for_catch_up(self) -> list[CatchUpRow]:
        """Cohorts that post on their own (not paused, not finished), as plain rows: there may be many."""
        statement = (
            select(
                Cohort.id,
                Cohort.guild_id,
                Cohort.name,
                Cohort.roadmap_key,
                Cohort.start_date,
                Cohort.weekday,
                Cohort.slot_time,
                Cohort.timezone,
            )
            .where(Cohort.prompts_paused.is_(False), Cohort.finished_at.is_(None))
            .order_by(Cohort.id)
        )
        return [
            CatchUpRow(*row[:5], slot=_row_slot(*row[5:])) for row in await self._session.execute(statement)
        ]

    async def member_count(self, cohort_id: int) -> int:
        statement = select(func.count()).where(
            CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None)
        )
        return int(await self._session.scalar(statement) or 0)

    async def completers_between(self, cohort_id: int, start: datetime, end: datetime) -> int:
        """Current members who completed at least one checkpoint in [start, end)."""
        statement = (
            select(func.count(func.distinct(CheckpointCompletion.user_id)))
            .join(
                CohortMember,
                (CohortMember.cohort_id == CheckpointCompletion.cohort_id)
                & (CohortMember.user_id == CheckpointCompletion.user_id),
            )
            .where(
                CheckpointCompletion.cohort_id == cohort_id,
                CheckpointCompletion.completed_at >= start,
                CheckpointCompletion.completed_at < end,
                CohortMember.left_at.is_(None),
            )
        )
        return int(await self._session.scalar(statement) or 0)
