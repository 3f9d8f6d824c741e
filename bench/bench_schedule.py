"""How long the scheduler's per-minute tick takes: which cohorts are due in the last minute.

Run from the repository root: ``python bench/bench_schedule.py``. Prints one line per cohort
count with the median over several repeats; the target is well under 100 ms for 1,000 cohorts.
"""

from __future__ import annotations

import random
import statistics
import time as clock
from datetime import UTC, datetime, time, timedelta

from bot.kernel.slots import WeeklySlot, due_between

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
TICK_END = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)
QUIET_WEEK_END = datetime(2026, 6, 15, tzinfo=UTC)


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


def median_ms(cohorts: list[tuple[int, WeeklySlot]], start: datetime, end: datetime) -> tuple[float, int]:
    durations: list[float] = []
    due_count = 0
    for _ in range(REPEATS):
        began = clock.perf_counter()
        due = due_between(cohorts, start, end)
        durations.append((clock.perf_counter() - began) * 1000)
        due_count = len(due)
    return statistics.median(durations), due_count


def main() -> None:
    for count in (1_000, 10_000):
        cohorts = make_cohorts(count)
        # Sanity: over a week with no clock change anywhere, every cohort is due exactly once.
        week = due_between(cohorts, QUIET_WEEK_END - timedelta(days=7), QUIET_WEEK_END)
        if sorted(key for key, _ in week) != list(range(count)):
            raise SystemExit(f"sanity check failed: {len(week)} posts in a week for {count} cohorts")
        tick_ms, due_in_tick = median_ms(cohorts, TICK_END - timedelta(minutes=1), TICK_END)
        week_ms, _ = median_ms(cohorts, TICK_END - timedelta(days=7), TICK_END)
        print(
            f"cohorts={count} distinct_slots={len({slot for _, slot in cohorts})} "
            f"tick_1min_median_ms={tick_ms:.2f} due_in_tick={due_in_tick} "
            f"week_window_median_ms={week_ms:.2f} repeats={REPEATS}"
        )


if __name__ == "__main__":
    main()
