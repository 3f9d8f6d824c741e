"""What a cohort's weekly study prompt says, and which week a scheduled post belongs to.

Pure: the caller passes the roadmap, the cohort's start date, the week, any custom text and the
activity numbers it counted; nothing here reads the clock or the database. The cog turns a
``PromptContent`` into an embed, so the same content feeds the post and ``/prompts preview``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.kernel import calendar, slots
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import Roadmap
from bot.kernel.text import clean_text, echo_code

MAX_CUSTOM_PROMPT = 1500
MAX_LISTED_CHECKPOINTS = 5
# Room on either side of a cohort's calendar: a local slot can fall a day away in UTC, and a post
# counts the activity of the week before it.
CALENDAR_MARGIN = timedelta(days=14)


class PromptKind(StrEnum):
    WEEKLY = "weekly"
    CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class DueCheckpoint:
    key: str
    title: str
    due_date: date
    due_week: int


@dataclass(frozen=True, slots=True)
class PromptContent:
    """Everything one post shows; ``focus`` is the roadmap's prompt or the moderators' text."""

    kind: PromptKind
    cohort_name: str
    roadmap_title: str
    week: int
    total_weeks: int
    title: str
    phase_line: str | None
    focus: str
    custom: bool
    checkpoints_heading: str
    checkpoints: tuple[DueCheckpoint, ...]
    activity: str
    how_to_mark: str
    # (display name, weeks) of members on a notable streak (bot.momentum), longest first.
    streaks: tuple[tuple[str, int], ...] = ()

    @property
    def is_closing(self) -> bool:
        return self.kind is PromptKind.CLOSING


def closing_week(roadmap: Roadmap) -> int:
    """The week after the roadmap's last one: it carries the closing message, under its own key."""
    return roadmap.duration_weeks + 1


def validate_week(roadmap: Roadmap, week: int) -> None:
    """Weeks run from 1 to the closing week; anything else is a typo worth a clear sentence."""
    last = closing_week(roadmap)
    if not 1 <= week <= last:
        raise InvalidInputError(
            f"Week {week} doesn't exist here: pick a week from 1 to {last} "
            f"(week {last} is the closing message)."
        )


def clean_custom_text(text: str) -> str:
    """A moderator's prompt, trimmed and NFC; empty, hidden-character or over-long text is refused.

    Markup is the moderators' to use: the text is shown as they wrote it.
    """
    if not text.strip():
        raise InvalidInputError("A custom prompt needs some text.")
    return clean_text(text, field="A custom prompt", max_length=MAX_CUSTOM_PROMPT)


def calendar_fits(start: date, roadmap: Roadmap) -> bool:
    """Whether every week from ``start`` to the closing message has dates the calendar can hold.

    Cohorts made before start dates were checked may start on 0001-01-01 or 9999-12-31; their
    slots would fall outside the years a date can have, so no prompt is computed for them.
    """
    span = timedelta(days=7 * (closing_week(roadmap) + 1))
    return date.min + CALENDAR_MARGIN <= start <= date.max - span - CALENDAR_MARGIN


# --- which week, and when -------------------------------------------------------------------------


def scheduled_week(slot: slots.WeeklySlot, start: date, now: datetime, grace: timedelta) -> int:
    """The week a scheduled fire at ``now`` posts; 0 means nothing (the cohort hasn't started).

    A fire normally lands on a slot, so the week of the latest slot wins while it is recent: a slot
    late on a cohort week's last day still posts that week even if the fire runs past midnight.
    A fire far from any slot (started by hand) posts the week the cohort is in.
    """
    latest = slots.previous_slot(slot, now)
    week = slots.cohort_week(start, latest, slot.timezone)
    if week >= 1 and now - latest < grace:
        return week
    return slots.cohort_week(start, now, slot.timezone)


def slot_in_week(slot: slots.WeeklySlot, start: date, week: int) -> datetime:
    """The UTC instant of the slot inside cohort week ``week``.

    Each 7-day cohort week holds each weekday once, so there is exactly one. The local time is read
    as ``schedule`` reads it (first occurrence when ambiguous, shifted forward inside a gap).
    """
    first_day = start + timedelta(days=calendar.week_first_day(week))
    day = first_day + timedelta(days=(slot.weekday - first_day.weekday()) % 7)
    return datetime.combine(day, slot.at, tzinfo=ZoneInfo(slot.timezone)).astimezone(UTC)


def next_post(slot: slots.WeeklySlot, start: date, now: datetime) -> tuple[int, datetime]:
    """The next (week, instant) the schedule will post, never before the cohort's first week."""
    if slots.cohort_week(start, now, slot.timezone) < 1:
        return 1, slot_in_week(slot, start, 1)
    instant = slots.next_slot(slot, now)
    return slots.cohort_week(start, instant, slot.timezone), instant


# --- composing the post ---------------------------------------------------------------------------


