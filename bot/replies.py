"""The one way the bot speaks: every reply, followup, edit, post and DM is fitted here first.

Discord refuses a message over its limits (2,000 characters of content, embed parts and a 6,000
total), and a refused reply leaves the member with "The application did not respond". So no cog
calls ``send_message``/``send``/``edit`` directly (a test checks the sources): they call
``reply``, ``edit_reply``, ``post`` or ``edit_post``, which cut whatever is too long with an
ellipsis. Lists that can grow with member data are capped with ``capped`` ("and 12 more").
"""

from __future__ import annotations

from typing import Any

import discord

from bot.kernel.lists import capped

__all__ = ["capped", "edit_post", "edit_reply", "fit", "fit_embed", "post", "reply"]

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
FIELDS_LIMIT = 25
EMBED_TOTAL_LIMIT = 6000
ELLIPSIS = "…"


def fit(text: str | None, limit: int = CONTENT_LIMIT) -> str | None:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when something was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Cut an embed's parts to Discord's limits, dropping trailing fields past the total."""
    embed.title = fit(embed.title, TITLE_LIMIT)
    embed.description = fit(embed.description, DESCRIPTION_LIMIT)
    if embed.footer.text:
        embed.set_footer(text=fit(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=fit(embed.author.name, AUTHOR_LIMIT) or "", url=embed.author.url)
    fields = embed.fields[:FIELDS_LIMIT]
    embed.clear_fields()
    for field in fields:
        embed.add_field(
            name=fit(field.name, FIELD_NAME_LIMIT) or "\u200b",
            value=fit(field.value, FIELD_VALUE_LIMIT) or "\u200b",
            inline=bool(field.inline),
        )
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > EMBED_TOTAL_LIMIT and embed.description:
        embed.description = fit(
            embed.description, max(1, len(embed.description) - (len(embed) - EMBED_TOTAL_LIMIT))
        )
    return embed


def _fitted(kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("content") is not None:
        kwargs["content"] = fit(kwargs["content"])
    if kwargs.get("embed") is not None:
        kwargs["embed"] = fit_embed(kwargs["embed"])
    if kwargs.get("embeds"):
        kwargs["embeds"] = [fit_embed(embed) for embed in kwargs["embeds"][:10]]
    return kwargs


async def reply(interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any) -> None:
    """Answer an interaction (ephemeral unless told otherwise), as a followup once answered."""
    kwargs = {
        key: value for key, value in _fitted({"content": content, **kwargs}).items() if value is not None
    }
    kwargs.setdefault("ephemeral", True)
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


async def edit_reply(
    interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any
) -> None:
    """Replace the interaction's answer (after a defer), or the message a component sits on."""
    kwargs = _fitted({"content": content, **kwargs})
    if interaction.response.is_done():
        await interaction.edit_original_response(**kwargs)
    else:
        await interaction.response.edit_message(**kwargs)


async def post(target: discord.abc.Messageable, content: str | None = None, **kwargs: Any) -> discord.Message:
    """Send a message to a channel, thread or member (a DM)."""
    fitted = _fitted({"content": content, **kwargs})
    return await target.send(**{key: value for key, value in fitted.items() if value is not None})


async def edit_post(message: discord.Message | discord.InteractionMessage, **kwargs: Any) -> Any:
    """Edit a message the bot posted earlier."""
    return await message.edit(**_fitted(kwargs))
