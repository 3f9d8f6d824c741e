"""The /stats snapshot: members per phase, weekly completions, active and stalled members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, roadmap_of
from bot.content import RoadmapCatalog
from bot.db.models import Cohort
from bot.kernel.roadmap import Roadmap
from bot.stats import queries
from bot.stats.rules import (
    ALL_COHORTS_LABEL,
    StatsSnapshot,
    current_phases,
    members_per_phase,
    week_label,
    week_starts,
)

STALLED_AFTER: Final = timedelta(days=14)
STATS_WEEKS: Final = 8


@dataclass(frozen=True, slots=True)
class StatsReport:
    snapshot: StatsSnapshot
    cohort_name: str | None
    completions_in_window: int
    weeks: int
    generated_at: datetime


class StatsService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    async def report(self, guild_id: int, cohort_name: str | None) -> StatsReport:
        """What /stats draws, for one cohort or the whole server.

        - members per phase, by their own progress: a member is in the first phase of their
          roadmap that still has an open checkpoint, or "Finished" (one count per membership);
        - checkpoints completed in each of the last ``STATS_WEEKS`` weeks (Monday to Sunday,
          UTC, the current week last);
        - active members (distinct people in the cohorts), and stalled ones: active members
          with no checkpoint completed in those cohorts in the last 14 days.
        """
        now = self._clock()
        async with self._sessions() as session:
            if cohort_name and cohort_name.strip():
                cohort = await cohort_named(session, guild_id, cohort_name)
                name: str | None = cohort.name
                cohorts: Sequence[Cohort] = [cohort]
            else:
                name, cohorts = None, await CohortRepository(session).in_guild(guild_id)
            roadmaps = [roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id) for cohort in cohorts]
            per_phase = await self._members_per_phase(session, cohorts, roadmaps)
            starts = week_starts(now, STATS_WEEKS)
            ids = [cohort.id for cohort in cohorts]
            weekly = await queries.completions_per_window(
                session, guild_id, ids, [*starts, starts[-1] + timedelta(days=7)]
            )
            active, stalled = await queries.active_and_stalled(session, guild_id, ids, now - STALLED_AFTER)
        label = name or ALL_COHORTS_LABEL
        if name and roadmaps:
            label += f" · {roadmaps[0].title}"
        snapshot = StatsSnapshot(
            cohort_label=label,
            members_per_phase=per_phase,
            weekly_completions=[
                (week_label(start), count) for start, count in zip(starts, weekly, strict=True)
            ],
            stalled_members=stalled,
            active_members=active,
        )
        return StatsReport(snapshot, name, sum(weekly), STATS_WEEKS, now)

    async def _members_per_phase(
        self, session: AsyncSession, cohorts: Sequence[Cohort], roadmaps: Sequence[Roadmap]
    ) -> list[tuple[str, int]]:
        titles: list[str] = []
        current: list[tuple[str | None, int]] = []
        for cohort, roadmap in zip(cohorts, roadmaps, strict=True):
            titles += [phase.title for phase in roadmap.phases]
            for index in await self._current_phases(session, cohort.id, roadmap):
                current.append((None if index is None else roadmap.phases[index].title, 1))
        return members_per_phase(titles, current)

    async def _current_phases(
        self, session: AsyncSession, cohort_id: int, roadmap: Roadmap
    ) -> list[int | None]:
        """Each active member's first phase with an open checkpoint (None: all done)."""
        phase_of_key = roadmap.phase_of_key()
        sizes = roadmap.phase_sizes
        done_by_member: dict[int, list[int]] = {}
        async for batch in queries.stream_phase_counts(session, cohort_id, phase_of_key):
            for user_id, index, count in batch:
                done = done_by_member.setdefault(user_id, [0] * len(sizes))
                if index is not None:
                    done[index] += count
        return current_phases(sizes, done_by_member.values())
