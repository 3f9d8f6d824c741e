"""What other features call inside their own transaction: keep scores in step, read streak weeks.

``refresh`` is called by ``ProgressService.complete`` / ``undo`` and ``ReviewService.record_done``
after they wrote the raw row, in the same session: the member's rows for the periods the event
falls in are recounted exactly from the raw rows (one member, one cohort, three periods), so an
undo removes exactly its point and the counters never drift from a recount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Cohort
from bot.momentum import rules
from bot.momentum.repository import MomentumRepository

# How many weeks back the weekly prompt looks for streaks (longer runs are shown as this long).
HIGHLIGHT_HORIZON = 52


@dataclass(frozen=True, slots=True)
class StreakHighlight:
    user_id: int
    name: str  # the display name stored at enrolment (the post is made without an interaction)
    weeks: int


async def refresh(session: AsyncSession, cohort: Cohort, user_id: int, moments: Iterable[datetime]) -> None:
    """Recount the member's scores for every period one of ``moments`` falls in."""
    keys = sorted({key for at in moments for key in rules.periods_of(cohort.start_date, cohort.timezone, at)})
    if not keys:
        return
    repository = MomentumRepository(session)
    await session.flush()  # the raw row this refresh counts
    await repository.lock_member(cohort.id, user_id)
    periods = [(key, *rules.bounds(key, cohort.start_date, cohort.timezone)) for key in keys]
    recounts = await repository.recount(cohort.id, user_id, periods)
    await repository.store(cohort.guild_id, cohort.id, user_id, recounts)


async def active_weeks(session: AsyncSession, cohort_id: int, user_ids: Sequence[int]) -> dict[int, set[int]]:
    """Each member's active cohort weeks (a checkpoint or a review given), for streaks."""
    return await MomentumRepository(session).active_weeks(cohort_id, user_ids)


async def notable_streaks(session: AsyncSession, cohort: Cohort, week: int) -> list[StreakHighlight]:
    """Listed members on a notable current streak in ``week`` (the post's week), longest first."""
    if week < 2:
        return []
    since = max(1, week - HIGHLIGHT_HORIZON)
    candidates = await MomentumRepository(session).streak_candidates(cohort.guild_id, cohort.id, week, since)
    names = {user_id: name for user_id, name, _ in candidates}
    streaks = [(user_id, rules.current_streak(weeks, week)) for user_id, _, weeks in candidates]
    return [
        StreakHighlight(user_id, names[user_id], weeks) for user_id, weeks in rules.notable_streaks(streaks)
    ]


async def forget(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Called by an erasure before it deletes the member's scores: the buckets let go of them."""
    await MomentumRepository(session).forget(guild_id, user_id)
