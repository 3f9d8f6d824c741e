"""Pace against a cohort's calendar: shared by /progress and the progress export, which must agree."""

from __future__ import annotations

from enum import StrEnum

from bot.kernel.roadmap import Roadmap


class Pace(StrEnum):
    NOT_STARTED = "not started"
    AHEAD = "ahead"
    ON_TRACK = "on track"
    BEHIND = "behind"


def expected_by_day(roadmap: Roadmap, day: int) -> int:
    """How many checkpoints were due on or before ``day`` (0-based offset from the start)."""
    return sum(1 for phase, checkpoint in roadmap.checkpoints() if phase.due_day_of(checkpoint) < day)


def pace_of(done: int, expected: int, total: int, *, started: bool) -> Pace:
    """Ahead or behind only by a clear margin (5% of the roadmap, at least one checkpoint)."""
    if not started:
        return Pace.NOT_STARTED
    margin = max(1, round(total * 0.05))
    if done >= expected + margin:
        return Pace.AHEAD
    if done <= expected - margin:
        return Pace.BEHIND
    return Pace.ON_TRACK
