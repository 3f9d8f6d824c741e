"""Member-only reads: what one member's review commands need, without reading whole rounds.

``/review status``, ``/review done``, ``/review history`` and the review counts of ``/progress``
touch only the member's own seats (``ix_review_group_members_user_id``), their group's seats and
the reviews given or received by that group's members (``ix_review_completions_reviewer_round``,
``..._reviewee_round``). Their cost does not grow with the size of a round or with the weeks of
history. Like repositories they take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ReviewCompletion, ReviewGroup, ReviewGroupMember, ReviewRound
from bot.reviews.repository import ReviewPair, StoredGroup, seated_groups


async def member_rounds(
    session: AsyncSession, cohort_id: int, user_id: int, *, current_week: int | None = None
) -> list[tuple[ReviewRound, int]]:
    """(round, the member's group id) for each round the member was grouped in, newest first.

    With ``current_week`` only the rounds that can be "current" for them: open, or that week's.
    """
    statement = (
        select(ReviewRound, ReviewGroup.id)
        .join(ReviewGroup, ReviewGroup.round_id == ReviewRound.id)
        .join(ReviewGroupMember, ReviewGroupMember.group_id == ReviewGroup.id)
        .where(ReviewGroupMember.user_id == user_id, ReviewRound.cohort_id == cohort_id)
        .order_by(ReviewRound.week.desc(), ReviewGroup.id)
    )
    if current_week is not None:
        statement = statement.where(ReviewRound.closed_at.is_(None) | (ReviewRound.week == current_week))
    return [(review_round, group_id) for review_round, group_id in await session.execute(statement)]


async def open_member_rounds(
    session: AsyncSession, cohort_id: int, user_id: int
) -> list[tuple[ReviewRound, int]]:
    """The member's groups in the cohort's open rounds, newest round first."""
    statement = (
        select(ReviewRound, ReviewGroup.id)
        .join(ReviewGroup, ReviewGroup.round_id == ReviewRound.id)
        .join(ReviewGroupMember, ReviewGroupMember.group_id == ReviewGroup.id)
        .where(
            ReviewGroupMember.user_id == user_id,
            ReviewRound.cohort_id == cohort_id,
            ReviewRound.closed_at.is_(None),
        )
        .order_by(ReviewRound.week.desc(), ReviewGroup.id)
    )
    return [(review_round, group_id) for review_round, group_id in await session.execute(statement)]


async def groups_by_id(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, StoredGroup]:
    """The given groups with their seats (members sorted; erased seats counted as ``former``)."""
    wanted = list(group_ids)
    if not wanted:
        return {}
    return {group.id: group for group in await seated_groups(session, ReviewGroup.id.in_(wanted))}


async def reviews_touching(
    session: AsyncSession, round_id: int, user_ids: Collection[int]
) -> frozenset[ReviewPair]:
    """The round's (reviewer, reviewee) pairs given or received by these members.

    For a group's members this is every pair ``RoundView.reviewed`` can be asked about for that
    group, a former member's side (None) included.
    """
    if not user_ids:
        return frozenset()
    wanted = list(user_ids)
    pair = (ReviewCompletion.reviewer_id, ReviewCompletion.reviewee_id)
    in_round = ReviewCompletion.round_id == round_id
    statement = union(
        select(*pair).where(in_round, ReviewCompletion.reviewer_id.in_(wanted)),
        select(*pair).where(in_round, ReviewCompletion.reviewee_id.in_(wanted)),
    )
    return frozenset((reviewer, reviewee) for reviewer, reviewee in await session.execute(statement))


async def group_contents(session: AsyncSession, group_id: int) -> tuple[StoredGroup, frozenset[ReviewPair]]:
    """One group and the reviews its members gave or received in its round."""
    group = (await groups_by_id(session, [group_id]))[group_id]
    return group, await reviews_touching(session, group.round_id, group.member_ids)


async def member_completions(
    session: AsyncSession, user_id: int, round_ids: Sequence[int]
) -> list[ReviewCompletion]:
    """The member's reviews given and received in these rounds, oldest first."""
    if not round_ids:
        return []
    found: dict[int, ReviewCompletion] = {}
    for side in (ReviewCompletion.reviewer_id, ReviewCompletion.reviewee_id):
        statement = select(ReviewCompletion).where(side == user_id, ReviewCompletion.round_id.in_(round_ids))
        found.update((completion.id, completion) for completion in await session.scalars(statement))
    return sorted(found.values(), key=lambda completion: (completion.completed_at, completion.id))


async def review_counts(session: AsyncSession, cohort_id: int, user_id: int) -> tuple[int, int]:
    """(reviews the member gave, reviews the member received) in one cohort: two index lookups."""
    given = await session.scalar(_count_in_cohort(cohort_id, ReviewCompletion.reviewer_id == user_id))
    received = await session.scalar(_count_in_cohort(cohort_id, ReviewCompletion.reviewee_id == user_id))
    return int(given or 0), int(received or 0)


def _count_in_cohort(cohort_id: int, side: ColumnElement[bool]) -> Select[Any]:
    return (
        select(func.count(ReviewCompletion.id))
        .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
        .where(side, ReviewRound.cohort_id == cohort_id)
    )
