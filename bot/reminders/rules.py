"""When a reminder DM is due, and what it lists: pure functions of dates, weeks and keys.

- ``review``: from 48 hours before a round's due date until the due date, while the member has
  recorded no review in the round.
- ``streak``: a cohort week counts as active when the member marked a checkpoint done in it; the
  streak is the run of active weeks ending last week. It is at risk when this week has nothing
  yet and less than 48 hours of the cohort week (in its timezone) are left.
- ``weekly``: right after the cohort's weekly prompt: the week's focus and the next checkpoints.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.kernel import calendar
from bot.kernel.roadmap import Roadmap

REVIEW_LEAD = timedelta(hours=48)
STREAK_LEAD = timedelta(hours=48)
# A weekly DM is worth sending this long after its prompt (a restart catches up within it).
WEEKLY_LATE_LIMIT = timedelta(hours=24)
MAX_NEXT_CHECKPOINTS = 3


class Kind(StrEnum):
    REVIEW = "review"
    STREAK = "streak"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class NextCheckpoint:
    key: str
    title: str
    due_date: date


def review_reminder_due(due_at: datetime, now: datetime) -> bool:
    return due_at - REVIEW_LEAD <= now < due_at


def week_end(start: date, week: int, timezone: str) -> datetime:
    """The UTC instant cohort week ``week`` ends: local midnight after its seventh day."""
    last = start + timedelta(days=calendar.week_first_day(week) + 7)
    return datetime.combine(last, datetime.min.time(), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def streak_before(active_weeks: Collection[int], week: int) -> int:
    """Consecutive active weeks ending with the week before ``week``."""
    length = 0
    while week - length - 1 >= 1 and (week - length - 1) in active_weeks:
        length += 1
    return length


def streak_at_risk(active_weeks: Collection[int], week: int, ends_at: datetime, now: datetime) -> bool:
    """A streak to lose, nothing done this week yet, and under 48 hours of the week left."""
    if week < 1 or week in active_weeks or streak_before(active_weeks, week) == 0:
        return False
    return now < ends_at <= now + STREAK_LEAD


def next_checkpoints(
    roadmap: Roadmap, start: date, done: Collection[str], limit: int = MAX_NEXT_CHECKPOINTS
) -> tuple[NextCheckpoint, ...]:
    """The member's first checkpoints not done yet, soonest due first."""
    pending = [
        NextCheckpoint(checkpoint.key, checkpoint.title, start + timedelta(days=phase.due_day_of(checkpoint)))
        for phase, checkpoint in roadmap.checkpoints()
        if checkpoint.key not in done
    ]
    return tuple(sorted(pending, key=lambda item: (item.due_date, item.key))[:limit])


def week_focus(roadmap: Roadmap, week: int) -> tuple[int, str] | None:
    """(phase number, phase title) in focus in ``week``; None once the roadmap is over."""
    if not 1 <= week <= roadmap.duration_weeks:
        return None
    phase = calendar.phase_for_week(roadmap, week)
    return None if phase is None else (roadmap.phase_number(phase), phase.title)


def weekly_is_fresh(sent_at: datetime | None, now: datetime) -> bool:
    return sent_at is not None and sent_at <= now < sent_at + WEEKLY_LATE_LIMIT


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def settings_changes(review: bool | None, streak: bool | None, weekly: bool | None) -> dict[str, bool]:
    """Only the options the member gave: ``/remind settings`` without any just shows them."""
    given = {"review": review, "streak": streak, "weekly": weekly}
    return {name: value for name, value in given.items() if value is not None}


def any_on(flags: Iterable[bool]) -> bool:
    return any(flags)
