"""Prompt rules at the edges of the calendar and of what moderators type (issue: hostile use)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import default_content_dir, load_catalog
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import Roadmap
from bot.kernel.slots import WeeklySlot
from bot.prompts.rules import activity_line, calendar_fits, clean_custom_text, closing_week, slot_in_week

ROADMAP = load_catalog(default_content_dir()).get("python-europe")
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo", "America/New_York", "UTC"]


def roadmap() -> Roadmap:
    assert ROADMAP is not None
    return ROADMAP


@pytest.mark.parametrize("start", [date(1, 1, 1), date(1, 1, 14), date(9999, 12, 31), date(9999, 1, 1)])
def test_starts_at_the_ends_of_the_calendar_do_not_fit(start: date) -> None:
    assert not calendar_fits(start, roadmap())


@given(
    start=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    zone=st.sampled_from(ZONES),
    minute=st.integers(0, 24 * 60 - 1),
    weekday=st.integers(0, 6),
)
def test_every_week_of_a_fitting_calendar_has_a_slot(
    start: date, zone: str, minute: int, weekday: int
) -> None:
    """Whatever the start, either it is refused up front or every week's slot can be computed."""
    if not calendar_fits(start, roadmap()):
        return
    slot = WeeklySlot(weekday=weekday, at=time(minute // 60, minute % 60), timezone=zone)
    for week in (1, closing_week(roadmap())):
        instant = slot_in_week(slot, start, week)
        assert instant - timedelta(days=7) < instant  # the week before it (activity) is representable


@pytest.mark.parametrize("text", ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", "Hi\u202e", "Hi\x07", "\u3164"])
def test_custom_text_with_hidden_or_control_characters_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invisible or control characters"):
        clean_custom_text(text)


def test_custom_text_keeps_its_markup_and_lines() -> None:
    text = "**Read** [the guide](https://docs.python.org/3/)\n\n- then pair up"
    assert clean_custom_text(text) == text


def test_the_join_hint_keeps_a_cohort_name_inside_its_code_span() -> None:
    assert activity_line(1, 0, 0, "Sp`ring") == "No members yet: join with `/cohort join cohort:Spring`."
