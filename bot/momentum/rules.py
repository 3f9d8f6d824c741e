"""Scores, ranks and weekly streaks: pure functions of instants, weeks and counts.

- **Periods**: a score is kept per cohort week (``week``: the cohort week of the event's local
  date), per calendar month in the cohort's timezone (``month``: year * 100 + month) and for the
  whole cohort (``all``: period 0).
- **Score**: checkpoints completed plus reviews given in the period, one point each. The board
  orders by points, then by who reached them first (the latest counted event is earlier), then by
  user id so the order is total and every member has one rank.
- **Streak**: the run of consecutive active cohort weeks (a checkpoint done or a review given). It
  is current while it reaches this week or last week: this week may still be added to. It is at
  risk in the last 48 hours of a week with nothing done yet in it.

This is the one home of the streak rules: ``/progress``, the streak DM and the weekly prompt's
highlights all read them from here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.kernel import calendar, slots

STREAK_LEAD = timedelta(hours=48)
NOTABLE_STREAK = 3  # weeks in a row before the weekly prompt names a member
MAX_HIGHLIGHTS = 5
BOARD_SIZE = 10


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True, slots=True, order=True)
class PeriodKey:
    kind: PeriodKind
    period: int


# --- periods -------------------------------------------------------------------------------------


def month_key(day: date) -> int:
    return day.year * 100 + day.month


def periods_of(start: date, timezone: str, moment: datetime) -> tuple[PeriodKey, PeriodKey, PeriodKey]:
    """The three periods an event at ``moment`` counts in for a cohort."""
    local = slots.local_date(moment, timezone)
    week = slots.week_of_day((local - start).days)
    return (
        PeriodKey(PeriodKind.WEEK, week),
        PeriodKey(PeriodKind.MONTH, month_key(local)),
        PeriodKey(PeriodKind.ALL, 0),
    )


def current_period(kind: PeriodKind, start: date, timezone: str, now: datetime) -> PeriodKey:
    return next(key for key in periods_of(start, timezone, now) if key.kind is kind)


def local_midnight(day: date, timezone: str) -> datetime:
    """The UTC instant ``day`` begins in ``timezone`` (in a gap, when the gap begins)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def bounds(key: PeriodKey, start: date, timezone: str) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [from, to) of a period; None where it is open-ended.

    Week 0 holds whatever was done before the cohort's first day.
    """
    if key.kind is PeriodKind.ALL:
        return None, None
    if key.kind is PeriodKind.WEEK:
        if key.period < 1:
            return None, local_midnight(start, timezone)
        first = start + timedelta(days=calendar.week_first_day(key.period))
        return local_midnight(first, timezone), local_midnight(first + timedelta(days=7), timezone)
    year, month = divmod(key.period, 100)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return local_midnight(date(year, month, 1), timezone), local_midnight(following, timezone)


def week_end(start: date, week: int, timezone: str) -> datetime:
    """The UTC instant cohort week ``week`` ends: local midnight after its seventh day."""
    end = bounds(PeriodKey(PeriodKind.WEEK, week), start, timezone)[1]
    assert end is not None
    return end


# --- scores --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    checkpoints: int
    reviews: int
    reached_at: datetime

    @property
    def points(self) -> int:
        return self.checkpoints + self.reviews


def tally(
    start: date, timezone: str, checkpoints: Iterable[datetime], reviews: Iterable[datetime]
) -> dict[PeriodKey, Tally]:
    """Every period's score of one member from the instants of their events (a full recount).

    Written for the upgrade's backfill of every member at once: one local date per event, plain
    lists while counting, the result types built once per period.
    """
    counts: dict[tuple[PeriodKind, int], list[Any]] = {}
    for events, column in ((checkpoints, 0), (reviews, 1)):
        for at in events:
            local = slots.local_date(at, timezone)
            week = slots.week_of_day((local - start).days)
            for key in ((PeriodKind.WEEK, week), (PeriodKind.MONTH, month_key(local)), (PeriodKind.ALL, 0)):
                found = counts.get(key)
                if found is None:
                    counts[key] = found = [0, 0, at]
                found[column] += 1
                found[2] = max(found[2], at)
    return {PeriodKey(*key): Tally(done, given, latest) for key, (done, given, latest) in counts.items()}


def board_order(points: int, reached_at: datetime, user_id: int) -> tuple[int, datetime, int]:
    """Sort key of a board row: most points first, then who got there first, then the id."""
    return (-points, reached_at, user_id)


def ranked(rows: Iterable[tuple[int, Tally]]) -> list[tuple[int, int]]:
    """(rank, user id) of members with points, best first; ranks are 1..n, never shared."""
    scored = [(user_id, score) for user_id, score in rows if score.points > 0]
    scored.sort(key=lambda row: board_order(row[1].points, row[1].reached_at, row[0]))
    return [(number, user_id) for number, (user_id, _) in enumerate(scored, start=1)]


# --- streaks -------------------------------------------------------------------------------------


def streak_ending(active: Collection[int], week: int) -> int:
    """Consecutive active weeks ending with ``week`` itself."""
    length = 0
    while week - length >= 1 and (week - length) in active:
        length += 1
    return length


def streak_before(active: Collection[int], week: int) -> int:
    """Consecutive active weeks ending with the week before ``week``: what this week can extend."""
    return streak_ending(active, week - 1)


def current_streak(active: Collection[int], week: int) -> int:
    """The streak still alive in ``week``: through this week if it is active, else through last week."""
    return streak_ending(active, week) if week in active else streak_before(active, week)


def best_streak(active: Collection[int]) -> int:
    weeks = sorted(week for week in set(active) if week >= 1)
    best = run = 0
    for index, week in enumerate(weeks):
        run = run + 1 if index and weeks[index - 1] == week - 1 else 1
        best = max(best, run)
    return best


def streak_at_risk(active: Collection[int], week: int, ends_at: datetime, now: datetime) -> bool:
    """A streak to lose, nothing done this week yet, and under 48 hours of the week left."""
    if week < 1 or week in active or streak_before(active, week) == 0:
        return False
    return now < ends_at <= now + STREAK_LEAD


@dataclass(frozen=True, slots=True)
class Streak:
    current: int
    best: int
    at_risk: bool
    week_active: bool
    ends_at: datetime | None  # when this cohort week ends (None before the cohort starts)


def streak_of(active: Collection[int], start: date, timezone: str, now: datetime) -> Streak:
    week = slots.cohort_week(start, now, timezone)
    if week < 1:
        return Streak(0, best_streak(active), at_risk=False, week_active=False, ends_at=None)
    ends_at = week_end(start, week, timezone)
    return Streak(
        current=current_streak(active, week),
        best=best_streak(active),
        at_risk=streak_at_risk(active, week, ends_at, now),
        week_active=week in active,
        ends_at=ends_at,
    )


def notable_streaks(
    streaks: Iterable[tuple[int, int]], minimum: int = NOTABLE_STREAK, limit: int = MAX_HIGHLIGHTS
) -> list[tuple[int, int]]:
    """(user id, weeks) worth naming in the weekly prompt: the longest first, at most ``limit``."""
    notable = [(user_id, weeks) for user_id, weeks in streaks if weeks >= minimum]
    notable.sort(key=lambda row: (-row[1], row[0]))
    return notable[:limit]
