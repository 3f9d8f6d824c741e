"""The one scheduling facility every feature uses. The database is the source of truth.

Jobs only say *when* to look: a weekly job per cohort (``prompt:<id>``, ``review:<id>``), a few
periodic upkeep jobs, and start-up catch-up hooks that run once per process after the first
``on_ready``, so a slot missed while the bot was down is looked at exactly once. Every job body is
wrapped so it logs its own errors: one cohort's trouble never stops the scheduler or the others.

At scale: a process runs jobs only for the guilds its shards own (``Ownership``, Discord's rule
``(guild_id >> 22) % shard_count``); at most ``concurrency`` weekly job bodies run at once, below
the database pool, so a popular slot queues instead of timing out; and a body that fails for a
passing reason (a pool timeout, a locked or dropped database) is retried by the running process
after ``RETRY_DELAYS``, well inside the catch-up grace period. Claims in the database keep a retry,
a second process or a restart from posting anything twice.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import exc as db_errors

from bot.kernel import slots

log = logging.getLogger(__name__)

CohortJob = Callable[[int], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]

# Seconds after a transient failure before the running process tries a weekly job again.
RETRY_DELAYS: tuple[float, ...] = (15.0, 60.0, 300.0, 900.0)
# Failures worth waiting out: the pool was exhausted, the database was locked or went away.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    db_errors.TimeoutError,
    db_errors.OperationalError,
    db_errors.InterfaceError,
    TimeoutError,
    ConnectionError,
)
DEFAULT_CONCURRENCY = 8


async def _cohort_job_shape(cohort_id: int) -> None:
    """Only its signature is used: the shape of every weekly job body."""


_COHORT_JOB_SIGNATURE = inspect.signature(_cohort_job_shape)


async def retry_transient(
    call: Callable[[], Awaitable[None]],
    delays: tuple[float, ...] = (0.5, 2.0, 5.0),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> None:
    """Run ``call``, again after each delay while it fails for a passing reason (a locked database).

    For the bookkeeping after a message went out: recording it must not be lost to a busy moment.
    """
    for delay in delays:
        try:
            await call()
            return
        except TRANSIENT_ERRORS as error:
            log.warning("retrying in %.1f s after %r", delay, error)
            await sleep(delay)
    await call()


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: the shard whose gateway connection receives this guild's events."""
    return (guild_id >> 22) % shard_count


def owns_guild(guild_id: int, shard_count: int | None, shard_ids: Collection[int] | None) -> bool:
    """True when a process running ``shard_ids`` of ``shard_count`` shards looks after the guild.

    Without a shard count there is one process and it owns everything; a shard count without ids
    means this process runs every shard.
    """
    if shard_count is None:
        return True
    return shard_ids is None or shard_of(guild_id, shard_count) in shard_ids


@dataclass(frozen=True, slots=True)
class Ownership:
    """Which guilds this process schedules for, from ``SHARD_COUNT`` and ``SHARD_IDS``."""

    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None

    def owns(self, guild_id: int) -> bool:
        return owns_guild(guild_id, self.shard_count, self.shard_ids)

    @property
    def syncs_commands(self) -> bool:
        """One process syncs the command tree: the one that runs shard 0."""
        return self.shard_count is None or self.shard_ids is None or 0 in self.shard_ids


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