def checkpoints_due(roadmap: Roadmap, start: date, week: int) -> tuple[str, tuple[DueCheckpoint, ...]]:
    """The checkpoints due in ``week``; if none, the next ones coming up, with a heading for each case."""
    first = calendar.week_first_day(week)

    def due(day_from: int, day_to: int) -> list[DueCheckpoint]:
        found = []
        for phase, checkpoint in roadmap.checkpoints():
            due_day = phase.due_day_of(checkpoint)
            if day_from <= due_day < day_to:
                found.append(
                    DueCheckpoint(
                        key=checkpoint.key,
                        title=checkpoint.title,
                        due_date=start + timedelta(days=due_day),
                        due_week=due_day // 7 + 1,
                    )
                )
        return sorted(found, key=lambda item: (item.due_date, item.key))

    this_week = due(first, first + 7)
    if this_week:
        return "Checkpoints due this week", tuple(this_week[:MAX_LISTED_CHECKPOINTS])
    upcoming = due(first + 7, roadmap.duration_days)
    if upcoming:
        soonest = [item for item in upcoming if item.due_date == upcoming[0].due_date]
        return "Next checkpoints coming up", tuple(soonest[:MAX_LISTED_CHECKPOINTS])
    return "Checkpoints", ()


def activity_line(week: int, completers_last_week: int, member_count: int, cohort_name: str) -> str:
    """One line on how the cohort is doing, from how many members completed something last week."""
    if member_count <= 0:
        return f"No members yet: join with `/cohort join cohort:{echo_code(cohort_name, 100)}`."
    members = "member" if member_count == 1 else "members"
    if week <= 1 and completers_last_week == 0:
        return f"Week one: {member_count} {members} starting together. Good luck!"
    done = min(completers_last_week, member_count)
    if done == 0:
        return f"Nobody marked a checkpoint last week ({member_count} {members}): a fresh start this week."
    if done == member_count:
        return f"All {member_count} {members} completed a checkpoint last week. Great pace!"
    return f"{done} of {member_count} {members} completed a checkpoint last week."


def how_to_mark(checkpoints: tuple[DueCheckpoint, ...]) -> str:
    example = checkpoints[0].key if checkpoints else "<key>"
    return (
        f"Finished one? Run `/checkpoint done checkpoint:{example}` and add `evidence:` "
        "with a link to share your work; `/progress` shows where you stand."
    )


def compose_prompt(
    *,
    roadmap: Roadmap,
    cohort_name: str,
    start: date,
    week: int,
    custom_text: str | None,
    completers_last_week: int,
    member_count: int,
    streaks: tuple[tuple[str, int], ...] = (),
) -> PromptContent:
    """The post for ``week``: a weekly prompt up to the roadmap's last week, then the closing message."""
    validate_week(roadmap, week)
    if week == closing_week(roadmap):
        return closing_message(
            roadmap=roadmap,
            cohort_name=cohort_name,
            week=week,
            custom_text=custom_text,
            completers_last_week=completers_last_week,
            member_count=member_count,
        )
    phase = calendar.phase_for_week(roadmap, week)
    assert phase is not None  # validate_week keeps the week inside the roadmap
    focus = custom_text or phase.prompts[calendar.week_in_phase(phase, week) % len(phase.prompts)]
    heading, due = checkpoints_due(roadmap, start, week)
    total = roadmap.duration_weeks
    return PromptContent(
        kind=PromptKind.WEEKLY,
        cohort_name=cohort_name,
        roadmap_title=roadmap.title,
        week=week,
        total_weeks=total,
        title=f"📚 {cohort_name} · week {week} of {total}",
        phase_line=f"Phase {roadmap.phase_number(phase)} of {len(roadmap.phases)}: {phase.title}",
        focus=focus,
        custom=custom_text is not None,
        checkpoints_heading=heading,
        checkpoints=due,
        activity=activity_line(week, completers_last_week, member_count, cohort_name),
        how_to_mark=how_to_mark(due),
        streaks=streaks,
    )


def closing_message(
    *,
    roadmap: Roadmap,
    cohort_name: str,
    week: int,
    custom_text: str | None,
    completers_last_week: int,
    member_count: int,
) -> PromptContent:
    """Posted once, the week after the roadmap ends; afterwards the cohort gets no more prompts."""
    focus = custom_text or (
        f"That was the last week of **{roadmap.title}**. Thank you for studying together! "
        "Take a moment to look back: what are you proudest of, and what will you study next? "
        "No more weekly prompts will be posted for this cohort."
    )
    return PromptContent(
        kind=PromptKind.CLOSING,
        cohort_name=cohort_name,
        roadmap_title=roadmap.title,
        week=week,
        total_weeks=roadmap.duration_weeks,
        title=f"🏁 {cohort_name} finished the roadmap",
        phase_line=None,
        focus=focus,
        custom=custom_text is not None,
        checkpoints_heading="Checkpoints",
        checkpoints=(),
        activity=activity_line(week, completers_last_week, member_count, cohort_name),
        how_to_mark=(
            "Late checkpoints still count: mark them with `/checkpoint done` and see your totals "
            "with `/progress`."
        ),
    )
