"""Weekly study prompts: the ``/prompts`` commands (``cog``), sending the posts (``delivery``) and
every word they show (``render``). One extension: ``setup`` wires the three together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.prompts.cog import PromptsCog
from cogs.prompts.delivery import PromptDelivery

if TYPE_CHECKING:
    from bot.app import WaypointBot

__all__ = ["PromptsCog", "setup"]


async def setup(bot: WaypointBot) -> None:
    prompts = bot.services.prompts
    await bot.add_cog(PromptsCog(bot, prompts, PromptDelivery(bot, prompts)))
