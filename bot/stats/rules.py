"""What `/stats` shows, counted by a service; kept apart from the chart so that using it does not
load matplotlib (about 80 MB) until a chart is actually drawn."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """What /stats shows, already counted by a service. Phases come in roadmap order."""

    cohort_label: str
    members_per_phase: Sequence[tuple[str, int]]
    weekly_completions: Sequence[tuple[str, int]]  # (week label, checkpoints completed)
    stalled_members: int
    active_members: int

    @property
    def is_empty(self) -> bool:
        return (
            self.active_members == 0
            and self.stalled_members == 0
            and not any(count for _, count in self.members_per_phase)
            and not any(count for _, count in self.weekly_completions)
        )


FINISHED_LABEL: Final = "Finished"
ALL_COHORTS_LABEL: Final = "All cohorts"
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """Midnight UTC of the Mondays starting the last ``weeks`` weeks, the current one last."""
    today = now.date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(0), tzinfo=now.tzinfo)
    return [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def week_label(start: datetime) -> str:
    return f"{_MONTHS[start.month - 1]} {start.day}"


def current_phases(phase_sizes: Sequence[int], done_by_member: Iterable[Sequence[int]]) -> list[int | None]:
    """Each member's first phase with an open checkpoint (None: all done), from done per phase."""
    return [
        next((index for index, size in enumerate(phase_sizes) if done[index] < size), None)
        for done in done_by_member
    ]


def members_per_phase(
    phase_titles: Iterable[str], current: Iterable[tuple[str | None, int]]
) -> list[tuple[str, int]]:
    """Counts per phase title in roadmap order, zero included, then ``Finished`` if any.

    ``current`` holds (phase title or None when finished, members) pairs of every cohort.
    """
    counts = dict.fromkeys(phase_titles, 0)
    finished = 0
    for title, members in current:
        if title is None:
            finished += members
        else:
            counts[title] += members
    result = list(counts.items())
    if finished:
        result.append((FINISHED_LABEL, finished))
    return result
