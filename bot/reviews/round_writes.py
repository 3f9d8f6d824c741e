"""Writing a review round's rows in short transactions: the round claimed first, groups in batches.

SQLite has one writer. A 10,000-member round written in one transaction (one flush per group)
held it for seconds and members' ``/checkpoint done`` timed out behind it, so a round is now:

1. claimed: the (cohort, week) row alone, committed at once; a concurrent run that loses the
   race sees the unique key and shows the winner's round instead of pairing twice. The row is
   stored with its announcement claimed by a filling marker (``repository.filling_marker``), so
   nobody announces a round still being filled, and a concurrent run waits for the last batch
   before it shows the round (``ReviewRounds``);
2. filled: ``GROUPS_PER_BATCH`` groups per transaction, two bulk inserts each; the last batch
   releases the announcement claim, which makes the round publishable;
3. on any failure while filling, deleted again (its groups cascade), so a retry pairs afresh.

Closing a round reads its seats and reviews first (no lock), then one short transaction claims the
close and changes the streaks with bulk updates rather than one row at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cohorts.repository import CohortRepository
from bot.db.models import Cohort, ReviewRound
from bot.reviews.claims import RoundClaims, filling_marker
from bot.reviews.pairing import PairingResult
from bot.reviews.repository import ReviewPair, ReviewRepository, StoredGroup
from bot.reviews.rules import MISSED_ROUNDS_LIMIT, REVIEW_WINDOW, without_review_by_group
from bot.reviews.views import AutoSnoozed

log = logging.getLogger(__name__)

# About 10 ms of writing on SQLite per batch: members' commands wait at most that long.
GROUPS_PER_BATCH = 250


async def store_round(
    sessions: async_sessionmaker[AsyncSession],
    cohort: Cohort,
    week: int,
    seed: int,
    now: datetime,
    result: PairingResult,
) -> int | None:
    """Save the week's round with its groups (a lone member as a group of one); its id, or None
    when another run claimed the week first."""
    groups = [tuple(group) for group in result.groups] + [(lone,) for lone in result.unpaired]
    try:
        async with sessions.begin() as session:
            review_round = ReviewRound(
                guild_id=cohort.guild_id,
                cohort_id=cohort.id,
                week=week,
                seed=seed,
                created_at=now,
                due_at=now + REVIEW_WINDOW,
                announcement_message_id=filling_marker(int(now.timestamp())),
            )
            session.add(review_round)
            await session.flush()
            round_id = review_round.id
    except IntegrityError:
        return None
    try:
        for start in range(0, max(len(groups), 1), GROUPS_PER_BATCH):
            async with sessions.begin() as session:
                repository = ReviewRepository(session)
                await repository.add_groups(
                    cohort.guild_id, round_id, groups[start : start + GROUPS_PER_BATCH]
                )
                if start + GROUPS_PER_BATCH >= len(groups):
                    await RoundClaims(repository.session).release_announcement(round_id)
    except Exception:
        async with sessions.begin() as session:
            await ReviewRepository(session).delete_round(round_id)
        raise
    return round_id


async def close_round(
    sessions: async_sessionmaker[AsyncSession], round_id: int, now: datetime
) -> list[AutoSnoozed]:
    """Close a round once (a claimed row) and update the streaks of its paired members.

    The round's seats and reviews are read, and the streak changes worked out, before the writing
    transaction starts, so the writer is held only for the claim and the bulk updates. A review
    recorded in between is noticed by its count, and the changes are then worked out again inside
    the transaction.
    """
    async with sessions() as session:
        repository = ReviewRepository(session)
        review_round = await repository.round_by_id(round_id)
        if review_round is None or review_round.closed_at is not None:
            return []
        cohort = await CohortRepository(session).by_id(review_round.cohort_id)
        assert cohort is not None  # rounds are deleted with their cohort
        seen = await repository.completion_count(round_id)
        reviewed, missed = _streak_changes(*await repository.round_contents(round_id))
    async with sessions.begin() as session:
        repository = ReviewRepository(session)
        if not await RoundClaims(repository.session).claim_close(round_id, now):
            return []
        if await repository.completion_count(round_id) != seen:
            reviewed, missed = _streak_changes(*await repository.round_contents(round_id))
        await repository.update_streaks(cohort.id, reviewed, missed)
        snoozed_ids = await repository.snooze_for_misses(cohort.id, missed, MISSED_ROUNDS_LIMIT)
    log.info(
        "cohort=%s week=%s closed: %d of %d members recorded no review",
        cohort.id,
        review_round.week,
        len(missed),
        len(missed) + len(reviewed),
    )
    return [AutoSnoozed(cohort.guild_id, cohort.id, cohort.name, user_id) for user_id in snoozed_ids]


def _streak_changes(
    groups: Sequence[StoredGroup], reviews: Collection[ReviewPair]
) -> tuple[list[int], list[int]]:
    """(members who recorded a review, members who missed) among the round's paired members."""
    paired = [group for group in groups if len(group.member_ids) + group.former >= 2]
    missing = without_review_by_group([(group.member_ids, group.former) for group in paired], reviews)
    missed = sorted({user_id for members in missing for user_id in members})
    missed_set = set(missed)
    reviewed = [user_id for group in paired for user_id in group.member_ids if user_id not in missed_set]
    return reviewed, missed
