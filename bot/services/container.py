"""The composition of services: built once per bot in ``setup_hook`` and handed to each cog."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.content import RoadmapCatalog
from bot.db.engine import create_sessionmaker
from bot.services.cohorts import CohortService
from bot.services.guild_config import GuildConfigService
from bot.services.progress import ProgressService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    catalog: RoadmapCatalog
    sessions: async_sessionmaker[AsyncSession]
    cohorts: CohortService
    progress: ProgressService
    guild_config: GuildConfigService


def build_services(
    settings: Settings, engine: AsyncEngine, catalog: RoadmapCatalog, clock: Clock
) -> Services:
    sessions = create_sessionmaker(engine)
    cohorts = CohortService(sessions, catalog, clock, settings.default_timezone)
    return Services(
        settings=settings,
        clock=clock,
        catalog=catalog,
        sessions=sessions,
        cohorts=cohorts,
        progress=ProgressService(sessions, cohorts, clock),
        guild_config=GuildConfigService(sessions, clock),
    )
