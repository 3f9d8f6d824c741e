"""Score counters on a real database: always equal to a recount from the raw rows.

The property runs random sequences of checkpoints done and undone, reviews given and erasures
through the real services, with the clock crossing weeks, months and New York's spring change,
and compares every counter row with ``bot.momentum.rules.tally`` over the raw rows afterwards.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.engine import alembic_config
from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    MemberTally,
    ReviewCompletion,
    ReviewRound,
    TallyBucket,
)
from bot.kernel.errors import DomainError
from bot.momentum import rules
from bot.momentum.rules import PeriodKind
from tests.db.conftest import FakeClock

GUILD, OTHER_GUILD = 1001, 2002
MOD = 1
MEMBERS = (11, 12, 13, 14)
NEW_YORK = "America/New_York"
KEYS = (
    "python-oop-async",
    "crud-api",
    "postgres-queries-indexing",
    "aws-free-tier-deploy",
    "api-authentication",
    "dockerize-app",
)
Counters = dict[tuple[int, str, int], tuple[int, int, int, datetime]]


def everyone(_guild_id: int, _user_id: int = 0) -> bool:
    return True


async def _cohort(services: Services, guild_id: int = GUILD, start: str = "2026-03-02") -> None:
    await services.cohorts.create(
        guild_id=guild_id,
        actor_id=MOD,
        name="Spring",
        roadmap_key="python-europe",
        channel_id=555,
        start=start,
        timezone=NEW_YORK,
        weekday="mon",
        at="18:00",
    )


async def stored(services: Services) -> Counters:
    async with services.sessions() as session:
        found = (await session.scalars(select(MemberTally))).all()
    return {
        (row.user_id, row.kind, row.period): (row.checkpoints, row.reviews, row.points, row.reached_at)
        for row in found
    }


async def recounted(services: Services) -> Counters:
    """The counters as the raw rows say they should be."""
    async with services.sessions() as session:
        cohorts = {cohort.id: cohort for cohort in (await session.scalars(select(Cohort))).all()}
        done: dict[tuple[int, int], list[datetime]] = defaultdict(list)
        given: dict[tuple[int, int], list[datetime]] = defaultdict(list)
        for completion in (await session.scalars(select(CheckpointCompletion))).all():
            done[(completion.cohort_id, completion.user_id)].append(completion.completed_at)
        reviews = await session.execute(
            select(ReviewRound.cohort_id, ReviewCompletion.reviewer_id, ReviewCompletion.completed_at).join(
                ReviewRound, ReviewRound.id == ReviewCompletion.round_id
            )
        )
        for cohort_id, reviewer_id, at in reviews:
            if reviewer_id is not None:
                given[(cohort_id, reviewer_id)].append(at)
    found: Counters = {}
    for cohort_id, user_id in done.keys() | given.keys():
        cohort = cohorts[cohort_id]
        scores = rules.tally(
            cohort.start_date, cohort.timezone, done[(cohort_id, user_id)], given[(cohort_id, user_id)]
        )
        for key, score in scores.items():
            found[(user_id, key.kind.value, key.period)] = (
                score.checkpoints,
                score.reviews,
                score.points,
                score.reached_at,
            )
    return found


async def buckets_match(services: Services) -> bool:
    """The point buckets say how many rows have each score, as the rows themselves do."""
    async with services.sessions() as session:
        buckets = {
            (row.cohort_id, row.kind, row.period, row.points): row.members
            for row in (await session.scalars(select(TallyBucket))).all()
            if row.members
        }
        rows = (await session.scalars(select(MemberTally))).all()
    counted = Counter((row.cohort_id, row.kind, row.period, row.points) for row in rows)
    return buckets == dict(counted)


@pytest.mark.parametrize("seed", range(4))
async def test_counters_equal_a_recount_after_random_sequences(
    services: Services, clock: FakeClock, seed: int
) -> None:
    rng = random.Random(seed)
    await _cohort(services)
    for user_id in MEMBERS:
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
        await services.reviews.join(GUILD, user_id, "Spring")
    for _ in range(45):
        clock.advance(hours=rng.choice((0.5, 3, 11, 26, 50)))
        user_id = rng.choice(MEMBERS)
        action = rng.choices(("done", "undo", "review", "forget"), weights=(6, 3, 3, 0.3))[0]
        try:
            if action == "done":
                await services.progress.complete(GUILD, user_id, rng.choice(KEYS))
            elif action == "undo":
                await services.progress.undo(GUILD, user_id, rng.choice(KEYS))
            elif action == "review":
                outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
                group = next(g for g in outcome.round.groups if user_id in g.member_ids)
                partners = [member for member in group.member_ids if member != user_id]
                if partners:
                    await services.reviews.record_done(GUILD, user_id, rng.choice(partners))
            else:
                await services.privacy.forget_me(GUILD, user_id)
                await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
                await services.reviews.join(GUILD, user_id, "Spring")
        except (DomainError, StopIteration):
            pass  # not in a round this week, already closed, left: refused, nothing written
    expected = await recounted(services)
    assert expected, "the sequence wrote nothing"
    assert any(value[1] for value in expected.values()), "the sequence gave no review"
    assert await stored(services) == expected
    assert await buckets_match(services)


async def test_an_undo_recounts_the_periods_of_the_completion_it_removes(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", 11, "alice")
    await services.progress.complete(GUILD, 11, KEYS[0])  # week 1, March
    clock.now = datetime(2026, 4, 2, 12, tzinfo=UTC)  # week 5, April
    await services.progress.complete(GUILD, 11, KEYS[1])
    await services.progress.undo(GUILD, 11, KEYS[0])

    counters = await stored(services)
    assert (11, "week", 1) not in counters and (11, "month", 202603) not in counters
    assert counters[(11, "all", 0)][:3] == (1, 0, 1)
    assert counters[(11, "month", 202604)][3] == datetime(2026, 4, 2, 12, tzinfo=UTC)


async def test_a_bucket_never_counts_fewer_than_nobody(services: Services) -> None:
    """A member leaving a point bucket that lost its row (a hand-edited database) leaves no
    bucket below zero, and the next member who reaches those points is counted from one."""
    await _cohort(services)
    for user_id in (11, 12):
        await services.cohorts.join(GUILD, "Spring", user_id, f"member {user_id}")
    await services.progress.complete(GUILD, 11, KEYS[0])
    async with services.sessions.begin() as session:
        await session.execute(text("DELETE FROM tally_buckets"))
    await services.progress.undo(GUILD, 11, KEYS[0])
    await services.progress.complete(GUILD, 12, KEYS[0])
    async with services.sessions() as session:
        buckets = (
            await session.execute(select(TallyBucket.kind, TallyBucket.points, TallyBucket.members))
        ).all()
    assert sorted(tuple(bucket) for bucket in buckets) == [("all", 1, 1), ("month", 1, 1), ("week", 1, 1)]


async def test_ranks_are_counted_inside_one_cohort_and_skip_hidden_and_departed_members(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _cohort(services, OTHER_GUILD)
    for user_id in MEMBERS:
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
        await services.cohorts.join(OTHER_GUILD, "Spring", user_id, f"user{user_id}")
    for points, user_id in enumerate(MEMBERS, start=1):  # 11 has 1 point ... 14 has 4
        for key in KEYS[:points]:
            await services.progress.complete(GUILD, user_id, key)
            clock.advance(minutes=1)
    await services.progress.complete(OTHER_GUILD, 11, KEYS[0])

    board = await services.momentum.leaderboard(GUILD, 11, None, PeriodKind.ALL)
    assert [entry.user_id for entry in board.entries] == [14, 13, 12, 11]
    assert (board.me.rank, board.listed) == (4, 4)
    await services.momentum.set_visibility(GUILD, 13, True)
    await services.cohorts.leave(GUILD, "Spring", 14)
    board = await services.momentum.leaderboard(GUILD, 11, None, PeriodKind.ALL)
    assert [entry.user_id for entry in board.entries] == [12, 11]
    assert (board.me.rank, board.listed) == (2, 2)
    other = await services.momentum.leaderboard(OTHER_GUILD, 11, None, PeriodKind.ALL)
    assert [entry.user_id for entry in other.entries] == [11] and other.me.rank == 1


async def test_the_upgrade_backfills_counters_from_existing_rows(
    services: Services, engine: AsyncEngine, clock: FakeClock
) -> None:
    await _cohort(services)
    for user_id in MEMBERS[:3]:
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
        await services.reviews.join(GUILD, user_id, "Spring")
    for week in range(3):
        for number, user_id in enumerate(MEMBERS[:3]):
            if (week + number) % 2 == 0:
                await services.progress.complete(GUILD, user_id, KEYS[week])
        clock.advance(days=7)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    group = next(group for group in outcome.round.groups if len(group.member_ids) > 1)
    await services.reviews.record_done(GUILD, group.member_ids[0], group.member_ids[1])
    before = await stored(services)

    async with engine.begin() as connection:  # back to before the counters, then up again
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0006-1"))
        assert "member_tallies" not in await connection.run_sync(
            lambda sync: sync.dialect.get_table_names(sync)
        )
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "heads"))
        assert (await connection.execute(text("SELECT count(*) FROM member_tallies"))).scalar() == len(before)

    assert await stored(services) == before == await recounted(services)
    assert await buckets_match(services)


def test_a_week_row_key_is_the_cohort_week_of_the_local_date() -> None:
    # The same instant is week 1 in New York and week 2 in Tokyo for a cohort starting 2 March.
    moment = datetime(2026, 3, 9, 2, tzinfo=UTC)
    assert rules.periods_of(date(2026, 3, 2), NEW_YORK, moment)[0].period == 1
    assert rules.periods_of(date(2026, 3, 2), "Asia/Tokyo", moment)[0].period == 2


async def test_a_members_simultaneous_checkpoints_and_undos_leave_exact_counters(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", 11, "alice")
    await asyncio.gather(*(services.progress.complete(GUILD, 11, key) for key in KEYS))
    clock.advance(minutes=5)
    await asyncio.gather(
        *(services.progress.undo(GUILD, 11, key) for key in KEYS[:2]),
        *(services.progress.complete(GUILD, 11, key) for key in KEYS[2:]),  # already done: no change
    )

    counters = await stored(services)
    assert counters == await recounted(services)
    assert await buckets_match(services)
    assert counters[(11, "all", 0)][:3] == (len(KEYS) - 2, 0, len(KEYS) - 2)


async def test_ranks_below_the_top_ten_count_only_listed_members_ahead(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    members = list(range(100, 116))
    rng = random.Random(5)
    for user_id in members:
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
    for user_id in members:  # one to four points, ties decided by who got there first
        for key in KEYS[: rng.randint(1, 4)]:
            await services.progress.complete(GUILD, user_id, key)
            clock.advance(minutes=rng.choice((0, 1)))
    hidden, gone = members[3:6], members[6:8]
    for user_id in hidden:
        await services.momentum.set_visibility(GUILD, user_id, True)
    for user_id in gone:
        await services.cohorts.leave(GUILD, "Spring", user_id)

    counters = await stored(services)
    listed = [
        (user_id, rules.Tally(*counters[(user_id, "all", 0)][:2], counters[(user_id, "all", 0)][3]))
        for user_id in members
        if user_id not in hidden and user_id not in gone
    ]
    expected = {user_id: rank for rank, user_id in rules.ranked(listed)}
    for user_id in members:
        board = await services.momentum.leaderboard(
            GUILD, user_id, None if user_id not in gone else "Spring", PeriodKind.ALL
        )
        assert board.listed == len(listed)
        assert board.me.rank == expected.get(user_id), user_id
    assert [entry.user_id for entry in board.entries] == [user_id for _, user_id in rules.ranked(listed)][:10]
