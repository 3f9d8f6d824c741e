"""``/prompts ...``: preview, post by hand, pause, resume, custom text and the schedule.

One weekly job per cohort (``prompt:<cohort id>``) runs ``PromptDelivery.fire`` at the cohort's
local slot through the bot's scheduling facility; the database decides what is due and guards
each (cohort, week), so repeated fires, a second process or a restart never post a week twice.
After the first ``on_ready``, the facility runs the start-up catch-up once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.pacing import PostPacer
from bot.prompts.service import PromptService
from bot.prompts.views import PostedBefore
from bot.replies import edit_reply, reply
from bot.scheduling import PROMPT_JOB_PREFIX
from cogs import _autocomplete
from cogs._checks import answered, moderator_only
from cogs.prompts import render
from cogs.prompts.delivery import Delivery, PromptDelivery

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

# What Discord lets a moderator type: up to these lengths the bot answers (a cohort name is at
# most 50 characters, so a longer one gets the bot's own refusal); weeks start at 1.
CohortName = app_commands.Range[str, 1, 100]
Week = app_commands.Range[int, 1]
NO_PINGS = discord.AllowedMentions.none()


class PromptsCog(commands.Cog):
    def __init__(self, bot: WaypointBot, prompts: PromptService, delivery: PromptDelivery) -> None:
        self._bot = bot
        self._prompts = prompts
        self._delivery = delivery

    prompts = app_commands.Group(name="prompts", description="Weekly study prompts", guild_only=True)

    # The delivery's pacing and back-off can be swapped at run time (tests never really wait).
    @property
    def pacer(self) -> PostPacer:
        return self._delivery.pacer

    @pacer.setter
    def pacer(self, pacer: PostPacer) -> None:
        self._delivery.pacer = pacer

    @property
    def sleep(self) -> Callable[[float], Awaitable[Any]]:
        return self._delivery.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], Awaitable[Any]]) -> None:
        self._delivery.sleep = sleep

    # --- jobs ----------------------------------------------------------------------------------

    async def cog_load(self) -> None:
        cohort_slots = await self._prompts.job_slots(owns=self._bot.scheduling.owns)
        for cohort_id, slot in cohort_slots:
            self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, cohort_id, slot, self._delivery.fire)
        self._bot.scheduling.on_start("prompts", self._delivery.catch_up)
        log.info("scheduled weekly prompts for %s", render.count(len(cohort_slots), "cohort"))

    async def cog_unload(self) -> None:
        self._bot.scheduling.remove(PROMPT_JOB_PREFIX)

    @commands.Cog.listener("on_waypoint_cohort_created")
    async def on_cohort_created(self, cohort_id: int) -> None:
        for found_id, slot in await self._prompts.job_slots([cohort_id]):
            self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, found_id, slot, self._delivery.fire)

    # --- commands ------------------------------------------------------------------------------

    @prompts.command(name="preview", description="See exactly what a week's prompt will say, and when")
    @app_commands.describe(cohort="The cohort", week="Which week (default: the next one to be posted)")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def preview(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortName,
        week: Week | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        preview = await self._prompts.preview(interaction.guild_id, cohort, week)
        await reply(
            interaction,
            render.preview_text(preview),
            embed=render.prompt_embed(preview.content),
            allowed_mentions=NO_PINGS,
        )

    @prompts.command(name="post-now", description="Post this week's prompt right away (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def post_now(self, interaction: discord.Interaction[Any], cohort: CohortName) -> None:
        assert interaction.guild_id is not None
        claimed = await self._prompts.claim_current(interaction.guild_id, cohort)
        if isinstance(claimed, PostedBefore):
            await reply(interaction, render.posted_before_text(claimed), allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            delivery = await self._delivery.deliver(claimed)
        except Exception:
            log.exception("post-now failed guild=%s cohort=%s", claimed.guild_id, claimed.cohort_id)
            delivery = Delivery("failed", reason=render.OUR_SIDE)
        await edit_reply(interaction, render.post_now_text(claimed, delivery), allowed_mentions=NO_PINGS)

    @prompts.command(name="pause", description="Stop posting weekly prompts for a cohort (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def pause(self, interaction: discord.Interaction[Any], cohort: CohortName) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.pause(interaction.guild_id, cohort)
        # Public when it changed something, and it pings nobody whatever the cohort is called.
        await reply(
            interaction, render.pause_text(change), ephemeral=not change.changed, allowed_mentions=NO_PINGS
        )

    @prompts.command(name="resume", description="Start posting weekly prompts again (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def resume(self, interaction: discord.Interaction[Any], cohort: CohortName) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.resume(interaction.guild_id, cohort)
        await reply(
            interaction, render.resume_text(change), ephemeral=not change.changed, allowed_mentions=NO_PINGS
        )

    @prompts.command(name="add", description="Use your own text as one week's prompt (moderators)")
    @app_commands.describe(
        cohort="The cohort",
        week="The week it replaces (1 = the first week)",
        text="The prompt text, up to 1500 characters",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def add(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortName,
        week: Week,
        text: app_commands.Range[str, 1, 2000],
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.add_custom(interaction.guild_id, cohort, week, text, interaction.user.id)
        await reply(interaction, render.custom_prompt_text(change), allowed_mentions=NO_PINGS)

    @prompts.command(
        name="schedule", description="Change a cohort's prompt slot, channel or mentioned role (moderators)"
    )
    @app_commands.describe(
        cohort="The cohort",
        weekday="New weekday (mon..sun)",
        time="New local time, HH:MM on a 24-hour clock",
        timezone="New IANA timezone, e.g. Europe/Berlin",
        channel="New channel for the prompts",
        role="A role to mention in each prompt (never @everyone)",
    )
    @app_commands.autocomplete(
        cohort=_autocomplete.cohort_names, weekday=_autocomplete.weekdays, timezone=_autocomplete.timezones
    )
    @moderator_only
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortName,
        weekday: app_commands.Range[str, 1, 50] | None = None,
        time: app_commands.Range[str, 1, 50] | None = None,
        timezone: app_commands.Range[str, 1, 100] | None = None,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
    ) -> None:
        assert interaction.guild is not None
        refusal = _schedule_refusal(interaction.guild, channel, role)
        if refusal is not None:
            await reply(interaction, refusal)
            return
        change = await self._prompts.change_schedule(
            interaction.guild.id,
            cohort,
            weekday=weekday,
            at=time,
            timezone=timezone,
            channel_id=channel.id if channel else None,
            role_id=role.id if role else None,
        )
        # The database changed first; now the job follows, so the next run moves at once.
        self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, change.cohort_id, change.slot, self._delivery.fire)
        self._bot.dispatch("waypoint_cohort_schedule_changed", change.cohort_id)
        await reply(interaction, render.schedule_text(change), ephemeral=False, allowed_mentions=NO_PINGS)


def _schedule_refusal(
    guild: discord.Guild, channel: discord.TextChannel | None, role: discord.Role | None
) -> str | None:
    """Why ``/prompts schedule`` can't use the role or channel given, or None when both are fine."""
    if role is not None and role.is_default():
        return render.NEVER_EVERYONE
    if channel is not None:
        permissions = channel.permissions_for(guild.me)
        if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
            return render.cannot_post_in(channel.mention)
    return None
