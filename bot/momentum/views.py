"""What the momentum service returns: data only; the cogs word it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.momentum.rules import PeriodKey, Streak


@dataclass(frozen=True, slots=True)
class BoardEntry:
    rank: int
    user_id: int
    name: str  # stored at enrolment; the cog prefers the server's current display name
    checkpoints: int
    reviews: int
    points: int


@dataclass(frozen=True, slots=True)
class Standing:
    """The caller's own place: ``rank`` is None when they are hidden, not listed or have no points."""

    in_cohort: bool
    hidden: bool
    rank: int | None
    checkpoints: int
    reviews: int
    points: int


@dataclass(frozen=True, slots=True)
class Board:
    cohort_name: str
    key: PeriodKey
    started: bool  # False: the cohort's first week has not begun (no week to rank yet)
    month_start: date | None  # the first day of the month shown (month boards)
    entries: tuple[BoardEntry, ...]
    listed: int  # how many listed members have points in the period
    me: Standing


@dataclass(frozen=True, slots=True)
class StreakView:
    cohort_name: str
    week: int
    streak: Streak


@dataclass(frozen=True, slots=True)
class VisibilityChange:
    hidden: bool
    changed: bool
