"""Every string option of every command, typed by a careless or hostile member (issue: hostile use).

For each option: 6,000 characters, invisible characters, control and direction characters,
markdown with a masked link, and mentions. Each answer must come (Discord's own client stops values
over an option's max_length, which SimCord enforces the same way), fit Discord's limits, ping
nobody, render no link or mention the bot did not intend, change nothing when it is a refusal,
and never reach ``on_error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands
from simcord.backend.errors import OptionError
from sqlalchemy import select

from bot.db.models import Base
from tests.behaviour.world import World, build_world

HOSTILE = {
    "long": "x" * 6000,
    "invisible": "\u200b\u200d\u2060\ufeff\u00ad\u3164",
    "control": "Spr\x07ing\x1b[31m\u202e",
    "markup": "[Free Nitro](https://evil.example) **bold** `x` ||spoiler||",
    "mention": "<@123456789012345678> @everyone <@&1> @here",
}
# Options whose value is free text a member may format; the rest name things or hold values.
FREE_TEXT = {("checkpoint done", "note"), ("prompts add", "text"), ("review join", "languages")}
SWEPT: dict[str, int] = {}  # inputs that reached the bot, per command (for the closing note)
RAW_DANGERS = ("](https://evil.example)", "<@123456789012345678>", "@everyone", "@here", "<@&1>")


@dataclass(frozen=True)
class Case:
    actor: str  # "moderator" or "alice"
    options: dict[str, Any]


def cases(world: World) -> dict[str, Case]:
    """A valid call of each command; the sweep replaces one string option at a time."""
    spring = {"cohort": "Spring"}
    return {
        "checkpoint done": Case("alice", {"checkpoint": "python-oop-async", **spring}),
        "checkpoint undo": Case("alice", {"checkpoint": "python-oop-async", **spring}),
        "cohort create": Case(
            "moderator", {"name": "Autumn", "roadmap": "python-europe", "channel": world.channel}
        ),
        "cohort join": Case("alice", spring),
        "cohort leave": Case("alice", spring),
        "cohort info": Case("alice", spring),
        "cohort calendar": Case("alice", spring),
        "config milestone-role": Case(
            "moderator",
            {"roadmap": "python-europe", "phase": 1, "role": world.guild.create_role("Graduate")},
        ),
        "config milestone-role-clear": Case("moderator", {"roadmap": "python-europe", "phase": 1}),
        "export progress": Case("moderator", spring),
        "export checkpoints": Case("moderator", spring),
        "export reviews": Case("moderator", spring),
        "progress": Case("alice", spring),
        "leaderboard": Case("alice", {**spring, "period": "month"}),
        "prompts preview": Case("moderator", spring),
        "prompts post-now": Case("moderator", spring),
        "prompts pause": Case("moderator", spring),
        "prompts resume": Case("moderator", spring),
        "prompts add": Case("moderator", {**spring, "week": 2, "text": "Pair up and explain one queue."}),
        "prompts schedule": Case("moderator", spring),
        "review join": Case("alice", spring),
        "review leave": Case("alice", spring),
        "review snooze": Case("alice", {**spring, "weeks": 1}),
        "review pair": Case("moderator", spring),
        "review schedule": Case("moderator", spring),
        "review done": Case("alice", {**spring, "partner": world.bob}),
        "review status": Case("alice", spring),
        "review history": Case("alice", spring),
        "roadmap show": Case("alice", {"roadmap": "python-europe"}),
        "roadmap export": Case("alice", {"roadmap": "python-europe"}),
        "roadmap remove": Case("moderator", {"roadmap": "python-europe"}),
        "stats": Case("moderator", spring),
    }


def string_options(bot: discord.Client, name: str) -> dict[str, int]:
    """The command's typed string options and their max lengths (fixed choices take no text)."""
    tree = bot.tree  # type: ignore[attr-defined]
    command = next(
        found
        for found in tree.walk_commands()
        if isinstance(found, app_commands.Command) and found.qualified_name == name
    )
    return {
        parameter.name: int(parameter.max_value or 6000)
        for parameter in command.parameters
        if parameter.type is discord.AppCommandOptionType.string and not parameter.choices
    }


async def fingerprint(bot: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: a refusal must leave all of them exactly as they were."""
    async with bot.services.sessions() as session:
        return {
            table.name: sorted(map(tuple, await session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


async def prepared_world(env: simcord.Env) -> World:
    world = build_world(env)
    await world.create_cohort(name="Spring")
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
        await member.slash(world.channel, "review join", cohort="Spring")
    return world


def every_text_shown(result: Any) -> list[str]:
    messages = [result.response, *getattr(result, "followups", [])]
    texts = []
    for message in messages:
        if message is None:
            continue
        texts.append(message.content or "")
        for embed in message.embeds:
            texts += [embed.title or "", embed.description or "", embed.footer.text or ""]
            texts += [f"{field.name} {field.value}" for field in embed.fields]
    return texts


COMMANDS = sorted(
    {
        "checkpoint done",
        "checkpoint undo",
        "cohort create",
        "cohort join",
        "cohort leave",
        "cohort info",
        "cohort calendar",
        "config milestone-role",
        "config milestone-role-clear",
        "export progress",
        "export checkpoints",
        "export reviews",
        "progress",
        "leaderboard",
        "prompts preview",
        "prompts post-now",
        "prompts pause",
        "prompts resume",
        "prompts add",
        "prompts schedule",
        "review join",
        "review leave",
        "review snooze",
        "review pair",
        "review schedule",
        "review done",
        "review status",
        "review history",
        "roadmap show",
        "roadmap export",
        "roadmap remove",
        "stats",
    }
)


@pytest.mark.parametrize("command", COMMANDS)
async def test_every_string_option_survives_hostile_values(simcord_env: simcord.Env, command: str) -> None:
    world = await prepared_world(simcord_env)
    bot = simcord_env.bot
    case = cases(world)[command]
    actor = world.moderator if case.actor == "moderator" else world.alice
    options = string_options(bot, command)
    assert options, f"{command} has no string option to sweep"
    swept = 0
    # The database as the last check read it: a refusal leaves it so, and the next value starts there.
    unchanged: dict[str, list[tuple[Any, ...]]] | None = None
    for option, max_length in options.items():
        for kind, value in HOSTILE.items():
            before = unchanged if unchanged is not None else await fingerprint(bot)
            unchanged = None
            try:
                result = await actor.slash(world.channel, command, **{**case.options, option: value})
            except OptionError:
                assert len(value) > max_length, f"{command} {option}={kind}: refused by Discord's client"
                unchanged = await fingerprint(bot)
                assert unchanged == before
                continue
            swept += 1
            where = f"/{command} {option}:<{kind}>"
            assert result.response is not None or result.followups, f"{where}: no answer"
            texts = every_text_shown(result)
            assert all(len(text) <= 4096 for text in texts), where
            assert simcord_env.errors == [], where
            refused = result.response is not None and result.response.ephemeral
            if not refused:
                for text in texts:
                    assert not any(danger in text for danger in RAW_DANGERS), f"{where}: {text[:200]}"
            if (command, option) not in FREE_TEXT or kind in {"long", "invisible", "control"}:
                assert refused, f"{where} was accepted: {texts[:1]}"
                unchanged = await fingerprint(bot)
                assert unchanged == before, f"{where} changed the database"
    assert swept >= len(options)
    SWEPT[command] = swept
