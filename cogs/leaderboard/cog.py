"""`/leaderboard [cohort] [period]`: the cohort's top 10 for the week, month or all time.

The board is public in the channel and pings nobody; a hidden caller hears their own score in a
private followup. Names are the server's current display names (the one stored at enrolment when
the member is not in the bot's cache).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.momentum.rules import PeriodKind
from bot.momentum.service import MomentumService
from bot.replies import reply
from cogs import _autocomplete
from cogs._checks import answered
from cogs._ui import NAME_OPTION_MAX
from cogs.leaderboard import render

if TYPE_CHECKING:
    from bot.app import WaypointBot

Period = Literal["week", "month", "all"]


def server_names(guild: discord.Guild | None) -> render.Names:
    def name(user_id: int, stored: str) -> str:
        member = guild.get_member(user_id) if guild is not None else None
        return member.display_name if member is not None else stored

    return name


class LeaderboardCog(commands.Cog):
    def __init__(self, momentum: MomentumService) -> None:
        self._momentum = momentum

    @app_commands.command(name="leaderboard", description="The cohort's top 10 this week, month or overall")
    @app_commands.guild_only()
    @app_commands.describe(
        cohort="Which cohort (default: yours)",
        period="week (default: the cohort's current week), month (this calendar month) or all",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        cohort: app_commands.Range[str, 1, NAME_OPTION_MAX] | None = None,
        period: Period = "week",
    ) -> None:
        assert interaction.guild_id is not None
        board = await self._momentum.leaderboard(
            interaction.guild_id, interaction.user.id, cohort, PeriodKind(period)
        )
        embed = render.board_embed(board, interaction.user.id, server_names(interaction.guild))
        await reply(
            interaction, embed=embed, ephemeral=False, allowed_mentions=discord.AllowedMentions.none()
        )
        note = render.hidden_note(board)
        if note is not None:
            await reply(interaction, note, allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(LeaderboardCog(bot.services.momentum))
