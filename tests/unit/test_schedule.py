"""Weekly slots: parsing, DST-true instants, agreement with APScheduler's CronTrigger, catch-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.kernel.errors import DomainError
from bot.kernel.slots import (
    CatchUp,
    ScheduleInputError,
    WeeklySlot,
    catch_up_decision,
    cohort_week,
    local_date,
    next_slot,
    parse_date,
    parse_time,
    parse_timezone,
    parse_weekday,
    previous_slot,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

# Zones whose clock changes happen away from midnight, plus some without DST at all.
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Auckland",
    "America/Sao_Paulo",  # DST abolished in 2019
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def at_local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).astimezone(UTC)


# --- parsing ---------------------------------------------------------------------------------------


def test_weekday_names_are_monday_first() -> None:
    assert [parse_weekday(name) for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")] == list(
        range(7)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon", MON),
        ("Monday", MON),
        ("TUE", TUE),
        ("tues", TUE),
        ("wednesday", WED),
        ("Thurs", THU),
        ("fri.", FRI),
        (" sat ", SAT),
        ("SUNDAY", SUN),
    ],
)
def test_parse_weekday_accepts_short_and_full_names(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text", ["", "mo", "funday", "7", "weekend", "mondays!"])
def test_parse_weekday_rejects_with_a_friendly_sentence(text: str) -> None:
    with pytest.raises(ScheduleInputError) as caught:
        parse_weekday(text)
    message = caught.value.message
    assert "mon, tue, wed, thu, fri, sat or sun" in message
    assert message.endswith(".")
    assert "\n" not in message


def test_schedule_errors_are_domain_errors_and_value_errors() -> None:
    with pytest.raises(ScheduleInputError) as caught:
        parse_weekday("someday")
    assert isinstance(caught.value, DomainError)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", time(18, 0)),
        ("09:05", time(9, 5)),
        ("9:05", time(9, 5)),
        ("00:00", time(0)),
        ("23:59", time(23, 59)),
    ],
)
def test_parse_time_reads_24_hour_clock(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "24:00", "12:60", "99:99"])
def test_parse_time_rejects_times_off_the_clock(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="00:00 to 23:59"):
        parse_time(text)


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("9am", "09:00"), ("6:30 PM", "18:30"), ("12am", "00:00"), ("12pm", "12:00"), ("9 a.m.", "09:00")],
)
def test_parse_time_turns_twelve_hour_input_into_the_example(text: str, suggested: str) -> None:
    with pytest.raises(ScheduleInputError) as caught:
        parse_time(text)
    assert f"e.g. {suggested}." in caught.value.message
    assert "24-hour" in caught.value.message


@pytest.mark.parametrize("text", ["", "18h", "18:00:00", "1800", "noon", "7:5", "13pm"])
def test_parse_time_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="HH:MM on a 24-hour clock"):
        parse_time(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        (" America/New_York ", "America/New_York"),
        ("UTC", "UTC"),
        ("asia/tokyo", "Asia/Tokyo"),
    ],
)
def test_parse_timezone_returns_the_canonical_name(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Europe/Berln", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("America/NewYork", "America/New_York"),
    ],
)
def test_parse_timezone_suggests_the_closest_name(text: str, suggestion: str) -> None:
    with pytest.raises(ScheduleInputError) as caught:
        parse_timezone(text)
    assert "IANA" in caught.value.message
    assert f"Did you mean `{suggestion}`?" in caught.value.message


@pytest.mark.parametrize("text", ["Mars/Olympus_Mons", "../../etc/passwd", "", "+02:00"])
def test_parse_timezone_rejects_unknown_names_without_crashing(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="not a timezone name"):
        parse_timezone(text)


def test_parse_date_reads_iso_dates() -> None:
    assert parse_date("2026-03-02") == date(2026, 3, 2)
    assert parse_date(" 2026-12-31 ") == date(2026, 12, 31)


@pytest.mark.parametrize("text", ["02/03/2026", "2026-3-2", "20260302", "tomorrow", "", "2026-03-02T10:00"])
def test_parse_date_rejects_other_formats(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="YYYY-MM-DD"):
        parse_date(text)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "2025-02-29"])
def test_parse_date_rejects_days_that_do_not_exist(text: str) -> None:
    with pytest.raises(ScheduleInputError, match="not a day on the calendar"):
        parse_date(text)


def slots_between(slot: WeeklySlot, start: datetime, end: datetime) -> list[datetime]:
    """Every slot instant in ``(start, end]`` by walking ``next_slot``: what the trigger fires."""
    instants: list[datetime] = []
    instant = next_slot(slot, start)
    while instant <= end:
        instants.append(instant)
        instant = next_slot(slot, instant)
    return instants


# --- the slot itself -------------------------------------------------------------------------------


def test_the_three_typed_parts_build_a_validated_slot() -> None:
    slot = WeeklySlot(
        weekday=parse_weekday("Monday"), at=parse_time("18:00"), timezone=parse_timezone("europe/berlin")
    )
    assert slot == WeeklySlot(weekday=MON, at=time(18, 0), timezone="Europe/Berlin")


@pytest.mark.parametrize(
    ("slot", "text"),
    [
        (WeeklySlot(MON, time(18, 0), "Europe/Berlin"), "Mondays at 18:00 (Europe/Berlin)"),
        (WeeklySlot(SUN, time(2, 30), "UTC"), "Sundays at 02:30 (UTC)"),
        (WeeklySlot(WED, time(9, 5), "Asia/Tokyo"), "Wednesdays at 09:05 (Asia/Tokyo)"),
    ],
)
def test_describe_reads_naturally(slot: WeeklySlot, text: str) -> None:
    assert slot.describe() == text


@pytest.mark.parametrize(
    ("weekday", "at", "timezone", "complaint"),
    [
        (7, time(18), "UTC", "weekday"),
        (-1, time(18), "UTC", "weekday"),
        (True, time(18), "UTC", "weekday"),
        (MON, time(18, 0, 30), "UTC", "whole minute"),
        (MON, time(18, tzinfo=UTC), "UTC", "without a timezone"),
        (MON, time(18), "Europe/Atlantis", "not a known IANA"),
    ],
)
def test_slot_rejects_invalid_parts(weekday: int, at: time, timezone: str, complaint: str) -> None:
    with pytest.raises(ScheduleInputError, match=complaint):
        WeeklySlot(weekday=weekday, at=at, timezone=timezone)


def test_slot_is_frozen_and_hashable() -> None:
    slot = WeeklySlot(MON, time(18), "UTC")
    with pytest.raises(dataclasses.FrozenInstanceError):
        slot.weekday = TUE  # type: ignore[misc]
    assert len({slot, WeeklySlot(MON, time(18), "UTC")}) == 1


# --- explicit instants -----------------------------------------------------------------------------


def test_next_slot_is_returned_in_utc() -> None:
    slot = WeeklySlot(MON, time(18), "Europe/Berlin")
    # Monday 2026-01-05, 11:00 in Berlin: today's slot is still ahead.
    result = next_slot(slot, at_local(BERLIN, 2026, 1, 5, 11))
    assert result == utc(2026, 1, 5, 17)
    assert result.tzinfo is UTC


def test_now_may_be_given_in_any_zone() -> None:
    slot = WeeklySlot(MON, time(18), "Europe/Berlin")
    in_tokyo = datetime(2026, 1, 5, 19, 0, tzinfo=TOKYO)  # 10:00 UTC, 11:00 in Berlin
    assert next_slot(slot, in_tokyo) == utc(2026, 1, 5, 17)


@pytest.mark.parametrize("function", [next_slot, previous_slot])
def test_naive_now_is_refused(function: Callable[[WeeklySlot, datetime], datetime]) -> None:
    slot = WeeklySlot(MON, time(18), "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        function(slot, datetime(2026, 1, 5, 12))


def test_naive_bounds_are_refused() -> None:
    slot = WeeklySlot(MON, time(18), "UTC")
    with pytest.raises(ValueError, match="timezone-aware"):
        slots_between(slot, datetime(2026, 1, 1), utc(2026, 2, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 1, 1), "UTC")


def test_at_the_slot_next_is_a_week_later_and_previous_is_now() -> None:
    slot = WeeklySlot(MON, time(18), "Europe/Berlin")
    instant = utc(2026, 1, 5, 17)
    assert next_slot(slot, instant) == instant + timedelta(days=7)
    assert previous_slot(slot, instant) == instant
    just_before = instant - timedelta(microseconds=1)
    assert next_slot(slot, just_before) == instant
    assert previous_slot(slot, just_before) == instant - timedelta(days=7)


def test_berlin_keeps_local_time_across_spring_forward() -> None:
    slot = WeeklySlot(MON, time(18), "Europe/Berlin")
    # 18:00 CET is 17:00 UTC; after 2026-03-29 18:00 CEST is 16:00 UTC.
    assert slots_between(slot, utc(2026, 3, 20), utc(2026, 4, 7)) == [
        utc(2026, 3, 23, 17),
        utc(2026, 3, 30, 16),
        utc(2026, 4, 6, 16),
    ]


def test_berlin_keeps_local_time_across_fall_back() -> None:
    slot = WeeklySlot(MON, time(18), "Europe/Berlin")
    assert slots_between(slot, utc(2026, 10, 18), utc(2026, 10, 27)) == [
        utc(2026, 10, 19, 16),
        utc(2026, 10, 26, 17),
    ]


def test_berlin_slot_inside_the_spring_gap_fires_an_hour_later_local() -> None:
    slot = WeeklySlot(SUN, time(2, 30), "Europe/Berlin")
    fired = next_slot(slot, utc(2026, 3, 28, 12))
    # 02:30 does not exist on 2026-03-29: it fires at 03:30 CEST, 01:30 UTC.
    assert fired == utc(2026, 3, 29, 1, 30)
    assert fired.astimezone(BERLIN).time() == time(3, 30)
    # The week after, the wall time exists again.
    assert next_slot(slot, fired) == utc(2026, 4, 5, 0, 30)


def test_berlin_ambiguous_slot_fires_once_at_the_first_occurrence() -> None:
    slot = WeeklySlot(SUN, time(2, 30), "Europe/Berlin")
    first = at_local(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    second = at_local(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert (first, second) == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30))
    assert next_slot(slot, utc(2026, 10, 24, 12)) == first
    # Asked between the two occurrences, the repeat is not a slot.
    assert next_slot(slot, first) == utc(2026, 11, 1, 1, 30)
    assert previous_slot(slot, second) == first
    assert slots_between(slot, utc(2026, 10, 24), utc(2026, 10, 26)) == [first]


def test_new_york_spring_forward() -> None:
    in_gap = WeeklySlot(SUN, time(2, 30), "America/New_York")
    fired = next_slot(in_gap, utc(2026, 3, 7))
    assert fired == utc(2026, 3, 8, 7, 30)  # 03:30 EDT
    assert fired.astimezone(NEW_YORK).time() == time(3, 30)
    friday_morning = WeeklySlot(FRI, time(9), "America/New_York")
    assert slots_between(friday_morning, utc(2026, 3, 1), utc(2026, 3, 14)) == [
        utc(2026, 3, 6, 14),  # EST, -5
        utc(2026, 3, 13, 13),  # EDT, -4
    ]


def test_new_york_fall_back_fires_once() -> None:
    slot = WeeklySlot(SUN, time(1, 30), "America/New_York")
    assert slots_between(slot, utc(2026, 10, 31), utc(2026, 11, 2)) == [utc(2026, 11, 1, 5, 30)]  # 01:30 EDT
    assert next_slot(slot, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 8, 6, 30)  # 01:30 EST


def test_zones_without_dst_never_move() -> None:
    tokyo = WeeklySlot(WED, time(20), "Asia/Tokyo")
    instants = slots_between(tokyo, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(instants) == 52
    assert {(instant.weekday(), instant.time()) for instant in instants} == {(WED, time(11))}
    in_utc = WeeklySlot(SUN, time(2, 30), "UTC")
    assert next_slot(in_utc, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 2, 30)


def test_year_boundary() -> None:
    friday_midnight = WeeklySlot(FRI, time(0), "UTC")
    assert next_slot(friday_midnight, utc(2026, 12, 31, 23, 59, 59)) == utc(2027, 1, 1)
    assert previous_slot(friday_midnight, utc(2026, 12, 31, 23, 59, 59)) == utc(2026, 12, 25)
    # 2026-12-31 22:00 UTC is already Friday 2027-01-01 07:00 in Tokyo.
    tokyo_morning = WeeklySlot(FRI, time(8), "Asia/Tokyo")
    assert next_slot(tokyo_morning, utc(2026, 12, 31, 22)) == utc(2026, 12, 31, 23)
    assert previous_slot(tokyo_morning, utc(2027, 1, 1, 0)) == utc(2026, 12, 31, 23)


def test_local_date_is_the_cohorts_today() -> None:
    now = utc(2026, 12, 31, 22)
    assert local_date(now, "Asia/Tokyo") == date(2027, 1, 1)
    assert local_date(now, "America/New_York") == date(2026, 12, 31)
    assert local_date(now, "UTC") == date(2026, 12, 31)


def test_slots_between_excludes_start_and_includes_end() -> None:
    slot = WeeklySlot(MON, time(18), "UTC")
    first, second = utc(2026, 1, 5, 18), utc(2026, 1, 12, 18)
    assert slots_between(slot, first, second) == [second]
    assert slots_between(slot, first - timedelta(seconds=1), second - timedelta(seconds=1)) == [first]
    assert slots_between(slot, second, first) == []


# --- weeks -----------------------------------------------------------------------------------------


def test_slot_week_counts_from_the_start_date() -> None:
    start = date(2026, 3, 2)  # a Monday
    assert cohort_week(start, at_local(BERLIN, 2026, 3, 2, 18), "Europe/Berlin") == 1
    assert cohort_week(start, at_local(BERLIN, 2026, 3, 8, 23, 59), "Europe/Berlin") == 1
    assert cohort_week(start, at_local(BERLIN, 2026, 3, 9, 18), "Europe/Berlin") == 2
    assert cohort_week(start, at_local(BERLIN, 2026, 3, 1, 18), "Europe/Berlin") == 0


def test_slot_week_uses_the_local_date_not_the_utc_date() -> None:
    start = date(2026, 3, 2)
    sunday_night = at_local(NEW_YORK, 2026, 3, 8, 23, 30)
    assert sunday_night.date() == date(2026, 3, 9)  # already Monday in UTC
    assert cohort_week(start, sunday_night, "America/New_York") == 1


def test_consecutive_slots_get_consecutive_weeks() -> None:
    slot = WeeklySlot(SUN, time(2, 30), "Europe/Berlin")
    start = date(2026, 1, 7)  # a Wednesday: the first Sunday is day 4 of week 1
    instants = slots_between(slot, utc(2026, 1, 7), utc(2027, 1, 1))  # through both clock changes
    assert len(instants) == 51
    assert [cohort_week(start, instant, slot.timezone) for instant in instants] == list(
        range(1, len(instants) + 1)
    )


# --- catch-up --------------------------------------------------------------------------------------

MONDAY_EVENING = WeeklySlot(MON, time(18), "Europe/Berlin")
START = date(2026, 3, 2)
GRACE = timedelta(hours=6)


def test_catch_up_posts_the_latest_week_within_grace() -> None:
    decision = catch_up_decision(MONDAY_EVENING, START, 1, at_local(BERLIN, 2026, 3, 9, 19), GRACE)
    assert decision == CatchUp(post_week=2, due_at=at_local(BERLIN, 2026, 3, 9, 18), skipped_weeks=())
    assert not decision.nothing_to_do


def test_catch_up_skips_a_week_beyond_grace() -> None:
    decision = catch_up_decision(MONDAY_EVENING, START, 1, at_local(BERLIN, 2026, 3, 10, 12), GRACE)
    assert decision == CatchUp(post_week=None, due_at=None, skipped_weeks=(2,))


def test_catch_up_after_a_long_outage_posts_once_and_reports_the_rest() -> None:
    decision = catch_up_decision(MONDAY_EVENING, START, 1, at_local(BERLIN, 2026, 3, 30, 18, 30), GRACE)
    assert decision.post_week == 5
    assert decision.due_at == at_local(BERLIN, 2026, 3, 30, 18)
    assert decision.skipped_weeks == (2, 3, 4)


def test_catch_up_does_nothing_when_the_week_is_posted() -> None:
    decision = catch_up_decision(MONDAY_EVENING, START, 2, at_local(BERLIN, 2026, 3, 9, 19), GRACE)
    assert decision.nothing_to_do
    assert decision == CatchUp(post_week=None, due_at=None, skipped_weeks=())


@pytest.mark.parametrize(
    "now",
    [
        at_local(BERLIN, 2026, 2, 28, 12),  # days before the start
        at_local(BERLIN, 2026, 3, 2, 10),  # the start day, before its slot: the last slot was in February
    ],
)
def test_catch_up_does_nothing_before_the_first_slot(now: datetime) -> None:
    assert catch_up_decision(MONDAY_EVENING, START, None, now, GRACE).nothing_to_do


def test_catch_up_for_a_cohort_that_never_posted() -> None:
    first_evening = catch_up_decision(
        MONDAY_EVENING, START, None, at_local(BERLIN, 2026, 3, 2, 18, 30), GRACE
    )
    assert (first_evening.post_week, first_evening.skipped_weeks) == (1, ())
    weeks_later = catch_up_decision(MONDAY_EVENING, START, None, at_local(BERLIN, 2026, 3, 20, 12), GRACE)
    assert (weeks_later.post_week, weeks_later.skipped_weeks) == (None, (1, 2, 3))


def test_catch_up_grace_is_a_strict_bound() -> None:
    due = at_local(BERLIN, 2026, 3, 9, 18)
    assert catch_up_decision(MONDAY_EVENING, START, 1, due, GRACE).post_week == 2
    assert (
        catch_up_decision(MONDAY_EVENING, START, 1, due + GRACE - timedelta(microseconds=1), GRACE).post_week
        == 2
    )
    assert catch_up_decision(MONDAY_EVENING, START, 1, due + GRACE, GRACE).skipped_weeks == (2,)
    assert catch_up_decision(MONDAY_EVENING, START, 1, due, timedelta(0)).skipped_weeks == (2,)
    with pytest.raises(ValueError, match="grace"):
        catch_up_decision(MONDAY_EVENING, START, 1, due, timedelta(hours=-1))


def test_catch_up_with_a_mid_week_start() -> None:
    wednesday_start = date(2026, 3, 4)
    # The first Monday after the start is still week 1 (day 5).
    decision = catch_up_decision(
        MONDAY_EVENING, wednesday_start, None, at_local(BERLIN, 2026, 3, 9, 19), GRACE
    )
    assert decision.post_week == 1


def test_catch_up_for_a_slot_shifted_by_the_spring_gap() -> None:
    sunday_night = WeeklySlot(SUN, time(2, 30), "Europe/Berlin")
    # The slot fired at 03:30 CEST (01:30 UTC); the bot came back at 03:45 CEST.
    decision = catch_up_decision(
        sunday_night, date(2026, 3, 23), None, utc(2026, 3, 29, 1, 45), timedelta(hours=1)
    )
    assert decision == CatchUp(post_week=1, due_at=utc(2026, 3, 29, 1, 30), skipped_weeks=())


# --- properties ------------------------------------------------------------------------------------


@cache
def _transitions(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants (to the minute) where the zone's offset changes in 2025-2027."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    day = utc(2025, 1, 1)
    while day < utc(2028, 1, 1):
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            low, high = day, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(second=0, microsecond=0))
        day = following
    return tuple(found)


whole_minutes = st.builds(time, st.integers(0, 23), st.integers(0, 59))
any_slot = st.builds(WeeklySlot, weekday=st.integers(0, 6), at=whole_minutes, timezone=st.sampled_from(ZONES))
any_moment = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


@st.composite
def slot_and_now_near_a_clock_change(draw: st.DrawFn) -> tuple[WeeklySlot, datetime]:
    """A slot within a few hours of a DST transition, asked about within a few days of it."""
    zone_name = draw(st.sampled_from([name for name in ZONES if _transitions(name)]))
    transition = draw(st.sampled_from(_transitions(zone_name)))
    wall = transition.astimezone(ZoneInfo(zone_name)).replace(tzinfo=None)
    wall += timedelta(minutes=draw(st.integers(-180, 180)))
    slot = WeeklySlot(wall.weekday(), wall.time().replace(second=0, microsecond=0), zone_name)
    now = transition + timedelta(seconds=draw(st.integers(-3 * 86400, 3 * 86400)))
    return slot, now


slot_and_now = st.one_of(st.tuples(any_slot, any_moment), slot_and_now_near_a_clock_change())
WEEK_PLUS_SHIFT = timedelta(days=7, hours=1)
WEEK_MINUS_SHIFT = timedelta(days=7, hours=-1)


def _assert_is_the_slot_or_its_gap_shift(slot: WeeklySlot, instant: datetime) -> None:
    zone = ZoneInfo(slot.timezone)
    local = instant.astimezone(zone)
    assert local.fold == 0, "an ambiguous slot fires at its first occurrence"
    if (local.weekday(), local.time()) == (slot.weekday, slot.at):
        return
    # Otherwise the wall time did not exist that day, and the slot fired with the offset from before the gap.
    wall = datetime.combine(local.date(), slot.at)
    assert local.weekday() == slot.weekday
    assert wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall
    offset_before = (instant - timedelta(days=1)).astimezone(zone).utcoffset()
    assert offset_before is not None
    assert local.utcoffset() != offset_before
    assert instant == (wall - offset_before).replace(tzinfo=UTC)


@settings(max_examples=400)
@given(slot_and_now)
def test_next_slot_is_the_right_local_moment_soon_after_now(case: tuple[WeeklySlot, datetime]) -> None:
    slot, now = case
    upcoming = next_slot(slot, now)
    assert now < upcoming <= now + WEEK_PLUS_SHIFT
    assert upcoming.tzinfo is UTC
    _assert_is_the_slot_or_its_gap_shift(slot, upcoming)


@settings(max_examples=400)
@given(slot_and_now)
def test_previous_and_next_bracket_now(case: tuple[WeeklySlot, datetime]) -> None:
    slot, now = case
    latest = previous_slot(slot, now)
    upcoming = next_slot(slot, now)
    assert latest <= now < upcoming
    assert next_slot(slot, latest) == upcoming
    assert previous_slot(slot, upcoming) == upcoming
    assert WEEK_MINUS_SHIFT <= upcoming - latest <= WEEK_PLUS_SHIFT
    _assert_is_the_slot_or_its_gap_shift(slot, latest)


@settings(max_examples=200)
@given(slot_and_now, st.integers(0, 60 * 24 * 40))
def test_slots_between_walks_from_slot_to_slot(case: tuple[WeeklySlot, datetime], span_minutes: int) -> None:
    slot, start = case
    end = start + timedelta(minutes=span_minutes)
    instants = slots_between(slot, start, end)
    walked: list[datetime] = []
    cursor = next_slot(slot, start)
    while cursor <= end:
        walked.append(cursor)
        cursor = next_slot(slot, cursor)
    assert instants == walked
    assert all(start < instant <= end for instant in instants)


def _cron_next(slot: WeeklySlot, now: datetime) -> datetime:
    """What APScheduler would fire next, strictly after ``now``, in UTC."""
    trigger = CronTrigger(
        day_of_week=slot.weekday, hour=slot.at.hour, minute=slot.at.minute, timezone=slot.timezone
    )
    fire = trigger.get_next_fire_time(None, now)
    assert fire is not None
    if fire.astimezone(UTC) == now:
        # CronTrigger counts `now` itself; fire times are whole minutes, so a second later is "after".
        fire = trigger.get_next_fire_time(None, now + timedelta(seconds=1))
        assert fire is not None
    return fire.astimezone(UTC)


def _explain_cron_difference(slot: WeeklySlot, now: datetime, cron_fire: datetime, ours: datetime) -> str:
    """Name the documented reason CronTrigger answers differently, or fail."""
    zone = ZoneInfo(slot.timezone)
    latest = previous_slot(slot, now)
    repeat = latest.astimezone(zone).replace(fold=1).astimezone(UTC)
    if latest < repeat and latest <= now < repeat and cron_fire == repeat and ours > repeat:
        return "fall-back repeat"
    shifted = ours.astimezone(zone)
    asked_after_the_gap = now.astimezone(zone).utcoffset() == shifted.utcoffset()
    if shifted.time() != slot.at and asked_after_the_gap and cron_fire == next_slot(slot, ours):
        return "restart inside the shifted gap window"
    offset_a_day_before = (ours - timedelta(days=1)).astimezone(zone).utcoffset()
    assert offset_a_day_before is not None
    day_after_spring_forward = offset_a_day_before < shifted.utcoffset()
    if slot.at.hour == 0 and day_after_spring_forward and cron_fire == next_slot(slot, ours):
        return "midnight hour after spring forward"
    raise AssertionError(f"{slot}: at {now} CronTrigger says {cron_fire}, we say {ours}")


@settings(max_examples=500, deadline=None)
@given(slot_and_now)
def test_next_slot_agrees_with_cron_trigger(case: tuple[WeeklySlot, datetime]) -> None:
    slot, now = case
    ours = next_slot(slot, now)
    cron_fire = _cron_next(slot, now)
    if cron_fire != ours:
        _explain_cron_difference(slot, now, cron_fire, ours)


@pytest.mark.parametrize(
    ("zone_name", "sunday"),
    [
        ("Europe/Berlin", date(2026, 3, 29)),
        ("Europe/Berlin", date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
    ],
)
def test_cron_trigger_agreement_on_a_grid_around_each_clock_change(zone_name: str, sunday: date) -> None:
    zone = ZoneInfo(zone_name)
    saturday = datetime.combine(sunday - timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    nows = [saturday + timedelta(minutes=10 * step) for step in range(60 * 6)]  # 60 hours, every 10 minutes
    reasons: set[str] = set()
    for quarter in range(0, 5 * 60, 15):
        slot = WeeklySlot(SUN, time(quarter // 60, quarter % 60), zone_name)
        for now in nows:
            ours, cron_fire = next_slot(slot, now), _cron_next(slot, now)
            if ours != cron_fire:
                reasons.add(_explain_cron_difference(slot, now, cron_fire, ours))
    # Each clock change shows exactly its own documented difference, so the grid did reach the edge cases.
    expected = "restart inside the shifted gap window" if sunday.month == 3 else "fall-back repeat"
    assert reasons == {expected}


def test_cron_trigger_fires_the_fall_back_repeat_that_we_skip() -> None:
    """A canary: if APScheduler stops double-firing, the docstring of bot.kernel.slots should change."""
    slot = WeeklySlot(SUN, time(2, 30), "Europe/Berlin")
    trigger = CronTrigger(day_of_week="sun", hour=2, minute=30, timezone="Europe/Berlin")
    first = trigger.get_next_fire_time(None, utc(2026, 10, 24))
    assert first is not None
    repeat = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert repeat is not None
    assert (first.astimezone(UTC), repeat.astimezone(UTC)) == (
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
    )
    assert next_slot(slot, first) == utc(2026, 11, 1, 1, 30)


def test_cron_trigger_skips_the_midnight_hour_after_spring_forward() -> None:
    """A canary for a CronTrigger bug we do not share: Monday 00:00 in Berlin is lost for a week.

    Stepping day by day in naive 24-hour strides, the trigger lands on 01:00 the Monday after the
    23-hour Sunday and moves on. The bot must not rely on CronTrigger alone to never miss a week.
    """
    slot = WeeklySlot(MON, time(0), "Europe/Berlin")
    trigger = CronTrigger(day_of_week="mon", hour=0, minute=0, timezone="Europe/Berlin")
    fired = trigger.get_next_fire_time(None, utc(2026, 3, 20))
    assert fired is not None
    following = trigger.get_next_fire_time(fired, fired + timedelta(seconds=1))
    assert following is not None
    assert following.astimezone(UTC) == at_local(BERLIN, 2026, 4, 6, 0)
    assert next_slot(slot, fired) == at_local(BERLIN, 2026, 3, 30, 0) == utc(2026, 3, 29, 22)


@settings(max_examples=200)
@given(
    slot_and_now,
    st.one_of(st.none(), st.integers(0, 60)),
    st.integers(-400, 400),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_catch_up_never_floods_and_never_repeats(
    case: tuple[WeeklySlot, datetime], last_posted_week: int | None, start_offset_days: int, grace: timedelta
) -> None:
    slot, now = case
    start = local_date(now, slot.timezone) + timedelta(days=start_offset_days)
    decision = catch_up_decision(slot, start, last_posted_week, now, grace)
    latest = previous_slot(slot, now)
    latest_week = cohort_week(start, latest, slot.timezone)
    first_unposted = 1 if last_posted_week is None else last_posted_week + 1
    # Every unposted week up to the latest slot is accounted for exactly once: posted or skipped.
    accounted = sorted([*decision.skipped_weeks, *([decision.post_week] if decision.post_week else [])])
    assert accounted == list(range(first_unposted, latest_week + 1))
    if decision.post_week is not None:
        assert decision.post_week == latest_week
        assert decision.due_at == latest
        assert now - latest < grace
    else:
        assert decision.due_at is None
