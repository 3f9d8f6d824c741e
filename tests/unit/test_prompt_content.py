"""Prompt composition (pure), which week a fire posts, the job's trigger and the post pacer."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given
from hypothesis import strategies as st

from bot.content import RoadmapCatalog, default_content_dir, load_catalog
from bot.kernel import calendar, slots
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import Roadmap
from bot.pacing import PostPacer
from bot.prompts.rules import (
    MAX_CUSTOM_PROMPT,
    PromptContent,
    PromptKind,
    activity_line,
    checkpoints_due,
    clean_custom_text,
    closing_week,
    compose_prompt,
    next_post,
    scheduled_week,
    slot_in_week,
    validate_week,
)
from bot.scheduling import WeeklySlotTrigger, prompt_job_id

START = date(2026, 1, 1)  # a Thursday
GRACE = timedelta(hours=12)
BERLIN_MONDAY_18 = slots.WeeklySlot(weekday=0, at=time(18, 0), timezone="Europe/Berlin")


@pytest.fixture(scope="module")
def catalog() -> RoadmapCatalog:
    return load_catalog(default_content_dir())


def roadmap_of(catalog: RoadmapCatalog, key: str) -> Roadmap:
    roadmap = catalog.get(key)
    assert roadmap is not None
    return roadmap


def compose(roadmap: Roadmap, week: int, **overrides: object) -> PromptContent:
    options: dict[str, object] = {
        "roadmap": roadmap,
        "cohort_name": "Spring",
        "start": START,
        "week": week,
        "custom_text": None,
        "completers_last_week": 0,
        "member_count": 4,
    }
    options.update(overrides)
    return compose_prompt(**options)  # type: ignore[arg-type]


# --- composition ----------------------------------------------------------------------------------


def test_first_week_of_python_europe(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "python-europe")
    content = compose_prompt(
        roadmap=roadmap,
        cohort_name="Spring",
        start=START,
        week=1,
        custom_text=None,
        completers_last_week=0,
        member_count=4,
    )
    first_phase = roadmap.phases[0]
    assert content.kind is PromptKind.WEEKLY and not content.is_closing
    assert content.title == "📚 Spring · week 1 of 52"
    assert content.phase_line == f"Phase 1 of 3: {first_phase.title}"
    assert content.focus == first_phase.prompts[0]
    assert not content.custom
    assert content.activity == "Week one: 4 members starting together. Good luck!"
    assert "/checkpoint done checkpoint:" in content.how_to_mark


def test_prompts_rotate_inside_a_phase(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "python-europe")
    phase = roadmap.phases[0]  # 90 days, five prompts
    focuses = [compose(roadmap, week).focus for week in range(1, 8)]
    assert focuses[:5] == list(phase.prompts)
    assert focuses[5:] == list(phase.prompts[:2])  # week 6 starts the rotation again


def test_ten_day_blocks_map_onto_weeks(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "ninety-day-plan")
    block_of_week = {week: compose(roadmap, week).phase_line for week in range(1, roadmap.duration_weeks + 1)}
    assert block_of_week[1].startswith("Phase 1 of 9") and block_of_week[2].startswith("Phase 1 of 9")
    assert block_of_week[3].startswith("Phase 2 of 9")  # day 14 is in days 11-20
    assert block_of_week[13].startswith("Phase 9 of 9")  # the last, partial week
    # Every block gets at least one week: none is skipped by the 7-into-10 mapping.
    assert {line.split(":")[0] for line in block_of_week.values()} == {
        f"Phase {n} of 9" for n in range(1, 10)
    }


def test_overlapping_phases_focus_on_the_newest(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "junior-to-senior")
    second = roadmap.phases[1]  # starts on day 60 while phase 1 runs until day 180
    week = second.start_day // 7 + 2
    content = compose(roadmap, week)
    assert content.phase_line == f"Phase 2 of 5: {second.title}"
    assert content.focus in second.prompts


def test_custom_text_replaces_the_focus(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "nodejs-path")
    content = compose(roadmap, 3, custom_text="Build a chat server this week.")
    assert content.focus == "Build a chat server this week."
    assert content.custom
    assert content.phase_line is not None


def test_closing_message_is_the_week_after_the_end(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "nodejs-path")
    last = closing_week(roadmap)
    assert last == roadmap.duration_weeks + 1 == 26
    content = compose(roadmap, last, completers_last_week=2)
    assert content.kind is PromptKind.CLOSING and content.is_closing
    assert content.title == "🏁 Spring finished the roadmap"
    assert roadmap.title in content.focus and "No more weekly prompts" in content.focus
    assert content.phase_line is None and content.checkpoints == ()
    custom = compose(roadmap, last, custom_text="See you at the reunion!")
    assert custom.focus == "See you at the reunion!" and custom.is_closing


@pytest.mark.parametrize("week", [0, -1, 27, 100])
def test_weeks_outside_the_roadmap_are_refused(catalog: RoadmapCatalog, week: int) -> None:
    roadmap = roadmap_of(catalog, "nodejs-path")
    with pytest.raises(InvalidInputError, match="from 1 to 26"):
        validate_week(roadmap, week)
    with pytest.raises(InvalidInputError):
        compose(roadmap, week)


def test_checkpoints_due_this_week_or_the_next_ones(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "ninety-day-plan")
    # Block 1's checkpoints fall due on its last day, day 9: that is in week 2.
    heading, due = checkpoints_due(roadmap, START, 2)
    assert heading == "Checkpoints due this week"
    assert {item.key for item in due} == {c.key for c in roadmap.phases[0].checkpoints}
    assert all(item.due_date == START + timedelta(days=9) and item.due_week == 2 for item in due)
    # Week 1 has nothing due, so the soonest ones are shown as coming up.
    heading, upcoming = checkpoints_due(roadmap, START, 1)
    assert heading == "Next checkpoints coming up"
    assert [item.due_date for item in upcoming] == [START + timedelta(days=9)] * len(upcoming)


def test_due_checkpoints_are_capped_for_the_embed(catalog: RoadmapCatalog) -> None:
    for roadmap in catalog:
        for week in range(1, roadmap.duration_weeks + 1):
            _heading, due = checkpoints_due(roadmap, START, week)
            assert len(due) <= 5


@pytest.mark.parametrize(
    ("week", "done", "members", "expected"),
    [
        (3, 0, 0, "No members yet: join with `/cohort join cohort:Spring`."),
        (1, 0, 1, "Week one: 1 member starting together. Good luck!"),
        (3, 0, 5, "Nobody marked a checkpoint last week (5 members): a fresh start this week."),
        (3, 2, 5, "2 of 5 members completed a checkpoint last week."),
        (3, 5, 5, "All 5 members completed a checkpoint last week. Great pace!"),
        (3, 7, 5, "All 5 members completed a checkpoint last week. Great pace!"),
    ],
)
def test_activity_line(week: int, done: int, members: int, expected: str) -> None:
    assert activity_line(week, done, members, "Spring") == expected


def test_custom_text_validation() -> None:
    assert clean_custom_text("  Ship it.  ") == "Ship it."
    assert len(clean_custom_text("x" * MAX_CUSTOM_PROMPT)) == MAX_CUSTOM_PROMPT
    with pytest.raises(InvalidInputError, match="at most 1500 characters \\(yours has 1501\\)"):
        clean_custom_text("x" * 1501)
    with pytest.raises(InvalidInputError, match="needs some text"):
        clean_custom_text(" \n ")


def test_every_week_of_every_roadmap_composes_within_embed_limits(catalog: RoadmapCatalog) -> None:
    for roadmap in catalog:
        for week in range(1, closing_week(roadmap) + 1):
            content = compose(roadmap, week, custom_text="x" * MAX_CUSTOM_PROMPT)
            assert len(content.focus) <= 4000
            assert len(content.title) <= 256
            assert content.week == week


# --- which week, and when --------------------------------------------------------------------------


def test_slot_in_week_is_the_weeks_own_slot() -> None:
    # Week 1 runs Thursday 1 to Wednesday 7 January: its Monday is the 5th (17:00 UTC in winter).
    assert slot_in_week(BERLIN_MONDAY_18, START, 1) == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    # Week 13 holds the spring-forward Sunday; its Monday slot is already summer time.
    assert slot_in_week(BERLIN_MONDAY_18, START, 13) == datetime(2026, 3, 30, 16, 0, tzinfo=UTC)


@given(
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]),
    start=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    week=st.integers(1, 110),
)
def test_slot_in_week_agrees_with_slot_week(
    weekday: int, hour: int, minute: int, zone: str, start: date, week: int
) -> None:
    slot = slots.WeeklySlot(weekday=weekday, at=time(hour, minute), timezone=zone)
    instant = slot_in_week(slot, start, week)
    assert slots.cohort_week(start, instant, zone) == week
    # It is one of the schedule's own instants.
    assert slots.previous_slot(slot, instant) == instant


def test_scheduled_week_at_and_after_a_slot() -> None:
    slot = BERLIN_MONDAY_18
    monday = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    assert scheduled_week(slot, START, monday, GRACE) == 1
    assert scheduled_week(slot, START, monday + timedelta(minutes=3), GRACE) == 1
    assert scheduled_week(slot, START, monday + timedelta(days=7), GRACE) == 2
    # Far from any slot (a fire started by hand) it is the week the cohort is in.
    assert scheduled_week(slot, START, datetime(2026, 1, 1, 9, 0, tzinfo=UTC), GRACE) == 1
    assert scheduled_week(slot, START, datetime(2025, 12, 20, tzinfo=UTC), GRACE) == 0


def test_a_late_fire_past_midnight_still_posts_the_slots_week() -> None:
    # Slot on Wednesday 23:50 in Berlin: the last day of each cohort week that starts on Thursday.
    slot = slots.WeeklySlot(weekday=2, at=time(23, 50), timezone="Europe/Berlin")
    fired_late = datetime(2026, 1, 7, 23, 5, tzinfo=UTC)  # Thursday 00:05 in Berlin: week 2 by date
    assert slots.cohort_week(START, fired_late, "Europe/Berlin") == 2
    assert scheduled_week(slot, START, fired_late, GRACE) == 1


def test_next_post_never_comes_before_the_start() -> None:
    # The cohort starts on a Thursday; its Monday slot that week falls before the start.
    assert next_post(BERLIN_MONDAY_18, START, datetime(2025, 12, 29, 12, tzinfo=UTC)) == (
        1,
        datetime(2026, 1, 5, 17, 0, tzinfo=UTC),
    )
    assert next_post(BERLIN_MONDAY_18, START, datetime(2026, 1, 5, 17, 0, tzinfo=UTC)) == (
        2,
        datetime(2026, 1, 12, 17, 0, tzinfo=UTC),
    )


def test_week_numbers_match_the_calendar(catalog: RoadmapCatalog) -> None:
    roadmap = roadmap_of(catalog, "python-europe")
    for days in (0, 6, 7, 20, 363):
        moment = datetime.combine(START + timedelta(days=days), time(12), tzinfo=ZoneInfo("Europe/Berlin"))
        where = calendar.position(START, START + timedelta(days=days), roadmap)
        assert slots.cohort_week(START, moment, "Europe/Berlin") == where.week


# --- the job's trigger ------------------------------------------------------------------------------


def test_job_ids_are_stable() -> None:
    assert prompt_job_id(42) == "prompt:42"


def test_trigger_reads_like_a_cron_trigger_in_the_cohorts_zone() -> None:
    trigger = WeeklySlotTrigger(BERLIN_MONDAY_18)
    assert isinstance(trigger, CronTrigger)
    assert trigger.timezone == ZoneInfo("Europe/Berlin")
    assert str(trigger) == "cron[day_of_week='0', hour='18', minute='0', second='0']"


def test_trigger_agrees_with_cron_on_ordinary_weeks() -> None:
    trigger = WeeklySlotTrigger(BERLIN_MONDAY_18)
    cron = CronTrigger(day_of_week=0, hour=18, minute=0, second=0, timezone=ZoneInfo("Europe/Berlin"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    ours = theirs = None
    for _ in range(60):  # more than a year, across both clock changes
        ours = trigger.get_next_fire_time(ours, now)
        theirs = cron.get_next_fire_time(theirs, now)
        assert ours == theirs


def test_trigger_fires_the_monday_after_spring_forward_that_cron_skips() -> None:
    slot = slots.WeeklySlot(weekday=0, at=time(0, 30), timezone="Europe/Berlin")
    trigger = WeeklySlotTrigger(slot)
    cron = CronTrigger(day_of_week=0, hour=0, minute=30, second=0, timezone=ZoneInfo("Europe/Berlin"))
    previous = datetime(2026, 3, 22, 23, 30, tzinfo=UTC)  # Monday 23 March 00:30 CET
    after = previous + timedelta(seconds=1)
    expected = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # Monday 30 March 00:30 CEST
    assert trigger.get_next_fire_time(previous, after) == expected
    assert cron.get_next_fire_time(previous, after) == expected + timedelta(days=7)  # the skip we avoid


def test_trigger_fires_an_ambiguous_fall_back_slot_once() -> None:
    slot = slots.WeeklySlot(weekday=6, at=time(2, 30), timezone="Europe/Berlin")
    trigger = WeeklySlotTrigger(slot)
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first occurrence
    assert trigger.get_next_fire_time(None, first - timedelta(hours=1)) == first
    assert trigger.get_next_fire_time(first, first + timedelta(seconds=1)) == first + timedelta(
        days=7, hours=1
    )


# --- pacing -----------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_pacer_lets_a_burst_through_then_spaces_the_rest() -> None:
    fake = FakeTime()
    pacer = PostPacer(rate=35.0, burst=5, monotonic=fake.monotonic, sleep=fake.sleep)
    for _ in range(100):
        await pacer.wait()
    assert len(fake.sleeps) == 95  # nobody is dropped: everyone past the burst waits a turn
    starts = [0.0] * 5 + fake.sleeps
    assert fake.sleeps == pytest.approx([turn / 35.0 for turn in range(1, 96)])
    # No one-second window ever holds more than 40 posts.
    for first in starts:
        assert sum(1 for moment in starts if first <= moment < first + 1.0) <= 40


async def test_pacer_refills_with_time() -> None:
    fake = FakeTime()
    pacer = PostPacer(rate=10.0, burst=2, monotonic=fake.monotonic, sleep=fake.sleep)
    for _ in range(2):
        await pacer.wait()
    fake.now = 10.0  # a quiet spell: the bucket is full again, but never above the burst
    for _ in range(3):
        await pacer.wait()
    assert fake.sleeps == pytest.approx([0.1])


def test_pacer_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        PostPacer(rate=0)
    with pytest.raises(ValueError):
        PostPacer(burst=0)
