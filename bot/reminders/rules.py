"""When a reminder DM is due, and what it lists: pure functions of dates, weeks and keys.

- ``review``: from 48 hours before a round's due date until the due date, while the member has
  recorded no review in the round.
- ``streak``: the streak rules live in ``bot.momentum.rules`` (a week is active with a checkpoint
  done or a review given), so the DM and ``/progress`` agree: a DM goes when the streak is at risk,
  with nothing done yet this week and less than 48 hours of the cohort week left.
- ``weekly``: right after the cohort's weekly prompt: the week's focus and the next checkpoints.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.kernel import calendar
from bot.kernel.roadmap import Roadmap

REVIEW_LEAD = timedelta(hours=48)
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
