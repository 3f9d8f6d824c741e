"""A cohort's dates as an RFC 5545 calendar file, built with ``icalendar``.

- The weekly prompt slot is ONE recurring event (``RRULE:FREQ=WEEKLY;UNTIL=...``) whose start
  carries the cohort's ``TZID``, with the matching ``VTIMEZONE`` built from zoneinfo, so every
  occurrence keeps the local wall-clock time across DST changes. A paused cohort's file leaves it
  out (no prompts are posted while paused; a download after ``/prompts resume`` has it again).
- Each phase is an all-day event, each existing review round's due date a timed event, and the
  cohort's last day (the end of the roadmap's last week, when its last weekly prompt has gone out)
  an all-day event.
- Nothing falls after the cohort's end; every ``UID`` is derived from the cohort and the item, so a
  calendar app that downloads the file again updates its events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.kernel import slots
from bot.kernel.roadmap import Roadmap

PRODID = "-//Waypoint//Cohort calendar//EN"
PROMPT_LENGTH = timedelta(minutes=30)
DUE_LENGTH = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class CohortDates:
    cohort_id: int
    name: str
    roadmap: Roadmap
    start: date
    slot: slots.WeeklySlot
    prompts_paused: bool
    review_dues: Sequence[tuple[int, datetime]]  # (round week, due instant), rounds that exist


def uid(kind: str, cohort_id: int, item: object) -> str:
    return f"{kind}-{cohort_id}-{item}@waypoint"


def last_day(dates: CohortDates) -> date:
    """The last day of the cohort's last week: its weekly prompts run to the roadmap's last week."""
    return dates.start + timedelta(days=7 * dates.roadmap.duration_weeks - 1)


def end_instant(dates: CohortDates) -> datetime:
    """The end of the cohort's last day, local midnight, in UTC."""
    after = last_day(dates) + timedelta(days=1)
    return datetime.combine(after, datetime.min.time(), tzinfo=ZoneInfo(dates.slot.timezone)).astimezone(UTC)


def prompt_start(dates: CohortDates, week: int) -> datetime:
    """The slot inside cohort week ``week``, as a local time in the cohort's zone."""
    first = dates.start + timedelta(days=7 * (week - 1))
    day = first + timedelta(days=(dates.slot.weekday - first.weekday()) % 7)
    return datetime.combine(day, dates.slot.at, tzinfo=ZoneInfo(dates.slot.timezone))


def _event(summary: str, key: str, stamp: datetime, start: date | datetime, end: date | datetime) -> Event:
    event = Event()
    event.add("uid", key)
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    return event


def _prompt_event(dates: CohortDates, stamp: datetime) -> Event:
    first = prompt_start(dates, 1)
    last = prompt_start(dates, dates.roadmap.duration_weeks)
    event = _event(
        f"{dates.name}: weekly prompt",
        uid("prompt", dates.cohort_id, "weekly"),
        stamp,
        first,
        first + PROMPT_LENGTH,
    )
    event.add("rrule", {"freq": "weekly", "until": last.astimezone(UTC)})
    event.add("description", f"The weekly study prompt of {dates.name} ({dates.roadmap.title}).")
    return event


def _phase_events(dates: CohortDates, stamp: datetime) -> list[Event]:
    events = []
    for number, phase in enumerate(dates.roadmap.phases, start=1):
        event = _event(
            f"{dates.name}: phase {number}, {phase.title}",
            uid("phase", dates.cohort_id, phase.key),
            stamp,
            dates.start + timedelta(days=phase.start_day),
            dates.start + timedelta(days=phase.end_day),
        )
        event.add("description", phase.summary)
        events.append(event)
    return events


def _review_events(dates: CohortDates, stamp: datetime) -> list[Event]:
    zone = ZoneInfo(dates.slot.timezone)
    ends = end_instant(dates)
    return [
        _event(
            f"{dates.name}: review round {week} due",
            uid("review-due", dates.cohort_id, week),
            stamp,
            due.astimezone(zone),
            due.astimezone(zone) + DUE_LENGTH,
        )
        for week, due in sorted(dates.review_dues)
        if due <= ends
    ]


def _end_event(dates: CohortDates, stamp: datetime) -> Event:
    day = last_day(dates)
    return _event(
        f"{dates.name}: last day of the cohort",
        uid("end", dates.cohort_id, "last-day"),
        stamp,
        day,
        day + timedelta(days=1),
    )


def build_calendar(dates: CohortDates, now: datetime) -> tuple[bytes, int]:
    """The ``.ics`` bytes and how many events they hold; ``now`` is every event's ``DTSTAMP``."""
    stamp = now.astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{dates.name} (Waypoint)")
    events: list[Event] = []
    if not dates.prompts_paused:
        events.append(_prompt_event(dates, stamp))
    events += _phase_events(dates, stamp)
    events += _review_events(dates, stamp)
    events.append(_end_event(dates, stamp))
    for event in events:
        calendar.add_component(event)
    # VTIMEZONE from zoneinfo, only for the years the cohort spans (a small file).
    calendar.add_missing_timezones(
        first_date=dates.start - timedelta(days=366), last_date=last_day(dates) + timedelta(days=366)
    )
    return calendar.to_ical(), len(events)
