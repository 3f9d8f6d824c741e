"""The /stats counting rules: week windows and labels, and members per phase."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.stats.rules import current_phases, members_per_phase, week_label, week_starts


def test_weeks_start_on_monday_midnight_and_end_with_the_current_one() -> None:
    starts = week_starts(datetime(2026, 3, 4, 15, 30, tzinfo=UTC), 3)  # a Wednesday

    assert starts == [
        datetime(2026, 2, 16, tzinfo=UTC),
        datetime(2026, 2, 23, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
    ]
    assert [week_label(start) for start in starts] == ["Feb 16", "Feb 23", "Mar 2"]


def test_a_member_is_in_their_first_phase_with_an_open_checkpoint() -> None:
    assert current_phases([2, 3], [[0, 0], [2, 1], [2, 3], [1, 3]]) == [0, 1, None, 0]


def test_members_per_phase_keeps_roadmap_order_and_adds_finished_last() -> None:
    counts = members_per_phase(["One", "Two", "Three"], [("Two", 1), (None, 1), ("Two", 1)])

    assert counts == [("One", 0), ("Two", 2), ("Three", 0), ("Finished", 1)]
    assert members_per_phase(["One"], []) == [("One", 0)]
