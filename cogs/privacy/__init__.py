"""`/privacy ...`: members see everything Waypoint holds about them here, or have it erased.

The cog is in ``cog``, its wording in ``render``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.privacy.cog import PURGE_INTERVAL_HOURS, PURGE_JOB_ID, PrivacyCog

if TYPE_CHECKING:
    from bot.app import WaypointBot

__all__ = ["PURGE_INTERVAL_HOURS", "PURGE_JOB_ID", "PrivacyCog", "setup"]


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(PrivacyCog(bot, bot.services.privacy, bot.services.momentum))
