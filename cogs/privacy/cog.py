"""The `/privacy` cog: members see everything Waypoint holds about them here, or have it erased.

Also the server's on-leave policy (``/config on-leave``): departures are recorded by the
``on_member_remove`` listener, cancelled by ``on_member_join``, and the hourly ``privacy-purge``
job erases members who left a ``purge`` server more than seven days ago.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.exports.formats import ExportFormat, export_filename, fit_to_limit
from bot.momentum.service import MomentumService
from bot.privacy.service import PURGE_GRACE, PrivacyService
from bot.replies import reply
from cogs._checks import answered
from cogs._confirm import ConfirmView
from cogs._ui import ERROR_COLOUR
from cogs.leaderboard.render import visibility_text
from cogs.privacy.render import (
    FORGET_ME_WARNING,
    TIMED_OUT,
    TOO_LARGE,
    erasure_message,
    my_data_message,
)

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

PURGE_JOB_ID: Final = "privacy-purge"
PURGE_INTERVAL_HOURS: Final = 1


class PrivacyCog(commands.Cog):
    def __init__(self, bot: WaypointBot, privacy: PrivacyService, momentum: MomentumService) -> None:
        self._bot = bot
        self._privacy = privacy
        self._momentum = momentum

    privacy = app_commands.Group(
        name="privacy", description="See or delete what Waypoint stores about you", guild_only=True
    )

    async def cog_load(self) -> None:
        self._bot.scheduling.every(
            PURGE_JOB_ID,
            timedelta(hours=PURGE_INTERVAL_HOURS),
            self.run_purge,
            name="purge members who left servers with the purge policy",
        )

    async def cog_unload(self) -> None:
        self._bot.scheduling.cancel(PURGE_JOB_ID)

    @privacy.command(
        name="my-data", description="Download everything Waypoint stores about you on this server"
    )
    @answered
    async def my_data(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        data = await self._privacy.my_data(interaction.guild.id, interaction.user.id)
        filename = export_filename(
            interaction.guild.name, None, "my-data", self._bot.clock().date(), ExportFormat.JSON
        )
        fitted = fit_to_limit(filename, data.payload, interaction.filesize_limit)
        if fitted is None:
            await reply(interaction, TOO_LARGE)
            return
        server = discord.utils.escape_markdown(interaction.guild.name)
        await reply(
            interaction,
            my_data_message(server, data.section_sizes),
            file=discord.File(io.BytesIO(fitted[1]), filename=fitted[0]),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @privacy.command(
        name="forget-me", description="Delete everything Waypoint stores about you on this server"
    )
    @answered
    async def forget_me(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        guild_id, user_id = interaction.guild.id, interaction.user.id

        async def erase(_pressed: discord.Interaction[Any]) -> str:
            return erasure_message((await self._privacy.forget_me(guild_id, user_id)).counts)

        view = ConfirmView(
            user_id,
            erase,
            not_owner="Only the member who asked can confirm their own erasure.",
            cancelled="Cancelled: nothing was deleted.",
            timed_out=TIMED_OUT,
            confirm_label="Delete my data",
            confirm_style=discord.ButtonStyle.danger,
        )
        embed = discord.Embed(
            title="Delete your Waypoint data?",
            description=FORGET_ME_WARNING.format(guild=discord.utils.escape_markdown(interaction.guild.name)),
            colour=ERROR_COLOUR,
        )
        await reply(interaction, embed=embed, view=view)
        view.message = await interaction.original_response()

    @privacy.command(
        name="leaderboard", description="Show or hide yourself on leaderboards and streak highlights"
    )
    @app_commands.describe(choice="show (the default) or hide")
    @answered
    async def leaderboard(
        self, interaction: discord.Interaction[Any], choice: Literal["show", "hide"]
    ) -> None:
        assert interaction.guild is not None
        change = await self._momentum.set_visibility(
            interaction.guild.id, interaction.user.id, choice == "hide"
        )
        await reply(interaction, visibility_text(change))

    @commands.Cog.listener("on_member_remove")
    async def record_departure(self, member: discord.Member) -> None:
        if member.bot:
            return
        if await self._privacy.record_departure(member.guild.id, member.id, self._bot.clock()):
            log.info("guild=%s user=%s left; departure recorded", member.guild.id, member.id)

    @commands.Cog.listener("on_member_join")
    async def cancel_departure(self, member: discord.Member) -> None:
        if member.bot:
            return
        if await self._privacy.cancel_departure(member.guild.id, member.id):
            log.info("guild=%s user=%s came back; their data is kept", member.guild.id, member.id)

    async def run_purge(self) -> None:
        """The hourly job: erase members whose grace period in a ``purge`` server is over."""
        try:
            await self._privacy.purge_due(
                self._bot.clock(),
                PURGE_GRACE,
                still_member=self._still_member,
                owns=self._bot.scheduling.owns,
            )
        except Exception:  # the scheduler must keep running; the next hour tries again
            log.exception("the privacy purge failed")

    def _still_member(self, guild_id: int, user_id: int) -> bool:
        guild = self._bot.get_guild(guild_id)
        return guild is not None and guild.get_member(user_id) is not None
