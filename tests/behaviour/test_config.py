"""`/config` under hostile use: two moderators at once on a new server, double clicks."""

from __future__ import annotations

import discord
import pytest
import simcord

from bot.app import WaypointBot
from tests.behaviour.world import World, build_world


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


async def test_two_moderators_setting_two_things_on_a_new_server_both_take_effect(world: World) -> None:
    """SimCord runs one operation at a time, so the two commands take turns here; the same two
    commands at the same moment are raced on a real SQLite file in tests/db/test_guild_settings.py."""
    second = world.guild.add_member(
        world.env.create_user("second-mod"),
        roles=[world.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))],
    )
    helpers = world.guild.create_role("Helpers")

    role_set = await world.moderator.slash(world.channel, "config moderator-role", role=helpers)
    policy_set = await second.slash(world.channel, "config on-leave", policy="purge")
    again = await second.slash(world.channel, "config on-leave", policy="purge")

    assert role_set.ephemeral and "can now run moderator commands" in role_set.response.content
    assert f"<@&{helpers.id}>" in role_set.response.content
    assert policy_set.ephemeral and "deleted 7 days" in policy_set.response.content
    assert again.response.content == policy_set.response.content
    config = bot_of(world).services.guild_config
    assert await config.moderator_role(world.guild.id) == helpers.id
    assert await config.on_leave_policy(world.guild.id) == "purge"
    assert not world.env.errors


async def test_everyone_cannot_be_the_moderator_role(world: World) -> None:
    result = await world.moderator.slash(
        world.channel, "config moderator-role", role=world.guild.default_role
    )

    assert result.ephemeral and "@everyone can't be the moderator role" in result.response.content
    assert await bot_of(world).services.guild_config.moderator_role(world.guild.id) is None
