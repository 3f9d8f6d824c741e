"""Calendar (week and phase from a start date) and progress maths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel import calendar
from bot.kernel.pace import Pace, expected_by_day, pace_of
from bot.kernel.roadmap import Checkpoint, CheckpointKind, Phase, Roadmap
from bot.progress.rules import compute_progress


def phase(key: str, start: int, days: int, checkpoints: int, *, due: int | None = None) -> Phase:
    return Phase(
        key=key,
        title=key.title(),
        summary="A phase used in tests.",
        start_day=start,
        duration_days=days,
        topics=("something",),
        checkpoints=tuple(
            Checkpoint(
                key=f"{key}-{n}", title=f"{key} {n}", description="d", kind=CheckpointKind.TOPIC, due_day=due
            )
            for n in range(checkpoints)
        ),
        prompts=("Study the week's material and share one question with the group.",),
    )


ROADMAP = Roadmap(
    key="test",
    title="Test",
    summary="Overlapping phases like the junior-to-senior path.",
    phases=(phase("one", 0, 180, 4), phase("two", 60, 210, 4), phase("three", 180, 180, 2)),
)
BLOCKS = Roadmap(
    key="blocks",
    title="Blocks",
    summary="Ten-day blocks like the 90-day plan.",
    phases=tuple(phase(f"b{n}", n * 10, 10, 1) for n in range(9)),
)


def test_position_before_during_after() -> None:
    start = date(2026, 3, 2)
    assert calendar.position(start, date(2026, 3, 1), ROADMAP).started is False
    first = calendar.position(start, start, ROADMAP)
    assert (first.started, first.week, first.day) == (True, 1, 0)
    assert calendar.position(start, start + timedelta(days=6), ROADMAP).week == 1
    assert calendar.position(start, start + timedelta(days=7), ROADMAP).week == 2
    last = calendar.position(start, start + timedelta(days=ROADMAP.duration_days), ROADMAP)
    assert last.finished


def test_overlapping_phases_focus_on_latest_started() -> None:
    assert calendar.phase_for_day(ROADMAP, 0).key == "one"  # type: ignore[union-attr]
    assert calendar.phase_for_day(ROADMAP, 59).key == "one"  # type: ignore[union-attr]
    assert calendar.phase_for_day(ROADMAP, 60).key == "two"  # type: ignore[union-attr]
    assert calendar.phase_for_day(ROADMAP, 200).key == "three"  # type: ignore[union-attr]
    assert calendar.phase_for_day(ROADMAP, ROADMAP.duration_days) is None


def test_ten_day_blocks_map_onto_weeks() -> None:
    # Week 2 starts on day 7, still in block 1; week 3 starts on day 14, in block 2.
    assert [calendar.phase_for_week(BLOCKS, week).key for week in (1, 2, 3, 5)] == ["b0", "b0", "b1", "b2"]  # type: ignore[union-attr]
    assert calendar.phase_for_week(BLOCKS, 14) is None


def test_week_in_phase_rotates_prompts() -> None:
    two = ROADMAP.phases[1]
    assert calendar.week_in_phase(two, 9) == 0  # week 9 starts on day 56, just before the phase
    assert calendar.week_in_phase(two, 10) == 0
    assert calendar.week_in_phase(two, 12) == 2


@given(st.integers(min_value=0, max_value=800))
def test_phase_for_day_is_active_or_none(day: int) -> None:
    found = calendar.phase_for_day(ROADMAP, day)
    if day >= ROADMAP.duration_days:
        assert found is None
    else:
        assert found is not None and found.start_day <= day < found.end_day


def test_expected_by_day_counts_due_checkpoints() -> None:
    assert expected_by_day(ROADMAP, 0) == 0
    assert expected_by_day(ROADMAP, 180) == 4  # phase one's checkpoints are due on day 179
    assert expected_by_day(ROADMAP, 10_000) == ROADMAP.checkpoint_count


@pytest.mark.parametrize(
    ("done", "expected", "total", "pace"),
    [(0, 0, 10, Pace.ON_TRACK), (5, 3, 10, Pace.AHEAD), (3, 4, 10, Pace.BEHIND), (4, 4, 100, Pace.ON_TRACK)],
)
def test_pace(done: int, expected: int, total: int, pace: Pace) -> None:
    assert pace_of(done, expected, total, started=True) is pace


def test_compute_progress_per_phase_and_recent() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    completed = {"one-0": at, "one-1": at + timedelta(hours=1), "two-3": at + timedelta(hours=2), "gone": at}
    report = compute_progress(ROADMAP, completed, day=190)
    assert [(p.key, p.done, p.total) for p in report.phases] == [
        ("one", 2, 4),
        ("two", 1, 4),
        ("three", 0, 2),
    ]
    assert (report.done, report.total, report.percent) == (3, 10, 30)
    assert report.expected == 4 and report.pace is Pace.BEHIND  # one short, with a 10-checkpoint map
    assert [item.key for item in report.recent] == ["two-3", "one-1", "one-0"]


def test_not_started_has_no_pace() -> None:
    report = compute_progress(ROADMAP, {}, day=None)
    assert report.pace is Pace.NOT_STARTED and report.percent == 0


@given(st.sets(st.sampled_from([c.key for _, c in ROADMAP.checkpoints()])), st.integers(0, 400))
def test_percent_bounds(keys: set[str], day: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    report = compute_progress(ROADMAP, dict.fromkeys(keys, at), day)
    assert 0 <= report.percent <= 100
    assert report.done == len(keys)
    assert (report.percent == 100) == (len(keys) == ROADMAP.checkpoint_count)
