"""``/prompts`` as a careless or hostile moderator would use it (issue: hostile use).

Every string option gets long, invisible, control, markup and mention values; each answer is
ephemeral, fits Discord's limits and changes nothing. Values longer than an option's
``max_length`` never reach the bot: Discord (here SimCord) refuses them, as it does weeks below 1.
Cohorts from before start dates were checked are made by editing a cohort's row in the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import date, time
from typing import Any, TypeVar

import discord
import pytest
import simcord
from simcord.backend.errors import OptionError
from sqlalchemy import select, update

from bot.app import WaypointBot
from bot.db.models import Cohort, CustomPrompt
from bot.kernel.text import lookalike_key
from bot.scheduling import prompt_job_id
from tests.behaviour.test_prompts import WEEK_1_SLOT, advance_to, bot_of, embeds_in, fire
from tests.behaviour.world import World, build_world

T = TypeVar("T")
# Hidden characters around a real name resolve to that cohort (its look-alike key): "Autumn" is none.
# Each hidden character alone is refused in tests/db/test_prompt_hostile.py and the unit tests.
HIDDEN = ["\u200b\u200d\u2060\ufeff\u00ad\u3164", "Autumn\u202e", "Aut\x07umn"]
MARKUP = ["[Nitro](https://evil.example) <@123> @everyone"]  # 46 characters: fits every option
# The longest value each string option accepts; anything longer is Discord's to refuse.
LIMITS = {"cohort": 100, "text": 2000, "weekday": 50, "time": 50, "timezone": 100}
COMMANDS: dict[str, dict[str, Any]] = {
    "prompts preview": {"cohort": "Spring"},
    "prompts post-now": {"cohort": "Spring"},
    "prompts pause": {"cohort": "Spring"},
    "prompts resume": {"cohort": "Spring"},
    "prompts add": {"cohort": "Spring", "week": 2, "text": "Read chapter two."},
    "prompts schedule": {"cohort": "Spring", "weekday": "fri"},
}
OPTIONS = [(command, option) for command, base in COMMANDS.items() for option in base if option != "week"]
OPTIONS += [("prompts schedule", "time"), ("prompts schedule", "timezone")]


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


async def cohort_state(world: World) -> tuple[object, ...]:
    """Everything a refused ``/prompts`` command must leave as it was."""
    async with bot_of(world).services.sessions() as session:
        cohort = await session.scalar(select(Cohort))
        assert cohort is not None
        customs = (await session.scalars(select(CustomPrompt.text))).all()
    job = bot_of(world).scheduling.get_job(prompt_job_id(cohort.id))
    assert job is not None
    slot = (cohort.weekday, cohort.slot_time, cohort.timezone, cohort.channel_id, cohort.mention_role_id)
    return slot, cohort.prompts_paused, tuple(customs), job.trigger.slot, len(world.channel.history())


async def edit_cohort(world: World, **values: object) -> None:
    async with bot_of(world).services.sessions.begin() as session:
        await session.execute(update(Cohort).values(**values))


async def at_once(*actions: Coroutine[Any, Any, T]) -> list[T]:
    """Run SimCord actions at the same moment, so both interactions reach the bot before either ends.

    SimCord allows one action per task at a time, and ``asyncio.gather`` would give each its own
    task; so the actions are stepped here, in this one task: each runs until it waits on something,
    then the next one does, exactly as a task would step them.
    """
    results: dict[int, T] = {}
    waiting: dict[int, Any] = dict.fromkeys(range(len(actions)))
    try:
        while waiting:
            for index, future in list(waiting.items()):
                if future is not None and not future.done():
                    continue
                try:
                    waiting[index] = actions[index].send(None)  # a future, or None after sleep(0)
                except StopIteration as finished:
                    results[index] = finished.value
                    del waiting[index]
            blocked = [future for future in waiting.values() if future is not None and not future.done()]
            if waiting and len(blocked) == len(waiting):
                await asyncio.wait(blocked, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0)
    finally:
        for action in actions:
            action.close()
    return [results[index] for index in range(len(actions))]


def outside_code(content: str) -> str:
    return re.sub(r"`[^`]*`", "", content)


def last_callback(world: World) -> dict[str, Any]:
    """The data of the bot's latest interaction response, as it went over the wire."""
    entry = [e for e in world.env.http_requests if e.path.endswith("/callback")][-1]
    return entry.json["data"]  # type: ignore[no-any-return]


