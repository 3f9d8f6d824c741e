"""A small server to act in: a moderator, two members, a study channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import simcord


@dataclass
class World:
    env: simcord.Env
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    moderator: simcord.MemberActor
    alice: simcord.MemberActor
    bob: simcord.MemberActor

    async def create_cohort(
        self, name: str = "Spring", roadmap: str = "python-europe", **options: Any
    ) -> Any:
        options.setdefault("start", "2026-01-01")
        options.setdefault("timezone", "Europe/Berlin")
        result = await self.moderator.slash(
            self.channel, "cohort create", name=name, roadmap=roadmap, channel=self.channel, **options
        )
        assert result.response is not None, result
        return result


def build_world(env: simcord.Env, guild_name: str = "Study Hall") -> World:
    guild = env.create_guild(guild_name)
    channel = guild.create_text_channel("study")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    moderator = guild.add_member(env.create_user(f"mod-{guild_name}"), roles=[mods])
    alice = guild.add_member(env.create_user(f"alice-{guild_name}"))
    bob = guild.add_member(env.create_user(f"bob-{guild_name}"))
    return World(env, guild, channel, moderator, alice, bob)


def text_of(result: Any) -> str:
    """Everything a user reads in a reply: content plus embed text."""
    message = result.response
    assert message is not None, "the bot did not respond"
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{field.name}\n{field.value}" for field in embed.fields]
        if embed.footer and embed.footer.text:
            parts.append(embed.footer.text)
    return "\n".join(parts)
