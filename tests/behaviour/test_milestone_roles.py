"""Milestone roles as members and moderators see them (issue 13): earned on a phase's last
checkpoint, refused at configuration with one sentence, failures recorded and shown, taken back on
undo, cleared without taking anything back, and kept apart per server.

Phase 1 of ``python-europe`` ("Foundations") has four checkpoints; phase 2 starts with
``api-authentication``.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
import simcord
from simcord.backend.errors import OptionError
from sqlalchemy import select

from bot.app import WaypointBot
from bot.db.models import AuditEntry, MilestoneGrant
from tests.behaviour.world import World, build_world, text_of

PHASE_ONE = ("python-oop-async", "crud-api", "postgres-queries-indexing", "aws-free-tier-deploy")


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort(name="Spring")
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
    return world


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


def role_ids(actor: simcord.MemberActor) -> set[int]:
    member = actor.member
    assert member is not None
    return {role.id for role in member.roles}


def bot_role_id(world: World) -> int:
    me = world.guild.me
    assert me is not None
    return me.top_role.id


async def set_role(world: World, role: Any, phase: int = 1, roadmap: str = "python-europe") -> Any:
    return await world.moderator.slash(
        world.channel, "config milestone-role", roadmap=roadmap, phase=phase, role=role
    )


async def finish_phase_one(actor: simcord.MemberActor, world: World) -> Any:
    """Mark the four checkpoints; the reply to the last one."""
    result = None
    for key in PHASE_ONE:
        result = await actor.slash(world.channel, "checkpoint done", checkpoint=key)
    return result


async def grants(world: World) -> list[tuple[int, str, str | None]]:
    async with bot_of(world).services.sessions() as session:
        rows = await session.execute(
            select(MilestoneGrant.user_id, MilestoneGrant.state, MilestoneGrant.error).order_by(
                MilestoneGrant.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def edit_bot_role(world: World, **changes: Any) -> None:
    """What a server admin does in Server Settings → Roles, outside the bot."""
    world.env.backend.edit_role(world.guild.id, bot_role_id(world), changes)
    await world.env.settle()


def show_config_to_everyone(world: World) -> None:
    """/config is hidden from members without Manage Server; a server may show it to everyone in
    Server Settings → Integrations. Then the bot's own check is what stands in the way."""
    command = world.env.backend.find_command("config", world.guild.id)
    assert command is not None
    world.guild.set_command_permissions(int(command["id"]), {world.guild.default_role: True})


def without_manage_roles() -> int:
    permissions = discord.Permissions.all()
    permissions.administrator = False
    permissions.manage_roles = False
    return permissions.value


# --- granting ------------------------------------------------------------------------------------


async def test_the_last_checkpoint_of_a_phase_earns_its_role_and_the_reply_says_so(world: World) -> None:
    graduate = world.guild.create_role("Foundations graduate")
    configured = await set_role(world, graduate)
    assert configured.ephemeral
    assert f"now get {graduate.mention}" in configured.response.content

    for key in PHASE_ONE[:3]:
        partial = await world.alice.slash(world.channel, "checkpoint done", checkpoint=key)
        assert graduate.mention not in partial.response.content
        assert graduate.id not in role_ids(world.alice)
    last = await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[3])

    assert graduate.id in role_ids(world.alice)
    assert "You finished phase 1 of **Python" in last.response.content
    assert f"earned the {graduate.mention} role" in last.response.content
    assert graduate.id not in role_ids(world.bob)
    assert await grants(world) == [(world.alice.id, "granted", None)]
    assert not world.env.errors


async def test_a_double_click_on_the_last_checkpoint_grants_once(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)

    again = await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[3])

    assert "already marked done" in again.response.content
    assert graduate.mention not in again.response.content
    assert await grants(world) == [(world.alice.id, "granted", None)]
    adds = [
        entry
        for entry in world.env.http_requests
        if entry.method == "PUT" and f"/roles/{graduate.id}" in entry.path
    ]
    assert len(adds) == 1


async def test_a_role_taken_off_by_hand_is_not_given_again(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)
    world.env.backend.remove_member_role(world.guild.id, world.alice.id, graduate.id)
    await world.env.settle()

    await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[0])

    assert graduate.id not in role_ids(world.alice)  # granted once