# --- every string option --------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "option"), OPTIONS)
@pytest.mark.parametrize("value", ["long", *HIDDEN, *MARKUP])
async def test_hostile_values_in_every_option_get_a_short_ephemeral_refusal(
    world: World, command: str, option: str, value: str
) -> None:
    await world.create_cohort()
    before = await cohort_state(world)
    typed = "x" * LIMITS[option] if value == "long" else value
    options = COMMANDS[command] | {option: typed}
    result = await world.moderator.slash(world.channel, command, **options)
    assert result.ephemeral, result.response.content
    assert 0 < len(result.response.content) <= 2000
    shown = outside_code(result.response.content)  # inside a `code span` nothing renders
    assert "](https://evil.example)" not in shown and "<@123>" not in shown
    if option == "text" and value in MARKUP:  # markup is the moderators' own: saved as written
        assert "Saved a custom prompt" in result.response.content
    else:
        assert await cohort_state(world) == before
    assert not world.env.errors


@pytest.mark.parametrize(("command", "option"), OPTIONS)
async def test_six_thousand_characters_never_reach_the_bot(world: World, command: str, option: str) -> None:
    await world.create_cohort()
    before = await cohort_state(world)
    with pytest.raises(OptionError):
        await world.moderator.slash(world.channel, command, **(COMMANDS[command] | {option: "x" * 6000}))
    assert await cohort_state(world) == before


@pytest.mark.parametrize(("command", "week"), [("prompts preview", 0), ("prompts add", -1)])
async def test_weeks_below_one_are_refused_at_the_door(world: World, command: str, week: int) -> None:
    await world.create_cohort()
    with pytest.raises(OptionError):
        await world.moderator.slash(world.channel, command, **(COMMANDS[command] | {"week": week}))


async def test_localtime_is_not_a_timezone(world: World) -> None:
    await world.create_cohort()
    before = await cohort_state(world)
    result = await world.moderator.slash(
        world.channel, "prompts schedule", cohort="Spring", timezone="localtime"
    )
    assert result.ephemeral and "not a timezone name" in result.response.content
    assert await cohort_state(world) == before


# --- start dates from before the window ----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "timezone", "at"),
    [(date(9999, 12, 31), "America/New_York", time(18)), (date(1, 1, 1), "Asia/Tokyo", time(0))],
)
async def test_a_cohort_with_an_impossible_start_gets_answers_not_errors(
    world: World, start: date, timezone: str, at: time
) -> None:
    await world.create_cohort()
    await edit_cohort(world, start_date=start, timezone=timezone, slot_time=at)
    for command, options in [
        ("prompts preview", {}),
        ("prompts preview", {"week": 1}),
        ("prompts post-now", {}),
        ("prompts add", {"week": 1, "text": "Read chapter one."}),
    ]:
        refused = await world.moderator.slash(world.channel, command, cohort="Spring", **options)
        assert refused.ephemeral and "can't schedule weekly prompts around" in refused.response.content
        assert start.isoformat() in refused.response.content

    moved = await world.moderator.slash(world.channel, "prompts schedule", cohort="Spring", time="09:00")
    assert "No weekly prompts can be posted" in moved.response.content
    paused = await world.moderator.slash(world.channel, "prompts pause", cohort="Spring")
    assert "Paused" in paused.response.content
    resumed = await world.moderator.slash(world.channel, "prompts resume", cohort="Spring")
    assert "Resumed" in resumed.response.content and "No weekly prompts" in resumed.response.content

    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    assert not embeds_in(world.channel)
    assert not world.env.errors


