"""Which cohort a command is about, its weekly slots and its current week: one answer each.

Every feature resolves a name, a member's cohort, a slot or "which week is it" through these
functions, inside the caller's own session, so no service has to call another one.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cohorts.repository import CohortRepository, MemberRepository
from bot.content import RoadmapCatalog
from bot.db.models import Cohort
from bot.kernel import slots
from bot.kernel.errors import (
    NoCohortError,
    NotCohortMemberError,
    NotFoundError,
    SeveralCohortsError,
    did_you_mean,
)
from bot.kernel.roadmap import Roadmap
from bot.kernel.text import echo, echo_code


async def cohort_named(session: AsyncSession, guild_id: int, name: str) -> Cohort:
    """Find a cohort by name, or explain what exists instead."""
    cohorts = CohortRepository(session)
    cohort = await cohorts.by_name(guild_id, " ".join(name.split()))
    if cohort is None:
        names = [existing.name for existing in await cohorts.in_guild(guild_id)]
        matches = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = did_you_mean(matches[0] if matches else None)
        raise NotFoundError(f"There is no cohort called **{echo(name)}** in this server.{hint}")
    return cohort


async def member_cohort(
    session: AsyncSession, guild_id: int, user_id: int, cohort_name: str | None
) -> Cohort:
    """The named cohort (which the member must be in), else the member's only cohort."""
    members = MemberRepository(session)
    if cohort_name:
        cohort = await cohort_named(session, guild_id, cohort_name)
        member = await members.get(cohort.id, user_id)
        if member is None or member.left_at is not None:
            raise NotCohortMemberError(user_id, [cohort.name])
        return cohort
    cohorts = await members.active_cohorts_of(guild_id, user_id)
    if not cohorts:
        raise NoCohortError(user_id, [])
    if len(cohorts) > 1:
        raise SeveralCohortsError(user_id, [cohort.name for cohort in cohorts])
    return cohorts[0]


def roadmap_of(catalog: RoadmapCatalog, key: str, guild_id: int) -> Roadmap:
    """The roadmap a cohort of ``guild_id`` follows (shipped or that server's own), or a refusal
    naming the closest key. Another server's roadmaps are never found."""
    roadmap = catalog.get(key, guild_id)
    if roadmap is None:
        raise NotFoundError(
            f"There is no roadmap `{echo_code(key)}`.{did_you_mean(catalog.closest(key, guild_id))}"
            " See `/roadmap list`."
        )
    return roadmap


def prompt_slot(cohort: Cohort) -> slots.WeeklySlot:
    """When the cohort's weekly prompt goes out, in its own timezone."""
    return slots.WeeklySlot(weekday=cohort.weekday, at=cohort.slot_time, timezone=cohort.timezone)


def review_slot(cohort: Cohort) -> slots.WeeklySlot:
    """When the cohort's review round starts: its own slot if set, else the prompt slot."""
    return slots.WeeklySlot(
        weekday=cohort.review_weekday if cohort.review_weekday is not None else cohort.weekday,
        at=cohort.review_time if cohort.review_time is not None else cohort.slot_time,
        timezone=cohort.timezone,
    )


def cohort_week(cohort: Cohort, now: datetime) -> int:
    """The cohort week containing ``now`` in the cohort's timezone (1-based; 0 before the start)."""
    return slots.cohort_week(cohort.start_date, now, cohort.timezone)
