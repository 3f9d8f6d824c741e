"""What the pairing process does for a large round: read the week's history over its own
connection, then pair, so neither the rows nor the search run on the bot's event loop.

At 10,000 members the history is ~60,000 per-phase counts (from 600,000 checkpoint rows) and
130,000 past meetings. Turned into Python objects on the bot's loop, those rows made every
member's command wait a few milliseconds per statement while the round ran; here they cost the
bot nothing but the round's result.
"""

from __future__ import annotations

import asyncio
import dataclasses
from array import array
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import create_engine
from bot.reviews.pairing import PackedWeek, PairingResult, pair_packed_week
from bot.reviews.repository import ReviewRepository
from bot.reviews.rules import phase_index_from_sizes


@dataclasses.dataclass(frozen=True, slots=True)
class LargeWeek:
    """A week to pair in the worker: where to read its history, and the week's candidates
    (``candidates.phases`` and ``candidates.meetings`` are filled in there)."""

    database_url: str
    cohort_id: int
    week: int
    seed: int
    phase_of_key: Mapping[str, int]
    phase_sizes: tuple[int, ...]
    candidates: PackedWeek


def warm_up() -> None:
    """Submitted when the process starts: unpickling a call to it imports this module (the
    database drivers included) there while the bot closes last week's round."""


def read_and_pair(job: LargeWeek) -> PairingResult:
    """Runs in the worker process (picklable in and out)."""
    done, meetings = asyncio.run(_history(job))
    phases = array(
        "q",
        [
            phase_index_from_sizes(job.phase_sizes, done.get(user_id, {}))
            for user_id in job.candidates.user_ids
        ],
    )
    week = dataclasses.replace(job.candidates, phases=phases, meetings=meetings)
    return pair_packed_week(week, job.week, job.seed)


async def _history(job: LargeWeek) -> tuple[dict[int, dict[int, int]], array[int]]:
    engine = create_engine(job.database_url)
    try:
        async with AsyncSession(engine) as session:
            repository = ReviewRepository(session)
            done = await repository.phase_counts(job.cohort_id, job.phase_of_key)
            meetings = await repository.past_meetings(job.cohort_id, job.week)
            return done, meetings
    finally:
        await engine.dispose()
