"""Review rounds written in batches and members' reads that touch only their own rows.

The batched round must store exactly the groups the pairing gives for the seeded week, once even
under a concurrent second run; the member-only reads must agree with the whole-round reads they
replaced, erased partners (NULL seats and reviews) included.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.container import Services
from bot.db.engine import opens_elsewhere
from bot.db.models import Cohort, ReviewGroup, ReviewRound
from bot.reviews import queries, round_writes, rounds
from bot.reviews.pairing import Candidate, PairingHistory, make_groups
from bot.reviews.repository import ReviewRepository, StoredGroup
from bot.reviews.rules import member_phase_index, round_seed, utc_offset_minutes
from bot.reviews.views import RoundView
from tests.db.conftest import FakeClock
from tests.db.test_reviews import GUILD, _cohort, _next_week, _opted_in, everyone

MEMBERS = list(range(100, 123))  # odd: one trio
COHORT_ID = 1  # the only cohort of each test


async def _stored_groups(services: Services, round_id: int) -> list[tuple[int, ...]]:
    async with services.sessions() as session:
        groups = (await ReviewRepository(session).groups_of([round_id]))[round_id]
    return sorted(group.member_ids for group in groups)


async def _expected_groups(services: Services, clock: FakeClock, week: int) -> list[tuple[int, ...]]:
    """What the pairing gives for this week from the stored history, computed independently."""
    async with services.sessions() as session:
        repository = ReviewRepository(session)
        cohort_id = COHORT_ID
        past = await repository.rounds_before(cohort_id, week)
        groups = await repository.groups_of(review_round.id for review_round in past)
        history = PairingHistory.from_rounds(
            (review_round.week, [group.member_ids for group in groups[review_round.id]])
            for review_round in past
        )
        participants = await repository.participants(cohort_id)
        completed = await repository.completed_checkpoints(cohort_id)
    roadmap = services.catalog.get("python-europe")
    assert roadmap is not None
    candidates = [
        Candidate(
            participant.user_id,
            utc_offset_minutes(participant.timezone, clock()),
            frozenset(),
            member_phase_index(roadmap, completed.get(participant.user_id, set())),
        )
        for participant in participants
    ]
    result = make_groups(candidates, history, week, round_seed(cohort_id, week))
    return sorted([tuple(sorted(group)) for group in result.groups] + [(lone,) for lone in result.unpaired])


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(round_writes, "GROUPS_PER_BATCH", 2)


@pytest.mark.usefixtures("small_batches")
async def test_a_round_written_in_batches_stores_the_seeded_weeks_groups(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _opted_in(services, MEMBERS)
    for week in (1, 2, 3):
        expected = await _expected_groups(services, clock, week)
        outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
        assert outcome.created and outcome.round.week == week
        assert await _stored_groups(services, outcome.round.id) == expected
        assert sorted(group.member_ids for group in outcome.round.groups) == expected
        assert outcome.round.announcement_message_id is None  # filled: publishable
        async with services.sessions() as session:
            stored = await ReviewRepository(session).round_by_id(outcome.round.id)
        assert stored is not None and stored.announcement_message_id is None
        await _next_week(services, clock)


async def test_a_large_week_paired_in_the_worker_process_gets_the_same_groups(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``PAIRING_IN_PROCESS_ABOVE`` candidates the history is read and the week paired in
    a worker process, over its own connection; the groups are those the pairing gives here."""
    monkeypatch.setattr(rounds, "PAIRING_IN_PROCESS_ABOVE", 0)
    await _cohort(services)
    await _opted_in(services, MEMBERS)

    async def not_here(*_args: object) -> None:
        raise AssertionError("a large round's history is read in the worker process")

    try:
        for week in (1, 2):
            expected = await _expected_groups(services, clock, week)
            # The worker is a fresh (spawned) process: these patches reach this process only.
            monkeypatch.setattr(ReviewRepository, "past_meetings", not_here)
            monkeypatch.setattr(ReviewRepository, "phase_counts", not_here)
            outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
            assert outcome.created and sorted(group.member_ids for group in outcome.round.groups) == expected
            monkeypatch.undo()
            monkeypatch.setattr(rounds, "PAIRING_IN_PROCESS_ABOVE", 0)
            await _next_week(services, clock)
    finally:
        services.review_rounds.shutdown()


