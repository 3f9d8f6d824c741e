"""The one scheduling facility every feature uses. The database is the source of truth.

Jobs only say *when* to look: a weekly job per cohort (``prompt:<id>``, ``review:<id>``), a few
periodic upkeep jobs, and start-up catch-up hooks that run once per process after the first
``on_ready``, so a slot missed while the bot was down is looked at exactly once. Every job body is
wrapped so it logs its own errors: one cohort's trouble never stops the scheduler or the others.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.kernel import slots

log = logging.getLogger(__name__)

CohortJob = Callable[[int], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


def create_scheduler() -> AsyncIOScheduler:
    """An unstarted scheduler; the bot starts it in ``setup_hook`` and shuts it down in ``close()``.

    Jobs coalesce and allow a late start, because a missed fire is caught up from the database
    anyway; ``max_instances=1`` keeps one cohort's job from overlapping itself.
    """
    return AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )


def weekly_job_id(prefix: str, cohort_id: int) -> str:
    """The stable id of a cohort's weekly job, so re-adding it replaces the old one."""
    return f"{prefix}:{cohort_id}"


PROMPT_JOB_PREFIX = "prompt"


def prompt_job_id(cohort_id: int) -> str:
    return weekly_job_id(PROMPT_JOB_PREFIX, cohort_id)


def _logged(name: str, body: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """A job body that logs its own failure instead of letting it reach the scheduler."""

    @functools.wraps(body)
    async def run(*args: Any) -> None:
        try:
            await body(*args)
        except Exception:
            log.exception("scheduled job %s failed (args=%s)", name, args)

    return run


class Scheduling:
    """Weekly jobs by prefix, periodic jobs, removal, and the start-up catch-up hooks."""

    def __init__(self, scheduler: AsyncIOScheduler | None = None) -> None:
        self.scheduler = scheduler or create_scheduler()
        self._catch_up_hooks: dict[str, Hook] = {}
        self._caught_up = False

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def start(self) -> None:
        if not self.scheduler.running:
            self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._caught_up = False  # a restarted bot catches up again

    def get_job(self, job_id: str) -> Job | None:
        return self.scheduler.get_job(job_id)

    def weekly(self, prefix: str, cohort_id: int, slot: slots.WeeklySlot, body: CohortJob) -> Job:
        """Add or replace ``body(cohort_id)`` at each weekly slot, in the slot's timezone."""
        job_id = weekly_job_id(prefix, cohort_id)
        return self.scheduler.add_job(
            _logged(job_id, body),
            trigger=weekly_trigger(slot),
            args=[cohort_id],
            id=job_id,
            name=f"{prefix} job, cohort {cohort_id}",
            replace_existing=True,
        )

    def cancel(self, job_id: str) -> None:
        """Remove one job if it exists (a cohort whose feature was switched off)."""
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def every(self, job_id: str, interval: timedelta, body: Hook, *, name: str) -> Job:
        """A periodic upkeep job (closing rounds, purges), logged like every other job."""
        return self.scheduler.add_job(
            _logged(job_id, body),
            IntervalTrigger(seconds=interval.total_seconds()),
            id=job_id,
            name=name,
            replace_existing=True,
        )

    def remove(self, prefix: str) -> None:
        """Remove every job whose id is ``prefix`` or starts with ``prefix:`` (a feature unloading)."""
        for job in self.scheduler.get_jobs():
            if job.id == prefix or job.id.startswith(f"{prefix}:"):
                job.remove()

    def on_start(self, name: str, hook: Hook) -> None:
        """Register a catch-up hook: it runs once, after the first ``on_ready`` of this process."""
        self._catch_up_hooks[name] = _logged(f"catch-up {name}", hook)

    async def catch_up(self) -> None:
        """Run the catch-up hooks once per start; reconnects fire ``on_ready`` again and need nothing."""
        if self._caught_up:
            return
        self._caught_up = True
        await asyncio.gather(*(hook() for hook in self._catch_up_hooks.values()))


# --- the weekly trigger --------------------------------------------------------------------------

_MICROSECOND = timedelta(microseconds=1)


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