# --- two moderators at once -------------------------------------------------------------------------


async def test_two_moderators_adding_one_week_at_once_both_get_a_true_answer(world: World) -> None:
    await world.create_cohort()
    mods = world.guild.create_role("More mods", permissions=discord.Permissions(manage_guild=True))
    other = world.guild.add_member(world.env.create_user("mod-two"), roles=[mods])
    first, second = await at_once(
        world.moderator.slash(world.channel, "prompts add", cohort="Spring", week=2, text="First text."),
        other.slash(world.channel, "prompts add", cohort="Spring", week=2, text="Second text."),
    )
    answers = [first.response.content, second.response.content]
    assert all(result.ephemeral for result in (first, second))
    assert sorted(answer.split(" for week")[0] for answer in answers) == [
        "Replaced the custom prompt",
        "Saved a custom prompt",
    ]
    winner = "First text." if answers[0].startswith("Replaced") else "Second text."
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=2)
    assert winner in (preview.response.embeds[0].description or "")
    assert not world.env.errors


async def test_a_double_click_on_add_saves_once(world: World) -> None:
    await world.create_cohort()
    options = {"cohort": "Spring", "week": 3, "text": "Same text."}
    results = await at_once(
        world.moderator.slash(world.channel, "prompts add", **options),
        world.moderator.slash(world.channel, "prompts add", **options),
    )
    assert all("custom prompt for week 3" in result.response.content for result in results)
    async with bot_of(world).services.sessions() as session:
        assert (await session.scalars(select(CustomPrompt.text))).all() == ["Same text."]


# --- what the bot shows ---------------------------------------------------------------------------


async def test_an_old_cohort_name_with_markup_is_shown_inert_and_pings_nobody(world: World) -> None:
    await world.create_cohort()
    name = f"[N](http://e.v) @everyone <@{world.alice.id}>"  # fits the 50-character column
    await edit_cohort(world, name=name, name_key=lookalike_key(name))
    for command, public in [("prompts pause", True), ("prompts resume", True), ("prompts preview", False)]:
        result = await world.moderator.slash(world.channel, command, cohort=name)
        content = result.response.content
        assert result.ephemeral is not public, content
        shown = outside_code(content)  # inside a `code span` nothing renders
        # Every "[N](" is escaped, so it shows as text, never as a link.
        assert shown.count("[N](") == shown.count("\\[N](") > 0
        assert "@everyone" not in shown
        assert last_callback(world)["allowed_mentions"] == {"parse": []}
    added = await world.moderator.slash(world.channel, "prompts add", cohort=name, week=1, text="Hi.")
    assert "\\[N]" in added.response.content and "`/prompts preview cohort:" in added.response.content


async def test_custom_prompt_markup_is_kept_and_the_post_pings_only_the_role(world: World) -> None:
    await world.create_cohort()
    text = "**Pair up** with [the guide](https://docs.python.org/3/) @everyone"
    added = await world.moderator.slash(world.channel, "prompts add", cohort="Spring", week=1, text=text)
    assert "Saved a custom prompt" in added.response.content
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    assert text in (embeds_in(world.channel)[-1].description or "")
    request = [e for e in world.env.http_requests if e.method == "POST" and "/messages" in e.path][-1]
    assert request.json["allowed_mentions"]["parse"] == []


async def test_the_start_up_log_counts_cohorts_in_good_english(
    world: World, make_bot: Callable[..., WaypointBot], caplog: pytest.LogCaptureFixture
) -> None:
    await world.create_cohort()
    with caplog.at_level(logging.INFO, logger="cogs.prompts.cog"):
        await world.env.restart_bot(make_bot())
    lines = [
        record.getMessage() for record in caplog.records if "scheduled weekly prompts" in record.getMessage()
    ]
    assert lines == ["scheduled weekly prompts for 1 cohort"]
