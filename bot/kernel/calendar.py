"""Where a cohort stands on its roadmap's calendar: week number and phase from a start date.

Pure functions of dates: the caller passes "today" (already in the cohort's timezone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.kernel.roadmap import Phase, Roadmap
from bot.kernel.slots import week_of_day


@dataclass(frozen=True, slots=True)
class CalendarPosition:
    """A cohort's place in time: ``week`` is 1-based, ``day`` 0-based; both 0 before the start."""

    started: bool
    finished: bool
    day: int
    week: int


def position(start: date, today: date, roadmap: Roadmap) -> CalendarPosition:
    elapsed = (today - start).days
    if elapsed < 0:
        return CalendarPosition(started=False, finished=False, day=0, week=0)
    return CalendarPosition(
        started=True,
        finished=elapsed >= roadmap.duration_days,
        day=elapsed,
        week=week_of_day(elapsed),
    )


def week_first_day(week: int) -> int:
    """Day offset of the first day of a 1-based week."""
    if week < 1:
        raise ValueError("weeks are counted from 1")
    return (week - 1) * 7


def phase_for_day(roadmap: Roadmap, day: int) -> Phase | None:
    """The phase in focus on a day: where phases overlap, the one that started most recently.

    Returns None once the roadmap is over.
    """
    current: Phase | None = None
    for phase in roadmap.phases:
        if phase.start_day <= day < phase.end_day and (
            current is None or phase.start_day >= current.start_day
        ):
            current = phase
    if current is None and day < roadmap.duration_days:
        # A gap between phases: keep the focus on the last phase that started.
        started = [phase for phase in roadmap.phases if phase.start_day <= day]
        current = max(started, key=lambda phase: phase.start_day) if started else roadmap.phases[0]
    return current


def phase_for_week(roadmap: Roadmap, week: int) -> Phase | None:
    """The phase a week falls in, judged by the week's first day (10-day blocks map the same way)."""
    return phase_for_day(roadmap, week_first_day(week))


def week_in_phase(phase: Phase, week: int) -> int:
    """0-based index of a cohort week inside a phase, used to rotate the phase's prompts."""
    return max(0, (week_first_day(week) - phase.start_day) // 7)
