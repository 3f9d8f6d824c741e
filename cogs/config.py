"""`/config ...`: server settings, for members with Manage Server (milestone roles: moderators)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.cohorts.settings import GuildConfigService
from bot.kernel.errors import PermissionDeniedError
from bot.milestones.rules import MAX_PHASE_OPTION
from bot.milestones.service import MilestoneService
from bot.privacy.service import PURGE_GRACE
from bot.replies import reply
from cogs import _autocomplete, _milestones
from cogs._checks import manage_guild_only, moderator_only
from cogs._ui import KEY_OPTION_MAX, paged_embeds, send_pages

if TYPE_CHECKING:
    from bot.app import WaypointBot


class ConfigCog(commands.Cog):
    def __init__(self, guild_config: GuildConfigService, milestones: MilestoneService) -> None:
        self._guild_config = guild_config
        self._milestones = milestones

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

    @config.command(
        name="milestone-role", description="Give a role to members who finish a phase of a roadmap"
    )
    @app_commands.describe(
        roadmap="The roadmap (start typing to search)",
        phase="The phase's number in the roadmap, 1 for the first",
        role="The role members get when they have done every checkpoint of the phase",
    )
    @app_commands.autocomplete(roadmap=_autocomplete.roadmap_keys)
    @app_commands.autocomplete(phase=_autocomplete.phase_numbers)
    @moderator_only
    async def milestone_role(
        self,
        interaction: discord.Interaction[Any],
        roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX],
        phase: app_commands.Range[int, 1, MAX_PHASE_OPTION],
        role: discord.Role,
    ) -> None:
        assert interaction.guild is not None
        assert isinstance(interaction.user, discord.Member)
        # A wrong roadmap or phase is refused first.
        self._milestones.phase(interaction.guild.id, roadmap, phase)
        refusal = _milestones.configuration_refusal(
            role,
            interaction.guild.me,
            interaction.user,
            await self._guild_config.moderator_role(interaction.guild.id),
        )
        if refusal is not None:
            raise PermissionDeniedError(refusal)
        result = await self._milestones.configure(
            interaction.guild.id, interaction.user.id, roadmap, phase, role.id
        )
        message = _milestones.configured_message(result)
        actions, remaining = await self._milestones.claim_waiting(interaction.guild.id, result.phase)
        if actions:  # members refused earlier get the role now that it can be given
            await interaction.response.defer(ephemeral=True, thinking=True)
            guild = interaction.guild
            outcomes = [
                await _milestones.apply(guild, guild.get_member(action.user_id), action, self._milestones)
                for action in actions
            ]
            message += " " + _milestones.retried_message(outcomes, remaining)
        await reply(interaction, message, allowed_mentions=discord.AllowedMentions.none())

    @config.command(name="milestone-role-clear", description="Stop giving a phase's milestone role")
    @app_commands.describe(
        roadmap="The roadmap (start typing to search)",
        phase="The phase's number in the roadmap, 1 for the first",
    )
    @app_commands.autocomplete(roadmap=_autocomplete.roadmap_keys)
    @app_commands.autocomplete(phase=_autocomplete.phase_numbers)
    @moderator_only
    async def milestone_role_clear(
        self,
        interaction: discord.Interaction[Any],
        roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX],
        phase: app_commands.Range[int, 1, MAX_PHASE_OPTION],
    ) -> None:
        assert interaction.guild_id is not None
        result = await self._milestones.clear(interaction.guild_id, interaction.user.id, roadmap, phase)
        await reply(
            interaction, _milestones.cleared_message(result), allowed_mentions=discord.AllowedMentions.none()
        )

    @config.command(name="milestone-roles", description="The milestone roles, and any I can't give and why")
    @moderator_only
    async def milestone_roles(self, interaction: discord.Interaction[Any]) -> None:
        guild = interaction.guild
        assert guild is not None
        views = await self._milestones.overview(guild.id)
        if not views:
            await reply(interaction, "No milestone roles yet. Set one with `/config milestone-role`.")
            return
        problems = {
            view.role_id: _milestones.role_problem(guild.get_role(view.role_id), guild.me)
            for view in views
            if view.role_id is not None
        }
        lines = _milestones.overview_lines(views, problems)
        await send_pages(interaction, paged_embeds("Milestone roles", lines), ephemeral=True)


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(ConfigCog(bot.services.guild_config, bot.services.milestones))
