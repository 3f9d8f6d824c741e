"""When a cohort's weekly study prompt is due: slots, DST rules, catch-up after downtime.

A cohort posts once a week at a local wall-clock time in its own IANA timezone. APScheduler fires
the live job; this module computes the same instants without it, so previews, ``/cohort info`` and
the start-up catch-up agree with the scheduler. Pure: every function takes ``now`` from the caller.

DST rules (checked against APScheduler 3.11's ``CronTrigger`` with ``zoneinfo`` zones):

* A local time inside a spring-forward gap is read with the offset in force before the gap, so it
  fires as far past the gap's start as it was meant to: 02:30 in Berlin on 2026-03-29 fires at
  03:30 CEST (01:30 UTC), as ``CronTrigger`` does when it computes that fire time before the gap.
* An ambiguous local time (fall back) fires once, at its first occurrence.

Where ``CronTrigger`` answers otherwise, it is the trigger that misses or repeats a week, and the
tests pin each case: it also fires the fall-back repeat an hour later; asked from inside a shifted
gap window (a restart at 03:10 that night) it skips to the next week; and a slot in the 00:00
hour on the day after a spring-forward change (Mondays 00:30 in Berlin) is skipped for a week.
Zones that change clocks at midnight add more such cases. So the scheduler should not trust the
trigger alone: ``bot.scheduling.WeeklySlotTrigger`` takes its fire times from ``next_slot``, and
the (cohort, week) key absorbs any repeat.

Instants are returned in UTC.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.kernel.errors import InvalidInputError, did_you_mean
from bot.kernel.text import echo_code

_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
_TWELVE_HOUR_RE = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?", re.IGNORECASE)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEK = timedelta(days=7)


class ScheduleInputError(InvalidInputError, ValueError):
    """A weekday, time, timezone or date a member typed that we cannot use; the message says why."""


# --- parsing what members type -------------------------------------------------------------------


def parse_weekday(text: str) -> int:
    """``mon``..``sun`` or a full name (or a prefix of one, like ``tues``) -> 0=Monday..6=Sunday."""
    cleaned = text.strip().lower().rstrip(".")
    if len(cleaned) >= 3:
        for number, name in enumerate(_WEEKDAY_NAMES):
            if name.startswith(cleaned):
                return number
    raise ScheduleInputError(
        f"`{echo_code(text.strip())}` is not a weekday: use mon, tue, wed, thu, fri, sat or sun"
        " (or the full name)."
    )


def parse_time(text: str) -> time:
    """``HH:MM`` on a 24-hour clock (``9:05`` is accepted too) -> a naive ``time``."""
    cleaned = text.strip()
    match = _TIME_RE.fullmatch(cleaned)
    if match is None:
        example = _as_24_hour(cleaned) or "18:30"
        raise ScheduleInputError(
            f"`{echo_code(cleaned)}` is not a time: write it as HH:MM on a 24-hour clock, e.g. {example}."
        )
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ScheduleInputError(
            f"`{echo_code(cleaned)}` is not on the clock: use a time from 00:00 to 23:59, e.g. 18:30."
        )
    return time(hour, minute)


def _as_24_hour(text: str) -> str | None:
    """``6:30pm`` -> ``18:30``, so the error shows the member their own time the way we want it."""
    match = _TWELVE_HOUR_RE.fullmatch(text)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if not 1 <= hour <= 12 or minute > 59:
        return None
    hour = hour % 12 + (12 if match[3].lower() == "p" else 0)
    return f"{hour:02d}:{minute:02d}"


NOT_PLACES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


@cache
def _known_timezones() -> frozenset[str]:
    """The IANA names zoneinfo can load; scanning the tz database is slow, so it happens once.

    ``localtime`` is the host's own /etc/localtime and ``Factory`` a placeholder: neither is a
    place, and a slot in them would move when the bot moves to another machine.
    """
    return frozenset(available_timezones()) - NOT_PLACES


def timezone_names() -> list[str]:
    """Every zone a cohort may use, sorted: what autocomplete offers."""
    return sorted(_known_timezones())


@cache
def _timezones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in _known_timezones()}


def _closest_timezone(text: str) -> str | None:
    folded = text.casefold().replace(" ", "_")
    by_folded = _timezones_by_folded_name()
    # "berlin" or "new york": the city alone names a zone more often than not.
    city_matches = sorted(name for key, name in by_folded.items() if key.rsplit("/", 1)[-1] == folded)
    if city_matches:
        return city_matches[0]
    close = difflib.get_close_matches(folded, by_folded.keys(), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


def parse_timezone(text: str) -> str:
    """An IANA name such as ``Europe/Berlin`` -> its canonical spelling (case is forgiven)."""
    cleaned = text.strip()
    if cleaned in _known_timezones():
        return cleaned
    same_but_case = _timezones_by_folded_name().get(cleaned.casefold())
    if same_but_case is not None:
        return same_but_case
    raise ScheduleInputError(
        f"`{echo_code(cleaned)}` is not a timezone name: use an IANA name like Europe/Berlin"
        " or America/New_York." + did_you_mean(_closest_timezone(cleaned))
    )


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` -> a date; other ISO spellings are refused so members see one format."""
    cleaned = text.strip()
    if _DATE_RE.fullmatch(cleaned) is None:
        raise ScheduleInputError(
            f"`{echo_code(cleaned)}` is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02."
        )
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise ScheduleInputError(
            f"`{echo_code(cleaned)}` is not a day on the calendar: check the month and day."
        ) from None


# --- the weekly slot -----------------------------------------------------------------------------


