"""Rendering helpers shared by cogs: Discord-sized pages, progress bars, a pager view."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import discord

from bot.replies import edit_post, edit_reply, reply

# Discord refuses longer option values in its own client, before the bot sees them. The bot
# still answers anything up to these lengths with its own sentence (a name can be 50 long).
NAME_OPTION_MAX = 100
KEY_OPTION_MAX = 100
SHORT_OPTION_MAX = 40
NOTE_OPTION_MAX = 1000
LINK_OPTION_MAX = 600

EMBED_DESCRIPTION_LIMIT = 4096
PAGE_BUDGET = 3800  # leaves room for the title and footer inside the 6000-character embed limit
BRAND_COLOUR = discord.Colour(0x3BA55D)
ERROR_COLOUR = discord.Colour(0xED4245)


def shown(text: str) -> str:
    """Member-written text as the bot shows it: no markdown, links or mentions it did not intend."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text), as_needed=False)


def bar(fraction: float, width: int = 12) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def chunk_lines(lines: Iterable[str], limit: int = PAGE_BUDGET) -> list[str]:
    """Pack lines into pages under ``limit`` characters, splitting a too-long line as a last resort."""
    pages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                pages.append(current)
                current = ""
            pages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pages.append(current)
            current = line
        else:
            current = candidate
    if current or not pages:
        pages.append(current)
    return pages


def paged_embeds(
    title: str, lines: Sequence[str], *, colour: discord.Colour = BRAND_COLOUR
) -> list[discord.Embed]:
    pages = chunk_lines(lines)
    embeds = []
    for number, page in enumerate(pages, start=1):
        embed = discord.Embed(title=title[:256], description=page, colour=colour)
        if len(pages) > 1:
            embed.set_footer(text=f"Page {number}/{len(pages)}")
        embeds.append(embed)
    return embeds


def subject_of(
    interaction: discord.Interaction[Any], member: discord.Member | None
) -> tuple[discord.Member | discord.User, str]:
    """Whom a "[member]" option is about, and how replies name them ("You" for the caller)."""
    subject = member or interaction.user
    return subject, "You" if subject.id == interaction.user.id else subject.display_name


def timestamp(moment: Any, style: str = "F") -> str:
    """A Discord timestamp, shown in each reader's own timezone."""
    return discord.utils.format_dt(moment, style=style)  # type: ignore[arg-type]


class Pager(discord.ui.View):
    """Previous/next buttons over a list of embeds; only the person who asked can turn pages."""

    def __init__(self, embeds: Sequence[discord.Embed], owner_id: int, *, timeout: float = 300) -> None:
        super().__init__(timeout=timeout)
        self._embeds = list(embeds)
        self._owner_id = owner_id
        self._index = 0
        self.message: discord.InteractionMessage | None = None
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self._index == 0
        self.next.disabled = self._index >= len(self._embeds) - 1

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._owner_id:
            await reply(
                interaction, "These pages belong to someone else; run the command yourself to browse."
            )
            return False
        return True

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self._index = max(0, self._index - 1)
        self._sync_buttons()
        await edit_reply(interaction, embed=self._embeds[self._index], view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self._index = min(len(self._embeds) - 1, self._index + 1)
        self._sync_buttons()
        await edit_reply(interaction, embed=self._embeds[self._index], view=self)

    async def on_timeout(self) -> None:
        if self.message is not None:
            for item in self.children:
                if isinstance(item, discord.ui.Button):
                    item.disabled = True
            with contextlib.suppress(discord.HTTPException):  # the message may be gone already
                await edit_post(self.message, view=self)


async def send_pages(
    interaction: discord.Interaction[Any], embeds: Sequence[discord.Embed], *, ephemeral: bool = False
) -> None:
    """Send one embed, or the first page with a pager when there are several."""
    if len(embeds) == 1:
        await reply(interaction, embed=embeds[0], ephemeral=ephemeral)
        return
    view = Pager(embeds, interaction.user.id)
    await reply(interaction, embed=embeds[0], view=view, ephemeral=ephemeral)
    view.message = await interaction.original_response()
