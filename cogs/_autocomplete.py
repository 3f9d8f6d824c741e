"""Autocomplete callbacks: titles shown, keys returned, for every key a user must type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from discord import app_commands

from bot.kernel import slots

if TYPE_CHECKING:
    import discord

    from bot.app import WaypointBot

WEEKDAY_CHOICES = (
    ("Monday", "mon"),
    ("Tuesday", "tue"),
    ("Wednesday", "wed"),
    ("Thursday", "thu"),
    ("Friday", "fri"),
    ("Saturday", "sat"),
    ("Sunday", "sun"),
)
_TIMEZONES = slots.timezone_names()


async def roadmap_keys(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    bot: WaypointBot = interaction.client
    return [
        app_commands.Choice(name=f"{roadmap.title} ({roadmap.key})"[:100], value=roadmap.key)
        for roadmap in bot.services.catalog.search(current, guild_id=interaction.guild_id)
    ][:25]


async def phase_numbers(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """The phases of the roadmap typed in the ``roadmap`` option, by number."""
    bot: WaypointBot = interaction.client
    roadmap_key = getattr(interaction.namespace, "roadmap", None)
    if not isinstance(roadmap_key, str):
        return []
    roadmap = bot.services.catalog.get(roadmap_key.strip().lower(), interaction.guild_id)
    if roadmap is None:
        return []
    needle = str(current).strip().casefold()
    return [
        app_commands.Choice(name=f"{number} · {phase.title}"[:100], value=number)
        for number, phase in enumerate(roadmap.phases, start=1)
        if not needle or needle in str(number) or needle in phase.title.casefold()
    ][:25]


async def cohort_names(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    bot: WaypointBot = interaction.client
    if interaction.guild_id is None:
        return []
    names = await bot.services.cohorts.search(interaction.guild_id, current)
    return [app_commands.Choice(name=name, value=name) for name in names]


async def checkpoint_keys(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    bot: WaypointBot = interaction.client
    if interaction.guild_id is None:
        return []
    cohort = getattr(interaction.namespace, "cohort", None)
    choices = await bot.services.progress.checkpoint_choices(
        interaction.guild_id, interaction.user.id, cohort if isinstance(cohort, str) else None, current
    )
    return [app_commands.Choice(name=f"{title} ({key})"[:100], value=key) for title, key in choices]


async def weekdays(_interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    needle = current.casefold()
    return [
        app_commands.Choice(name=name, value=value)
        for name, value in WEEKDAY_CHOICES
        if name.casefold().startswith(needle) or value.startswith(needle)
    ]


async def timezones(_interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    needle = current.casefold().replace(" ", "_")
    matches = [zone for zone in _TIMEZONES if needle in zone.casefold()]
    return [app_commands.Choice(name=zone, value=zone) for zone in matches[:25]]


async def server_roadmap_keys(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Only this server's own roadmaps (what `/roadmap remove` can take)."""
    bot: WaypointBot = interaction.client
    if interaction.guild_id is None:
        return []
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=f"{own.roadmap.title} ({own.roadmap.key})"[:100], value=own.roadmap.key)
        for own in bot.services.catalog.server_roadmaps(interaction.guild_id)
        if needle in own.roadmap.key or needle in own.roadmap.title.lower()
    ][:25]