async def test_a_member_who_finished_before_the_role_existed_gets_it_on_their_next_mark(
    world: World,
) -> None:
    await finish_phase_one(world.alice, world)
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    assert graduate.id not in role_ids(world.alice)

    result = await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[1])

    assert graduate.id in role_ids(world.alice)
    assert f"earned the {graduate.mention} role" in result.response.content


# --- undo ----------------------------------------------------------------------------------------


async def test_an_undo_that_reopens_the_phase_takes_the_role_back(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)

    undone = await world.alice.slash(world.channel, "checkpoint undo", checkpoint=PHASE_ONE[1])

    assert graduate.id not in role_ids(world.alice)
    assert f"took back the {graduate.mention} role" in undone.response.content
    assert await grants(world) == []
    redone = await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[1])
    assert graduate.id in role_ids(world.alice)
    assert "earned" in redone.response.content


async def test_an_undo_leaves_a_role_the_bot_did_not_give(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    world.env.backend.add_member_role(world.guild.id, world.alice.id, graduate.id)  # a moderator's gift
    await world.env.settle()
    await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[0])
    await set_role(world, graduate)

    undone = await world.alice.slash(world.channel, "checkpoint undo", checkpoint=PHASE_ONE[0])

    assert graduate.id in role_ids(world.alice)
    assert graduate.mention not in undone.response.content


async def test_an_undo_in_another_phase_keeps_the_role(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="api-authentication")

    await world.alice.slash(world.channel, "checkpoint undo", checkpoint="api-authentication")

    assert graduate.id in role_ids(world.alice)


# --- clearing ------------------------------------------------------------------------------------


async def test_clearing_stops_granting_and_keeps_the_roles_already_given(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)

    cleared = await world.moderator.slash(
        world.channel, "config milestone-role-clear", roadmap="python-europe", phase=1
    )
    last = await finish_phase_one(world.bob, world)

    assert cleared.ephemeral and "no longer get" in cleared.response.content
    assert "keep it" in cleared.response.content
    assert graduate.id in role_ids(world.alice)
    assert graduate.id not in role_ids(world.bob)
    assert graduate.mention not in last.response.content
    again = await world.moderator.slash(
        world.channel, "config milestone-role-clear", roadmap="python-europe", phase=1
    )
    assert "nothing changed" in again.response.content
    listing = await world.moderator.slash(world.channel, "config milestone-roles")
    assert "No milestone roles yet" in listing.response.content


# --- refusals at configuration ---------------------------------------------------------------------


async def test_everyone_cannot_be_a_milestone_role(world: World) -> None:
    result = await set_role(world, world.guild.default_role)

    assert result.ephemeral
    assert result.response.content == "@everyone can't be a milestone role: every member has it already."


async def test_a_role_managed_by_an_integration_is_refused(world: World) -> None:
    boosters = world.guild.create_role("Server Booster", managed=True)

    result = await set_role(world, boosters)

    assert result.ephemeral and "is managed by an integration" in result.response.content


async def test_a_role_above_the_bots_top_role_is_refused(world: World) -> None:
    me = world.guild.me
    assert me is not None
    high = world.guild.create_role("Elders", position=me.top_role.position + 1)

    result = await set_role(world, high)

    assert result.ephemeral and "is not below my highest role" in result.response.content
    assert "drag my role above it" in result.response.content


async def test_the_bots_own_role_is_refused(world: World) -> None:
    me = world.guild.me
    assert me is not None
    own = world.guild.roles[me.top_role.name]

    result = await set_role(world, own)

    assert result.ephemeral and "managed by an integration" in result.response.content


