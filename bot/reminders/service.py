"""Reminders: members' settings, the DMs that are due (claimed once), and the cohort calendar."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.resolve import cohort_named, roadmap_of
from bot.content import RoadmapCatalog
from bot.db.models import ReminderSetting
from bot.kernel import slots
from bot.reminders import due, rules
from bot.reminders.calendar import CohortDates, build_calendar, last_day
from bot.reminders.repository import FAILED, SENT, ReminderRepository
from bot.reminders.views import CalendarFile, CalendarState, OutgoingReminder, SettingsView

log = logging.getLogger(__name__)

Present = due.Present
Owns = due.Owns


class ReminderService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    # --- settings ------------------------------------------------------------------------------

    async def settings(
        self,
        guild_id: int,
        user_id: int,
        *,
        review: bool | None = None,
        streak: bool | None = None,
        weekly: bool | None = None,
    ) -> SettingsView:
        """Change the given options (none: just show them); a pending closed-DMs notice is told here."""
        changes = rules.settings_changes(review, streak, weekly)
        now = self._clock()
        async with self._sessions.begin() as session:
            repository = ReminderRepository(session)
            row = (
                await repository.setting_for_update(guild_id, user_id, now)
                if changes
                else await repository.setting(guild_id, user_id)
            )
            if row is None:
                return SettingsView(review=False, streak=False, weekly=False, changed=False)
            changed = any(getattr(row, name) != value for name, value in changes.items())
            for name, value in changes.items():
                setattr(row, name, value)
            if changed:
                row.updated_at = now
            told = row.dms_closed_at if row.notice_pending else None
            row.notice_pending = False
            return SettingsView(row.review, row.streak, row.weekly, changed, dms_closed_at=told)

    async def pending_notices(self) -> set[tuple[int, int]]:
        async with self._sessions.begin() as session:
            return await ReminderRepository(session).pending_notices()

    async def take_notice(self, guild_id: int, user_id: int) -> datetime | None:
        """When DMs were found closed, if the member has not been told yet; told once (one winner)."""
        async with self._sessions.begin() as session:
            row = await ReminderRepository(session).setting(guild_id, user_id)
            if row is None or not row.notice_pending:
                return None
            result = await session.execute(
                update(ReminderSetting)
                .where(ReminderSetting.id == row.id, ReminderSetting.notice_pending.is_(True))
                .values(notice_pending=False)
            )
            return row.dms_closed_at if getattr(result, "rowcount", 0) == 1 else None

    # --- the DMs that are due ------------------------------------------------------------------

    async def claim_due(self, present: Present, owns: Owns | None = None) -> list[OutgoingReminder]:
        """Review and streak DMs due now, claimed (and committed) before the caller sends them.

        ``owns(guild_id)`` (a sharded process) leaves other processes' guilds unclaimed.
        """
        now = self._clock()
        keep = owns or due.every_guild
        async with self._sessions.begin() as session:
            repository = ReminderRepository(session)
            found = await due.due_reviews(repository, now, present, keep)
            found += await due.due_streaks(repository, self._catalog, now, present, keep)
            return found

    async def claim_weekly(
        self, cohort_id: int, week: int, present: Present, message_url: str | None = None
    ) -> list[OutgoingReminder]:
        """The weekly DMs right after a cohort's prompt went out."""
        now = self._clock()
        async with self._sessions.begin() as session:
            repository = ReminderRepository(session)
            post = await repository.prompt_post(cohort_id, week)
            if post is None:
                return []
            return await due.due_weekly(repository, self._catalog, post, now, present, message_url)

    async def claim_recent_weekly(self, present: Present, owns: Owns | None = None) -> list[OutgoingReminder]:
        """Weekly DMs of prompts still fresh that were not sent (the bot restarted in between)."""
        now = self._clock()
        keep = owns or due.every_guild
        async with self._sessions.begin() as session:
            repository = ReminderRepository(session)
            found: list[OutgoingReminder] = []
            for post in await repository.latest_sent_prompts(now - rules.WEEKLY_LATE_LIMIT):
                if not keep(post.guild_id):
                    continue
                found += await due.due_weekly(repository, self._catalog, post, now, present)
            return found

    async def mark_sent(self, reminder: OutgoingReminder) -> None:
        async with self._sessions.begin() as session:
            await ReminderRepository(session).set_status(reminder.send_id, SENT)

    async def mark_failed(self, reminder: OutgoingReminder) -> None:
        async with self._sessions.begin() as session:
            await ReminderRepository(session).set_status(reminder.send_id, FAILED)

    async def dms_closed(self, reminder: OutgoingReminder) -> None:
        """Discord refused the DM (50007): every reminder of the member here is switched off."""
        now = self._clock()
        async with self._sessions.begin() as session:
            repository = ReminderRepository(session)
            await repository.set_status(reminder.send_id, FAILED)
            row = await repository.setting(reminder.guild_id, reminder.user_id)
            if row is None:
                return
            row.review = row.streak = row.weekly = False
            row.dms_closed_at = now
            row.notice_pending = True
            row.updated_at = now
        log.info(
            "guild=%s user=%s has DMs closed: reminders switched off", reminder.guild_id, reminder.user_id
        )

    # --- the calendar file ---------------------------------------------------------------------

    async def calendar(self, guild_id: int, cohort_name: str) -> CalendarFile:
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            dues = await ReminderRepository(session).review_dues(cohort.id)
            dates = CohortDates(
                cohort_id=cohort.id,
                name=cohort.name,
                roadmap=roadmap,
                start=cohort.start_date,
                slot=slots.WeeklySlot(cohort.weekday, cohort.slot_time, cohort.timezone),
                prompts_paused=cohort.prompts_paused,
                review_dues=dues,
            )
            ended = cohort.finished_at is not None or slots.local_date(now, cohort.timezone) > last_day(dates)
        data, events = build_calendar(dates, now)
        state = (
            CalendarState.ENDED
            if ended
            else CalendarState.PAUSED
            if dates.prompts_paused
            else CalendarState.RUNNING
        )
        return CalendarFile(
            cohort_name=dates.name,
            filename=f"waypoint-cohort-{dates.cohort_id}.ics",
            data=data,
            state=state,
            events=events,
            ends_on=last_day(dates),
        )
