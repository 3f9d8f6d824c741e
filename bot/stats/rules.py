"""What `/stats` shows, counted by a service; kept apart from the chart so that using it does not
load matplotlib (about 80 MB) until a chart is actually drawn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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
