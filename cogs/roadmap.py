"""`/roadmap list` and `/roadmap show`: browse the study paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cohorts.resolve import roadmap_of
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import CheckpointKind, Phase, Roadmap, describe_duration
from bot.replies import reply
from cogs import _autocomplete
from cogs._checks import answered
from cogs._ui import BRAND_COLOUR, KEY_OPTION_MAX, paged_embeds, send_pages

if TYPE_CHECKING:
    from bot.app import WaypointBot
    from bot.content import RoadmapCatalog

KIND_HEADINGS = {
    CheckpointKind.TOPIC: "Checkpoints",
    CheckpointKind.MILESTONE: "Milestones",
    CheckpointKind.PROJECT: "Projects",
}


def phase_window(phase: Phase) -> str:
    first, last = phase.start_day + 1, phase.end_day
    if first % 30 == 1 and last % 30 == 0:
        return f"months {first // 30 + 1}–{last // 30}"
    if phase.duration_days % 7 == 0 and phase.start_day % 7 == 0:
        return f"weeks {phase.start_day // 7 + 1}–{phase.end_day // 7}"
    return f"days {first}–{last}"


def overview_lines(roadmap: Roadmap) -> list[str]:
    lines = [roadmap.summary, "", f"**Duration:** {describe_duration(roadmap.duration_days)}", ""]
    for number, phase in enumerate(roadmap.phases, start=1):
        lines.append(
            f"**{number}. {phase.title}** · {phase_window(phase)} · {len(phase.checkpoints)} checkpoints"
        )
        lines.append(f"> {phase.summary}")
    if roadmap.skills:
        lines += ["", "**Skills**"]
        for priority in dict.fromkeys(skill.priority for skill in roadmap.skills):
            titles = ", ".join(skill.title for skill in roadmap.skills if skill.priority == priority)
            lines.append(f"*{priority.value}:* {titles}")
    for heading, groups in (
        ("Responsibilities", roadmap.responsibilities),
        ("Project ideas", roadmap.project_ideas),
    ):
        if groups:
            lines += ["", f"**{heading}**"]
            lines += [f"*{group.level}:* " + "; ".join(group.items) for group in groups]
    lines += ["", "Use `/roadmap show` with `phase:` for a phase's topics and checkpoint keys."]
    return lines


def phase_lines(roadmap: Roadmap, phase: Phase) -> list[str]:
    lines = [phase.summary, "", f"**When:** {phase_window(phase)}", "", "**Topics**"]
    lines += [f"• {topic}" for topic in phase.topics]
    for kind, heading in KIND_HEADINGS.items():
        items = [checkpoint for checkpoint in phase.checkpoints if checkpoint.kind == kind]
        if items:
            lines += ["", f"**{heading}**"]
            lines += [f"`{item.key}` **{item.title}**: {item.description}" for item in items]
    lines += ["", "Mark one done with `/checkpoint done checkpoint:<key>`."]
    return lines


class RoadmapCog(commands.Cog):
    def __init__(self, catalog: RoadmapCatalog) -> None:
        self._catalog = catalog

    roadmap = app_commands.Group(name="roadmap", description="Browse the study roadmaps")

    @roadmap.command(name="list", description="Every roadmap with its phases and duration")
    @answered
    async def list_roadmaps(self, interaction: discord.Interaction[Any]) -> None:
        embed = discord.Embed(title="Roadmaps", colour=BRAND_COLOUR)
        for roadmap in self._catalog:
            embed.add_field(
                name=f"{roadmap.title}"[:256],
                value=(
                    f"`{roadmap.key}` · {len(roadmap.phases)} phases · "
                    f"{describe_duration(roadmap.duration_days)} · {roadmap.checkpoint_count} checkpoints"
                ),
                inline=False,
            )
        embed.set_footer(text="Details: /roadmap show roadmap:<key>")
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
        found = roadmap_of(self._catalog, roadmap.strip())
        if phase is None:
            embeds = paged_embeds(found.title, overview_lines(found))
        else:
            if not 1 <= phase <= len(found.phases):
                raise InvalidInputError(
                    f"**{found.title}** has phases 1 to {len(found.phases)}; there is no phase {phase}."
                )
            chosen = found.phases[phase - 1]
            embeds = paged_embeds(
                f"{found.title} · Phase {phase}: {chosen.title}", phase_lines(found, chosen)
            )
        await send_pages(interaction, embeds)


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(RoadmapCog(bot.services.catalog))
