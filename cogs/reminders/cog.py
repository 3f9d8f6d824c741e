"""``/remind settings`` and the reminder DMs: the hourly sweep, the weekly DMs after each prompt,
and the one-time notice to a member whose closed DMs switched their reminders off.

The sweep (``reminders``, hourly, and once at start-up) sends review and streak DMs that are due
and weekly DMs of a fresh prompt a restart left unsent; the ``waypoint_prompt_posted`` event sends
the weekly DMs at once. Each DM is claimed in the database first, so it goes out once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.pacing import PostPacer
from bot.reminders.service import ReminderService
from bot.reminders.views import OutgoingReminder
from bot.replies import post, reply
from cogs._checks import answered
from cogs.reminders import render

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "reminders"
SWEEP_INTERVAL = timedelta(hours=1)
DMS_CLOSED = 50007


class RemindCog(commands.Cog):
    def __init__(self, bot: WaypointBot, reminders: ReminderService) -> None:
        self._bot = bot
        self._reminders = reminders
        # DMs take their turn like posts do; replaceable in tests.
        self.pacer = PostPacer()
        # (guild, member) owed the closed-DMs notice: kept in memory so other commands stay fast.
        self._notices: set[tuple[int, int]] = set()

    remind = app_commands.Group(name="remind", description="Reminders by direct message", guild_only=True)

    async def cog_load(self) -> None:
        self._notices = await self._reminders.pending_notices()
        self._bot.scheduling.every(SWEEP_JOB_ID, SWEEP_INTERVAL, self.sweep, name="reminder DMs")
        self._bot.scheduling.on_start("reminder DMs due while down", self.sweep)

    async def cog_unload(self) -> None:
        self._bot.scheduling.remove(SWEEP_JOB_ID)

    @remind.command(
        name="settings", description="Your reminders by direct message here (no option: show them)"
    )
    @app_commands.describe(
        review="A DM 48 hours before your review is due, if you haven't recorded it",
        streak="A DM when your weekly streak would break within 48 hours",
        weekly="A DM after the weekly prompt: the week's focus and your next checkpoints",
    )
    @answered
    async def settings(
        self,
        interaction: discord.Interaction[Any],
        review: bool | None = None,
        streak: bool | None = None,
        weekly: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        view = await self._reminders.settings(
            interaction.guild_id, interaction.user.id, review=review, streak=streak, weekly=weekly
        )
        self._notices.discard((interaction.guild_id, interaction.user.id))
        await reply(interaction, render.settings_message(view))

    # --- the closed-DMs notice, on the member's next command -------------------------------------

    @commands.Cog.listener("on_app_command_completion")
    async def tell_dms_closed(self, interaction: discord.Interaction[Any], _command: Any) -> None:
        key = (interaction.guild_id or 0, interaction.user.id)
        if key not in self._notices:
            return
        self._notices.discard(key)
        when = await self._reminders.take_notice(*key)
        if when is None:
            return
        try:
            await reply(interaction, render.dms_closed_notice(when))
        except discord.HTTPException:
            log.warning("guild=%s user=%s: could not tell about closed DMs", *key, exc_info=True)

    # --- sending -----------------------------------------------------------------------------------

    def _present(self, guild_id: int, user_id: int) -> bool:
        """In the server by the member cache; before the cache is complete, the send looks them up."""
        guild = self._bot.get_guild(guild_id)
        if guild is None:
            return False
        member = guild.get_member(user_id)
        return not member.bot if member is not None else not guild.chunked

    async def _member(self, reminder: OutgoingReminder) -> discord.Member | None:
        guild = self._bot.get_guild(reminder.guild_id)
        if guild is None:
            return None
        member = guild.get_member(reminder.user_id)
        if member is not None or guild.chunked:
            return member
        try:
            return await guild.fetch_member(reminder.user_id)
        except discord.HTTPException:  # 404: they left the server
            return None

    async def sweep(self) -> None:
        """Review and streak DMs that are due, and weekly DMs a restart left unsent."""
        owns = self._bot.scheduling.owns
        due = await self._reminders.claim_due(self._present, owns)
        due += await self._reminders.claim_recent_weekly(self._present, owns)
        await self.send_all(due)

    @commands.Cog.listener("on_waypoint_prompt_posted")
    async def on_prompt_posted(self, cohort_id: int, week: int, message_url: str | None = None) -> None:
        try:
            due = await self._reminders.claim_weekly(cohort_id, week, self._present, message_url)
            await self.send_all(due)
        except Exception:  # an event handler: log, the hourly sweep tries again
            log.exception("weekly reminders failed for cohort=%s week=%s", cohort_id, week)

    async def send_all(self, reminders: list[OutgoingReminder]) -> None:
        for reminder in reminders:
            try:
                await self._send(reminder)
            except Exception:  # one member's trouble never stops the others
                log.exception("reminder %s to user=%s failed", reminder.kind, reminder.user_id)

    async def _send(self, reminder: OutgoingReminder) -> None:
        member = await self._member(reminder)
        if member is None or member.bot:
            await self._reminders.mark_failed(reminder)
            return
        await self.pacer.wait()
        try:
            await post(
                member, render.reminder_text(reminder), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:
            if isinstance(error, discord.Forbidden) and error.code == DMS_CLOSED:
                await self._reminders.dms_closed(reminder)
                self._notices.add((reminder.guild_id, reminder.user_id))
                return
            log.warning(
                "guild=%s user=%s: reminder DM failed: %s", reminder.guild_id, reminder.user_id, error
            )
            await self._reminders.mark_failed(reminder)
            return
        await self._reminders.mark_sent(reminder)
        log.info(
            "guild=%s user=%s sent %s reminder (cohort=%s, %s)",
            reminder.guild_id,
            reminder.user_id,
            reminder.kind,
            reminder.cohort_id,
            reminder.period,
        )
