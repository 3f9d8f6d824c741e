"""The first slice end to end: roadmaps, cohorts, checkpoints and progress, as users see them."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest
import simcord

from bot.app import WaypointBot
from tests.behaviour.world import World, build_world, text_of


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


# --- roadmaps -------------------------------------------------------------------------------


async def test_roadmap_list_shows_every_roadmap(world: World) -> None:
    result = await world.alice.slash(world.channel, "roadmap list")
    text = text_of(result)
    assert not result.ephemeral
    for key in ("python-europe", "junior-to-senior", "ninety-day-plan", "nodejs-path", "job-skills"):
        assert f"`{key}`" in text
    assert "3 phases" in text and "12 months" in text


async def test_roadmap_show_overview_and_phase(world: World) -> None:
    overview = text_of(await world.alice.slash(world.channel, "roadmap show", roadmap="junior-to-senior"))
    assert "Duration:** 24 months" in overview
    assert "months 3–9" in overview
    phase = text_of(
        await world.alice.slash(world.channel, "roadmap show", roadmap="ninety-day-plan", phase=2)
    )
    assert "Phase 2" in phase and "days 11–20" in phase
    assert "`" in phase and "/checkpoint done" in phase


async def test_roadmap_show_bad_input_is_ephemeral_and_helpful(world: World) -> None:
    unknown = await world.alice.slash(world.channel, "roadmap show", roadmap="python-europa")
    assert unknown.ephemeral
    assert "no roadmap `python-europa`" in unknown.response.content
    assert "Did you mean `python-europe`" in unknown.response.content
    phase = await world.alice.slash(world.channel, "roadmap show", roadmap="python-europe", phase=9)
    assert phase.ephemeral and "phases 1 to 3" in phase.response.content


async def test_roadmap_autocomplete_shows_titles_returns_keys(world: World) -> None:
    choices = await world.alice.autocomplete(world.channel, "roadmap show", "roadmap", "node")
    assert [choice["value"] for choice in choices] == ["nodejs-path"]
    assert "Node" in choices[0]["name"]


async def test_long_phase_pages_fit_discord_limits(world: World) -> None:
    for roadmap, phases in (("junior-to-senior", 5), ("job-skills", 1)):
        for number in range(1, phases + 1):
            result = await world.alice.slash(world.channel, "roadmap show", roadmap=roadmap, phase=number)
            for embed in result.response.embeds:
                assert len(embed) <= 6000


# --- cohorts --------------------------------------------------------------------------------


async def test_moderator_creates_cohort_and_info_shows_it(world: World) -> None:
    created = await world.create_cohort(weekday="wed", time="19:30")
    assert not created.ephemeral
    assert "New cohort: Spring" in text_of(created)
    await world.alice.slash(world.channel, "cohort join", cohort="spring")
    info = await world.bob.slash(world.channel, "cohort info", cohort="Spring")
    text = text_of(info)
    assert "Python" in text and "`python-europe`" in text
    assert "Week 1 of" in text and "phase 1" in text
    assert "Members\n1" in text
    assert "Wednesdays at 19:30 (Europe/Berlin)" in text
    # Discord timestamp of the next slot: Wed 2026-01-07 19:30 Berlin = 18:30 UTC.
    assert "<t:1767810600:F>" in text


async def test_non_moderator_cannot_create(world: World) -> None:
    result = await world.alice.slash(
        world.channel, "cohort create", name="Mine", roadmap="python-europe", channel=world.channel
    )
    assert result.ephemeral
    assert "Only moderators" in result.response.content
    listing = await world.alice.slash(world.channel, "cohort list")
    assert "No cohorts yet" in listing.response.content


async def test_configured_moderator_role_can_create(world: World) -> None:
    helpers = world.guild.create_role("Helpers")
    helper = world.guild.add_member(world.env.create_user("helper"), roles=[helpers])
    # /config is hidden from members without Manage Server (default member permissions).
    assert "config" not in world.alice.available_commands(world.channel)
    done = await world.moderator.slash(world.channel, "config moderator-role", role=helpers)
    assert done.ephemeral and "can now run moderator commands" in done.response.content
    created = await helper.slash(
        world.channel, "cohort create", name="Helpers cohort", roadmap="nodejs-path", channel=world.channel
    )
    assert "New cohort" in text_of(created)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": "2026-02-30"}, "not a day on the calendar"),
        ({"time": "25:00"}, "not on the clock"),
        ({"weekday": "funday"}, "weekday"),
        ({"timezone": "Europe/Berlinn"}, "Europe/Berlin"),
        ({"roadmap": "pythn-europe"}, "Did you mean `python-europe`"),
        ({"name": "x" * 51}, "at most 50 characters"),
    ],
)
async def test_cohort_create_rejects_bad_input(world: World, options: dict[str, str], expected: str) -> None:
    arguments = {"name": "Bad", "roadmap": "python-europe", "channel": world.channel} | options
    result = await world.moderator.slash(world.channel, "cohort create", **arguments)
    assert result.ephemeral
    assert expected in result.response.content
    listing = await world.moderator.slash(world.channel, "cohort list")
    assert "No cohorts yet" in listing.response.content


async def test_duplicate_cohort_name_is_refused(world: World) -> None:
    await world.create_cohort(name="Autumn")
    again = await world.moderator.slash(
        world.channel, "cohort create", name="autumn", roadmap="nodejs-path", channel=world.channel
    )
    assert again.ephemeral and "already has a cohort called **autumn**" in again.response.content


async def test_cohort_in_channel_the_bot_cannot_write_to_is_refused(world: World) -> None:
    locked = world.guild.create_text_channel(
        "locked", overwrites={world.guild.default_role: discord.PermissionOverwrite(send_messages=False)}
    )
    result = await world.moderator.slash(
        world.channel, "cohort create", name="Locked", roadmap="python-europe", channel=locked
    )
    assert result.ephemeral and "I can't post in" in result.response.content


async def test_join_and_leave_are_idempotent(world: World) -> None:
    await world.create_cohort()
    first = await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    second = await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    assert first.ephemeral and "Welcome to **Spring**" in first.response.content
    assert "already in **Spring**" in second.response.content
    left = await world.alice.slash(world.channel, "cohort leave", cohort="Spring")
    again = await world.alice.slash(world.channel, "cohort leave", cohort="Spring")
    assert "You left **Spring**" in left.response.content
    assert "weren't in **Spring**" in again.response.content
    unknown = await world.alice.slash(world.channel, "cohort join", cohort="Sprung")
    assert unknown.ephemeral and "Did you mean `Spring`" in unknown.response.content


async def test_cohort_list_and_autocomplete(world: World) -> None:
    await world.create_cohort(name="Spring")
    await world.create_cohort(name="Night owls", roadmap="ninety-day-plan")
    listing = text_of(await world.alice.slash(world.channel, "cohort list"))
    assert "Spring" in listing and "Night owls" in listing
    choices = await world.alice.autocomplete(world.channel, "cohort join", "cohort", "ni")
    assert [choice["value"] for choice in choices] == ["Night owls"]


# --- checkpoints and progress ---------------------------------------------------------------


async def test_checkpoint_done_undo_and_progress(world: World) -> None:
    await world.create_cohort()
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    done = await world.alice.slash(
        world.channel,
        "checkpoint done",
        checkpoint="python-oop-async",
        evidence="https://github.com/alice/oop",
        note="classes and asyncio",
    )
    assert done.ephemeral
    assert "✅ Done" in done.response.content and "1/" in done.response.content
    repeat = await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    assert "already marked done" in repeat.response.content

    progress = await world.alice.slash(world.channel, "progress")
    text = text_of(progress)
    assert progress.ephemeral
    # One checkpoint on day one is ahead of a calendar that expects none yet.
    assert "1/13" in text and "ahead" in text and "python-oop-async" in text

    undo = await world.alice.slash(world.channel, "checkpoint undo", checkpoint="python-oop-async")
    assert "Unmarked" in undo.response.content and "0/" in undo.response.content
    undo_again = await world.alice.slash(world.channel, "checkpoint undo", checkpoint="python-oop-async")
    assert "wasn't marked done" in undo_again.response.content


async def test_checkpoint_bad_input(world: World) -> None:
    await world.create_cohort()
    not_member = await world.bob.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    assert not_member.ephemeral and "aren't in any cohort" in not_member.response.content
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    cases = {
        "python-oop-asynk": "Did you mean `python-oop-async`",
    }
    for key, expected in cases.items():
        result = await world.alice.slash(world.channel, "checkpoint done", checkpoint=key)
        assert result.ephemeral and expected in result.response.content
    bad_url = await world.alice.slash(
        world.channel, "checkpoint done", checkpoint="python-oop-async", evidence="javascript:alert(1)"
    )
    assert bad_url.ephemeral and "http:// or https://" in bad_url.response.content
    long_note = await world.alice.slash(
        world.channel, "checkpoint done", checkpoint="python-oop-async", note="n" * 301
    )
    assert long_note.ephemeral and "at most 300 characters" in long_note.response.content
    progress = text_of(await world.alice.slash(world.channel, "progress"))
    assert "**0%**" in progress


async def test_cohort_option_required_when_in_several(world: World) -> None:
    await world.create_cohort(name="Spring")
    await world.create_cohort(name="Nodes", roadmap="nodejs-path")
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(world.channel, "cohort join", cohort="Nodes")
    ambiguous = await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    assert ambiguous.ephemeral and "several cohorts" in ambiguous.response.content
    named = await world.alice.slash(
        world.channel, "checkpoint done", checkpoint="python-oop-async", cohort="Spring"
    )
    assert "✅ Done" in named.response.content
    elsewhere = await world.bob.slash(
        world.channel, "checkpoint done", checkpoint="python-oop-async", cohort="Spring"
    )
    assert "aren't in **Spring**" in elsewhere.response.content


async def test_checkpoint_autocomplete_uses_members_roadmap(world: World) -> None:
    await world.create_cohort(roadmap="nodejs-path")
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    choices = await world.alice.autocomplete(world.channel, "checkpoint done", "checkpoint", "chat")
    assert choices and all(choice["value"] for choice in choices)
    assert any("chat" in choice["name"].lower() for choice in choices)


async def test_progress_of_another_member(world: World) -> None:
    await world.create_cohort()
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    seen = await world.bob.slash(world.channel, "progress", member=world.alice)
    assert seen.ephemeral and "1/" in text_of(seen)
    absent = await world.alice.slash(world.channel, "progress", member=world.bob)
    assert absent.ephemeral and "isn't in any cohort" in absent.response.content


# --- isolation and restart ------------------------------------------------------------------


async def test_guilds_never_see_each_other(simcord_env: simcord.Env) -> None:
    first = build_world(simcord_env, "First")
    second = build_world(simcord_env, "Second")
    await first.create_cohort(name="Shared name")
    await first.alice.slash(first.channel, "cohort join", cohort="Shared name")
    other = await second.alice.slash(second.channel, "cohort join", cohort="Shared name")
    assert "no cohort called **Shared name**" in other.response.content
    assert "No cohorts yet" in (await second.alice.slash(second.channel, "cohort list")).response.content
    await second.create_cohort(name="Shared name", roadmap="nodejs-path")
    info = text_of(await second.alice.slash(second.channel, "cohort info", cohort="Shared name"))
    assert "nodejs-path" in info and "Members\n0" in info


async def test_restart_keeps_everything(
    simcord_env: simcord.Env, make_bot: Callable[..., WaypointBot]
) -> None:
    world = build_world(simcord_env)
    await world.create_cohort()
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")

    await simcord_env.restart_bot()  # the same bot object logs in again
    same = text_of(await world.alice.slash(world.channel, "progress"))
    assert "1/" in same

    await simcord_env.restart_bot(make_bot())  # a new process over the same file
    info = text_of(await world.bob.slash(world.channel, "cohort info", cohort="Spring"))
    assert "Members\n1" in info
    again = await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    assert "already marked done" in again.response.content


async def test_long_overview_pages_with_buttons_for_the_asker_only(world: World) -> None:
    result = await world.alice.slash(world.channel, "roadmap show", roadmap="job-skills")
    assert result.response.embeds[0].footer.text == "Page 1/2"
    await world.alice.click(world.channel.last_message, label="Next")
    assert world.channel.last_message.embeds[0].footer.text == "Page 2/2"
    refused = await world.bob.click(world.channel.last_message, label="Previous")
    assert refused.ephemeral
    assert "belong to someone else" in refused.response.content
    assert world.channel.last_message.embeds[0].footer.text == "Page 2/2"
