"""Cohort names, dates and zones a careless or hostile moderator might type (issue: hostile use)."""

from __future__ import annotations

import pytest
import simcord
from simcord.backend.errors import OptionError

from tests.behaviour.world import World, build_world, text_of


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


async def cohort_names(world: World) -> str:
    return text_of(await world.alice.slash(world.channel, "cohort list"))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": "\u200b\u200d\u2060"}, "invisible or control"),
        ({"name": "Spring\u202e"}, "invisible or control"),
        ({"name": "Spr\x07ing"}, "invisible or control"),
        ({"name": "[Free Nitro](https://evil.example)"}, "can't contain links"),
        ({"name": "x" * 100}, "at most 50 characters"),
        ({"start": "9999-12-31"}, "start date must be between"),
        ({"start": "0001-01-01"}, "start date must be between"),
        ({"timezone": "localtime"}, "not a timezone name"),
        ({"timezone": "x" * 100}, "not a timezone name"),
        ({"time": "`" * 40}, "not a time"),
        ({"weekday": "<@1> " * 8}, "not a weekday"),
        ({"roadmap": "r" * 100}, "no roadmap"),
    ],
)
async def test_bad_cohort_values_are_refused_briefly_and_change_nothing(
    world: World, options: dict[str, str], expected: str
) -> None:
    options = dict(options)  # the parameter is shared by both databases' runs: leave it whole
    name = options.pop("name", "Spring")
    result = await world.create_cohort(name=name, **options)
    assert result.ephemeral
    assert expected in result.response.content
    assert len(result.response.content) <= 400
    assert "no cohorts" in (await cohort_names(world)).lower()


async def test_a_lookalike_of_an_existing_name_is_a_duplicate(world: World) -> None:
    await world.create_cohort(name="Spring")
    for lookalike in ("SPRING", "\uff33pring"):
        again = await world.create_cohort(name=lookalike)
        assert again.ephemeral and "already has a cohort" in again.response.content


async def test_unknown_long_cohort_names_are_echoed_short_and_inert(world: World) -> None:
    await world.create_cohort(name="Spring")
    typed = ("**bold** [link](https://evil.example) <@123> " * 3)[:100]
    result = await world.alice.slash(world.channel, "cohort join", cohort=typed)
    content = result.response.content
    assert result.ephemeral and "no cohort called" in content
    assert len(content) < 300
    assert "](https://evil.example)" not in content and "<@123>" not in content


@pytest.mark.parametrize("option", ["name", "roadmap", "start", "timezone", "weekday", "time"])
async def test_six_thousand_characters_are_stopped_by_the_option_limit(world: World, option: str) -> None:
    """Discord's client enforces each option's max_length, so such a value never reaches the bot."""
    with pytest.raises(OptionError, match="must be at most"):
        await world.create_cohort(**{option: "x" * 6000})
    assert "no cohorts" in (await cohort_names(world)).lower()
