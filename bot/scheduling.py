"""APScheduler wiring. The database is the source of truth; jobs only say *when* to look."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.kernel import slots


def create_scheduler() -> AsyncIOScheduler:
    """An unstarted scheduler; ``setup_hook`` starts it and ``close()`` shuts it down.

    Jobs coalesce and allow a late start, because a missed fire is caught up from the database
    anyway; ``max_instances=1`` keeps one cohort's post from overlapping itself.
    """
    return AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )


# --- weekly prompt jobs --------------------------------------------------------------------------

PROMPT_JOB_PREFIX = "prompt:"
_MICROSECOND = timedelta(microseconds=1)


def prompt_job_id(cohort_id: int) -> str:
    """The stable id of a cohort's weekly prompt job, so re-adding it replaces the old one."""
    return f"{PROMPT_JOB_PREFIX}{cohort_id}"


class WeeklySlotTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler ships no type hints
    """A ``CronTrigger`` on the slot's weekday, hour and minute in the cohort's timezone.

    Its fields read like any cron trigger's, but the fire times come from ``bot.kernel.slots``:
    plain cron arithmetic repeats the fall-back hour and, on some spring-forward nights, skips a
    week (see that module), while the domain keeps exactly one fire per local week.
    """

    __slots__ = ("slot",)

    def __init__(self, slot: slots.WeeklySlot) -> None:
        super().__init__(
            day_of_week=slot.weekday,
            hour=slot.at.hour,
            minute=slot.at.minute,
            second=0,
            timezone=ZoneInfo(slot.timezone),
        )
        self.slot = slot

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # Same contract as CronTrigger: the first slot after the previous fire, else at or after now.
        reference = now - _MICROSECOND
        if previous_fire_time is not None:
            reference = min(reference, previous_fire_time)
        # In UTC: a local time in the repeated fall-back hour never compares equal across zones.
        return slots.next_slot(self.slot, reference)

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state["slot"] = self.slot
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.slot = state["slot"]


@functools.lru_cache(maxsize=20_000)
def weekly_trigger(slot: slots.WeeklySlot) -> WeeklySlotTrigger:
    """One trigger per distinct slot, shared by the cohorts that use it.

    A trigger holds no state between fires, so sharing is safe, and building cron fields is the
    slowest part of adding a job: many cohorts meet at the same hour in the same zone.
    """
    return WeeklySlotTrigger(slot)


def schedule_prompt_job(
    scheduler: AsyncIOScheduler,
    fire: Callable[[int], Awaitable[None]],
    cohort_id: int,
    slot: slots.WeeklySlot,
) -> Job:
    """Add or replace a cohort's job: ``fire(cohort_id)`` at each weekly slot."""
    return scheduler.add_job(
        fire,
        trigger=weekly_trigger(slot),
        args=[cohort_id],
        id=prompt_job_id(cohort_id),
        name=f"weekly prompt, cohort {cohort_id}",
        replace_existing=True,
    )


def schedule_prompt_jobs(
    scheduler: AsyncIOScheduler,
    fire: Callable[[int], Awaitable[None]],
    slots: Iterable[tuple[int, slots.WeeklySlot]],
) -> int:
    """Register every cohort's job at start-up; returns how many were added."""
    count = 0
    for cohort_id, slot in slots:
        schedule_prompt_job(scheduler, fire, cohort_id, slot)
        count += 1
    return count


def remove_prompt_jobs(scheduler: AsyncIOScheduler) -> None:
    for job in scheduler.get_jobs():
        if job.id.startswith(PROMPT_JOB_PREFIX):
            job.remove()


# --- pacing posts ---------------------------------------------------------------------------------


class PostPacer:
    """Spaces channel posts so a crowded slot stays under Discord's global limit (~50 requests/s).

    A token bucket: up to ``burst`` posts go at once, then one every ``1/rate`` seconds. Every
    caller gets its own turn, so nothing is dropped; with the defaults no one-second window holds
    more than 40 posts. The clock and the sleep are injectable so tests never wait.
    """

    def __init__(
        self,
        rate: float = 35.0,
        burst: int = 5,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = monotonic()

    async def wait(self) -> None:
        """Return when the caller may post; callers are served in the order they arrive."""
        now = self._monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        self._tokens -= 1  # below zero: a turn reserved in the future for this caller
        if self._tokens < 0:
            await self._sleep(-self._tokens / self._rate)
