"""When each cohort's weekly review round runs: its own slot, or the prompt slot it follows.

The slot itself comes from ``bot.cohorts.resolve.review_slot``; this service reads it for the
scheduler and lets moderators move it or switch the automatic round off.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, review_slot
from bot.db.models import Cohort
from bot.kernel import slots
from bot.reviews.views import ScheduleView

log = logging.getLogger(__name__)


class ReviewSchedule:
    """Reads and changes the review slot of each cohort."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def review_slots(self) -> list[ScheduleView]:
        """Every cohort's review slot, for registering the weekly jobs at start-up."""
        now = self._clock()
        async with self._sessions() as session:
            cohorts = await CohortRepository(session).all()
        return [schedule_view(cohort, now) for cohort in cohorts]

    async def slot_of(self, cohort_id: int) -> ScheduleView | None:
        async with self._sessions() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
        return schedule_view(cohort, self._clock()) if cohort is not None else None

    async def schedule_of(self, guild_id: int, cohort_name: str) -> ScheduleView:
        async with self._sessions() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
        return schedule_view(cohort, self._clock())

    async def set_schedule(
        self,
        guild_id: int,
        cohort_name: str,
        *,
        weekday: str | None = None,
        at: str | None = None,
        enabled: bool | None = None,
    ) -> ScheduleView:
        """Move the weekly round, or turn it off; options left out keep their value."""
        new_weekday = slots.parse_weekday(weekday) if weekday is not None else None
        new_time = slots.parse_time(at) if at is not None else None
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            if new_weekday is not None:
                cohort.review_weekday = new_weekday
            if new_time is not None:
                cohort.review_time = new_time
            if enabled is not None:
                cohort.review_enabled = enabled
        log.info("guild=%s cohort=%s review slot changed", guild_id, cohort.id)
        return schedule_view(cohort, self._clock())


def schedule_view(cohort: Cohort, now: datetime) -> ScheduleView:
    slot = review_slot(cohort)
    return ScheduleView(
        cohort_id=cohort.id,
        guild_id=cohort.guild_id,
        cohort_name=cohort.name,
        slot=slot,
        enabled=cohort.review_enabled,
        follows_prompt_slot=cohort.review_weekday is None and cohort.review_time is None,
        next_run=slots.next_slot(slot, now),
    )
