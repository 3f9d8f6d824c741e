"""What the prompts use cases return: plain data, worded by ``cogs/prompts/render.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.kernel import slots
from bot.prompts.rules import PromptContent


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    """A claimed week, ready to send: the caller must report back with ``mark_*``."""

    cohort_id: int
    guild_id: int
    cohort_name: str
    channel_id: int
    role_id: int | None
    week: int
    due_at: datetime
    content: PromptContent


@dataclass(frozen=True, slots=True)
class PostedBefore:
    """``/prompts post-now`` found the current week already delivered (or being delivered)."""

    cohort_name: str
    week: int
    guild_id: int
    channel_id: int
    message_id: int | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class PromptPreview:
    """A week's post as it would go out, with the ledger row and cohort state that affect it."""

    cohort_name: str
    guild_id: int
    channel_id: int
    role_id: int | None
    slot: slots.WeeklySlot
    week: int
    due_at: datetime
    content: PromptContent
    status: str | None
    message_id: int | None
    sent_at: datetime | None
    paused: bool
    finished: bool
    attention_reason: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class PauseChange:
    cohort_name: str
    changed: bool


@dataclass(frozen=True, slots=True)
class ResumeChange:
    cohort_name: str
    changed: bool
    skipped_weeks: tuple[int, ...]
    next_week: int | None
    next_at: datetime | None
    # Set when the cohort's start date leaves no weeks to compute: no prompts are posted for it.
    unschedulable_start: date | None = None


@dataclass(frozen=True, slots=True)
class CustomPromptChange:
    cohort_name: str
    week: int
    replaced: bool
    already_posted: bool
    due_at: datetime
    length: int


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    cohort_id: int
    cohort_name: str
    slot: slots.WeeklySlot
    channel_id: int
    role_id: int | None
    next_week: int | None
    next_at: datetime | None
    changed: tuple[str, ...]
    unschedulable_start: date | None = None


@dataclass(frozen=True, slots=True)
class CatchUpPlan:
    """Start-up decision for one cohort: the week to post late (if any) and the weeks skipped."""

    cohort_id: int
    guild_id: int
    cohort_name: str
    week: int | None
    skipped_weeks: tuple[int, ...]
