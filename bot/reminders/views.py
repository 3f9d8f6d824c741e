"""What the reminders use cases return: plain data, worded by ``cogs/reminders/render.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.reminders.rules import Kind, NextCheckpoint


@dataclass(frozen=True, slots=True)
class SettingsView:
    review: bool
    streak: bool
    weekly: bool
    changed: bool
    # Set once, when the member is told their reminders were switched off because DMs were closed.
    dms_closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutgoingReminder:
    """A claimed DM, ready to send: the caller reports back with ``mark_sent`` or ``dms_closed``."""

    send_id: int
    kind: Kind
    guild_id: int
    user_id: int
    cohort_id: int
    cohort_name: str
    period: int
    # review: the round's due date; streak: when the cohort week ends; weekly: None
    deadline: datetime | None = None
    streak: int = 0
    phase: tuple[int, str] | None = None
    checkpoints: tuple[NextCheckpoint, ...] = ()
    message_url: str | None = None


class CalendarState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class CalendarFile:
    cohort_name: str
    filename: str
    data: bytes
    state: CalendarState
    events: int
    ends_on: date
