"""`/stats`: a chart of how a cohort (or the whole server) is doing, for moderators."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.replies import reply
from bot.stats.service import StatsReport, StatsService
from cogs import _autocomplete
from cogs._checks import moderator_only
from cogs._ui import shown
from cogs.export import COHORT_HELP, CohortOption

if TYPE_CHECKING:
    from bot.app import WaypointBot


def counted(number: int, noun: str) -> str:
    """ "1 checkpoint", "2 checkpoints": the count and its noun agree."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def stats_summary(report: StatsReport) -> str:
    """The few sentences sent with the /stats chart."""
    snapshot = report.snapshot
    label = shown(snapshot.cohort_label)
    if snapshot.is_empty:
        return f"**{label}**: no members or completions yet."
    this_week = snapshot.weekly_completions[-1][1] if snapshot.weekly_completions else 0
    lines = [
        f"**{label}**",
        f"{counted(snapshot.active_members, 'active member')}; {snapshot.stalled_members:,} stalled "
        "(no checkpoint completed in the last 14 days).",
        f"{counted(report.completions_in_window, 'checkpoint')} completed in the last "
        f"{counted(report.weeks, 'week')}, {this_week:,} of them this week.",
    ]
    busiest = max(snapshot.members_per_phase, key=lambda item: item[1], default=None)
    if busiest is not None and busiest[1]:
        lines.append(f"Most members are at **{shown(busiest[0])}** ({busiest[1]:,}).")
    return "\n".join(lines)


class StatsCog(commands.Cog):
    def __init__(self, stats: StatsService) -> None:
        self._stats = stats

    @app_commands.command(
        name="stats", description="A chart of members per phase, weekly completions, stalled members"
    )
    @app_commands.guild_only()
    @app_commands.describe(cohort=COHORT_HELP)
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def stats(self, interaction: discord.Interaction[Any], cohort: CohortOption | None = None) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self._stats.report(interaction.guild_id, cohort)
        from bot.stats.chart import render_stats_png  # matplotlib loads on the first chart, not at start-up

        png = await asyncio.to_thread(render_stats_png, report.snapshot)
        day = report.generated_at.date().isoformat()
        await reply(
            interaction,
            stats_summary(report),
            file=discord.File(io.BytesIO(png), filename=f"waypoint-stats-{day}.png"),
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(StatsCog(bot.services.stats))
