"""``waypoint demo``: a scripted session against SimCord's simulated Discord, printed as text.

No token and no network: the real bot runs unmodified over a throwaway SQLite file, so a newcomer
can watch what members and moderators see.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.app import create_bot
from bot.config import Settings

_DISCORD_TIMESTAMP = re.compile(r"<t:(\d+)(?::[a-zA-Z])?>")


def readable(text: str) -> str:
    """Show Discord timestamps the way a reader in UTC would see them."""
    return _DISCORD_TIMESTAMP.sub(
        lambda match: datetime.fromtimestamp(int(match.group(1)), UTC).strftime("%a %d %b %Y %H:%M UTC"), text
    )


async def render(who: str, command: str, result: Any) -> str:
    """What a user sees for one command, as plain text (files: name, size and a first look)."""
    lines = [f"\n▶ {who} runs {command}"]
    message = result.response
    if message is None:
        lines.append("  (no reply)")
        return "\n".join(lines)
    visibility = "only they see this" if message.ephemeral else "everyone in the channel sees this"
    lines.append(f"  [{visibility}]")
    if message.content:
        lines += [f"  {line}" for line in message.content.splitlines()]
    for embed in message.embeds:
        lines += render_embed(embed)
    for attachment in message.attachments:
        lines += await render_file(attachment)
    return readable("\n".join(lines))


async def render_file(attachment: Any) -> list[str]:
    data: bytes = await attachment.read()
    lines = [f"  📎 {attachment.filename} ({len(data):,} bytes)"]
    if attachment.filename.endswith((".csv", ".json")):
        text = data.decode("utf-8-sig", errors="replace")
        lines += [f"  │ {line[:100]}" for line in text.splitlines()[:4]]
    return lines


def render_embed(embed: discord.Embed) -> list[str]:
    lines = ["  ┌─────────────────────────────────────────"]
    if embed.title:
        lines.append(f"  │ **{embed.title}**")
    if embed.description:
        lines += [f"  │ {line}" for line in embed.description.splitlines()]
    for field in embed.fields:
        lines.append(f"  │ — {field.name}")
        lines += [f"  │   {line}" for line in str(field.value).splitlines()]
    if embed.footer and embed.footer.text:
        lines.append(f"  │ ({embed.footer.text})")
    lines.append("  └─────────────────────────────────────────")
    return [readable(line) for line in lines]


Step = tuple[Any, str, str, dict[str, Any]]


def _script(env: Any, channel: Any, mia: Any, ana: Any, ben: Any) -> list[Step]:
    """Who runs which command with which options, in order: every feature once."""
    mod = "mia (moderator)"
    spring = {"cohort": "Spring Python"}
    return [
        (ana, "ana", "roadmap list", {}),
        (ana, "ana", "roadmap show", {"roadmap": "python-europe", "phase": 1}),
        (
            mia,
            mod,
            "cohort create",
            {
                "name": "Spring Python",
                "roadmap": "python-europe",
                "channel": channel,
                "start": env.now().date().isoformat(),
                "timezone": "Europe/Berlin",
                "weekday": "mon",
                "time": "18:00",
            },
        ),
        (ana, "ana", "cohort join", spring),
        (ben, "ben", "cohort join", spring),
        (ben, "ben", "cohort create", {"name": "Mine", "roadmap": "nodejs-path", "channel": channel}),
        (
            ana,
            "ana",
            "checkpoint done",
            {"checkpoint": "python-oop-async", "evidence": "https://github.com/ana/async-notes"},
        ),
        (ana, "ana", "checkpoint done", {"checkpoint": "crud-api", "evidence": "not a link"}),
        (ana, "ana", "checkpoint done", {"checkpoint": "crud-apii"}),
        (ana, "ana", "progress", {}),
        (ben, "ben", "cohort info", spring),
        # Weekly prompts: a moderator posts this week's prompt without waiting for Monday.
        (mia, mod, "prompts post-now", spring),
        # Peer review: two members opt in, the moderator pairs them, one records a review.
        (ana, "ana", "review join", {**spring, "languages": "python, sql"}),
        (ben, "ben", "review join", spring),
        (mia, mod, "review pair", spring),
        (ana, "ana", "review status", {}),
        (ana, "ana", "review done", {"partner": ben, "link": "https://github.com/ben/api/pull/2"}),
        (ben, "ben", "review history", {}),
        # Moderators: exports and the weekly chart.
        (mia, mod, "export progress", {**spring, "format": "csv"}),
        (mia, mod, "stats", spring),
        # Members' data: see it, then erase it (the erasure asks for a confirmation first).
        (ben, "ben", "privacy my-data", {}),
        (ben, "ben", "privacy forget-me", {}),
    ]


def write_channel_post(write: Any, channel: Any, what: str) -> None:
    post = channel.last_message
    if post is not None and post.embeds and post.interaction_metadata is None:
        write(f"\n▶ #{channel.name} now shows {what} (posted by the bot itself)")
        for embed in post.embeds:
            write("\n".join(render_embed(embed)))


def _with_names(write: Any, names: dict[str, str]) -> Any:
    """Show mentions as a reader's client would: names instead of ids."""
    pattern = re.compile("|".join(re.escape(mention) for mention in names))

    def named(text: str) -> None:
        thread = re.sub(
            r"<#\d+>", "the pair's thread", pattern.sub(lambda match: names[match.group(0)], text)
        )
        write(thread)

    return named


async def run_demo(out: Any = None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            discord_token="demo",
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'demo.sqlite3'}",
            _env_file=None,
        )
        bot = create_bot(settings)
        async with simcord.run(bot) as env:
            guild = env.create_guild("Backend Study Hall")
            channel = guild.create_text_channel("python-cohort")
            mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
            mia = guild.add_member(env.create_user("mia_mod"), roles=[mods])
            ana = guild.add_member(env.create_user("ana"))
            ben = guild.add_member(env.create_user("ben"))
            script = _script(env, channel, mia, ana, ben)
            names = {f"<@{member.id}>": f"@{member.name}" for member in (mia, ana, ben)}
            names[f"<#{channel.id}>"] = f"#{channel.name}"
            write = _with_names(out or print, names)
            write("Waypoint demo: a simulated server, the real bot, no token.")
            for actor, who, command, options in script:
                result = await actor.slash(channel, command, **options)
                shown = ", ".join(
                    f"{key}:{value.name if hasattr(value, 'name') else value}"
                    for key, value in options.items()
                )
                write(await render(who, f"/{command} {shown}".rstrip(), result))
                if command == "prompts post-now":
                    write_channel_post(write, channel, "the weekly prompt")
                if command == "privacy forget-me" and result.response is not None:
                    await actor.click(result.response, label="Delete my data")
                    write(f"\n▶ {who} presses “Delete my data”")
                    write(f"  {result.response.content}")
        await bot.close()
    return 0
