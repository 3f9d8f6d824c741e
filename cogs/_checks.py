"""Who may run moderator commands: Manage Server, or the role set with `/config moderator-role`.

The checks are guards run by the tree around the callback (see ``bot.app``), so a refusal is a
plain ephemeral answer rather than an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.kernel.errors import PermissionDeniedError

if TYPE_CHECKING:
    from bot.app import WaypointBot

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

NOT_MODERATOR = "Only moderators can do that: members with **Manage Server** or the server's moderator role."
NOT_MANAGER = "You need the **Manage Server** permission for that."


def _member(interaction: discord.Interaction[Any]) -> discord.Member:
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise PermissionDeniedError("This command works inside a server, not in direct messages.")
    return interaction.user


async def is_moderator(interaction: discord.Interaction[Any]) -> bool:
    member = _member(interaction)
    if member.guild_permissions.manage_guild:
        return True
    bot: WaypointBot = interaction.client
    role_id = await bot.services.guild_config.moderator_role(member.guild.id)
    return role_id is not None and any(role.id == role_id for role in member.roles)


async def ensure_moderator(interaction: discord.Interaction[Any]) -> None:
    if not await is_moderator(interaction):
        raise PermissionDeniedError(NOT_MODERATOR)


async def ensure_manage_guild(interaction: discord.Interaction[Any]) -> None:
    if not _member(interaction).guild_permissions.manage_guild:
        raise PermissionDeniedError(NOT_MANAGER)


def moderator_only(func: F) -> F:
    """Place under the command decorator: the command answers non-moderators with a refusal."""
    func.__waypoint_guard__ = ensure_moderator  # type: ignore[attr-defined]
    return func


def manage_guild_only(func: F) -> F:
    func.__waypoint_guard__ = ensure_manage_guild  # type: ignore[attr-defined]
    return func
