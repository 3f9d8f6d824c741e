"""What every part of the prompts service shares: its dependencies and how a week's post is gathered.

``PromptService`` is assembled from the parts in ``posting``, ``catch_up`` and ``moderation``; each
part reads cohorts through ``bot.cohorts.resolve`` in its own session, never through another service.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.resolve import prompt_slot
from bot.content import RoadmapCatalog
from bot.db.models import Cohort
from bot.kernel.errors import ConflictError
from bot.kernel.roadmap import Roadmap
from bot.kernel.text import echo
from bot.momentum import tally
from bot.prompts import rules
from bot.prompts.repository import CustomPromptRepository, PromptCohortRepository
from bot.prompts.rules import PromptContent


def require_calendar(cohort: Cohort, roadmap: Roadmap) -> None:
    """Refuse, in one sentence, a cohort whose start date leaves no weeks to compute prompts for."""
    if not rules.calendar_fits(cohort.start_date, roadmap):
        raise ConflictError(
            f"**{echo(cohort.name)}** starts on {cohort.start_date.isoformat()}, a date I can't "
            "schedule weekly prompts around, so none are posted for it. "
            "Create a new cohort with a real start date."
        )


def slot_instant(cohort: Cohort, week: int) -> datetime:
    """When the cohort's slot falls in ``week``: the instant that week's post belongs to."""
    return rules.slot_in_week(prompt_slot(cohort), cohort.start_date, week)


async def compose_week(
    session: AsyncSession, cohort: Cohort, roadmap: Roadmap, week: int, now: datetime
) -> PromptContent:
    """Gather the week's custom text and activity numbers, then let the rules compose."""
    custom = await CustomPromptRepository(session).get(cohort.id, week)
    counts = PromptCohortRepository(session)
    members = await counts.member_count(cohort.id)
    # "Last week" is the seven days before the post; a preview of a later week counts up to now.
    reference = min(now, slot_instant(cohort, week))
    completers = await counts.completers_between(cohort.id, reference - timedelta(days=7), reference)
    streaks = await tally.notable_streaks(session, cohort, week)  # hidden members are left out
    return rules.compose_prompt(
        roadmap=roadmap,
        cohort_name=cohort.name,
        start=cohort.start_date,
        week=week,
        custom_text=custom.text if custom else None,
        completers_last_week=completers,
        member_count=members,
        streaks=tuple((streak.name, streak.weeks) for streak in streaks),
    )


class PromptUseCases:
    """Sessions, roadmaps, clock and grace: the dependencies every prompts use case needs."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: RoadmapCatalog,
        clock: Clock,
        grace: timedelta,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock
        self._grace = grace