async def test_a_pairing_process_that_cannot_run_falls_back_to_a_thread(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(ThreadPoolExecutor):
        def submit(self, *_args: object, **_kwargs: object) -> Any:
            raise BrokenProcessPool("killed")

    monkeypatch.setattr(rounds, "PAIRING_IN_PROCESS_ABOVE", 0)
    monkeypatch.setattr(rounds.ReviewRounds, "_worker", lambda _self: Broken())
    await _cohort(services)
    await _opted_in(services, MEMBERS)
    expected = await _expected_groups(services, clock, 1)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.created and sorted(group.member_ids for group in outcome.round.groups) == expected


@pytest.mark.usefixtures("small_batches")
async def test_a_concurrent_second_run_shows_the_same_round_and_stores_nothing(
    services: Services,
) -> None:
    await _cohort(services)
    await _opted_in(services, MEMBERS)
    first, second = await asyncio.gather(
        services.review_rounds.run_round(GUILD, "Spring", everyone),
        services.review_rounds.run_round(GUILD, "Spring", everyone),
    )
    assert sorted([first.created, second.created]) == [False, True]
    assert first.round.id == second.round.id
    assert first.round.groups == second.round.groups  # the loser waited for every batch
    async with services.sessions() as session:
        assert await session.scalar(select(func.count(ReviewRound.id))) == 1
        assert await session.scalar(select(func.count(ReviewGroup.id))) == len(MEMBERS) // 2


async def test_a_failure_while_filling_removes_the_half_written_round(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _cohort(services)
    await _opted_in(services, MEMBERS)
    monkeypatch.setattr(round_writes, "GROUPS_PER_BATCH", 2)
    calls = 0
    original = ReviewRepository.add_groups

    async def failing(self: ReviewRepository, *args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk full")
        await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ReviewRepository, "add_groups", failing)
    with pytest.raises(RuntimeError):
        await services.review_rounds.run_round(GUILD, "Spring", everyone)
    monkeypatch.setattr(ReviewRepository, "add_groups", original)
    async with services.sessions() as session:
        assert await session.scalar(select(func.count(ReviewGroup.id))) == 0
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.created and len(outcome.round.groups) == len(MEMBERS) // 2


async def _whole_round_view(services: Services, round_id: int) -> RoundView:
    """The round as the whole-round reads see it (what ``/review status`` used before)."""
    async with services.sessions() as session:
        repository = ReviewRepository(session)
        review_round = await repository.round_by_id(round_id)
        cohort = await session.get(Cohort, COHORT_ID)
        assert review_round is not None and cohort is not None
        groups, reviews = await repository.round_contents(round_id)
    return RoundView.of(review_round, cohort, groups, reviews)


def _brute_counts(completions: list[tuple[int | None, int | None]], user_id: int) -> tuple[int, int]:
    return (
        sum(1 for reviewer, _ in completions if reviewer == user_id),
        sum(1 for _, reviewee in completions if reviewee == user_id),
    )


@pytest.mark.slow
async def test_member_only_reads_agree_with_whole_round_reads_with_erased_partners(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _opted_in(services, MEMBERS)
    rounds = []
    for _week in range(3):
        outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
        rounds.append(outcome.round.id)
        for group in outcome.round.paired_groups:
            first, second = group.member_ids[:2]
            await services.reviews.record_done(GUILD, first, second)
            if group.member_ids[0] % 3:
                await services.reviews.record_done(GUILD, second, first)
        await _next_week(services, clock)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    rounds.append(outcome.round.id)
    for group in outcome.round.paired_groups[:4]:
        await services.reviews.record_done(GUILD, group.member_ids[0], group.member_ids[1])
    erased = outcome.round.paired_groups[0].member_ids[1]
    await services.privacy.forget_me(GUILD, erased)
    await _check_reads(services, rounds, [user for user in MEMBERS if user != erased])


async def _check_reads(services: Services, rounds: list[int], users: list[int]) -> None:
    views = {round_id: await _whole_round_view(services, round_id) for round_id in rounds}
    all_reviews = [pair for view in views.values() for pair in view.reviews]
    current = views[rounds[-1]]
    async with services.sessions() as session:
        for user in users:
            assert await queries.review_counts(session, COHORT_ID, user) == _brute_counts(all_reviews, user)
            status = await services.reviews.status(GUILD, user, "Spring")
            whole_group = current.group_of(user)
            assert status.group == whole_group
            if whole_group is not None and status.round is not None:
                seats = [*whole_group.member_ids, *([None] * whole_group.former)]
                for reviewer in seats:
                    for reviewee in seats:
                        assert status.round.reviewed(reviewer, reviewee) == current.reviewed(
                            reviewer, reviewee
                        )
            history = await services.reviews.history(GUILD, user, "Spring")
            assert (history.given, history.received) == _brute_counts(all_reviews, user)
            seen = await queries.member_rounds(session, COHORT_ID, user)
            groups = await queries.groups_by_id(session, (group_id for _, group_id in seen))
            for review_round, group_id in seen:
                assert groups[group_id] == _group_of(views[review_round.id], user, group_id)


def _group_of(view: RoundView, user: int, group_id: int) -> StoredGroup:
    group = view.group_of(user)
    assert group is not None and group.id == group_id
    return StoredGroup(group.id, view.id, group.thread_id, group.member_ids, group.former)


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        ("sqlite+aiosqlite:///data/waypoint.db", True),
        ("postgresql+asyncpg://waypoint@db:5432/waypoint", True),
        ("sqlite+aiosqlite://", False),
        ("sqlite+aiosqlite:///:memory:", False),
    ],
)
def test_the_pairing_process_reads_only_a_database_it_can_open(url: str, shared: bool) -> None:
    assert opens_elsewhere(url) is shared
