"""Progress maths: how far a member is through a roadmap, and against the cohort's calendar."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.kernel.pace import Pace, expected_by_day, pace_of
from bot.kernel.roadmap import Roadmap


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    number: int
    key: str
    title: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class RecentCheckpoint:
    key: str
    title: str
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class ProgressReport:
    phases: tuple[PhaseProgress, ...]
    done: int
    total: int
    expected: int
    pace: Pace
    recent: tuple[RecentCheckpoint, ...]

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        """Whole percent, rounded down so 100% always means every checkpoint."""
        return (self.done * 100) // self.total if self.total else 0


def count_done(roadmap: Roadmap, completed: Iterable[str]) -> int:
    """Checkpoints done that the roadmap's current version has (retired keys do not count)."""
    keys = {checkpoint.key for _, checkpoint in roadmap.checkpoints()}
    return sum(1 for key in set(completed) if key in keys)


def compute_progress(
    roadmap: Roadmap,
    completed: Mapping[str, datetime],
    day: int | None,
    *,
    recent_limit: int = 3,
) -> ProgressReport:
    """Build a member's report from their completed keys and the cohort's day (None: not started).

    Keys no longer in the roadmap (content edited) are ignored rather than counted.
    """
    phases: list[PhaseProgress] = []
    titles: dict[str, str] = {}
    for number, phase in enumerate(roadmap.phases, start=1):
        done = 0
        for checkpoint in phase.checkpoints:
            titles[checkpoint.key] = checkpoint.title
            if checkpoint.key in completed:
                done += 1
        phases.append(PhaseProgress(number, phase.key, phase.title, done, len(phase.checkpoints)))
    total = sum(phase.total for phase in phases)
    done_total = sum(phase.done for phase in phases)
    expected = expected_by_day(roadmap, day) if day is not None else 0
    recent = sorted(
        (RecentCheckpoint(key, titles[key], at) for key, at in completed.items() if key in titles),
        key=lambda item: (item.completed_at, item.key),
        reverse=True,
    )[:recent_limit]
    return ProgressReport(
        phases=tuple(phases),
        done=done_total,
        total=total,
        expected=expected,
        pace=pace_of(done_total, expected, total, started=day is not None),
        recent=tuple(recent),
    )
