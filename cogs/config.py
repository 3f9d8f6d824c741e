"""`/config ...`: server settings, for members with Manage Server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cohorts.settings import GuildConfigService
from bot.privacy.service import PURGE_GRACE
from bot.replies import reply
from cogs._checks import manage_guild_only

if TYPE_CHECKING:
    from bot.app import WaypointBot


class ConfigCog(commands.Cog):
    def __init__(self, guild_config: GuildConfigService) -> None:
        self._guild_config = guild_config

    config = app_commands.Group(
        name="config",
        description="Server settings for Waypoint",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @config.command(
        name="moderator-role", description="A role that counts as moderator besides Manage Server"
    )
    @app_commands.describe(role="Members with this role can run moderator commands")
    @manage_guild_only
    async def moderator_role(self, interaction: discord.Interaction[Any], role: discord.Role) -> None:
        assert interaction.guild_id is not None
        if role.is_default():
            await reply(
                interaction,
                "@everyone can't be the moderator role: that would make every member a moderator.",
            )
            return
        await self._guild_config.set_moderator_role(interaction.guild_id, role.id)
        await reply(
            interaction,
            f"Members with {role.mention} can now run moderator commands.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @config.command(name="on-leave", description="Keep or delete a member's data when they leave the server")
    @app_commands.describe(
        policy=f"keep: nothing changes; purge: their data is deleted {PURGE_GRACE.days} days after they leave"
    )
    @manage_guild_only
    async def on_leave(self, interaction: discord.Interaction[Any], policy: Literal["keep", "purge"]) -> None:
        assert interaction.guild_id is not None
        await self._guild_config.set_on_leave_policy(interaction.guild_id, policy)
        if policy == "purge":
            message = (
                f"Members who leave the server will have their Waypoint data deleted {PURGE_GRACE.days} days"
                " later, unless they come back first. This includes members who already left."
            )
        else:
            message = "Members who leave the server keep their Waypoint data, in case they come back."
        await reply(interaction, message)


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(ConfigCog(bot.services.guild_config))
