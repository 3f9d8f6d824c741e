"""A question only one member can answer: Confirm or Cancel within a time limit.

The pattern of ``/privacy forget-me``, for any command that must ask before it changes something:
only ``owner_id`` may press, the first answer wins (a second press is told it was answered), and
a timeout disables the buttons and changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

import discord

from bot.replies import edit_post, edit_reply, reply

ALREADY_ANSWERED: Final = "That question was already answered; nothing more was done."
CONFIRM_TIMEOUT_SECONDS: Final = 60.0

OnConfirm = Callable[[discord.Interaction[Any]], Awaitable[str]]


class ConfirmView(discord.ui.View):
    """``on_confirm`` does the change and returns what the message says afterwards."""

    def __init__(
        self,
        owner_id: int,
        on_confirm: OnConfirm,
        *,
        not_owner: str,
        cancelled: str,
        timed_out: str,
        confirm_label: str = "Confirm",
        confirm_style: discord.ButtonStyle = discord.ButtonStyle.primary,
        timeout: float = CONFIRM_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(timeout=timeout)
        self._owner_id = owner_id
        self._on_confirm = on_confirm
        self._not_owner = not_owner
        self._cancelled = cancelled
        self._timed_out = timed_out
        self._answered = False
        self.confirm.label = confirm_label
        self.confirm.style = confirm_style
        self.message: discord.InteractionMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._owner_id:
            await reply(interaction, self._not_owner)
            return False
        return True

    def _first_answer(self) -> bool:
        if self._answered:
            return False
        self._answered = True
        self.stop()
        return True

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.primary)
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        if not self._first_answer():
            await reply(interaction, ALREADY_ANSWERED)
            return
        await edit_reply(interaction, await self._on_confirm(interaction), embed=None, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        if not self._first_answer():
            await reply(interaction, ALREADY_ANSWERED)
            return
        await edit_reply(interaction, self._cancelled, embed=None, view=None)

    async def on_timeout(self) -> None:
        if self._answered or self.message is None:
            return
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        with contextlib.suppress(discord.HTTPException):  # the message may be gone already
            await edit_post(self.message, content=self._timed_out, embed=None, view=self)
