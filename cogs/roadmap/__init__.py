"""`/roadmap ...`: browse the study paths, and a server's own (import, export, remove).

The cog is in ``cog``, its wording in ``render``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.roadmap.cog import RoadmapCog

if TYPE_CHECKING:
    from bot.app import WaypointBot

__all__ = ["RoadmapCog", "setup"]


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(RoadmapCog(bot.services.catalog, bot.services.roadmaps))
