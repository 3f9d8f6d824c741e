"""The whole command tree as the bot registers it: every command answers refusals itself."""

from __future__ import annotations

import discord
import simcord
from discord import app_commands

from cogs._checks import ANSWERED_MARK
from tests.behaviour.world import build_world


async def test_every_command_answers_its_own_refusals(simcord_env: simcord.Env) -> None:
    build_world(simcord_env)
    bot = simcord_env.bot
    assert isinstance(bot, discord.Client)
    leaves = [command for command in bot.tree.walk_commands() if isinstance(command, app_commands.Command)]
    assert len(leaves) > 30
    unanswered = [
        command.qualified_name for command in leaves if not hasattr(command.callback, ANSWERED_MARK)
    ]
    assert unanswered == [], "decorate these with answered / moderator_only / manage_guild_only"


async def test_a_refusal_never_reaches_on_error(simcord_env: simcord.Env) -> None:
    world = build_world(simcord_env)
    result = await world.alice.slash(world.channel, "progress")
    assert result.ephemeral
    assert "aren't in any cohort" in result.response.content
    assert simcord_env.errors == []


async def test_a_refusal_about_another_member_names_them(simcord_env: simcord.Env) -> None:
    world = build_world(simcord_env)
    result = await world.alice.slash(world.channel, "progress", member=world.bob)
    assert result.ephemeral
    assert "isn't in any cohort" in result.response.content
    assert "You" not in result.response.content
