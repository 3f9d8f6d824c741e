"""Reminder rules and wording, without Discord or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.content import RoadmapCatalog
from bot.reminders import rules
from bot.reminders.rules import Kind, NextCheckpoint
from bot.reminders.views import CalendarFile, CalendarState, OutgoingReminder, SettingsView
from cogs.reminders import render

DUE = datetime(2026, 1, 7, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (DUE - timedelta(hours=48, seconds=1), False),
        (DUE - timedelta(hours=48), True),
        (DUE - timedelta(minutes=1), True),
        (DUE, False),
    ],
)
def test_the_review_reminder_window_is_the_last_48_hours(now: datetime, due: bool) -> None:
    assert rules.review_reminder_due(DUE, now) is due


def test_next_checkpoints_skip_what_is_done_and_come_soonest_first(default_catalog: RoadmapCatalog) -> None:
    roadmap = default_catalog.get("python-europe")
    assert roadmap is not None
    everything = rules.next_checkpoints(roadmap, date(2026, 1, 1), set(), limit=100)
    assert [item.due_date for item in everything] == sorted(item.due_date for item in everything)
    first = everything[0]
    after = rules.next_checkpoints(roadmap, date(2026, 1, 1), {first.key})
    assert first.key not in {item.key for item in after} and len(after) == rules.MAX_NEXT_CHECKPOINTS


def test_week_focus_is_the_phase_and_nothing_after_the_roadmap(default_catalog: RoadmapCatalog) -> None:
    roadmap = default_catalog.get("python-europe")
    assert roadmap is not None
    assert rules.week_focus(roadmap, 1) == (1, roadmap.phases[0].title)
    assert rules.week_focus(roadmap, roadmap.duration_weeks + 1) is None


def test_settings_changes_keep_only_given_options() -> None:
    assert rules.settings_changes(None, None, None) == {}
    assert rules.settings_changes(True, None, False) == {"review": True, "weekly": False}


def _reminder(kind: Kind, **values: object) -> OutgoingReminder:
    return OutgoingReminder(1, kind, 10, 20, 30, "Spring *2026*", 3, **values)  # type: ignore[arg-type]


def test_each_dm_names_the_cohort_escaped_and_how_to_turn_it_off() -> None:
    checkpoint = NextCheckpoint("oop", "Classes *and* objects", date(2026, 1, 20))
    texts = [
        render.reminder_text(_reminder(Kind.REVIEW, deadline=DUE)),
        render.reminder_text(_reminder(Kind.STREAK, deadline=DUE, streak=2, checkpoints=(checkpoint,))),
        render.reminder_text(
            _reminder(
                Kind.WEEKLY, phase=(1, "Foundations"), checkpoints=(checkpoint,), message_url="https://x/1"
            )
        ),
    ]
    for text in texts:
        assert "Spring \\*2026\\*" in text and "/remind settings" in text and len(text) < 2000
    assert "/review done" in texts[0]
    assert "streak of 2 weeks" in texts[1] and "2026-01-20" in texts[1]
    assert "Week 3" in texts[2] and "https://x/1" in texts[2] and "Classes \\*and\\* objects" in texts[2]


def test_settings_reply_lists_all_three_and_tells_the_closed_dms_notice() -> None:
    shown = render.settings_message(SettingsView(False, False, False, changed=False))
    assert "`review`: off" in shown and "`weekly`: off" in shown and "All are off" in shown
    told = render.settings_message(SettingsView(True, False, False, changed=True, dms_closed_at=DUE))
    assert "now" in told and "`review`: **on**" in told and "switched your reminders off" in told


def test_calendar_reply_says_paused_and_ended() -> None:
    base = {
        "cohort_name": "Spring",
        "filename": "a.ics",
        "data": b"",
        "events": 5,
        "ends_on": date(2026, 12, 30),
    }
    paused = render.calendar_message(CalendarFile(state=CalendarState.PAUSED, **base))  # type: ignore[arg-type]
    ended = render.calendar_message(CalendarFile(state=CalendarState.ENDED, **base))  # type: ignore[arg-type]
    assert "paused" in paused and "isn't in the file" in paused
    assert "ended on 2026-12-30" in ended and "past dates" in ended
