"""`/checkpoint done|undo`: members record what they finished, with an optional evidence link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.milestones.service import MilestoneService
from bot.progress.service import CheckpointChange, ProgressService
from bot.replies import reply
from cogs import _autocomplete, _milestones
from cogs._checks import answered
from cogs._ui import KEY_OPTION_MAX, LINK_OPTION_MAX, NAME_OPTION_MAX, NOTE_OPTION_MAX, bar, shown

if TYPE_CHECKING:
    from bot.app import WaypointBot


def tally(change: CheckpointChange) -> str:
    fraction = change.done / change.total if change.total else 0.0
    return f"{bar(fraction)} {change.done}/{change.total} in **{shown(change.cohort_name)}**"


class CheckpointCog(commands.Cog):
    def __init__(self, progress: ProgressService, milestones: MilestoneService) -> None:
        self._progress = progress
        self._milestones = milestones

    async def _milestone_line(
        self, interaction: discord.Interaction[Any], change: CheckpointChange, *, done: bool
    ) -> str:
        """Give or take back a milestone role the change calls for; the reply's line about it."""
        check = self._milestones.after_done if done else self._milestones.after_undo
        action = await check(
            interaction.guild_id or 0, interaction.user.id, change.cohort_id, change.checkpoint.key
        )
        if action is None:
            return ""
        line = _milestones.checkpoint_line(
            action, await _milestones.carry_out(interaction, action, self._milestones)
        )
        return f"\n{line}" if line else ""

    checkpoint = app_commands.Group(name="checkpoint", description="Track your checkpoints", guild_only=True)

    @checkpoint.command(name="done", description="Mark a checkpoint as done")
    @app_commands.describe(
        checkpoint="The checkpoint key (start typing to search)",
        evidence="A link to your work (http or https)",
        note="A short note for yourself or your cohort (max 300 characters)",
        cohort="Needed only if you are in more than one cohort",
    )
    @app_commands.autocomplete(checkpoint=_autocomplete.checkpoint_keys, cohort=_autocomplete.cohort_names)
    @answered
    async def done(
        self,
        interaction: discord.Interaction[Any],
        checkpoint: app_commands.Range[str, 1, KEY_OPTION_MAX],
        evidence: app_commands.Range[str, 1, LINK_OPTION_MAX] | None = None,
        note: app_commands.Range[str, 1, NOTE_OPTION_MAX] | None = None,
        cohort: app_commands.Range[str, 1, NAME_OPTION_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._progress.complete(
            interaction.guild_id,
            interaction.user.id,
            checkpoint,
            evidence=evidence,
            note=note,
            cohort_name=cohort,
        )
        headline = (
            f"✅ Done: **{change.checkpoint.title}** (`{change.checkpoint.key}`)"
            if change.changed
            else f"**{change.checkpoint.title}** was already marked done"
            + ("; I updated the evidence/note." if evidence or note else ".")
        )
        milestone = await self._milestone_line(interaction, change, done=True)
        await reply(
            interaction,
            f"{headline}\n{tally(change)}{milestone}",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @checkpoint.command(name="undo", description="Unmark a checkpoint")
    @app_commands.describe(
        checkpoint="The checkpoint key", cohort="Needed only if you are in more than one cohort"
    )
    @app_commands.autocomplete(checkpoint=_autocomplete.checkpoint_keys, cohort=_autocomplete.cohort_names)
    @answered
    async def undo(
        self,
        interaction: discord.Interaction[Any],
        checkpoint: app_commands.Range[str, 1, KEY_OPTION_MAX],
        cohort: app_commands.Range[str, 1, NAME_OPTION_MAX] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._progress.undo(
            interaction.guild_id, interaction.user.id, checkpoint, cohort_name=cohort
        )
        headline = (
            f"↩️ Unmarked **{change.checkpoint.title}** (`{change.checkpoint.key}`)."
            if change.changed
            else f"**{change.checkpoint.title}** wasn't marked done, so nothing changed."
        )
        milestone = await self._milestone_line(interaction, change, done=False)
        await reply(
            interaction,
            f"{headline}\n{tally(change)}{milestone}",
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(CheckpointCog(bot.services.progress, bot.services.milestones))
