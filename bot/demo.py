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


def render(who: str, command: str, result: Any) -> str:
    """What a user sees for one command, as plain text."""
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
    return readable("\n".join(lines))


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


def _script(
    env: Any, channel: Any, mia: Any, ana: Any, ben: Any
) -> list[tuple[Any, str, str, dict[str, Any]]]:
    """Who runs which command with which options, in order."""
    return [
        (ana, "ana", "roadmap list", {}),
        (ana, "ana", "roadmap show", {"roadmap": "python-europe", "phase": 1}),
        (
            mia,
            "mia (moderator)",
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
        (ana, "ana", "cohort join", {"cohort": "Spring Python"}),
        (ben, "ben", "cohort join", {"cohort": "Spring Python"}),
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
        (ben, "ben", "cohort info", {"cohort": "Spring Python"}),
        # Weekly prompts: a moderator posts this week's prompt without waiting for Monday.
        (mia, "mia (moderator)", "prompts post-now", {"cohort": "Spring Python"}),
    ]


async def run_demo(out: Any = None) -> int:
    write = out or print
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
            write("Waypoint demo: a simulated server, the real bot, no token.")
            for actor, who, command, options in script:
                result = await actor.slash(channel, command, **options)
                shown = ", ".join(
                    f"{key}:{value.name if hasattr(value, 'name') else value}"
                    for key, value in options.items()
                )
                write(render(who, f"/{command} {shown}".rstrip(), result))
            prompt = channel.last_message
            if prompt is not None and prompt.embeds and prompt.interaction_metadata is None:
                write(f"\n▶ #{channel.name} now shows the weekly prompt (posted by the bot itself)")
                for embed in prompt.embeds:
                    write("\n".join(render_embed(embed)))
        await bot.close()
    return 0
