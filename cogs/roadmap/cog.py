"""`/roadmap list`, `show` and `export` for everyone; `import` and `remove` for moderators."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cohorts.resolve import roadmap_of
from bot.content import MAX_FILE_BYTES
from bot.kernel.errors import DomainError, InvalidInputError
from bot.replies import reply
from bot.roadmaps.rules import source_name
from bot.roadmaps.views import Imported, Proposal, Refused, Unchanged
from cogs import _autocomplete
from cogs._checks import answered, moderator_only
from cogs._confirm import ConfirmView
from cogs._ui import BRAND_COLOUR, KEY_OPTION_MAX, paged_embeds, send_pages
from cogs.roadmap import render

if TYPE_CHECKING:
    from bot.content import RoadmapCatalog
    from bot.roadmaps.service import RoadmapService


class RoadmapCog(commands.Cog):
    def __init__(self, catalog: RoadmapCatalog, roadmaps: RoadmapService) -> None:
        self._catalog = catalog
        self._roadmaps = roadmaps

    roadmap = app_commands.Group(name="roadmap", description="Browse the study roadmaps, or bring your own")

    @roadmap.command(name="list", description="Every roadmap with its phases and duration")
    @answered
    async def list_roadmaps(self, interaction: discord.Interaction[Any]) -> None:
        embed = discord.Embed(title="Roadmaps", colour=BRAND_COLOUR)
        for roadmap in self._catalog:
            embed.add_field(name=roadmap.title[:256], value=render.list_value(roadmap), inline=False)
        own = self._catalog.server_roadmaps(interaction.guild_id) if interaction.guild_id else []
        for entry in own:
            embed.add_field(
                name=f"{entry.roadmap.title} ({render.SERVER_MARK})"[:256],
                value=render.list_value(entry.roadmap, entry.version),
                inline=False,
            )
        embed.set_footer(text=render.server_roadmaps_footer([entry.version for entry in own]))
        await reply(interaction, embed=embed, ephemeral=False)

    @roadmap.command(name="show", description="A roadmap's phases, or one phase in detail")
    @app_commands.describe(roadmap="The roadmap to show", phase="A phase number, from 1")
    @app_commands.autocomplete(roadmap=_autocomplete.roadmap_keys)
    @answered
    async def show(
        self,
        interaction: discord.Interaction[Any],
        roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX],
        phase: int | None = None,
    ) -> None:
        found = roadmap_of(self._catalog, roadmap.strip(), interaction.guild_id or 0)
        own = self._catalog.server_roadmap(interaction.guild_id or 0, found.key)
        title = found.title + (f" ({render.SERVER_MARK}, v{own.version})" if own is not None else "")
        if phase is None:
            embeds = paged_embeds(title, render.overview_lines(found, own.version if own else None))
        else:
            if not 1 <= phase <= len(found.phases):
                raise InvalidInputError(
                    f"**{found.title}** has phases 1 to {len(found.phases)}; there is no phase {phase}."
                )
            chosen = found.phases[phase - 1]
            embeds = paged_embeds(
                f"{title} · Phase {phase}: {chosen.title}", render.phase_lines(found, chosen)
            )
        await send_pages(interaction, embeds)

    @roadmap.command(
        name="import", description="Add this server's own roadmap from a YAML file, or a new version"
    )
    @app_commands.describe(file="A roadmap YAML file in the schema of Waypoint's own (see /roadmap export)")
    @app_commands.guild_only()
    @moderator_only
    async def import_roadmap(self, interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
        assert interaction.guild_id is not None
        filename = source_name(file.filename)
        if file.size > MAX_FILE_BYTES:  # refused before it is downloaded
            await reply(interaction, render.problems_text(render.too_large(filename, file.size)))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        outcome = await self._roadmaps.start_import(interaction.guild_id, interaction.user.id, filename, data)
        if isinstance(outcome, Refused):
            await reply(interaction, render.problems_text(outcome))
        elif isinstance(outcome, Imported):
            await reply(interaction, render.imported_text(outcome))
        elif isinstance(outcome, Unchanged):
            await reply(interaction, render.unchanged_text(outcome))
        else:
            await self._ask_to_confirm(interaction, outcome)

    async def _ask_to_confirm(self, interaction: discord.Interaction[Any], proposal: Proposal) -> None:
        async def confirmed(_pressed: discord.Interaction[Any]) -> str:
            try:
                result = await self._roadmaps.confirm(proposal)
            except DomainError as error:
                return error.message
            for cohort_id in await self._roadmaps.follower_ids(proposal.guild_id, proposal.roadmap.key):
                # Its calendar changed: "created" makes the prompt and review cogs register the
                # cohort's weekly jobs again from the database (the review cog does it for either event).
                interaction.client.dispatch("waypoint_cohort_created", cohort_id)
            return render.imported_text(result)

        view = ConfirmView(
            interaction.user.id,
            confirmed,
            not_owner=render.NOT_IMPORTER,
            cancelled=render.CANCELLED,
            timed_out=render.TIMED_OUT,
            confirm_label="Confirm",
        )
        pages = paged_embeds(render.proposal_title(proposal), render.proposal_lines(proposal))
        await reply(interaction, embed=pages[0], view=view)
        view.message = await interaction.original_response()

    @roadmap.command(name="export", description="A roadmap as a YAML file, to edit and import")
    @app_commands.describe(roadmap="The roadmap to export (shipped or this server's)")
    @app_commands.autocomplete(roadmap=_autocomplete.roadmap_keys)
    @answered
    async def export(
        self, interaction: discord.Interaction[Any], roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX]
    ) -> None:
        exported = await self._roadmaps.export(interaction.guild_id or 0, roadmap)
        await reply(
            interaction,
            f"`{exported.filename}`: edit it and bring it back with `/roadmap import` (a new key makes a new"
            " roadmap; this server's key makes a new version).",
            file=discord.File(io.BytesIO(exported.content), filename=exported.filename),
        )

    @roadmap.command(name="remove", description="Remove one of this server's own roadmaps")
    @app_commands.describe(roadmap="This server's roadmap to remove")
    @app_commands.autocomplete(roadmap=_autocomplete.server_roadmap_keys)
    @app_commands.guild_only()
    @moderator_only
    async def remove(
        self, interaction: discord.Interaction[Any], roadmap: app_commands.Range[str, 1, KEY_OPTION_MAX]
    ) -> None:
        assert interaction.guild_id is not None
        removed = await self._roadmaps.remove(interaction.guild_id, interaction.user.id, roadmap)
        await reply(interaction, render.removed_text(removed))
