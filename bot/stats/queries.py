"""The reads behind /stats: members per phase, completions per week, active and stalled members."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from itertools import pairwise

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CheckpointCompletion, CohortMember
from bot.db.rows import stream


async def stream_phase_counts(
    session: AsyncSession, cohort_id: int, phase_of_key: Mapping[str, int]
) -> AsyncIterator[list[tuple[int, int | None, int]]]:
    """(user id, phase index, checkpoints done in it) for each active member, by user id.

    A member with no completions gives one row with a NULL phase and a zero count.
    """
    phase_index = case(
        *[
            (CheckpointCompletion.checkpoint_key == key, literal(index))
            for key, index in phase_of_key.items()
        ],
        else_=None,
    ).label("phase_index")
    statement = (
        select(CohortMember.user_id, phase_index, func.count(CheckpointCompletion.id))
        .outerjoin(
            CheckpointCompletion,
            and_(
                CheckpointCompletion.cohort_id == CohortMember.cohort_id,
                CheckpointCompletion.user_id == CohortMember.user_id,
            ),
        )
        .where(CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None))
        .group_by(CohortMember.user_id, phase_index)
        .order_by(CohortMember.user_id)
    )
    async for partition in stream(session, statement):
        yield [(user_id, index, count) for user_id, index, count in partition]


async def completions_per_window(
    session: AsyncSession, guild_id: int, cohort_ids: Sequence[int], bounds: Sequence[datetime]
) -> list[int]:
    """Checkpoints completed in each window ``[bounds[i], bounds[i + 1])``, in one query."""
    if len(bounds) < 2 or not cohort_ids:
        return [0] * max(len(bounds) - 1, 0)
    at = CheckpointCompletion.completed_at
    counts = [
        func.coalesce(func.sum(case((and_(at >= start, at < end), 1), else_=0)), 0)
        for start, end in pairwise(bounds)
    ]
    statement = select(*counts).where(
        CheckpointCompletion.guild_id == guild_id,
        CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
        at >= bounds[0],
        at < bounds[-1],
    )
    row = (await session.execute(statement)).one()
    return [int(value) for value in row]


async def active_and_stalled(
    session: AsyncSession, guild_id: int, cohort_ids: Sequence[int], since: datetime
) -> tuple[int, int]:
    """Distinct active members of the cohorts, and those with no completion there since ``since``."""
    if not cohort_ids:
        return 0, 0
    in_scope = and_(
        CohortMember.guild_id == guild_id,
        CohortMember.cohort_id.in_(list(cohort_ids)),
        CohortMember.left_at.is_(None),
    )
    recent = exists().where(
        CheckpointCompletion.guild_id == guild_id,
        CheckpointCompletion.user_id == CohortMember.user_id,
        CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
        CheckpointCompletion.completed_at >= since,
    )
    active = await session.scalar(select(func.count(func.distinct(CohortMember.user_id))).where(in_scope))
    stalled = await session.scalar(
        select(func.count(func.distinct(CohortMember.user_id))).where(in_scope, ~recent)
    )
    return int(active or 0), int(stalled or 0)
