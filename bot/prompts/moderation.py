"""The ``/prompts`` commands' use cases: preview a week, pause, resume, custom text, schedule.

Each resolves its cohort through ``bot.cohorts.resolve`` inside its own transaction and returns a
result type from ``views``; the cog words it.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cohorts.resolve import cohort_named, cohort_week, prompt_slot, roadmap_of
from bot.db.models import Cohort, PromptPost
from bot.kernel import slots
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import Roadmap
from bot.prompts import rules
from bot.prompts.base import PromptUseCases, compose_week, require_calendar, slot_instant
from bot.prompts.repository import DELIVERED, CustomPromptRepository, PromptPostRepository
from bot.prompts.views import CustomPromptChange, PauseChange, PromptPreview, ResumeChange, ScheduleChange

log = logging.getLogger(__name__)


class PromptModeration(PromptUseCases):
    """What members and moderators do with ``/prompts``, apart from posting by hand."""

    async def preview(self, guild_id: int, cohort_name: str, week: int | None = None) -> PromptPreview:
        """Exactly what would be posted for ``week`` (default: the next post) and when."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            require_calendar(cohort, roadmap)
            target, due_at, row = await _preview_target(session, cohort, roadmap, week, now)
            content = await compose_week(session, cohort, roadmap, target, now)
        return PromptPreview(
            cohort_name=cohort.name,
            guild_id=cohort.guild_id,
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            slot=prompt_slot(cohort),
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
            cohort = await cohort_named(session, guild_id, cohort_name)
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
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            changed = cohort.prompts_paused
            fits = rules.calendar_fits(cohort.start_date, roadmap)
            if changed:
                # A paused cohort can always be resumed, even one whose weeks can't be computed.
                cohort.prompts_paused = False
                skipped = await _skip_paused_weeks(session, cohort, roadmap, now) if fits else []
            next_week, next_at = _next_post(cohort, roadmap, now)
        if changed:
            log.info("guild=%s cohort=%s prompts resumed, skipped weeks %s", guild_id, cohort.id, skipped)
        return ResumeChange(
            cohort.name,
            changed,
            tuple(skipped),
            next_week,
            next_at,
            unschedulable_start=None if fits else cohort.start_date,
        )

    async def add_custom(
        self, guild_id: int, cohort_name: str, week: int, text: str, author_id: int
    ) -> CustomPromptChange:
        """Save (or replace) the moderators' own text for one week; the last of two at once wins."""
        cleaned = rules.clean_custom_text(text)
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            rules.validate_week(roadmap, week)
            require_calendar(cohort, roadmap)
            replaced = await CustomPromptRepository(session).save(
                guild_id=cohort.guild_id,
                cohort_id=cohort.id,
                week=week,
                text=cleaned,
                author_id=author_id,
                now=now,
            )
            row = await PromptPostRepository(session).get(cohort.id, week)
        log.info("guild=%s user=%s cohort=%s custom prompt for week %s", guild_id, author_id, cohort.id, week)
        return CustomPromptChange(
            cohort_name=cohort.name,
            week=week,
            replaced=replaced,
            already_posted=row is not None and row.status in DELIVERED,
            due_at=slot_instant(cohort, week),
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
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            fits = rules.calendar_fits(cohort.start_date, roadmap)
            changed = _move_slot(cohort, new_weekday, new_time, new_zone)
            changed += _move_channel_and_role(cohort, channel_id, role_id)
            next_week, next_at = _next_post(cohort, roadmap, now)
        log.info("guild=%s cohort=%s prompt schedule changed: %s", guild_id, cohort.id, changed or "nothing")
        return ScheduleChange(
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            slot=prompt_slot(cohort),
            channel_id=cohort.channel_id,
            role_id=cohort.mention_role_id,
            next_week=next_week,
            next_at=next_at,
            changed=tuple(changed),
            unschedulable_start=None if fits else cohort.start_date,
        )


async def _preview_target(
    session: AsyncSession, cohort: Cohort, roadmap: Roadmap, week: int | None, now: datetime
) -> tuple[int, datetime, PromptPost | None]:
    """The week a preview shows, when it goes (or went) out, and its ledger row if any."""
    slot = prompt_slot(cohort)
    closing = rules.closing_week(roadmap)
    if week is not None:
        rules.validate_week(roadmap, week)
        target, due_at = week, slot_instant(cohort, week)
    elif cohort.finished_at is not None:
        target, due_at = closing, slot_instant(cohort, closing)
    else:
        target, due_at = rules.next_post(slot, cohort.start_date, now)
        target = min(target, closing)
    row = await PromptPostRepository(session).get(cohort.id, target)
    if target == closing and row is None and due_at <= now and cohort.finished_at is None:
        # A closing message whose slot passed unposted still goes out at the next fire.
        due_at = rules.next_post(slot, cohort.start_date, now)[1]
    return target, due_at, row


async def _skip_paused_weeks(
    session: AsyncSession, cohort: Cohort, roadmap: Roadmap, now: datetime
) -> list[int]:
    """Record the weeks whose slot passed while paused as skipped; the closing week is never skipped."""
    posts = PromptPostRepository(session)
    passed_week = cohort_week(cohort, slots.previous_slot(prompt_slot(cohort), now))
    first = (await posts.last_week(cohort.id) or 0) + 1
    # The closing week is never skipped: it still goes out at the next fire.
    last = min(passed_week, rules.closing_week(roadmap) - 1)
    return await posts.skip(cohort.guild_id, cohort.id, range(first, last + 1), now)


def _move_slot(cohort: Cohort, weekday: int | None, at: time | None, timezone: str | None) -> list[str]:
    """Apply a new weekday, time or zone; ``["slot"]`` if the slot really moved."""
    slot = slots.WeeklySlot(
        weekday=cohort.weekday if weekday is None else weekday,
        at=cohort.slot_time if at is None else at,
        timezone=cohort.timezone if timezone is None else timezone,
    )
    if slot == prompt_slot(cohort):
        return []
    cohort.weekday, cohort.slot_time, cohort.timezone = slot.weekday, slot.at, slot.timezone
    return ["slot"]


def _move_channel_and_role(cohort: Cohort, channel_id: int | None, role_id: int | None) -> list[str]:
    """Apply a new channel (which clears attention, even if unchanged) or role; what really changed."""
    changed: list[str] = []
    if channel_id is not None:
        if channel_id != cohort.channel_id:
            changed.append("channel")
        cohort.channel_id = channel_id
        cohort.attention_reason = None
        cohort.attention_since = None
    if role_id is not None and role_id != cohort.mention_role_id:
        changed.append("role")
        cohort.mention_role_id = role_id
    return changed


def _next_post(cohort: Cohort, roadmap: Roadmap, now: datetime) -> tuple[int | None, datetime | None]:
    """The next automatic post, or (None, None) when nothing more will be posted."""
    if cohort.finished_at is not None or not rules.calendar_fits(cohort.start_date, roadmap):
        return None, None
    week, at = rules.next_post(prompt_slot(cohort), cohort.start_date, now)
    return min(week, rules.closing_week(roadmap)), at