def retry_job_id(job_id: str) -> str:
    """The one pending retry of a job after a transient failure (a newer one replaces it)."""
    return f"{job_id}:retry"


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

    def __init__(
        self,
        scheduler: AsyncIOScheduler | None = None,
        *,
        ownership: Ownership | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.scheduler = scheduler or create_scheduler()
        self.ownership = ownership or Ownership()
        self.retry_delays = retry_delays
        self._clock = clock or (lambda: datetime.now(UTC))
        self._gate = asyncio.Semaphore(concurrency)
        self._catch_up_hooks: dict[str, Hook] = {}
        self._caught_up = False

    def owns(self, guild_id: int) -> bool:
        """The one ownership test every feature uses before scheduling or running for a guild."""
        return self.ownership.owns(guild_id)

    @property
    def gate(self) -> asyncio.Semaphore:
        """Held by each weekly job body (and each catch-up item): at most ``concurrency`` at once."""
        return self._gate

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
        """Add or replace ``body(cohort_id)`` at each weekly slot, in the slot's timezone.

        The body runs inside the gate and is retried after a transient failure.
        """
        job_id = weekly_job_id(prefix, cohort_id)
        return self.scheduler.add_job(
            self._guarded(job_id, body, 0),
            trigger=weekly_trigger(slot),
            args=[cohort_id],
            id=job_id,
            name=f"{prefix} job, cohort {cohort_id}",
            replace_existing=True,
        )

    def cancel(self, job_id: str) -> None:
        """Remove one job (and its pending retry) if it exists (a cohort whose feature was switched off)."""
        for found in (job_id, retry_job_id(job_id)):
            if self.scheduler.get_job(found) is not None:
                self.scheduler.remove_job(found)

    def _guarded(self, job_id: str, body: CohortJob, attempt: int) -> CohortJob:
        """``body`` inside the gate; a transient failure schedules the next attempt, others are logged."""

        async def run(cohort_id: int) -> None:
            async with self._gate:
                try:
                    await body(cohort_id)
                    return
                except TRANSIENT_ERRORS as error:
                    failure: BaseException = error
                except Exception:
                    log.exception("scheduled job %s failed", job_id)
                    return
            self._retry_later(job_id, body, cohort_id, attempt, failure)

        # APScheduler checks every job's callable against its args; a ready signature spares it
        # building one per job (a third of the start-up time at 10,000 cohorts).
        run.__signature__ = _COHORT_JOB_SIGNATURE  # type: ignore[attr-defined]
        return run

    def _retry_later(
        self, job_id: str, body: CohortJob, cohort_id: int, attempt: int, failure: BaseException
    ) -> None:
        if attempt >= len(self.retry_delays) or not self.scheduler.running:
            log.error("scheduled job %s failed %d times; giving up: %r", job_id, attempt + 1, failure)
            return
        delay = self.retry_delays[attempt]
        log.warning("scheduled job %s failed (%r); retrying in %.0f s", job_id, failure, delay)
        self.scheduler.add_job(
            self._guarded(job_id, body, attempt + 1),
            DateTrigger(run_date=self._clock() + timedelta(seconds=delay)),
            args=[cohort_id],
            id=retry_job_id(job_id),
            name=f"retry {attempt + 1} of {job_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

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
        """Remove every job whose id is ``prefix`` or starts with ``prefix:`` (a feature unloading).

        Pending retries (``prefix:<id>:retry``) go with them."""
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

    __slots__ = ("_last", "slot")

    def __init__(self, slot: slots.WeeklySlot) -> None:
        # Set up as an unpickled CronTrigger, with the cron fields shared by every slot at the same
        # weekday and time: compiling them was most of the cost of scheduling 10,000 cohorts.
        super().__setstate__(
            {
                "version": 2,
                "timezone": ZoneInfo(slot.timezone),
                "start_date": None,
                "end_date": None,
                "fields": _cron_fields(slot.weekday, slot.at.hour, slot.at.minute),
                "jitter": None,
            }
        )
        self.slot = slot
        # (reference, the first slot after it): every reference in between has the same answer.
        # Cohorts sharing a slot share this trigger, so a start computes each distinct slot once.
        self._last: tuple[datetime, datetime] | None = None

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # Same contract as CronTrigger: the first slot after the previous fire, else at or after now.
        reference = now - _MICROSECOND
        if previous_fire_time is not None:
            reference = min(reference, previous_fire_time)
        last = self._last
        if last is not None and last[0] <= reference < last[1]:
            return last[1]
        # In UTC: a local time in the repeated fall-back hour never compares equal across zones.
        found = slots.next_slot(self.slot, reference)
        self._last = (reference, found)
        return found

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state["slot"] = self.slot
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.slot = state["slot"]
        self._last = None


@functools.cache
def _cron_fields(weekday: int, hour: int, minute: int) -> list[Any]:
    """The cron fields of a weekly slot (never changed after they are built, so shared)."""
    fields: list[Any] = CronTrigger(
        day_of_week=weekday, hour=hour, minute=minute, second=0, timezone=UTC
    ).fields
    return fields


@functools.lru_cache(maxsize=20_000)
def weekly_trigger(slot: slots.WeeklySlot) -> WeeklySlotTrigger:
    """One trigger per distinct slot, shared by the cohorts that use it.

    A trigger holds no state between fires, so sharing is safe, and building cron fields is the
    slowest part of adding a job: many cohorts meet at the same hour in the same zone.
    """
    return WeeklySlotTrigger(slot)
