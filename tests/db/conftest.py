"""A migrated SQLite file in a temp dir, and services over it with a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.container import Services, build_services
from bot.content import RoadmapCatalog
from bot.db.engine import create_engine
from tests.schema import upgrade_unless_current


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest_asyncio.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    # A copy of the session's migrated template (or the emptied migrated PostgreSQL database): at the heads.
    await upgrade_unless_current(engine)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def services(
    settings: Settings,
    engine: AsyncEngine,
    clock: FakeClock,
    catalog_loader: Callable[[Path], RoadmapCatalog],
) -> Services:
    return build_services(settings, engine, catalog_loader(settings.content_dir), clock)


def sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])
