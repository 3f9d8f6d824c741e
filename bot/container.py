"""The composition of services: built once per bot in ``setup_hook`` and handed to each cog."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.service import CohortService
from bot.cohorts.settings import GuildConfigService
from bot.config import Settings
from bot.content import RoadmapCatalog
from bot.db.engine import create_sessionmaker
from bot.exports.service import ExportService
from bot.milestones.service import MilestoneService
from bot.momentum.service import MomentumService
from bot.privacy.service import PrivacyService
from bot.progress.service import ProgressService
from bot.prompts.service import PromptService
from bot.reminders.service import ReminderService
from bot.reviews.rounds import ReviewRounds
from bot.reviews.schedule import ReviewSchedule
from bot.reviews.service import ReviewService
from bot.roadmaps.service import RoadmapService
from bot.stats.service import StatsService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    catalog: RoadmapCatalog
    sessions: async_sessionmaker[AsyncSession]
    cohorts: CohortService
    progress: ProgressService
    guild_config: GuildConfigService
    prompts: PromptService
    exports: ExportService
    stats: StatsService
    privacy: PrivacyService
    reviews: ReviewService
    review_rounds: ReviewRounds
    review_schedule: ReviewSchedule
    reminders: ReminderService
    milestones: MilestoneService
    roadmaps: RoadmapService
    momentum: MomentumService


def build_services(
    settings: Settings, engine: AsyncEngine, catalog: RoadmapCatalog, clock: Clock
) -> Services:
    sessions = create_sessionmaker(engine)
    catalog = catalog.with_own_servers()  # this bot's servers' own roadmaps are its alone
    cohorts = CohortService(sessions, catalog, clock, settings.default_timezone)
    progress = ProgressService(sessions, catalog, clock)
    return Services(
        settings=settings,
        clock=clock,
        catalog=catalog,
        sessions=sessions,
        cohorts=cohorts,
        progress=progress,
        guild_config=GuildConfigService(sessions, clock),
        prompts=PromptService(sessions, catalog, clock, settings.prompt_grace),
        exports=ExportService(sessions, catalog, clock),
        stats=StatsService(sessions, catalog, clock),
        privacy=PrivacyService(sessions, clock, catalog),
        reviews=ReviewService(sessions, clock),
        review_rounds=ReviewRounds(sessions, catalog, clock, settings.database_url),
        review_schedule=ReviewSchedule(sessions, clock),
        reminders=ReminderService(sessions, catalog, clock),
        milestones=MilestoneService(sessions, catalog, clock),
        roadmaps=RoadmapService(sessions, catalog, clock),
        momentum=MomentumService(sessions, clock),
    )