@cache
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo objects are cached by zoneinfo too, but this lookup is cheaper on hot paths."""
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class WeeklySlot:
    """Once a week, on ``weekday`` (0=Monday) at local wall time ``at``, in ``timezone``."""

    weekday: int
    at: time
    timezone: str

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ScheduleInputError("The weekday must be a number from 0 (Monday) to 6 (Sunday).")
        if not isinstance(self.at, time) or self.at.tzinfo is not None:
            raise ScheduleInputError("The slot time must be a local wall time without a timezone.")
        if self.at.second or self.at.microsecond:
            # The scheduler's cron trigger works in whole minutes; anything finer would disagree.
            raise ScheduleInputError("The slot time must be a whole minute, like 18:30.")
        if self.timezone not in _known_timezones():
            raise ScheduleInputError(f"`{self.timezone}` is not a known IANA timezone name.")

    def describe(self) -> str:
        """For members: ``Mondays at 18:00 (Europe/Berlin)``."""
        return f"{_WEEKDAY_NAMES[self.weekday].capitalize()}s at {self.at:%H:%M} ({self.timezone})"


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive {moment.isoformat()}")


def _instant_on(slot: WeeklySlot, zone: ZoneInfo, day: date) -> datetime:
    """The UTC instant of the slot on a local date.

    ``fold=0`` does both DST rules at once: in a gap zoneinfo uses the offset from before the gap
    (so 02:30 becomes 03:30 local), and of an ambiguous time it picks the first occurrence.
    """
    return datetime.combine(day, slot.at, tzinfo=zone).astimezone(UTC)


def _slot_day_of_week(slot: WeeklySlot, zone: ZoneInfo, now: datetime) -> date:
    """The local date in ``now``'s local week (Monday..Sunday) that falls on the slot's weekday."""
    today = now.astimezone(zone).date()
    return today + timedelta(days=slot.weekday - today.weekday())


def _first_after(slot: WeeklySlot, zone: ZoneInfo, moment: datetime) -> tuple[date, datetime]:
    """The first (local date, instant) strictly after ``moment``.

    The week before is checked too: a gap shift can push an instant past local midnight.
    """
    day = _slot_day_of_week(slot, zone, moment) - _WEEK
    while True:
        instant = _instant_on(slot, zone, day)
        if instant > moment:
            return day, instant
        day += _WEEK


def next_slot(slot: WeeklySlot, now: datetime) -> datetime:
    """The first slot instant strictly after ``now``, in UTC; at the slot itself, a week later."""
    _require_aware(now, "now")
    return _first_after(slot, _zone(slot.timezone), now)[1]


def previous_slot(slot: WeeklySlot, now: datetime) -> datetime:
    """The latest slot instant at or before ``now``, in UTC; ``now`` itself when it is a slot."""
    _require_aware(now, "now")
    zone = _zone(slot.timezone)
    day = _slot_day_of_week(slot, zone, now) + _WEEK
    while True:
        instant = _instant_on(slot, zone, day)
        if instant <= now:
            return instant
        day -= _WEEK


def local_date(now: datetime, timezone: str) -> date:
    """The cohort's "today": the calendar date at ``now`` in its timezone."""
    _require_aware(now, "now")
    return now.astimezone(_zone(timezone)).date()


def week_of_day(elapsed_days: int) -> int:
    """The 1-based cohort week of a day offset from the start (days 0..6 are week 1); 0 before it."""
    return 0 if elapsed_days < 0 else elapsed_days // 7 + 1


def cohort_week(start: date, moment: datetime, timezone: str) -> int:
    """The one answer to "which week is it": the cohort week holding ``moment``'s local date.

    A cohort has one slot per week, so for a slot instant this is what makes a post unique.
    """
    return week_of_day((local_date(moment, timezone) - start).days)


# --- catching up after downtime ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What to do at start-up for one cohort.

    ``post_week`` is the week to post now (with ``due_at``, the slot it belonged to), or None;
    ``skipped_weeks`` are weeks whose slot passed unposted and too long ago, to report, not post.
    """

    post_week: int | None
    due_at: datetime | None
    skipped_weeks: tuple[int, ...]

    @property
    def nothing_to_do(self) -> bool:
        return self.post_week is None and not self.skipped_weeks


def catch_up_decision(
    slot: WeeklySlot,
    start: date,
    last_posted_week: int | None,
    now: datetime,
    grace: timedelta,
) -> CatchUp:
    """Decide, after downtime, whether a missed prompt is posted late or skipped.

    Only the latest slot at or before ``now`` may be posted, and only if it passed less than
    ``grace`` ago and its week is newer than ``last_posted_week``: a late prompt is still useful,
    a stale one is noise. Every other unposted week since ``last_posted_week`` (or since week 1)
    is listed in ``skipped_weeks`` and never posted, so a long outage cannot flood the channel.
    Nothing happens before the cohort's first slot, or when the latest week is already posted.
    Whether a week is past the roadmap's end is the caller's question (``calendar`` knows).
    """
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    latest = previous_slot(slot, now)
    latest_week = cohort_week(start, latest, slot.timezone)
    first_unposted = 1 if last_posted_week is None else last_posted_week + 1
    if latest_week < 1 or latest_week < first_unposted:
        return CatchUp(post_week=None, due_at=None, skipped_weeks=())
    if now - latest < grace:
        return CatchUp(
            post_week=latest_week, due_at=latest, skipped_weeks=tuple(range(first_unposted, latest_week))
        )
    return CatchUp(post_week=None, due_at=None, skipped_weeks=tuple(range(first_unposted, latest_week + 1)))
