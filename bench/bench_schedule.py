"""What weekly prompt scheduling costs without a database: registering jobs and finding fire times.

Run from the repository root: ``python bench/bench_schedule.py``. For 1,000 and 10,000 cohorts it
prints the median over several repeats of (a) adding every cohort's weekly job through the
facility the bot uses (``bot.scheduling.Scheduling().weekly``, on a started, paused scheduler) and
(b) asking every job's trigger for its next fire time, as APScheduler does after each fire.
Informational: the start-up target with the database (3 s for 10,000 cohorts) is checked by
``bench_scheduler.py``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kernel.slots import WeeklySlot
from bot.scheduling import PROMPT_JOB_PREFIX, Scheduling

ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Santiago",
    "Africa/Lagos",
    "Africa/Cairo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Jakarta",
    "Asia/Tehran",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
)
REPEATS = 15
# A Monday evening in Europe, during the week of the EU spring-forward change.
NOW = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)
# A week in June when no zone above changes its clocks.
QUIET_WEEK_START = datetime(2026, 6, 8, tzinfo=UTC)


def make_cohorts(count: int, seed: int = 7) -> list[tuple[int, WeeklySlot]]:
    """Cohorts with varied slots; study groups favour evenings, so times cluster a little."""
    rng = random.Random(seed)
    cohorts: list[tuple[int, WeeklySlot]] = []
    for cohort_id in range(count):
        hour = rng.choice([rng.randrange(24), rng.randrange(17, 22)])
        minute = rng.choice([0, 0, 15, 30, 45, rng.randrange(60)])
        slot = WeeklySlot(weekday=rng.randrange(7), at=time(hour, minute), timezone=rng.choice(ZONES))
        cohorts.append((cohort_id, slot))
    return cohorts


async def fire(cohort_id: int) -> None:
    return None


async def register_ms(cohorts: list[tuple[int, WeeklySlot]]) -> tuple[float, Scheduling]:
    """One start-up's job registration; returns its time and the (still running) facility."""
    scheduling = Scheduling()
    scheduling.scheduler.start(paused=True)  # started: each add computes its next fire time
    began = clock.perf_counter()
    for cohort_id, slot in cohorts:
        scheduling.weekly(PROMPT_JOB_PREFIX, cohort_id, slot, fire)
    return (clock.perf_counter() - began) * 1000, scheduling


def next_fires_ms(scheduling: Scheduling) -> float:
    """Every job's next fire time after ``NOW``, as the scheduler asks after each fire."""
    jobs = scheduling.scheduler.get_jobs()
    began = clock.perf_counter()
    for job in jobs:
        job.trigger.get_next_fire_time(None, NOW)
    return (clock.perf_counter() - began) * 1000


def fires_in_quiet_week(scheduling: Scheduling) -> int:
    """How many jobs fire in a week without clock changes: one each, or a trigger is wrong."""
    end = QUIET_WEEK_START + timedelta(days=7)
    fires = [
        job.trigger.get_next_fire_time(None, QUIET_WEEK_START) for job in scheduling.scheduler.get_jobs()
    ]
    return sum(1 for moment in fires if QUIET_WEEK_START <= moment < end)


async def measure(count: int) -> str:
    cohorts = make_cohorts(count)
    register, fires, in_week = [], [], 0
    for _ in range(REPEATS):
        took, scheduling = await register_ms(cohorts)
        register.append(took)
        fires.append(next_fires_ms(scheduling))
        in_week = fires_in_quiet_week(scheduling)
        scheduling.shutdown()
    # Sanity: one weekly slot per cohort, so every cohort fires once in the coming week.
    if in_week != count:
        raise SystemExit(f"sanity check failed: {in_week} fires in a week for {count} cohorts")
    return (
        f"cohorts={count} distinct_slots={len({slot for _, slot in cohorts})} "
        f"register_jobs_median_ms={statistics.median(register):.2f} "
        f"next_fire_times_median_ms={statistics.median(fires):.2f} repeats={REPEATS}"
    )


def main() -> None:
    for count in (1_000, 10_000):
        print(asyncio.run(measure(count)))


if __name__ == "__main__":
    main()
