"""Members' data requests, erasure with a confirm button, and the on-leave policy, through SimCord."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import simcord
from simcord import SetupError

from bot.app import WaypointBot
from cogs.privacy import PURGE_JOB_ID
from tests.behaviour.world import World, build_world, text_of

DAY = 24 * 3600


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    """Spring with Alice (two checkpoints, one with a note) and Bob (one checkpoint)."""
    world = build_world(simcord_env)
    await world.create_cohort()
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(
        world.channel, "checkpoint done", checkpoint="python-oop-async", note="asyncio finally clicked"
    )
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="crud-api")
    await world.bob.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    return world


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


async def attachment_of(result: Any) -> tuple[str, bytes]:
    assert result.ephemeral
    (attachment,) = result.response.attachments
    return attachment.filename, await attachment.read()


async def exported_member_ids(world: World) -> set[str]:
    result = await world.moderator.slash(world.channel, "export progress", format="csv")
    _, payload = await attachment_of(result)
    return {row["member_id"] for row in csv.DictReader(io.StringIO(payload.decode("utf-8-sig"), newline=""))}


def buttons(result: Any) -> dict[str, bool]:
    """Label -> disabled, for the buttons on the reply."""
    found: dict[str, bool] = {}
    for row in result.response.components:
        for component in row.get("components", []):
            found[component["label"]] = bool(component.get("disabled"))
    return found


async def run_purge_job(world: World) -> None:
    """Exactly what the scheduler does when the hourly job fires."""
    job = bot_of(world).scheduling.get_job(PURGE_JOB_ID)
    assert job is not None
    await job.func(*job.args, **job.kwargs)


# ------------------------------------------------------------------------------------ my-data


async def test_my_data_contains_exactly_the_callers_rows(world: World) -> None:
    result = await world.alice.slash(world.channel, "privacy my-data")

    name, payload = await attachment_of(result)
    assert name == "waypoint-study-hall-all-cohorts-my-data-2026-01-01.json"
    assert "6 records in 3 sections" in result.response.content
    document = json.loads(payload)
    assert (document["kind"], document["user_id"]) == ("personal_data", str(world.alice.id))
    sections = document["sections"]
    assert [row["cohort"] for row in sections["memberships"]] == ["Spring"]
    assert [row["checkpoint_key"] for row in sections["checkpoint_completions"]] == [
        "python-oop-async",
        "crud-api",
    ]
    assert sections["checkpoint_completions"][0]["note"] == "asyncio finally clicked"
    # Her scores: both checkpoints in week 1, January 2026 and all time.
    assert [(row["kind"], row["period"], row["points"]) for row in sections["scores"]] == [
        ("all", 0, 2),
        ("month", 202601, 2),
        ("week", 1, 2),
    ]
    # Her own earlier request is not in it yet; nothing about Bob ever is.
    assert sections["audit_entries_as_actor"] == []
    assert str(world.bob.id) not in payload.decode()

    again = json.loads((await attachment_of(await world.alice.slash(world.channel, "privacy my-data")))[1])
    assert [row["action"] for row in again["sections"]["audit_entries_as_actor"]] == ["privacy.my_data"]


async def test_my_data_of_someone_with_nothing_stored(world: World) -> None:
    stranger = world.guild.add_member(world.env.create_user("stranger"))

    _, payload = await attachment_of(await stranger.slash(world.channel, "privacy my-data"))

    assert all(records == [] for records in json.loads(payload)["sections"].values())


# ---------------------------------------------------------------------------------- forget-me


async def test_forget_me_after_confirming_removes_the_member_everywhere(world: World) -> None:
    assert str(world.alice.id) in await exported_member_ids(world)
    asked = await world.alice.slash(world.channel, "privacy forget-me")
    assert asked.ephemeral
    assert "Delete your Waypoint data?" in text_of(asked)
    assert buttons(asked) == {"Delete my data": False, "Cancel": False}

    confirmed = await world.alice.click(asked.response, label="Delete my data")

    assert confirmed.acknowledged
    reply = asked.response.content  # the same ephemeral message, edited
    assert "Waypoint no longer holds your data on this server" in reply
    assert "• 1 cohort membership deleted" in reply
    assert "• 2 checkpoint completions deleted" in reply
    assert asked.response.components == []
    assert await exported_member_ids(world) == {str(world.bob.id)}
    progress = await world.alice.slash(world.channel, "progress")
    assert "aren't in any cohort" in progress.response.content
    _, payload = await attachment_of(await world.alice.slash(world.channel, "privacy my-data"))
    assert all(records == [] for records in json.loads(payload)["sections"].values())
    audit = text_of(await world.moderator.slash(world.channel, "export audit"))
    assert "`privacy.forget_me`" in audit
    assert (
        "a member erased their data: 1 cohort membership deleted; 2 checkpoint completions deleted" in audit
    )


async def test_cancel_deletes_nothing(world: World) -> None:
    asked = await world.alice.slash(world.channel, "privacy forget-me")

    await world.alice.click(asked.response, label="Cancel")

    assert asked.response.content == "Cancelled: nothing was deleted."
    assert asked.response.components == []
    assert str(world.alice.id) in await exported_member_ids(world)


async def test_the_confirm_button_times_out_safely(world: World) -> None:
    asked = await world.alice.slash(world.channel, "privacy forget-me")

    await world.env.advance_time(61)

    assert "No answer within a minute, so nothing was deleted" in asked.response.content
    assert buttons(asked) == {"Delete my data": True, "Cancel": True}
    with pytest.raises(SetupError, match="disabled"):
        await world.alice.click(asked.response, label="Delete my data")
    assert str(world.alice.id) in await exported_member_ids(world)


async def test_forget_me_in_one_server_leaves_the_other_alone(simcord_env: simcord.Env) -> None:
    first, second = build_world(simcord_env, "First"), build_world(simcord_env, "Second")
    shared = simcord_env.create_user("shared")
    in_first = first.guild.add_member(shared)
    in_second = second.guild.add_member(shared)
    for world, member in ((first, in_first), (second, in_second)):
        await world.create_cohort()
        await member.slash(world.channel, "cohort join", cohort="Spring")

    asked = await in_first.slash(first.channel, "privacy forget-me")
    await in_first.click(asked.response, label="Delete my data")

    assert str(shared.id) not in await exported_member_ids(first)
    assert str(shared.id) in await exported_member_ids(second)


# ------------------------------------------------------------------------------ on-leave policy


async def test_purge_policy_erases_a_member_a_week_after_they_leave(world: World) -> None:
    configured = await world.moderator.slash(world.channel, "config on-leave", policy="purge")
    assert configured.ephemeral
    assert "deleted 7 days later" in configured.response.content

    world.guild.remove_member(world.alice)
    await world.env.advance_time(6 * DAY)
    await run_purge_job(world)
    assert str(world.alice.id) in await exported_member_ids(world)  # still within the grace period

    await world.env.advance_time(DAY + 60)
    await run_purge_job(world)

    assert await exported_member_ids(world) == {str(world.bob.id)}
    audit = text_of(await world.moderator.slash(world.channel, "export audit"))
    assert "`privacy.purge`" in audit
    assert "a member who left on 2026-01-01 was purged after 7 days" in audit


async def test_a_member_who_comes_back_keeps_their_data(world: World) -> None:
    await world.moderator.slash(world.channel, "config on-leave", policy="purge")
    world.guild.remove_member(world.alice)
    await world.env.advance_time(DAY)
    world.guild.add_member(world.alice.user)

    await world.env.advance_time(10 * DAY)
    await run_purge_job(world)

    assert str(world.alice.id) in await exported_member_ids(world)


async def test_keep_policy_keeps_data_after_leaving(world: World) -> None:
    kept = await world.moderator.slash(world.channel, "config on-leave", policy="keep")
    assert "keep their Waypoint data" in kept.response.content
    world.guild.remove_member(world.alice)

    await world.env.advance_time(30 * DAY)
    await run_purge_job(world)

    assert str(world.alice.id) in await exported_member_ids(world)


async def test_only_managers_set_the_on_leave_policy(world: World) -> None:
    # /config is hidden from members without Manage Server (default member permissions).
    assert "config on-leave" not in world.alice.available_commands(world.channel)
    assert "config on-leave" in world.moderator.available_commands(world.channel)
    world.guild.remove_member(world.bob)
    await world.env.advance_time(8 * DAY)
    await run_purge_job(world)
    assert str(world.bob.id) in await exported_member_ids(world)


async def test_departures_survive_a_restart_and_the_job_is_back(
    world: World, make_bot: Callable[..., WaypointBot]
) -> None:
    await world.moderator.slash(world.channel, "config on-leave", policy="purge")
    world.guild.remove_member(world.alice)

    await world.env.restart_bot(make_bot())  # a new process over the same database
    await world.env.advance_time(8 * DAY)
    await run_purge_job(world)

    assert await exported_member_ids(world) == {str(world.bob.id)}


async def test_after_forget_me_the_review_links_she_wrote_are_gone_from_the_export(world: World) -> None:
    """Issue (hostile use): erasure followed by /export reviews still showed her links."""
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "review join", cohort="Spring")
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    hers, his = "https://github.com/alice/review-of-bob", "https://github.com/bob/review-of-alice"
    await world.alice.slash(world.channel, "review done", partner=world.bob, link=hers)
    await world.bob.slash(world.channel, "review done", partner=world.alice, link=his)
    asked = await world.alice.slash(world.channel, "privacy forget-me")
    await world.alice.click(asked.response, label="Delete my data")

    result = await world.moderator.slash(world.channel, "export reviews", format="csv")

    _, payload = await attachment_of(result)
    rows = list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig"), newline="")))
    assert hers not in payload.decode("utf-8-sig")
    assert {(row["reviewer_id"], row["reviewee_id"], row["link"]) for row in rows} == {
        ("", str(world.bob.id), ""),  # her review of Bob: done, by a former member, no link
        (str(world.bob.id), "", his),  # his review of her: his words stay
    }
    assert all(row["completed_at_utc"] for row in rows)
