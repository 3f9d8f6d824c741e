"""`/cohort ...`: open a cohort, join or leave it, and see where it stands."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cohorts.service import CohortService, CohortSummary
from bot.kernel.errors import PermissionDeniedError
from bot.kernel.roadmap import describe_duration
from bot.milestones.service import MilestoneService
from bot.reminders.service import ReminderService
from bot.replies import reply
from cogs import _autocomplete, _milestones
from cogs._checks import answered, moderator_only
from cogs._ui import (
    BRAND_COLOUR,
    KEY_OPTION_MAX,
    NAME_OPTION_MAX,
    SHORT_OPTION_MAX,
    shown,
    timestamp,
)
from cogs.reminders import render as reminders_render

if TYPE_CHECKING:
    from bot.app import WaypointBot


def where_line(summary: CohortSummary) -> str:
    position = summary.position
    if not position.started:
        return f"Starts {timestamp_date(summary)}"
    if position.finished:
        return f"Finished the roadmap ({describe_duration(summary.roadmap.duration_days)})"
    phase = summary.phase
    assert phase is not None
    number = summary.roadmap.phase_number(phase)
    return f"Week {position.week} of {summary.roadmap.duration_weeks} · phase {number}: {phase.title}"


def timestamp_date(summary: CohortSummary) -> str:
    return summary.start_date.isoformat()


def cohort_embed(summary: CohortSummary, *, title: str | None = None) -> discord.Embed:
    embed = discord.Embed(title=title or shown(summary.name), colour=BRAND_COLOUR)
    embed.add_field(name="Roadmap", value=f"{summary.roadmap.title} (`{summary.roadmap.key}`)", inline=False)
    embed.add_field(name="Where we are", value=where_line(summary), inline=False)
    embed.add_field(
        name="Started" if summary.position.started else "Starts", value=summary.start_date.isoformat()
    )
    embed.add_field(name="Members", value=str(summary.member_count))
    embed.add_field(name="Channel", value=f"<#{summary.channel_id}>")
    slot_value = f"{summary.slot.describe()}\nnext: {timestamp(summary.next_slot)}"
    if summary.prompts_paused:
        slot_value += "\n*prompts are paused*"
    embed.add_field(name="Weekly slot", value=slot_value, inline=False)
    if summary.attention_reason:
        embed.add_field(name="⚠️ Needs attention", value=summary.attention_reason[:1024], inline=False)
    return embed


class CohortCog(commands.Cog):
    def __init__(
        self, cohorts: CohortService, reminders: ReminderService, milestones: MilestoneService
    ) -> None:
        self._cohorts = cohorts
        self._reminders = reminders
        self._milestones = milestones

    cohort = app_commands.Group(name="cohort", description="Study cohorts on this server", guild_only=True)

    @cohort.command(name="create", description="Open a cohort that follows a roadmap (moderators)")
    @app_commands.describe(
        name="A name members will type, e.g. 'Spring 2026'",
        roadmap="The roadmap the cohort follows",
        channel="Where weekly prompts are posted",
        start="First day, YYYY-MM-DD (default: today)",
        timezone="IANA timezone for the weekly slot, e.g. Europe/Berlin",
        weekday="Weekday of the weekly prompt (default: mon)",
        time="Local time of the weekly prompt, HH:MM (default: 18:00)",
    )
    @app_commands.autocomplete(
        roadmap=_autocomplete.roadmap_keys, timezone=_autocomplete.timezones, weekday=_autocomplete.weekdays
    )
    @moderator_only
    async def create(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, NAME_OPTION_MAX],
        roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX],
        channel: discord.TextChannel,
        start: app_commands.Range[str, 1, SHORT_OPTION_MAX] | None = None,
        timezone: app_commands.Range[str, 1, KEY_OPTION_MAX] | None = None,
        weekday: app_commands.Range[str, 1, SHORT_OPTION_MAX] | None = None,
        time: app_commands.Range[str, 1, SHORT_OPTION_MAX] | None = None,
    ) -> None:
        assert interaction.guild is not None
        permissions = channel.permissions_for(interaction.guild.me)
        if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
            raise PermissionDeniedError(
                f"I can't post in {channel.mention}: give me View Channel, Send Messages"
                " and Embed Links there."
            )
        summary = await self._cohorts.create(
            guild_id=interaction.guild.id,
            actor_id=interaction.user.id,
            name=name,
            roadmap_key=roadmap,
            channel_id=channel.id,
            start=start,
            timezone=timezone,
            weekday=weekday,
            at=time,
        )
        # Other features (weekly prompts, review rounds) schedule their jobs on this event.
        interaction.client.dispatch("waypoint_cohort_created", summary.id)
        embed = cohort_embed(summary, title=f"New cohort: {shown(summary.name)}")
        embed.set_footer(text=f"Join with /cohort join cohort:{summary.name}")
        await reply(interaction, embed=embed, ephemeral=False)

    @cohort.command(name="join", description="Join a cohort")
    @app_commands.describe(cohort="The cohort to join")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def join(
        self, interaction: discord.Interaction[Any], cohort: app_commands.Range[str, 1, NAME_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._cohorts.join(
            interaction.guild_id, cohort, interaction.user.id, interaction.user.display_name
        )
        message = (
            f"Welcome to **{shown(change.cohort_name)}**! Mark checkpoints with `/checkpoint done`."
            if change.changed
            else f"You're already in **{shown(change.cohort_name)}**."
        )
        await reply(interaction, message)

    @cohort.command(name="leave", description="Leave a cohort (your progress is kept if you come back)")
    @app_commands.describe(cohort="The cohort to leave")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def leave(
        self, interaction: discord.Interaction[Any], cohort: app_commands.Range[str, 1, NAME_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._cohorts.leave(interaction.guild_id, cohort, interaction.user.id)
        message = (
            f"You left **{shown(change.cohort_name)}**. Your progress is kept if you join again."
            if change.changed
            else f"You weren't in **{shown(change.cohort_name)}**, so nothing changed."
        )
        await reply(interaction, message)

    @cohort.command(name="list", description="The cohorts on this server")
    @answered
    async def list_cohorts(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        summaries = await self._cohorts.all_in_guild(interaction.guild_id)
        if not summaries:
            await reply(interaction, "No cohorts yet. A moderator can open one with `/cohort create`.")
            return
        embed = discord.Embed(title="Cohorts", colour=BRAND_COLOUR)
        for summary in summaries[:25]:
            embed.add_field(
                name=shown(summary.name),
                value=f"{summary.roadmap.title} · {summary.member_count} members\n{where_line(summary)}",
                inline=False,
            )
        if len(summaries) > 25:
            embed.set_footer(text=f"Showing 25 of {len(summaries)}; use /cohort info for any cohort.")
        await reply(interaction, embed=embed, ephemeral=False)

    @cohort.command(name="info", description="A cohort's roadmap, week, members and next weekly slot")
    @app_commands.describe(cohort="The cohort to show")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def info(
        self, interaction: discord.Interaction[Any], cohort: app_commands.Range[str, 1, NAME_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        summary = await self._cohorts.info(interaction.guild_id, cohort)
        embed = cohort_embed(summary)
        trouble = await self._milestones.cohort_trouble(interaction.guild_id, summary.id)
        if trouble is not None:
            embed.add_field(
                name="⚠️ Needs attention: milestone roles",
                value=_milestones.cohort_trouble_text(trouble),
                inline=False,
            )
        await reply(interaction, embed=embed, ephemeral=False)

    @cohort.command(name="calendar", description="A calendar file (.ics) with a cohort's dates")
    @app_commands.describe(cohort="The cohort whose dates you want")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def calendar(
        self, interaction: discord.Interaction[Any], cohort: app_commands.Range[str, 1, NAME_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        built = await self._reminders.calendar(interaction.guild_id, cohort)
        await reply(
            interaction,
            reminders_render.calendar_message(built),
            file=discord.File(io.BytesIO(built.data), filename=built.filename),
        )


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(CohortCog(bot.services.cohorts, bot.services.reminders, bot.services.milestones))
