"""The weekly post's bookkeeping: which week a fire posts, the claim that makes it happen once,
and what the sender reports back.

The database is the source of truth. Before a message goes out, the (cohort, week) row is
inserted and committed as 'claimed'; whoever loses that race (a second process, a repeated fire,
a restart) posts nothing. After sending, the row becomes 'sent', 'failed' (the channel is gone or
closed to the bot: the cohort then needs attention) or 'missed' (Discord kept failing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, cohort_week, prompt_slot, roadmap_of
from bot.db.models import Cohort
from bot.kernel import slots
from bot.kernel.errors import ConflictError
from bot.kernel.text import echo
from bot.prompts import rules
from bot.prompts.base import PromptUseCases, compose_week, require_calendar, slot_instant
from bot.prompts.repository import (
    DELIVERED,
    FAILED,
    MISSED,
    SENT,
    PromptCohortRepository,
    PromptPostRepository,
)
from bot.prompts.views import OutgoingPost, PostedBefore

log = logging.getLogger(__name__)


class PromptPosting(PromptUseCases):
    """Claims for the scheduled job, the catch-up and ``/prompts post-now``, and their outcomes."""

    async def job_slots(
        self, cohort_ids: Sequence[int] | None = None, *, owns: Callable[[int], bool] | None = None
    ) -> list[tuple[int, slots.WeeklySlot]]:
        """(cohort id, slot) for every cohort, or the given ones: what the scheduler needs.

        ``owns(guild_id)`` keeps only the cohorts of guilds this process looks after (its shards).
        """
        async with self._sessions() as session:
            return await PromptCohortRepository(session).slots(cohort_ids, owns=owns)

    async def claim_scheduled(self, cohort_id: int) -> OutgoingPost | None:
        """What a scheduled fire posts now, already claimed; None when there is nothing to post.

        Nothing is posted for a paused, finished or not yet started cohort, or a week that has a
        row already. Past the roadmap's end the closing message is posted, once.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._posting_cohort(session, cohort_id)
            if cohort is None:
                return None
            week = rules.scheduled_week(prompt_slot(cohort), cohort.start_date, now, self._grace)
            return await self._claim(session, cohort, week, now, reclaim=False)

    async def claim_week(self, cohort_id: int, week: int) -> OutgoingPost | None:
        """Claim one given week (the start-up catch-up's choice); None if it is taken or not due."""
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._posting_cohort(session, cohort_id)
            if cohort is None:
                return None
            return await self._claim(session, cohort, week, now, reclaim=False)

    async def claim_current(self, guild_id: int, cohort_name: str) -> OutgoingPost | PostedBefore:
        """``/prompts post-now``: claim the week the cohort is in, or say it was posted already.

        A week that was skipped, missed or failed may be posted by hand; it then counts as that
        week's post. A paused cohort can still be posted to by hand.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            require_calendar(cohort, roadmap)
            week = cohort_week(cohort, now)
            if week < 1:
                raise ConflictError(
                    f"**{echo(cohort.name)}** starts on {cohort.start_date.isoformat()}: "
                    "there is no week to post before then."
                )
            week = min(week, rules.closing_week(roadmap))
            existing = await PromptPostRepository(session).get(cohort.id, week)
            if existing is not None and existing.status in DELIVERED:
                return _posted_before(cohort, week, existing.message_id, existing.sent_at)
            claimed = await self._claim(session, cohort, week, now, reclaim=existing is not None)
            if claimed is None:  # another process claimed it between our read and our write
                return _posted_before(cohort, week, None, None)
            return claimed

    async def mark_sent(self, post: OutgoingPost, message_id: int) -> None:
        """The message went out: record it, clear any attention flag, and close a finished cohort."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await PromptPostRepository(session).finish(
                post.cohort_id, post.week, SENT, message_id=message_id, sent_at=now
            )
            cohort = await CohortRepository(session).by_id(post.cohort_id)
            if cohort is not None:
                cohort.attention_reason = None
                cohort.attention_since = None
                if post.content.is_closing:
                    cohort.finished_at = now

    async def mark_failed(self, post: OutgoingPost, error: str, *, attention: str | None) -> None:
        """Discord refused for good; with ``attention``, moderators see why in /cohort info."""
        now = self._clock()
        async with self._sessions.begin() as session:
            await PromptPostRepository(session).finish(post.cohort_id, post.week, FAILED, error=error)
            if attention is not None:
                cohort = await CohortRepository(session).by_id(post.cohort_id)
                if cohort is not None:
                    cohort.attention_reason = attention[:300]
                    cohort.attention_since = cohort.attention_since or now

    async def mark_missed(self, post: OutgoingPost, error: str) -> None:
        """Discord kept failing after retries: the week is recorded as missed, not retried later."""
        async with self._sessions.begin() as session:
            await PromptPostRepository(session).finish(post.cohort_id, post.week, MISSED, error=error)

    @staticmethod
    async def _posting_cohort(session: AsyncSession, cohort_id: int) -> Cohort | None:
        """The cohort if it posts on its own: not deleted, paused or finished."""
        cohort = await CohortRepository(session).by_id(cohort_id)
        if cohort is None or cohort.prompts_paused or cohort.finished_at is not None:
            return None
        return cohort

    async def _claim(
        self, session: AsyncSession, cohort: Cohort, week: int, now: datetime, *, reclaim: bool
    ) -> OutgoingPost | None:
        """Take the (cohort, week) row and compose its post; None if the week is not ours to post."""
        if week < 1:
            return None
        roadmap = self._catalog.get(cohort.roadmap_key, cohort.guild_id)
        if roadmap is None:
            log.warning(
                "guild=%s cohort=%s follows roadmap %r, which is no longer in the content; no prompts",
                cohort.guild_id,
                cohort.id,
                cohort.roadmap_key,
            )
            return None
        if not rules.calendar_fits(cohort.start_date, roadmap):
            log.warning(
                "guild=%s cohort=%s starts on %s, outside the dates prompts can be computed for; no prompt",
                cohort.guild_id,
                cohort.id,
                cohort.start_date,
            )
            return None
        week = min(week, rules.closing_week(roadmap))
        posts = PromptPostRepository(session)
        if reclaim:
            claimed = await posts.reclaim(cohort.id, week, now)
        else:
            claimed = await posts.claim(cohort.guild_id, cohort.id, week, now)
        if not claimed:
            return None
        return OutgoingPost(
            cohort_id=cohort.id,
            guild_id=cohort.guild_id,
            cohort_name=cohort.name,
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            week=week,
            due_at=slot_instant(cohort, week),
            content=await compose_week(session, cohort, roadmap, week, now),
        )


def _posted_before(
    cohort: Cohort, week: int, message_id: int | None, sent_at: datetime | None
) -> PostedBefore:
    return PostedBefore(cohort.name, week, cohort.guild_id, cohort.channel_id, message_id, sent_at)
