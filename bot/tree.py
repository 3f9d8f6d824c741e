"""The command tree: one place that answers every failure with a short ephemeral reply.

Expected refusals are answered by the command decorators in ``cogs._checks`` before they get
here; what reaches ``on_error`` is either a transformer/check failure (answered with plain
guidance) or a real bug (logged with guild, user and command, answered with an apology).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.kernel.errors import CohortChoiceError, DomainError
from bot.replies import reply

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on our side while handling that. The error was logged; please try again."


def describe_refusal(interaction: discord.Interaction[Any], error: DomainError) -> str:
    """The sentence a refusal is answered with; errors that carry facts are worded here."""
    if isinstance(error, CohortChoiceError):
        return describe_cohort_choice(interaction, error)
    return error.message


def describe_cohort_choice(interaction: discord.Interaction[Any], error: CohortChoiceError) -> str:
    """Word "which cohort did you mean" for the caller ("You aren't…") or another member."""
    if error.subject_id == interaction.user.id:
        return error.sentence(None)
    member = interaction.guild.get_member(error.subject_id) if interaction.guild else None
    return error.sentence(discord.utils.escape_markdown(member.display_name) if member else "That member")


class WaypointTree(app_commands.CommandTree[discord.Client]):
    """Answers every failure with one short ephemeral reply; only unexpected ones are logged."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(original, DomainError):
            message = describe_refusal(interaction, original)
        elif isinstance(error, app_commands.TransformerError):
            message = f"`{error.value}` isn't a valid {error.type.name.lower()} here."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = "This command works inside a server, not in direct messages."
        elif isinstance(error, app_commands.CheckFailure):
            message = str(error) or "You can't use this command here."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "unexpected error guild=%s user=%s command=%s",
                interaction.guild_id,
                interaction.user.id,
                command,
                exc_info=original,
            )
            message = APOLOGY
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Reply ephemerally, as a followup when the interaction was already answered."""
    try:
        await reply(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply guild=%s", interaction.guild_id, exc_info=True)
