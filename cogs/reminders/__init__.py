"""Reminders by direct message: ``/remind settings`` and the DMs (``cog``), their words (``render``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.reminders.cog import RemindCog

if TYPE_CHECKING:
    from bot.app import WaypointBot

__all__ = ["RemindCog", "setup"]


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(RemindCog(bot, bot.services.reminders))
