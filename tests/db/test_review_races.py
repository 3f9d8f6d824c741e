"""Review races and erasure on a real SQLite file: double opt-ins, one announcement per round,
and what a partner's record looks like after the other member erased their data."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.engine import create_sessionmaker
from bot.db.models import ReviewParticipant
from bot.reviews.repository import ReviewRepository
from bot.reviews.rounds import STALE_PUBLISH_CLAIM
from tests.db.conftest import FakeClock
from tests.db.test_reviews import ALICE, BOB, CAROL, DAVE, GUILD, _cohort, _opted_in, everyone


async def test_concurrent_joins_opt_in_once_and_both_succeed(services: Services, engine: AsyncEngine) -> None:
    await _cohort(services)
    members = range(100, 120)
    for user_id in members:
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
    # Twenty members double-click /review join at the same moment.
    results = await asyncio.gather(
        *(
            services.reviews.join(GUILD, user_id, "Spring", languages="python")
            for user_id in members
            for _ in "12"
        )
    )
    assert all(result.cohort_name == "Spring" and result.languages == ("python",) for result in results)
    assert not any(result.came_back for result in results)
    async with create_sessionmaker(engine)() as session:
        rows = select(ReviewParticipant.user_id, func.count()).group_by(ReviewParticipant.user_id)
        assert dict((await session.execute(rows)).all()) == dict.fromkeys(members, 1)


async def test_the_announcement_and_each_thread_are_claimed_once(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    rounds = services.review_rounds
    claims = await asyncio.gather(*(rounds.claim_announcement(outcome.round.id) for _ in range(4)))
    assert sum(claims) == 1
    group = outcome.round.groups[0]
    thread_claims = await asyncio.gather(*(rounds.claim_thread(group.id) for _ in range(4)))
    assert sum(thread_claims) == 1
    # A claim being posted is not a message: the round still shows as not announced.
    (pending,) = await rounds.unpublished_rounds()
    assert pending.id == outcome.round.id and pending.announcement_message_id is None
    assert not await rounds.claim_announcement(outcome.round.id)
    # The claim of a process that stopped mid-post can be taken over once it is stale.
    clock.advance(seconds=STALE_PUBLISH_CLAIM.total_seconds() + 1)
    assert await rounds.claim_announcement(outcome.round.id)
    await rounds.mark_announced(outcome.round.id, 4242)
    assert not await rounds.claim_announcement(outcome.round.id)
    # A failed post gives its claim back at once.
    await rounds.release_thread(group.id)
    assert await rounds.claim_thread(group.id)


async def test_a_partner_who_erased_their_data_is_a_former_member(
    services: Services, clock: FakeClock, engine: AsyncEngine
) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    await services.review_rounds.run_round(GUILD, "Spring", everyone)
    await services.reviews.record_done(GUILD, ALICE, BOB, link="https://github.com/alice/pr/1")
    await services.reviews.record_done(GUILD, BOB, ALICE, link="https://github.com/bob/pr/2")
    await services.privacy.forget_me(GUILD, ALICE)

    history = await services.reviews.history(GUILD, BOB, "Spring")
    (entry,) = history.entries
    assert entry.partner_ids == () and entry.former_partners == 1
    assert entry.gave == ((None, "https://github.com/bob/pr/2"),)
    assert [reviewer for reviewer, _ in entry.received] == [None]
    counts = await services.reviews.counts(GUILD, BOB, "Spring")
    assert (history.given, history.received) == (counts.given, counts.received) == (1, 1)

    status = await services.reviews.status(GUILD, BOB, "Spring")
    assert status.group is not None and not status.group.is_lone
    assert status.partner_ids == () and status.group.former == 1
    assert status.round is not None and status.round.reviewed(BOB, None)

    # Bob reviewed his partner before she left: closing the round keeps his streak at zero.
    clock.advance(days=7, seconds=1)
    await services.review_rounds.close_due_rounds()
    status = await services.reviews.status(GUILD, BOB, "Spring")
    assert status.participation.value == "opted in"
    async with create_sessionmaker(engine)() as session:
        participant = await session.scalar(select(ReviewParticipant).where(ReviewParticipant.user_id == BOB))
        assert participant is not None and participant.missed_streak == 0


async def test_a_review_recorded_while_a_round_closes_still_counts(
    services: Services, clock: FakeClock, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing reads the round before it takes the writer: a review recorded in between (after the
    read, before the close is claimed) is seen by its count and keeps the reviewer's streak."""
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    await services.review_rounds.run_round(GUILD, "Spring", everyone)
    clock.advance(days=7, seconds=1)
    read = ReviewRepository.round_contents
    calls = 0

    async def read_then_review(self: ReviewRepository, round_id: int) -> Any:
        nonlocal calls
        calls += 1
        contents = await read(self, round_id)
        if calls == 1:  # the late review lands between the read and the claim
            await services.reviews.record_done(GUILD, ALICE, BOB)
        return contents

    monkeypatch.setattr(ReviewRepository, "round_contents", read_then_review)
    await services.review_rounds.close_due_rounds()

    assert calls == 2  # read again inside the closing transaction
    async with create_sessionmaker(engine)() as session:
        streaks = dict(
            (await session.execute(select(ReviewParticipant.user_id, ReviewParticipant.missed_streak))).all()
        )
    assert streaks == {ALICE: 0, BOB: 1}
