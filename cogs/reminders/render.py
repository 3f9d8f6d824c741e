"""Every sentence the reminders say: settings replies, the three DMs, the calendar reply. Plain Python."""

from __future__ import annotations

from datetime import datetime

from bot.reminders.rules import Kind
from bot.reminders.views import CalendarFile, CalendarState, OutgoingReminder, SettingsView
from cogs._ui import shown, timestamp

TURN_OFF = "-# Turn these off with `/remind settings`."
WHAT = {
    "review": "a DM 48 hours before your review is due, if you haven't recorded it",
    "streak": "a DM when your weekly streak (a checkpoint or a review) would break within 48 hours",
    "weekly": "a DM right after the weekly prompt: the week's focus and your next checkpoints",
}


def on_off(value: bool) -> str:
    return "**on**" if value else "off"


def settings_message(view: SettingsView) -> str:
    values = {"review": view.review, "streak": view.streak, "weekly": view.weekly}
    head = "Your reminders on this server are now:" if view.changed else "Your reminders on this server:"
    lines = [head] + [f"- `{name}`: {on_off(value)}: {WHAT[name]}" for name, value in values.items()]
    if not any(values.values()):
        lines.append("All are off. Turn one on with e.g. `/remind settings weekly:True`.")
    else:
        lines.append("They come as direct messages: allow DMs from this server's members to get them.")
    if view.dms_closed_at is not None:
        lines.append("")
        lines.append(dms_closed_notice(view.dms_closed_at))
    return "\n".join(lines)


def dms_closed_notice(when: datetime) -> str:
    return (
        f"ℹ️ On {timestamp(when, 'D')} Discord wouldn't let me send you a direct message (your DMs are"
        " closed to this server), so I switched your reminders off. Allow direct messages from server"
        " members, then turn them back on with `/remind settings`."
    )


def _checkpoint_lines(reminder: OutgoingReminder) -> list[str]:
    return [f"- {shown(item.title)} (due {item.due_date.isoformat()})" for item in reminder.checkpoints]


def reminder_text(reminder: OutgoingReminder) -> str:
    cohort = shown(reminder.cohort_name)
    if reminder.kind is Kind.REVIEW:
        assert reminder.deadline is not None
        lines = [
            f"⏰ Your code review in **{cohort}** (round of week {reminder.period}) is due"
            f" {timestamp(reminder.deadline, 'R')}, on {timestamp(reminder.deadline, 'f')}.",
            "Review your partner's work in the round's thread, then record it with `/review done`.",
        ]
    elif reminder.kind is Kind.STREAK:
        assert reminder.deadline is not None
        weeks = "week" if reminder.streak == 1 else "weeks"
        lines = [
            f"🔥 Your streak of {reminder.streak} {weeks} in **{cohort}** ends"
            f" {timestamp(reminder.deadline, 'R')} unless you mark a checkpoint done or record a"
            " review this week.",
            "Next up:",
            *_checkpoint_lines(reminder),
        ]
    else:
        assert reminder.phase is not None
        number, title = reminder.phase
        lines = [f"📌 Week {reminder.period} in **{cohort}**: phase {number}, {shown(title)}."]
        if reminder.checkpoints:
            lines += ["Your next checkpoints:", *_checkpoint_lines(reminder)]
        else:
            lines.append("You've done every checkpoint: well done!")
        if reminder.message_url:
            lines.append(f"This week's prompt: {reminder.message_url}")
    return "\n".join([*lines, TURN_OFF])


def calendar_message(file: CalendarFile) -> str:
    name = shown(file.cohort_name)
    if file.state is CalendarState.ENDED:
        return (
            f"**{name}** ended on {file.ends_on.isoformat()}: the file holds its past dates only"
            f" ({file.events} events), nothing new will be added."
        )
    text = (
        f"The dates of **{name}** ({file.events} events, up to {file.ends_on.isoformat()}). Import the"
        " file into Google Calendar, Outlook or Apple Calendar; importing it again later updates the"
        " same events."
    )
    if file.state is CalendarState.PAUSED:
        text += (
            "\nWeekly prompts are paused, so the weekly prompt isn't in the file:"
            " download it again once they resume."
        )
    return text
