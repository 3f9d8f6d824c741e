"""`/progress`: per-phase bars, overall percent and pace against the cohort's calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.kernel.pace import Pace
from bot.kernel.text import echo
from bot.momentum.service import MomentumService
from bot.momentum.views import StreakView
from bot.progress.service import ProgressService, ProgressView
from bot.replies import reply
from bot.reviews.service import ReviewService
from bot.reviews.views import ReviewCounts
from cogs import _autocomplete
from cogs._checks import answered
from cogs._ui import BRAND_COLOUR, bar, subject_of, timestamp
from cogs.leaderboard.render import streak_text

if TYPE_CHECKING:
    from bot.app import WaypointBot

PACE_WORDS = {
    Pace.NOT_STARTED: "⏳ the cohort hasn't started yet",
    Pace.AHEAD: "🚀 ahead of the cohort's calendar",
    Pace.ON_TRACK: "✅ on track with the cohort's calendar",
    Pace.BEHIND: "🐢 behind the cohort's calendar",
}


def safe(text: str) -> str:
    """A member's display name or a cohort name shown as itself: no markup, no mentions."""
    return echo(text, limit=100)


def progress_embed(
    view: ProgressView,
    member: discord.abc.User,
    reviews: ReviewCounts | None = None,
    streak: StreakView | None = None,
) -> discord.Embed:
    report = view.report
    embed = discord.Embed(
        title=f"{safe(member.display_name)} · {safe(view.cohort_name)}",
        description=(
            f"**{report.percent}%** of {view.roadmap.title}: {report.done}/{report.total} checkpoints\n"
            f"{PACE_WORDS[report.pace]} (expected by now: {report.expected})"
        ),
        colour=BRAND_COLOUR,
    )
    current_key = view.current_phase.key if view.current_phase else None
    lines = []
    for phase in report.phases:
        marker = " ◀ now" if phase.key == current_key else ""
        lines.append(
            f"`{bar(phase.fraction)}` {phase.done}/{phase.total} · {phase.number}. {phase.title}{marker}"
        )
    embed.add_field(name="Phases", value="\n".join(lines), inline=False)
    if report.recent:
        recent = "\n".join(
            f"`{item.key}` {item.title} · {timestamp(item.completed_at, 'R')}" for item in report.recent
        )
        embed.add_field(name="Last checkpoints", value=recent, inline=False)
    if reviews is not None:
        embed.add_field(name="Reviews", value=f"given {reviews.given} · received {reviews.received}")
    if streak is not None:
        embed.add_field(name="Weekly streak", value=streak_text(streak), inline=False)
    if view.position.started and not view.position.finished:
        embed.set_footer(text=f"Cohort week {view.position.week} of {view.roadmap.duration_weeks}")
    return embed


class ProgressCog(commands.Cog):
    def __init__(self, progress: ProgressService, reviews: ReviewService, momentum: MomentumService) -> None:
        self._progress = progress
        self._reviews = reviews
        self._momentum = momentum

    @app_commands.command(name="progress", description="See your progress, or a member's")
    @app_commands.guild_only()
    @app_commands.describe(
        member="Whose progress (default: yours)", cohort="Needed if in more than one cohort"
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def progress(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        cohort: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        subject, _ = subject_of(interaction, member)
        view = await self._progress.report(interaction.guild_id, subject.id, cohort)
        reviews = await self._reviews.counts(interaction.guild_id, subject.id, view.cohort_name)
        streak = await self._momentum.streak(interaction.guild_id, subject.id, view.cohort_name)
        await reply(interaction, embed=progress_embed(view, subject, reviews, streak))


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(ProgressCog(bot.services.progress, bot.services.reviews, bot.services.momentum))
