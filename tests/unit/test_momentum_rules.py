"""Scores, ranks and streaks as pure rules: periods in a cohort's timezone, invariants by hypothesis."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.kernel import slots
from bot.momentum import rules
from bot.momentum.rules import PeriodKey, PeriodKind, Tally

START = date(2026, 1, 1)  # a Thursday
BERLIN = "Europe/Berlin"


def test_a_cohort_week_ends_at_local_midnight() -> None:
    # Week 2 of a cohort starting Thursday 2026-01-01 runs to Wednesday the 14th, local time.
    assert rules.week_end(START, 2, BERLIN) == datetime(2026, 1, 14, 23, tzinfo=UTC)
    assert rules.week_end(START, 2, "Australia/Sydney") == datetime(2026, 1, 14, 13, tzinfo=UTC)


def test_a_week_across_the_spring_change_is_an_hour_shorter() -> None:
    # Berlin moves its clocks on Sunday 2026-03-29: week 13 (Thu 26 Mar .. Wed 1 Apr) holds it.
    since, until = rules.bounds(PeriodKey(PeriodKind.WEEK, 13), START, BERLIN)
    assert since == datetime(2026, 3, 25, 23, tzinfo=UTC) and until == datetime(2026, 4, 1, 22, tzinfo=UTC)
    assert until - since == timedelta(days=7, hours=-1)


def test_periods_follow_the_local_date_not_utc() -> None:
    # 23:30 UTC on 31 January is already 1 February in Berlin: month 202602, and week 5.
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    week, month, whole = rules.periods_of(START, BERLIN, late)
    assert week == PeriodKey(PeriodKind.WEEK, 5) and month == PeriodKey(PeriodKind.MONTH, 202602)
    assert whole == PeriodKey(PeriodKind.ALL, 0)
    assert rules.periods_of(START, BERLIN, datetime(2025, 12, 31, 12, tzinfo=UTC))[0].period == 0


def test_the_streak_counts_active_weeks_back_from_last_week() -> None:
    assert rules.streak_before({1, 2, 3}, 4) == 3
    assert rules.streak_before({1, 3}, 4) == 1
    assert rules.streak_before({1, 2}, 4) == 0
    assert rules.streak_before(set(), 1) == 0


def test_the_current_streak_includes_this_week_once_it_is_active() -> None:
    assert rules.current_streak({1, 2}, 3) == 2  # week 3 may still be added to
    assert rules.current_streak({1, 2, 3}, 3) == 3
    assert rules.current_streak({1, 2}, 4) == 0  # week 3 passed empty: broken
    assert rules.best_streak({1, 2, 5, 6, 7, 9}) == 3 and rules.best_streak(set()) == 0


def test_a_streak_is_at_risk_only_with_less_than_48_hours_left_and_nothing_done() -> None:
    ends = datetime(2026, 1, 14, 23, tzinfo=UTC)
    inside = ends - timedelta(hours=47)
    assert rules.streak_at_risk({1}, 2, ends, inside)
    assert not rules.streak_at_risk({1}, 2, ends, ends - timedelta(hours=49))  # too early
    assert not rules.streak_at_risk({1, 2}, 2, ends, inside)  # already done this week
    assert not rules.streak_at_risk(set(), 2, ends, inside)  # no streak to lose
    assert not rules.streak_at_risk({1}, 2, ends, ends)  # the week is over


def test_notable_streaks_are_long_ones_longest_first_and_capped() -> None:
    streaks = [(1, 2), (2, 3), (3, 7), (4, 3), (5, 4), (6, 5), (7, 6)]
    assert rules.notable_streaks(streaks) == [(3, 7), (7, 6), (6, 5), (5, 4), (2, 3)]


# --- invariants ----------------------------------------------------------------------------------

weeks_sets = st.sets(st.integers(min_value=1, max_value=40), max_size=30)


@given(weeks_sets, st.integers(min_value=1, max_value=45))
def test_streak_invariants(active: set[int], week: int) -> None:
    current = rules.current_streak(active, week)
    assert 0 <= current <= rules.best_streak(active) <= len(active)
    # The weeks the current streak covers are all active, and the week before them is not.
    last = week if week in active else week - 1
    assert all(last - offset in active for offset in range(current))
    assert last - current not in active or last - current < 1
    # Adding this week never shortens the streak; it grows it by one.
    assert rules.current_streak(active | {week}, week) == rules.streak_before(active, week) + 1


instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.sampled_from([BERLIN, "America/New_York", "Australia/Sydney", "UTC"]))
def test_every_instant_is_inside_the_bounds_of_its_periods(moment: datetime, timezone: str) -> None:
    for key in rules.periods_of(START, timezone, moment):
        since, until = rules.bounds(key, START, timezone)
        assert (since is None or since <= moment) and (until is None or moment < until)
    assert rules.periods_of(START, timezone, moment)[0].period == slots.cohort_week(START, moment, timezone)


scores = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=5),
        st.integers(min_value=0, max_value=3),  # few distinct instants: ties happen
    ),
    max_size=25,
)


@given(scores)
def test_ranks_are_one_to_n_and_respect_points_then_who_got_there_first(
    rows: list[tuple[int, int, int]],
) -> None:
    base = datetime(2026, 1, 5, tzinfo=UTC)
    board = [
        (user_id, Tally(done, given_, base + timedelta(hours=hour)))
        for user_id, (done, given_, hour) in enumerate(rows)
    ]
    ranked = rules.ranked(board)
    scored = {user_id: score for user_id, score in board if score.points > 0}
    assert [rank for rank, _ in ranked] == list(range(1, len(scored) + 1))
    order = [user_id for _, user_id in ranked]
    for better, worse in itertools.pairwise(order):
        a, b = scored[better], scored[worse]
        assert a.points > b.points or (
            a.points == b.points and (a.reached_at, better) < (b.reached_at, worse)
        )


@given(st.lists(instants, max_size=20), st.lists(instants, max_size=20))
def test_a_tally_adds_up_across_periods(checkpoints: list[datetime], reviews: list[datetime]) -> None:
    found = rules.tally(START, BERLIN, checkpoints, reviews)
    whole = found.get(PeriodKey(PeriodKind.ALL, 0))
    if not checkpoints and not reviews:
        assert whole is None
        return
    assert whole is not None
    assert (whole.checkpoints, whole.reviews) == (len(checkpoints), len(reviews))
    assert whole.reached_at == max(checkpoints + reviews)
    for kind in (PeriodKind.WEEK, PeriodKind.MONTH):
        parts = [score for key, score in found.items() if key.kind is kind]
        assert sum(part.points for part in parts) == whole.points
