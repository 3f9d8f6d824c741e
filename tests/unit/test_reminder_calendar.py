"""The cohort calendar file, read back with a second library (``recurring-ical-events``).

Every expanded occurrence of the weekly prompt must fall at the cohort's local wall-clock time on
both sides of each DST change, in zones north and south of the equator (Berlin moves its clocks in
March and October, Sydney in April and October, Santiago in April and September).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from bot.content import RoadmapCatalog
from bot.kernel import slots
from bot.kernel.roadmap import Roadmap
from bot.reminders.calendar import CohortDates, build_calendar, end_instant, last_day

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def roadmap(default_catalog: RoadmapCatalog) -> Roadmap:
    found = default_catalog.get("python-europe")  # 52 weeks: every zone changes its clocks twice
    assert found is not None
    return found


def dates_for(roadmap: Roadmap, zone: str, **changes: object) -> CohortDates:
    values: dict[str, object] = {
        "cohort_id": 7,
        "name": "Spring",
        "roadmap": roadmap,
        "start": date(2026, 1, 1),
        "slot": slots.WeeklySlot(weekday=0, at=time(18, 0), timezone=zone),
        "prompts_paused": False,
        "review_dues": (),
    }
    values.update(changes)
    return CohortDates(**values)  # type: ignore[arg-type]


def parsed(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def occurrences(data: bytes, summary_part: str) -> list[icalendar.Event]:
    everything = recurring_ical_events.of(parsed(data)).between(date(2025, 1, 1), date(2028, 1, 1))
    return [event for event in everything if summary_part in str(event.get("summary"))]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Australia/Sydney", "America/Santiago"])
def test_every_weekly_prompt_falls_at_the_local_slot_across_dst(roadmap: Roadmap, zone: str) -> None:
    dates = dates_for(roadmap, zone)
    data, _ = build_calendar(dates, NOW)

    found = occurrences(data, "weekly prompt")

    assert len(found) == roadmap.duration_weeks
    offsets = set()
    for week, event in enumerate(found, start=1):
        start = event.start
        local = start.astimezone(ZoneInfo(zone))
        assert (local.weekday(), local.time()) == (0, time(18, 0)), (week, start)
        assert local.date() == date(2026, 1, 5) + timedelta(days=7 * (week - 1))
        offsets.add(local.utcoffset())
    assert len(offsets) == 2, "the test must cross a DST change"
    assert found[-1].start.astimezone(UTC) <= end_instant(dates)


def test_the_file_carries_its_vtimezone_and_one_recurring_prompt_event(roadmap: Roadmap) -> None:
    data, events = build_calendar(dates_for(roadmap, "Australia/Sydney"), NOW)
    calendar = parsed(data)

    assert [tz.tz_name for tz in calendar.timezones] == ["Australia/Sydney"]
    prompts = [event for event in calendar.events if "weekly prompt" in str(event.get("summary"))]
    assert len(prompts) == 1 and "RRULE" in prompts[0]
    assert b"DTSTART;TZID=Australia/Sydney:20260105T180000" in data
    assert events == len(calendar.events)


def test_phases_are_all_day_and_the_end_is_the_last_day(roadmap: Roadmap) -> None:
    dates = dates_for(roadmap, "Europe/Berlin")
    calendar = parsed(build_calendar(dates, NOW)[0])
    phases = [event for event in calendar.events if "phase" in str(event.get("summary"))]

    assert len(phases) == len(roadmap.phases)
    for event, phase in zip(phases, roadmap.phases, strict=True):
        assert event.start == dates.start + timedelta(days=phase.start_day)
        assert event.end == dates.start + timedelta(days=phase.end_day)
    (end,) = [event for event in calendar.events if "last day" in str(event.get("summary"))]
    assert end.start == last_day(dates) == date(2026, 12, 30)


def test_review_due_dates_are_timed_events_and_none_fall_after_the_end(roadmap: Roadmap) -> None:
    due = datetime(2026, 1, 11, 17, 0, tzinfo=UTC)
    late = datetime(2027, 3, 1, tzinfo=UTC)
    dates = dates_for(roadmap, "Europe/Berlin", review_dues=((1, due), (60, late)))
    calendar = parsed(build_calendar(dates, NOW)[0])

    reviews = [event for event in calendar.events if "review round" in str(event.get("summary"))]
    assert [(str(event["uid"]), event.start) for event in reviews] == [("review-due-7-1@waypoint", due)]
    every_start = [event.start for event in recurring_ical_events.of(calendar).all()]
    assert all(
        (start if isinstance(start, datetime) else datetime.combine(start, time(), tzinfo=UTC))
        <= end_instant(dates)
        for start in every_start
    )


def test_uids_are_stable_so_a_new_download_updates_the_same_events(roadmap: Roadmap) -> None:
    first = parsed(build_calendar(dates_for(roadmap, "Europe/Berlin"), NOW)[0])
    later = parsed(build_calendar(dates_for(roadmap, "Europe/Berlin"), NOW + timedelta(days=30))[0])

    uids = [str(event["uid"]) for event in first.events]
    assert uids == [str(event["uid"]) for event in later.events]
    assert len(set(uids)) == len(uids)
    assert "prompt-7-weekly@waypoint" in uids and "end-7-last-day@waypoint" in uids


def test_a_paused_cohort_leaves_the_weekly_prompt_out(roadmap: Roadmap) -> None:
    data, events = build_calendar(dates_for(roadmap, "Europe/Berlin", prompts_paused=True), NOW)

    assert occurrences(data, "weekly prompt") == []
    assert events == len(roadmap.phases) + 1  # phases and the last day stay
    assert parsed(data).events
