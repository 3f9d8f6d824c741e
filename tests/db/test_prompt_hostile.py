"""Weekly prompts against hostile and broken input, on a real SQLite file (issue: hostile use).

Cohorts made before start dates were checked can start on 0001-01-01 or 9999-12-31; the rows here
are inserted directly, as such an old database holds them. Two moderators saving one week's text
at the same moment run on two engines, as two bot processes (or two busy connections) would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.config import Settings
from bot.container import Services, build_services
from bot.content import RoadmapCatalog
from bot.db.engine import create_engine
from bot.db.models import Cohort, CustomPrompt, PromptPost
from bot.kernel.errors import ConflictError, DomainError, InvalidInputError
from bot.kernel.text import lookalike_key
from tests.db.conftest import FakeClock
from tests.db.test_prompt_posts import GUILD, create_cohort

OUT_OF_RANGE = [
    (date(9999, 12, 31), "America/New_York", time(18, 0)),
    (date(9999, 12, 31), "Asia/Tokyo", time(0, 0)),
    (date(1, 1, 1), "Asia/Tokyo", time(0, 0)),
    (date(1, 1, 1), "America/New_York", time(23, 0)),
]
CANT_SCHEDULE = "a date I can't schedule weekly prompts around"


async def insert_cohort(services: Services, start: date, timezone: str, at: time, name: str = "Old") -> int:
    """A cohort row as an older version of the bot could have stored it, start date unchecked."""
    async with services.sessions.begin() as session:
        cohort = Cohort(
            guild_id=GUILD,
            name=name,
            name_key=lookalike_key(name),
            roadmap_key="python-europe",
            channel_id=555,
            start_date=start,
            timezone=timezone,
            weekday=0,
            slot_time=at,
            created_by=1,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
        session.add(cohort)
        await session.flush()
        return cohort.id


async def stored(services: Services, model: type[PromptPost] | type[CustomPrompt]) -> list[object]:
    async with services.sessions() as session:
        return list(await session.scalars(select(model)))


@pytest_asyncio.fixture
async def second_process(
    settings: Settings, clock: FakeClock, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> AsyncIterator[Services]:
    engine = create_engine(settings.database_url)
    yield build_services(settings, engine, catalog_loader(settings.content_dir), clock)
    await engine.dispose()


# --- start dates outside the calendar ----------------------------------------------------------------


@pytest.mark.parametrize(("start", "timezone", "at"), OUT_OF_RANGE)
async def test_preview_add_and_post_now_refuse_in_one_sentence(
    services: Services, start: date, timezone: str, at: time
) -> None:
    await insert_cohort(services, start, timezone, at)
    prompts = services.prompts
    attempts = [
        prompts.preview(GUILD, "Old"),
        prompts.preview(GUILD, "Old", 1),
        prompts.add_custom(GUILD, "Old", 1, "Read chapter one.", 1),
        prompts.claim_current(GUILD, "Old"),
    ]
    for attempt in attempts:
        with pytest.raises(ConflictError, match=CANT_SCHEDULE) as refused:
            await attempt
        assert start.isoformat() in refused.value.message and len(refused.value.message) < 300
    assert await stored(services, PromptPost) == [] and await stored(services, CustomPrompt) == []


@pytest.mark.parametrize(("start", "timezone", "at"), OUT_OF_RANGE)
async def test_schedule_pause_and_resume_still_work(
    services: Services, start: date, timezone: str, at: time
) -> None:
    cohort_id = await insert_cohort(services, start, timezone, at)
    moved = await services.prompts.change_schedule(GUILD, "Old", at="09:00", timezone="Europe/Berlin")
    assert moved.changed == ("slot",) and moved.next_at is None
    assert moved.unschedulable_start == start

    assert (await services.prompts.pause(GUILD, "Old")).changed
    resumed = await services.prompts.resume(GUILD, "Old")
    assert resumed.changed and resumed.next_at is None and resumed.unschedulable_start == start
    async with services.sessions() as session:
        cohort = await session.get(Cohort, cohort_id)
        assert cohort is not None and not cohort.prompts_paused


@pytest.mark.parametrize(("start", "timezone", "at"), OUT_OF_RANGE)
async def test_the_job_and_the_catch_up_post_nothing_and_do_not_crash(
    services: Services, clock: FakeClock, start: date, timezone: str, at: time
) -> None:
    cohort_id = await insert_cohort(services, start, timezone, at)
    for days in (0, 3, 7, 30):
        clock.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(days=days)
        assert await services.prompts.claim_scheduled(cohort_id) is None
        assert await services.prompts.catch_up() == []
    assert await stored(services, PromptPost) == []


async def test_a_cohort_near_the_edges_but_inside_them_still_previews(services: Services) -> None:
    await insert_cohort(services, date(9000, 1, 1), "Asia/Tokyo", time(0, 0), name="Far")
    await insert_cohort(services, date(2, 1, 1), "America/New_York", time(23, 0), name="Ancient")
    assert (await services.prompts.preview(GUILD, "Far", 1)).week == 1
    assert (await services.prompts.preview(GUILD, "Ancient", 1)).week == 1


# --- two moderators at once -------------------------------------------------------------------------


async def test_two_moderators_adding_the_same_week_at_once_both_get_a_true_answer(
    services: Services, second_process: Services
) -> None:
    await create_cohort(services)
    for week in range(1, 9):
        first, second = await asyncio.gather(
            services.prompts.add_custom(GUILD, "Spring", week, f"Alice's text {week}", 11),
            second_process.prompts.add_custom(GUILD, "Spring", week, f"Bob's text {week}", 12),
        )
        # Exactly one of them saved first; the other replaced it, and its text is the one kept.
        assert sorted([first.replaced, second.replaced]) == [False, True]
        winner = "Alice" if first.replaced else "Bob"
        async with services.sessions() as session:
            kept = (await session.scalars(select(CustomPrompt).where(CustomPrompt.week == week))).all()
        assert [row.text for row in kept] == [f"{winner}'s text {week}"]


async def test_two_adds_on_one_engine_at_once_keep_one_row(services: Services) -> None:
    await create_cohort(services)
    results = await asyncio.gather(
        *(services.prompts.add_custom(GUILD, "Spring", 2, f"Text {n}", n) for n in range(1, 5))
    )
    assert sum(not result.replaced for result in results) == 1
    rows = await stored(services, CustomPrompt)
    assert len(rows) == 1


# --- the text itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\u200d\u2060\ufeff",
        "\u00ad\u3164",
        "Read chapter one\u202e",
        "Ring the bell\x07",
        "Week \u2066two\u2069",
    ],
)
async def test_hidden_or_control_characters_in_a_custom_prompt_are_refused(
    services: Services, text: str
) -> None:
    await create_cohort(services)
    with pytest.raises(InvalidInputError, match="invisible or control characters"):
        await services.prompts.add_custom(GUILD, "Spring", 1, text, 1)
    assert await stored(services, CustomPrompt) == []


async def test_markup_in_a_custom_prompt_is_the_moderators_own(services: Services) -> None:
    await create_cohort(services)
    text = "**Pair up** and read [the guide](https://docs.python.org/3/)."
    await services.prompts.add_custom(GUILD, "Spring", 1, text, 1)
    preview = await services.prompts.preview(GUILD, "Spring", 1)
    assert preview.content.focus == text


async def test_a_six_thousand_character_prompt_or_name_is_refused_briefly(services: Services) -> None:
    await create_cohort(services)
    with pytest.raises(InvalidInputError, match="at most 1500 characters") as too_long:
        await services.prompts.add_custom(GUILD, "Spring", 1, "x" * 6000, 1)
    assert len(too_long.value.message) < 200
    for attempt in (
        services.prompts.add_custom(GUILD, "y" * 6000, 1, "Hello", 1),
        services.prompts.preview(GUILD, "[a](https://evil.example) " * 230),
        services.prompts.change_schedule(GUILD, "Spring", timezone="z" * 6000),
        services.prompts.change_schedule(GUILD, "Spring", weekday="w" * 6000),
        services.prompts.change_schedule(GUILD, "Spring", at="1" * 6000),
    ):
        with pytest.raises(DomainError) as refused:
            await attempt
        message = refused.value.message
        assert len(message) < 300, message
        assert "](https://evil.example)" not in message
