"""`/export ...`: moderators take their group's data elsewhere, and see who did.

Every export is an ephemeral file named ``waypoint-<server>-<cohort|all-cohorts>-<kind>-<date>``
with the ``format`` as extension (``.zip`` added when it had to be compressed to fit the upload
limit). XLSX, the default, is for spreadsheets: one sheet with typed cells, ids as text (a
spreadsheet turns a 19-digit number into ``1.4560744439808E+018``), timestamps as dates in UTC.
CSV and JSON are for programs. CSV is RFC 4180, UTF-8 with a byte-order mark (read it with
``utf-8-sig``), a header row, CRLF line ends, ISO 8601 UTC timestamps
(``2026-01-05T18:00:00Z``) and cells that start like a formula (even after blanks) prefixed with
``'``. JSON is ``{"schema_version": 2, "kind", "generated_at", "guild_id", "cohort", "columns",
"rows": [{column: value}]}`` with ids as strings. Timestamp columns end in ``_utc``. The columns:

- progress: member_id, display_name, cohort, roadmap, joined_at_utc, current_phase,
  checkpoints_done, checkpoints_total, percent, last_activity_at_utc, reviews_given,
  reviews_received, pace
- checkpoints: member_id, display_name, cohort, roadmap, phase, checkpoint_key,
  checkpoint_title, status (done|open), completed_at_utc, evidence_url
- reviews: cohort, round_week, round_started_at_utc, due_at_utc, group_id, reviewer_id,
  reviewee_id, completed_at_utc, link

``bot.exports.service`` says what each value means.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any, Final, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.exports.formats import ExportFormat
from bot.exports.service import ExportKind, ExportService
from bot.replies import reply
from cogs import _autocomplete
from cogs._checks import moderator_only
from cogs._ui import paged_embeds, send_pages, shown, timestamp

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

FormatChoice = Literal["csv", "json", "xlsx"]
DEFAULT_FORMAT: Final = "xlsx"
# Cohort names are at most 50 characters; a longer value still reaches the bot, which explains.
CohortOption = app_commands.Range[str, 1, 100]

KIND_TITLES: Final = {
    ExportKind.PROGRESS: "Progress export",
    ExportKind.CHECKPOINTS: "Checkpoint export",
    ExportKind.REVIEWS: "Review export",
}
COHORT_HELP: Final = "Only this cohort (default: every cohort on the server)"
FORMAT_HELP: Final = "xlsx (default, for spreadsheets: ids kept intact), csv or json (for programs)"


def upload_limit(interaction: discord.Interaction[Any]) -> int:
    """The largest file this interaction may attach (Discord's ``attachment_size_limit``)."""
    return interaction.filesize_limit


def actor_text(actor_id: int | None) -> str:
    """Who did it: a mention, or a note for the command line and for erasures (never named)."""
    return f"<@{actor_id}>" if actor_id else "*no member named*"


class ExportCog(commands.Cog):
    def __init__(self, exports: ExportService) -> None:
        self._exports = exports

    export = app_commands.Group(
        name="export", description="Download this server's Waypoint data (moderators)", guild_only=True
    )

    @export.command(
        name="progress",
        description="One row per member and cohort: progress, phase, pace, reviews (moderators)",
    )
    @app_commands.describe(cohort=COHORT_HELP, format=FORMAT_HELP)
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def progress(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortOption | None = None,
        format: FormatChoice = DEFAULT_FORMAT,
    ) -> None:
        """Columns: member_id, display_name, cohort, roadmap, joined_at, current_phase,
        checkpoints_done, checkpoints_total, percent, last_activity_at, reviews_given,
        reviews_received, pace."""
        await self._send_export(interaction, ExportKind.PROGRESS, cohort, format)

    @export.command(
        name="checkpoints",
        description="One row per member and checkpoint: done or open, when, evidence (moderators)",
    )
    @app_commands.describe(cohort=COHORT_HELP, format=FORMAT_HELP)
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def checkpoints(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortOption | None = None,
        format: FormatChoice = DEFAULT_FORMAT,
    ) -> None:
        """Columns: member_id, display_name, cohort, roadmap, phase, checkpoint_key,
        checkpoint_title, status, completed_at, evidence_url."""
        await self._send_export(interaction, ExportKind.CHECKPOINTS, cohort, format)

    @export.command(name="reviews", description="Every review round, pair and completed review (moderators)")
    @app_commands.describe(cohort=COHORT_HELP, format=FORMAT_HELP)
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def reviews(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortOption | None = None,
        format: FormatChoice = DEFAULT_FORMAT,
    ) -> None:
        """Columns: cohort, round_week, round_started_at, due_at, group_id, reviewer_id,
        reviewee_id, completed_at, link."""
        await self._send_export(interaction, ExportKind.REVIEWS, cohort, format)

    @export.command(
        name="audit", description="Who exported or erased data on this server, newest first (moderators)"
    )
    @moderator_only
    async def audit(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        entries = await self._exports.recent_audit(interaction.guild_id)
        if not entries:
            await reply(interaction, "Nothing has been exported or erased yet.")
            return
        lines = [
            f"{timestamp(entry.created_at, 'f')} · {actor_text(entry.actor_id)} · `{entry.action}`\n"
            f"{discord.utils.escape_markdown(entry.detail)}"
            for entry in entries
        ]
        embeds = paged_embeds(f"Audit log: the last {len(entries)} exports and erasures", lines)
        await send_pages(interaction, embeds, ephemeral=True)

    async def _send_export(
        self, interaction: discord.Interaction[Any], kind: ExportKind, cohort: str | None, format: str
    ) -> None:
        assert interaction.guild is not None
        # Building a large server's export takes seconds: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        fmt = ExportFormat(format)
        built = await self._exports.export_file(
            interaction.guild.id,
            interaction.guild.name,
            cohort,
            kind,
            fmt,
            upload_limit(interaction),
            actor_id=interaction.user.id,
        )
        content = export_message(
            kind, built.summary.cohort_name, built.summary.rows, fmt, zipped=built.zipped
        )
        try:
            await reply(
                interaction,
                content,
                file=discord.File(io.BytesIO(built.payload), filename=built.filename),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as error:
            log.warning("guild=%s export upload failed: %s", interaction.guild.id, error)
            await reply(
                interaction,
                f"Discord refused the file ({error.status}). Try a smaller export with the `cohort` option"
                " or another `format`.",
            )


def export_message(
    kind: ExportKind, cohort_name: str | None, rows: int, fmt: ExportFormat, *, zipped: bool
) -> str:
    """The sentence sent with an export; the cohort's name is shown as text, never as markup."""
    cohort = shown(cohort_name) if cohort_name else "every cohort"
    noun = "row" if rows == 1 else "rows"
    content = f"{KIND_TITLES[kind]} of **{cohort}**: {rows:,} {noun} as {fmt.value.upper()}."
    if fmt is ExportFormat.XLSX:
        content += " Ids are text cells, times are UTC."
    if zipped:
        content += " It was larger than the upload limit here, so it is zipped."
    return content


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(ExportCog(bot.services.exports))
