"""Weekly prompts: what to post and when, and the ledger that makes each week post exactly once.

The database is the source of truth. Before a message goes out, the (cohort, week) row is
inserted and committed as 'claimed'; whoever loses that race (a second process, a repeated fire,
a restart) posts nothing. After sending, the row becomes 'sent', 'failed' (the channel is gone or
closed to the bot: the cohort then needs attention) or 'missed' (Discord kept failing). Weeks
whose slot passed unposted become 'skipped', so they are never flooded into a channel later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.service import CohortService
from bot.content import RoadmapCatalog
from bot.db.models import Cohort, CustomPrompt
from bot.kernel import slots
from bot.kernel.errors import ConflictError, InvalidInputError
from bot.kernel.roadmap import Roadmap
from bot.prompts import rules
from bot.prompts.repository import (
    CLAIMED,
    FAILED,
    MISSED,
    SENT,
    CustomPromptRepository,
    PromptCohortRepository,
    PromptPostRepository,
)
from bot.prompts.rules import PromptContent

log = logging.getLogger(__name__)

# A claim this old was never confirmed: the process that made it died before sending.
STALE_CLAIM = timedelta(minutes=5)
DELIVERED = (SENT, CLAIMED)


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    """A claimed week, ready to send: the caller must report back with ``mark_*``."""

    cohort_id: int
    guild_id: int
    cohort_name: str
    channel_id: int
    role_id: int | None
    week: int
    due_at: datetime
    content: PromptContent


@dataclass(frozen=True, slots=True)
class PostedBefore:
    """``/prompts post-now`` found the current week already delivered (or being delivered)."""

    cohort_name: str
    week: int
    guild_id: int
    channel_id: int
    message_id: int | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class PromptPreview:
    cohort_name: str
    guild_id: int
    channel_id: int
    role_id: int | None
    slot: slots.WeeklySlot
    week: int
    due_at: datetime
    content: PromptContent
    status: str | None
    message_id: int | None
    sent_at: datetime | None
    paused: bool
    finished: bool
    attention_reason: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class PauseChange:
    cohort_name: str
    changed: bool


@dataclass(frozen=True, slots=True)
class ResumeChange:
    cohort_name: str
    changed: bool
    skipped_weeks: tuple[int, ...]
    next_week: int | None
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomPromptChange:
    cohort_name: str
    week: int
    replaced: bool
    already_posted: bool
    due_at: datetime
    length: int


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    cohort_id: int
    cohort_name: str
    slot: slots.WeeklySlot
    channel_id: int
    role_id: int | None
    next_week: int | None
    next_at: datetime | None
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CatchUpPlan:
    """Start-up decision for one cohort: the week to post late (if any) and the weeks skipped."""

    cohort_id: int
    guild_id: int
    cohort_name: str
    week: int | None
    skipped_weeks: tuple[int, ...]


def slot_of(cohort: Cohort) -> slots.WeeklySlot:
    return slots.WeeklySlot(weekday=cohort.weekday, at=cohort.slot_time, timezone=cohort.timezone)


class PromptService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cohorts: CohortService,
        catalog: RoadmapCatalog,
        clock: Clock,
        grace: timedelta,
    ) -> None:
        self._sessions = sessions
        self._cohorts = cohorts
        self._catalog = catalog
        self._clock = clock
        self._grace = grace

    # --- scheduler support ---------------------------------------------------------------------

    async def job_slots(self, cohort_ids: Sequence[int] | None = None) -> list[tuple[int, slots.WeeklySlot]]:
        """(cohort id, slot) for every cohort, or the given ones: what the scheduler needs."""
        async with self._sessions() as session:
            rows = await PromptCohortRepository(session).slot_rows(cohort_ids)
        return [
            (row.cohort_id, slots.WeeklySlot(weekday=row.weekday, at=row.slot_time, timezone=row.timezone))
            for row in rows
        ]

    async def claim_scheduled(self, cohort_id: int) -> OutgoingPost | None:
        """What a scheduled fire posts now, already claimed; None when there is nothing to post.

        Nothing is posted for a paused, finished or not yet started cohort, or a week that has a
        row already. Past the roadmap's end the closing message is posted, once.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
            if cohort is None or cohort.prompts_paused or cohort.finished_at is not None:
                return None
            week = rules.scheduled_week(slot_of(cohort), cohort.start_date, now, self._grace)
            return await self._claim(session, cohort, week, now, reclaim=False)

    async def claim_week(self, cohort_id: int, week: int) -> OutgoingPost | None:
        """Claim one given week (the start-up catch-up's choice); None if it is taken or not due."""
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
            if cohort is None or cohort.prompts_paused or cohort.finished_at is not None:
                return None
            return await self._claim(session, cohort, week, now, reclaim=False)

    async def claim_current(self, guild_id: int, cohort_name: str) -> OutgoingPost | PostedBefore:
        """``/prompts post-now``: claim the week the cohort is in, or say it was posted already.

        A week that was skipped, missed or failed may be posted by hand; it then counts as that
        week's post. A paused cohort can still be posted to by hand.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            week = slots.cohort_week(cohort.start_date, now, cohort.timezone)
            if week < 1:
                raise ConflictError(
                    f"**{cohort.name}** starts on {cohort.start_date.isoformat()}: "
                    "there is no week to post before then."
                )
            week = min(week, rules.closing_week(roadmap))
            existing = await PromptPostRepository(session).get(cohort.id, week)
            if existing is not None and existing.status in DELIVERED:
                return self._posted_before(cohort, week, existing.message_id, existing.sent_at)
            claimed = await self._claim(session, cohort, week, now, reclaim=existing is not None)
            if claimed is None:  # another process claimed it between our read and our write
                return self._posted_before(cohort, week, None, None)
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

    async def catch_up(self) -> list[CatchUpPlan]:
        """Start-up: for each active cohort, post the latest missed week if it is recent, skip older ones.

        Skipped weeks are recorded so they are reported once and never posted. The closing
        message is never skipped: if its slot passed long ago it goes out at the next fire.
        """
        now = self._clock()
        plans: list[CatchUpPlan] = []
        to_skip: list[tuple[int, int, int]] = []
        async with self._sessions.begin() as session:
            posts = PromptPostRepository(session)
            for stale in await posts.stale_claims(now - STALE_CLAIM):
                stale.status = MISSED
                stale.error = "claimed but never confirmed as sent (the bot stopped mid-post)"
                log.warning(
                    "guild=%s cohort=%s week %s was claimed but never sent; recorded as missed",
                    stale.guild_id,
                    stale.cohort_id,
                    stale.week,
                )
            last_weeks = await posts.last_weeks()
            for row in await PromptCohortRepository(session).active_for_catch_up():
                roadmap = self._catalog.get(row.roadmap_key)
                if roadmap is None:
                    log.warning(
                        "guild=%s cohort=%s: roadmap %r is gone", row.guild_id, row.cohort_id, row.roadmap_key
                    )
                    continue
                last = last_weeks.get(row.cohort_id)
                slot = slots.WeeklySlot(weekday=row.weekday, at=row.slot_time, timezone=row.timezone)
                decision = slots.catch_up_decision(slot, row.start_date, last, now, self._grace)
                if decision.nothing_to_do:
                    continue
                closing = rules.closing_week(roadmap)
                week = decision.post_week
                if week is not None and week >= closing:
                    week = closing if (last or 0) < closing else None
                # Every skipped week is newer than the cohort's last row, so none has a row yet.
                skipped = tuple(number for number in decision.skipped_weeks if number < closing)
                to_skip += [(row.guild_id, row.cohort_id, number) for number in skipped]
                if week is not None or skipped:
                    plans.append(CatchUpPlan(row.cohort_id, row.guild_id, row.name, week, skipped))
            await posts.skip_many(to_skip, now)
        return plans

    # --- commands ------------------------------------------------------------------------------

    async def preview(self, guild_id: int, cohort_name: str, week: int | None = None) -> PromptPreview:
        """Exactly what would be posted for ``week`` (default: the next post) and when."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            slot = slot_of(cohort)
            closing = rules.closing_week(roadmap)
            if week is not None:
                rules.validate_week(roadmap, week)
                target, due_at = week, rules.slot_in_week(slot, cohort.start_date, week)
            elif cohort.finished_at is not None:
                target, due_at = closing, rules.slot_in_week(slot, cohort.start_date, closing)
            else:
                target, due_at = rules.next_post(slot, cohort.start_date, now)
                target = min(target, closing)
            row = await PromptPostRepository(session).get(cohort.id, target)
            if target == closing and row is None and due_at <= now and cohort.finished_at is None:
                # A closing message whose slot passed unposted still goes out at the next fire.
                due_at = rules.next_post(slot, cohort.start_date, now)[1]
            content = await self._compose(session, cohort, roadmap, target, now)
        return PromptPreview(
            cohort_name=cohort.name,
            guild_id=cohort.guild_id,
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            slot=slot,
            week=target,
            due_at=due_at,
            content=content,
            status=row.status if row else None,
            message_id=row.message_id if row else None,
            sent_at=row.sent_at if row else None,
            paused=cohort.prompts_paused,
            finished=cohort.finished_at is not None,
            attention_reason=cohort.attention_reason,
            now=now,
        )

    async def pause(self, guild_id: int, cohort_name: str) -> PauseChange:
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            changed = not cohort.prompts_paused
            cohort.prompts_paused = True
        if changed:
            log.info("guild=%s cohort=%s prompts paused", guild_id, cohort.id)
        return PauseChange(cohort.name, changed)

    async def resume(self, guild_id: int, cohort_name: str) -> ResumeChange:
        """Restart posting from the next slot; weeks whose slot passed meanwhile are skipped, not posted."""
        now = self._clock()
        skipped: list[int] = []
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            slot = slot_of(cohort)
            changed = cohort.prompts_paused
            if changed:
                cohort.prompts_paused = False
                posts = PromptPostRepository(session)
                passed_week = slots.cohort_week(
                    cohort.start_date, slots.previous_slot(slot, now), cohort.timezone
                )
                first = (await posts.last_week(cohort.id) or 0) + 1
                # The closing week is never skipped: it still goes out at the next fire.
                last = min(passed_week, rules.closing_week(roadmap) - 1)
                skipped = await posts.skip(cohort.guild_id, cohort.id, range(first, last + 1), now)
            next_week, next_at = self._next(cohort, roadmap, now)
        if changed:
            log.info("guild=%s cohort=%s prompts resumed, skipped weeks %s", guild_id, cohort.id, skipped)
        return ResumeChange(cohort.name, changed, tuple(skipped), next_week, next_at)

    async def add_custom(
        self, guild_id: int, cohort_name: str, week: int, text: str, author_id: int
    ) -> CustomPromptChange:
        cleaned = rules.clean_custom_text(text)
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            rules.validate_week(roadmap, week)
            customs = CustomPromptRepository(session)
            existing = await customs.get(cohort.id, week)
            if existing is None:
                customs.add(
                    CustomPrompt(
                        guild_id=cohort.guild_id,
                        cohort_id=cohort.id,
                        week=week,
                        text=cleaned,
                        author_id=author_id,
                        created_at=now,
                    )
                )
            else:
                existing.text = cleaned
                existing.author_id = author_id
                existing.created_at = now
            row = await PromptPostRepository(session).get(cohort.id, week)
        log.info("guild=%s user=%s cohort=%s custom prompt for week %s", guild_id, author_id, cohort.id, week)
        return CustomPromptChange(
            cohort_name=cohort.name,
            week=week,
            replaced=existing is not None,
            already_posted=row is not None and row.status in DELIVERED,
            due_at=rules.slot_in_week(slot_of(cohort), cohort.start_date, week),
            length=len(cleaned),
        )

    async def change_schedule(
        self,
        guild_id: int,
        cohort_name: str,
        *,
        weekday: str | None = None,
        at: str | None = None,
        timezone: str | None = None,
        channel_id: int | None = None,
        role_id: int | None = None,
    ) -> ScheduleChange:
        """Move the slot, the channel or the mentioned role. Choosing a channel clears attention."""
        if weekday is None and at is None and timezone is None and channel_id is None and role_id is None:
            raise InvalidInputError("Nothing to change: give a weekday, time, timezone, channel or role.")
        new_weekday = slots.parse_weekday(weekday) if weekday is not None else None
        new_time = slots.parse_time(at) if at is not None else None
        new_zone = slots.parse_timezone(timezone) if timezone is not None else None
        now = self._clock()
        changed: list[str] = []
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            slot = slots.WeeklySlot(
                weekday=cohort.weekday if new_weekday is None else new_weekday,
                at=cohort.slot_time if new_time is None else new_time,
                timezone=cohort.timezone if new_zone is None else new_zone,
            )
            if slot != slot_of(cohort):
                changed.append("slot")
                cohort.weekday, cohort.slot_time, cohort.timezone = slot.weekday, slot.at, slot.timezone
            if channel_id is not None:
                if channel_id != cohort.channel_id:
                    changed.append("channel")
                cohort.channel_id = channel_id
                cohort.attention_reason = None
                cohort.attention_since = None
            if role_id is not None and role_id != cohort.mention_role_id:
                changed.append("role")
                cohort.mention_role_id = role_id
            next_week, next_at = self._next(cohort, roadmap, now)
        log.info("guild=%s cohort=%s prompt schedule changed: %s", guild_id, cohort.id, changed or "nothing")
        return ScheduleChange(
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            slot=slot,
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            next_week=next_week,
            next_at=next_at,
            changed=tuple(changed),
        )

    # --- helpers -------------------------------------------------------------------------------

    def _roadmap_or_none(self, cohort: Cohort) -> Roadmap | None:
        roadmap = self._catalog.get(cohort.roadmap_key)
        if roadmap is None:
            log.warning(
                "guild=%s cohort=%s follows roadmap %r, which is no longer in the content; no prompts",
                cohort.guild_id,
                cohort.id,
                cohort.roadmap_key,
            )
        return roadmap

    def _next(self, cohort: Cohort, roadmap: Roadmap, now: datetime) -> tuple[int | None, datetime | None]:
        """The next automatic post, or (None, None) when nothing more will be posted."""
        if cohort.finished_at is not None:
            return None, None
        week, at = rules.next_post(slot_of(cohort), cohort.start_date, now)
        return min(week, rules.closing_week(roadmap)), at

    async def _claim(
        self, session: AsyncSession, cohort: Cohort, week: int, now: datetime, *, reclaim: bool
    ) -> OutgoingPost | None:
        if week < 1:
            return None
        roadmap = self._roadmap_or_none(cohort)
        if roadmap is None:
            return None
        week = min(week, rules.closing_week(roadmap))
        posts = PromptPostRepository(session)
        if reclaim:
            claimed = await posts.reclaim(cohort.id, week, now)
        else:
            claimed = await posts.claim(cohort.guild_id, cohort.id, week, now)
        if not claimed:
            return None
        content = await self._compose(session, cohort, roadmap, week, now)
        return OutgoingPost(
            cohort_id=cohort.id,
            guild_id=cohort.guild_id,
            cohort_name=cohort.name,
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            week=week,
            due_at=rules.slot_in_week(slot_of(cohort), cohort.start_date, week),
            content=content,
        )

    async def _compose(
        self, session: AsyncSession, cohort: Cohort, roadmap: Roadmap, week: int, now: datetime
    ) -> PromptContent:
        """Gather the week's custom text and activity numbers, then let the domain compose."""
        custom = await CustomPromptRepository(session).get(cohort.id, week)
        counts = PromptCohortRepository(session)
        members = await counts.member_count(cohort.id)
        due_at = rules.slot_in_week(slot_of(cohort), cohort.start_date, week)
        # "Last week" is the seven days before the post; a preview of a later week counts up to now.
        reference = min(now, due_at)
        completers = await counts.completers_between(cohort.id, reference - timedelta(days=7), reference)
        return rules.compose_prompt(
            roadmap=roadmap,
            cohort_name=cohort.name,
            start=cohort.start_date,
            week=week,
            custom_text=custom.text if custom else None,
            completers_last_week=completers,
            member_count=members,
        )

    @staticmethod
    def _posted_before(
        cohort: Cohort, week: int, message_id: int | None, sent_at: datetime | None
    ) -> PostedBefore:
        return PostedBefore(cohort.name, week, cohort.guild_id, cohort.channel_id, message_id, sent_at)
