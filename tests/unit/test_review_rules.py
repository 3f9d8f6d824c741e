"""The pure rules behind review pairing: input parsing, snooze weeks, streaks, offsets, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import DEFAULT_CONTENT_DIR
from bot.content import load_catalog
from bot.kernel.errors import InvalidInputError
from bot.reviews.rules import (
    MAX_LANGUAGES,
    MISSED_ROUNDS_LIMIT,
    first_skippable_week,
    is_available,
    member_phase_index,
    members_without_review,
    next_missed_streak,
    parse_languages,
    reminder_is_due,
    round_seed,
    snoozed_until,
    utc_offset_minutes,
    validate_link,
    validate_snooze_weeks,
)


def test_languages_are_normalised_and_deduplicated() -> None:
    assert parse_languages(" Python , GO,python,, c++ , C#, node.js ") == (
        "python",
        "go",
        "c++",
        "c#",
        "node.js",
    )
    assert parse_languages("") == ()
    assert parse_languages(" , ") == ()
    assert parse_languages("Objective  C") == ("objective c",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (",".join(f"l{number}" for number in range(MAX_LANGUAGES + 1)), "at most 10 languages"),
        ("x" * 21, "too long"),
        ("python, <script>", "isn't a language name"),
        ("`rm -rf`", "isn't a language name"),
        ("-python", "isn't a language name"),
    ],
)
def test_bad_language_lists_are_refused(text: str, expected: str) -> None:
    with pytest.raises(InvalidInputError, match=expected):
        parse_languages(text)


def test_ten_languages_of_twenty_characters_fit_or_are_refused_clearly() -> None:
    ten = [f"{number}" + "a" * 19 for number in range(MAX_LANGUAGES)]
    with pytest.raises(InvalidInputError, match="under 200 characters"):
        parse_languages(",".join(ten))
    assert len(parse_languages(",".join(name[:18] for name in ten))) == MAX_LANGUAGES


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "ftp://example.org/x", "https://", "https://exa mple.org", "x" * 501]
)
def test_bad_links_are_refused(link: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_link(link)


def test_good_links_and_blanks() -> None:
    assert validate_link("  https://github.com/org/repo/pull/3  ") == "https://github.com/org/repo/pull/3"
    assert validate_link(None) is None
    assert validate_link("   ") is None


@pytest.mark.parametrize("weeks", [0, -1, 9, 100])
def test_snooze_weeks_outside_one_to_eight_are_refused(weeks: int) -> None:
    with pytest.raises(InvalidInputError, match="1 to 8 weeks"):
        validate_snooze_weeks(weeks)


def test_snooze_counts_rounds_from_the_next_one() -> None:
    # Before the start, the first round is week 1.
    assert first_skippable_week(0, round_exists_this_week=False) == 1
    # This week's round has not run: it is the first one skipped.
    assert snoozed_until(4, round_exists_this_week=False, weeks=2) == 5
    # This week's round already ran: skipping starts next week.
    assert snoozed_until(4, round_exists_this_week=True, weeks=2) == 6
    assert not is_available(True, 6, 0, 6)
    assert is_available(True, 6, 0, 7)


def test_availability() -> None:
    assert is_available(True, None, 0, 1)
    assert not is_available(False, None, 0, 1)  # opted out
    assert not is_available(True, None, MISSED_ROUNDS_LIMIT, 9)  # auto-snoozed until they rejoin
    assert is_available(True, None, MISSED_ROUNDS_LIMIT - 1, 9)


def test_missed_streak_grows_and_resets() -> None:
    streak = 0
    for _ in range(MISSED_ROUNDS_LIMIT):
        streak = next_missed_streak(streak, reviewed=False)
    assert streak == MISSED_ROUNDS_LIMIT
    assert next_missed_streak(streak, reviewed=True) == 0


def test_members_without_review_counts_reviews_inside_the_group_only() -> None:
    reviews = {(1, 2), (3, 99)}  # 3 reviewed someone outside the group: that does not count
    assert members_without_review((1, 2, 3), reviews) == (2, 3)
    assert members_without_review((1, 2), {(1, 2), (2, 1)}) == ()


def test_utc_offset_follows_daylight_saving() -> None:
    winter = datetime(2026, 1, 15, 12, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, tzinfo=UTC)
    assert utc_offset_minutes("Europe/Berlin", winter) == 60
    assert utc_offset_minutes("Europe/Berlin", summer) == 120
    assert utc_offset_minutes("Asia/Kolkata", summer) == 330
    assert utc_offset_minutes("America/New_York", winter) == -300
    assert utc_offset_minutes(None, winter) is None


def test_reminder_window_is_the_last_two_days() -> None:
    due = datetime(2026, 3, 8, 9, tzinfo=UTC)
    assert not reminder_is_due(due, due - timedelta(days=2, seconds=1))
    assert reminder_is_due(due, due - timedelta(days=2))
    assert reminder_is_due(due, due - timedelta(minutes=1))
    assert not reminder_is_due(due, due)


@given(st.integers(1, 10**12), st.integers(1, 520))
def test_round_seed_is_stable_and_fits_a_signed_bigint(cohort_id: int, week: int) -> None:
    seed = round_seed(cohort_id, week)
    assert seed == round_seed(cohort_id, week)
    assert 0 <= seed < 2**63


def test_round_seeds_differ_between_weeks_and_cohorts() -> None:
    seeds = {round_seed(cohort, week) for cohort in range(1, 20) for week in range(1, 53)}
    assert len(seeds) == 19 * 52


def test_phase_index_is_the_first_phase_with_work_left() -> None:
    roadmap = load_catalog(Path(DEFAULT_CONTENT_DIR)).get("python-europe")
    assert roadmap is not None
    first_phase_keys = {checkpoint.key for checkpoint in roadmap.phases[0].checkpoints}
    assert member_phase_index(roadmap, set()) == 0
    assert member_phase_index(roadmap, first_phase_keys) == 1
    every_key = {checkpoint.key for _, checkpoint in roadmap.checkpoints()}
    assert member_phase_index(roadmap, every_key) == len(roadmap.phases) - 1
