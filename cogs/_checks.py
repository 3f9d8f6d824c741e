"""How every slash command answers refusals, and who may run moderator commands.

Each command callback is decorated, under its ``@group.command``, with one of ``answered``,
``moderator_only`` or ``manage_guild_only``. The decorator runs the guard, then the command, and
turns a ``DomainError`` (bad input, unknown names, no permission) into the error's own ephemeral
sentence, so expected refusals never reach the tree's ``on_error``, which stays for real bugs.
This only uses what discord.py documents: a command is built from the decorated coroutine, whose
signature is given with its annotations already resolved. A test walks the tree to make sure no
command was left without one.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.kernel.errors import DomainError, PermissionDeniedError
from bot.tree import describe_refusal, send_ephemeral

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Guard = Callable[[discord.Interaction[Any]], Awaitable[None]]

NOT_MODERATOR = "Only moderators can do that: members with **Manage Server** or the server's moderator role."
NOT_MANAGER = "You need the **Manage Server** permission for that."
ANSWERED_MARK = "__waypoint_answered__"


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


def _answering(guard: Guard | None) -> Callable[[F], F]:
    def decorate(callback: F) -> F:
        @functools.wraps(callback)
        async def answered_callback(*args: Any, **kwargs: Any) -> Any:
            interaction = next(arg for arg in args if isinstance(arg, discord.Interaction))
            try:
                if guard is not None:
                    await guard(interaction)
                return await callback(*args, **kwargs)
            except DomainError as error:
                message = describe_refusal(interaction, error)
                log.info(
                    "refused guild=%s user=%s command=%s: %s",
                    interaction.guild_id,
                    interaction.user.id,
                    interaction.command.qualified_name if interaction.command else "?",
                    message,
                )
                await send_ephemeral(interaction, message)
                return None

        # discord.py reads the parameters from the signature; resolve the annotations in the
        # callback's own module, since this wrapper lives in another one.
        answered_callback.__signature__ = inspect.signature(callback, eval_str=True)  # type: ignore[attr-defined]
        setattr(answered_callback, ANSWERED_MARK, True)
        return answered_callback  # type: ignore[return-value]

    return decorate


answered = _answering(None)
"""For commands anyone may run: refusals become the error's own ephemeral sentence."""

moderator_only = _answering(ensure_moderator)
"""Manage Server or the server's moderator role; others get a plain refusal."""

manage_guild_only = _answering(ensure_manage_guild)
"""Manage Server only (used for the moderator role itself)."""