async def test_without_manage_roles_the_bot_refuses_to_take_the_role_on(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await edit_bot_role(world, permissions=without_manage_roles())

    result = await set_role(world, graduate)

    assert result.ephemeral and "I need the **Manage Roles** permission" in result.response.content


async def test_roles_with_moderator_powers_and_the_moderator_role_are_refused(world: World) -> None:
    staff = world.guild.create_role("Staff", permissions=discord.Permissions(kick_members=True))
    helpers = world.guild.create_role("Helpers")
    await world.moderator.slash(world.channel, "config moderator-role", role=helpers)

    powerful = await set_role(world, staff)
    moderators = await set_role(world, helpers)

    assert "has moderator permissions (Kick Members)" in powerful.response.content
    assert "is the server's moderator role" in moderators.response.content


async def test_each_refusal_is_one_sentence_and_stores_nothing(world: World) -> None:
    me = world.guild.me
    assert me is not None
    refused = [
        world.guild.default_role,
        world.guild.create_role("Managed", managed=True),
        world.guild.create_role("High", position=me.top_role.position + 1),
    ]
    for role in refused:
        result = await set_role(world, role)
        content = result.response.content
        assert result.ephemeral and content.count(". ") == 0 and len(content) < 300, content
    listing = await world.moderator.slash(world.channel, "config milestone-roles")
    assert "No milestone roles yet" in listing.response.content
    async with bot_of(world).services.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "config.milestone_role" not in actions


async def test_roadmap_and_phase_are_checked(world: World) -> None:
    graduate = world.guild.create_role("Graduate")

    unknown = await set_role(world, graduate, roadmap="pythn-europe")
    too_far = await set_role(world, graduate, phase=4)
    clear_too_far = await world.moderator.slash(
        world.channel, "config milestone-role-clear", roadmap="python-europe", phase=99
    )

    assert "There is no roadmap `pythn-europe`" in unknown.response.content
    assert "Did you mean `python-europe`?" in unknown.response.content
    assert "has 3 phases: pick a phase from 1 to 3" in too_far.response.content
    assert "from 1 to 3" in clear_too_far.response.content
    for value in (0, -1, 101, 2**63):
        with pytest.raises(OptionError):
            await set_role(world, graduate, phase=value)
    assert not world.env.errors


async def test_members_cannot_configure_or_list_milestone_roles(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    show_config_to_everyone(world)

    attempts = [
        await world.alice.slash(
            world.channel, "config milestone-role", roadmap="python-europe", phase=1, role=graduate
        ),
        await world.alice.slash(
            world.channel, "config milestone-role-clear", roadmap="python-europe", phase=1
        ),
        await world.alice.slash(world.channel, "config milestone-roles"),
    ]

    for attempt in attempts:
        assert attempt.ephemeral and "Only moderators can do that" in attempt.response.content
    await finish_phase_one(world.alice, world)
    assert graduate.id not in role_ids(world.alice)


async def test_a_moderator_role_member_can_configure(world: World) -> None:
    helpers = world.guild.create_role("Helpers")
    await world.moderator.slash(world.channel, "config moderator-role", role=helpers)
    carol = world.guild.add_member(world.env.create_user("carol"), roles=[helpers])
    show_config_to_everyone(world)
    graduate = world.guild.create_role("Graduate")

    result = await carol.slash(
        world.channel, "config milestone-role", roadmap="python-europe", phase=1, role=graduate
    )

    assert "now get" in result.response.content


async def test_configuring_twice_is_the_same_answer_and_one_audit_entry(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    first = await set_role(world, graduate)
    second = await set_role(world, graduate)
    other = world.guild.create_role("Alumni")
    replaced = await set_role(world, other)

    assert "now get" in first.response.content
    assert "already get" in second.response.content and "nothing changed" in second.response.content
    assert f"replaces {graduate.mention}" in replaced.response.content
    async with bot_of(world).services.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("config.milestone_role") == 2


# --- failures after configuration ----------------------------------------------------------------


async def test_a_grant_refused_later_keeps_the_progress_and_is_shown_to_moderators(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await edit_bot_role(world, permissions=without_manage_roles())

    last = await finish_phase_one(world.alice, world)

    assert graduate.id not in role_ids(world.alice)
    assert "I couldn't give you its" in last.response.content
    assert "your progress is saved" in last.response.content
    assert "4/13" in last.response.content
    assert await grants(world) == [(world.alice.id, "failed", "no_manage_roles")]
    listing = text_of(await world.moderator.slash(world.channel, "config milestone-roles"))
    assert "I can't give it now: I don't have the **Manage Roles** permission" in listing
    assert "1 member finished the phase without getting the role" in listing
    info = await world.alice.slash(world.channel, "cohort info", cohort="Spring")
    info_text = text_of(info)
    assert "Needs attention: milestone roles" in info_text
    assert "1 member finished the phase without getting the role" in info_text
    assert str(world.alice.id) not in info_text and "alice" not in info_text
    assert not world.env.errors

    # Fixed by a moderator: the member gets the role the next time they mark one of its checkpoints.
    await edit_bot_role(world, permissions=discord.Permissions.all().value & ~8)
    retried = await world.alice.slash(world.channel, "checkpoint done", checkpoint=PHASE_ONE[0])
    assert graduate.id in role_ids(world.alice)
    assert "earned" in retried.response.content
    info_text = text_of(await world.alice.slash(world.channel, "cohort info", cohort="Spring"))
    assert "Needs attention" not in info_text


async def test_setting_the_role_again_gives_it_to_the_members_who_were_waiting(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await edit_bot_role(world, permissions=without_manage_roles())
    for member in (world.alice, world.bob):
        await finish_phase_one(member, world)
    world.guild.remove_member(world.bob)
    await world.env.settle()
    await edit_bot_role(world, permissions=discord.Permissions.all().value & ~8)

    again = await set_role(world, graduate)

    assert graduate.id in role_ids(world.alice)
    assert "I gave it to 1 waiting member." in again.response.content
    assert "1 member still waits" in again.response.content
    assert sorted(state for _, state, _ in await grants(world)) == ["failed", "granted"]
    listing = text_of(await world.moderator.slash(world.channel, "config milestone-roles"))
    assert "the member left the server" in listing
    assert not world.env.errors


async def test_a_role_moved_above_the_bot_or_deleted_is_recorded(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    alumni = world.guild.create_role("Alumni")
    await set_role(world, graduate, phase=1)
    await set_role(world, alumni, phase=2)
    me = world.guild.me
    assert me is not None
    world.env.backend.edit_role(world.guild.id, graduate.id, {"position": me.top_role.position + 5})
    world.env.backend.delete_role(world.guild.id, alumni.id)
    await world.env.settle()

    first = await finish_phase_one(world.alice, world)
    for key in ("api-authentication", "dockerize-app", "ci-pipeline", "open-source-contribution"):
        second = await world.alice.slash(world.channel, "checkpoint done", checkpoint=key)

    assert "I couldn't give you" in first.response.content
    assert "I couldn't give you" in second.response.content
    assert sorted(state for _, state, _ in await grants(world)) == ["failed", "failed"]
    listing = text_of(await world.moderator.slash(world.channel, "config milestone-roles"))
    assert "the role is not below my highest role" in listing
    assert "the role was deleted" in listing


async def test_discord_refusing_the_call_itself_is_recorded(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    world.env.inject_error(
        "PUT", f"/guilds/{world.guild.id}/members/*/roles/*", status=403, code=50013, message="Missing"
    )

    last = await finish_phase_one(world.alice, world)

    assert "I couldn't give you" in last.response.content
    assert await grants(world) == [(world.alice.id, "failed", "forbidden")]
    assert not world.env.errors


async def test_a_take_back_refused_is_recorded_and_shown(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)
    await edit_bot_role(world, permissions=without_manage_roles())

    undone = await world.alice.slash(world.channel, "checkpoint undo", checkpoint=PHASE_ONE[0])

    assert graduate.id in role_ids(world.alice)
    assert "couldn't take back" in undone.response.content
    assert await grants(world) == [(world.alice.id, "remove_failed", "no_manage_roles")]
    listing = text_of(await world.moderator.slash(world.channel, "config milestone-roles"))
    assert "1 member kept the role after unmarking a checkpoint" in listing


# --- isolation -------------------------------------------------------------------------------------


async def test_servers_are_kept_apart(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    other = build_world(world.env, guild_name="Night School")
    await other.create_cohort(name="Spring")
    await other.alice.slash(other.channel, "cohort join", cohort="Spring")

    last = await finish_phase_one(other.alice, other)
    listing = await other.moderator.slash(other.channel, "config milestone-roles")

    assert graduate.mention not in last.response.content
    assert role_ids(other.alice) == {other.guild.id}  # @everyone only
    assert "No milestone roles yet" in listing.response.content
    assert await grants(world) == []


async def test_forget_me_removes_the_grant_records_and_leaves_the_role(world: World) -> None:
    graduate = world.guild.create_role("Graduate")
    await set_role(world, graduate)
    await finish_phase_one(world.alice, world)

    report = await bot_of(world).services.privacy.forget_me(world.guild.id, world.alice.id)

    assert report.counts["milestone_roles_received"] == 1
    assert await grants(world) == []
    assert graduate.id in role_ids(world.alice)
