"""Peer code review: the ``/review`` commands (``cog``), the weekly and hourly jobs (``jobs``) and
every text they send (``render``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.review.cog import ReviewCog
from cogs.review.jobs import ReviewJobs

if TYPE_CHECKING:
    from bot.app import WaypointBot


async def setup(bot: WaypointBot) -> None:
    services = bot.services
    jobs = ReviewJobs(bot, services.reviews, services.review_rounds, services.review_schedule)
    await bot.add_cog(jobs)
    await bot.add_cog(ReviewCog(services.reviews, services.review_rounds, services.review_schedule, jobs))
