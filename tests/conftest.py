"""Shared fixtures: settings over a temp SQLite file, and the real bot for SimCord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import WaypointBot, create_bot
from bot.config import Settings


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "waypoint.sqlite3"


@pytest.fixture
def settings(database_path: Path) -> Settings:
    return Settings(
        discord_token="test-token",
        database_url=f"sqlite+aiosqlite:///{database_path}",
        _env_file=None,  # a developer's .env must not leak into tests
    )


@pytest_asyncio.fixture
async def make_bot(settings: Settings) -> AsyncIterator[Callable[..., WaypointBot]]:
    """Builds bots as separate processes would, and closes them all (scheduler, engine) at the end."""
    built: list[WaypointBot] = []

    def factory(**overrides: object) -> WaypointBot:
        bot = create_bot(settings.model_copy(update=overrides) if overrides else settings)
        built.append(bot)
        return bot

    yield factory
    for bot in built:
        await bot.close()


@pytest.fixture
def simcord_bot(make_bot: Callable[..., WaypointBot]) -> WaypointBot:
    return make_bot()
