"""Sharded processes over one database: each guild's review reminders, closings and reminder DMs
are claimed by the process whose shards hold that guild, never by another.

Two guilds on different shards of two; process A runs shard 0, process B shard 1. Before the
``owns`` filter, whichever process swept first claimed (and posted through the REST API) the other
guild's reminders too, spending its own share of the rate budget on a guild it does not look after.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.container import Services
from bot.db.models import ReviewRound
from bot.scheduling import Ownership, shard_of
from tests.db.conftest import FakeClock

SHARDS = 2
GUILD_A = 7 << 22  # shard 1 of 2
GUILD_B = 8 << 22  # shard 0 of 2
PROCESS_A = Ownership(shard_count=SHARDS, shard_ids=(shard_of(GUILD_A, SHARDS),))
PROCESS_B = Ownership(shard_count=SHARDS, shard_ids=(shard_of(GUILD_B, SHARDS),))
MOD = 1


def anyone(_user_id: int) -> bool:
    return True


def anyone_in(_guild_id: int, _user_id: int) -> bool:
    return True


async def _round_in(services: Services, guild_id: int, first_user: int) -> None:
    """A cohort with four members who opted in to review and to review DMs, this week's round run."""
    await services.cohorts.create(
        guild_id=guild_id,
        actor_id=MOD,
        name="Spring",
        roadmap_key="python-europe",
        channel_id=guild_id + 1,
        start="2026-03-02",
        timezone="Europe/Berlin",
        weekday="mon",
        at="18:00",
    )
    for user_id in range(first_user, first_user + 4):
        await services.cohorts.join(guild_id, "Spring", user_id, f"user{user_id}")
        await services.reviews.join(guild_id, user_id, "Spring")
        await services.reminders.settings(guild_id, user_id, review=True)
    await services.review_rounds.run_round(guild_id, "Spring", anyone)


async def test_the_guilds_are_on_different_shards() -> None:
    assert PROCESS_A.owns(GUILD_A) and not PROCESS_A.owns(GUILD_B)
    assert PROCESS_B.owns(GUILD_B) and not PROCESS_B.owns(GUILD_A)


async def test_each_process_claims_only_its_own_guilds_review_reminders(
    services: Services, clock: FakeClock
) -> None:
    await _round_in(services, GUILD_A, 100)
    await _round_in(services, GUILD_B, 200)
    clock.advance(days=4, minutes=1)  # inside the last two days before the rounds are due

    by_a = await services.review_rounds.claim_due_reminders(PROCESS_A.owns)
    by_b = await services.review_rounds.claim_due_reminders(PROCESS_B.owns)

    assert [batch.round.guild_id for batch in by_a] == [GUILD_A]
    assert [batch.round.guild_id for batch in by_b] == [GUILD_B]
    assert await services.review_rounds.claim_due_reminders() == []  # each claimed once


async def test_each_process_claims_only_its_own_guilds_reminder_dms(
    services: Services, clock: FakeClock
) -> None:
    await _round_in(services, GUILD_A, 100)
    await _round_in(services, GUILD_B, 200)
    clock.advance(days=4, minutes=1)

    by_a = await services.reminders.claim_due(anyone_in, PROCESS_A.owns)
    by_b = await services.reminders.claim_due(anyone_in, PROCESS_B.owns)

    assert {reminder.guild_id for reminder in by_a} == {GUILD_A} and len(by_a) == 4
    assert {reminder.guild_id for reminder in by_b} == {GUILD_B} and len(by_b) == 4
    assert await services.reminders.claim_due(anyone_in) == []


async def test_each_process_closes_only_its_own_guilds_rounds(services: Services, clock: FakeClock) -> None:
    await _round_in(services, GUILD_A, 100)
    await _round_in(services, GUILD_B, 200)
    clock.advance(days=8)  # past the due date: nobody recorded a review

    await services.review_rounds.close_due_rounds(PROCESS_A.owns)
    assert await _closed(services) == {GUILD_A: True, GUILD_B: False}

    await services.review_rounds.close_due_rounds(PROCESS_B.owns)
    assert await _closed(services) == {GUILD_A: True, GUILD_B: True}


async def _closed(services: Services) -> dict[int, bool]:
    async with services.sessions() as session:
        rows = await session.execute(select(ReviewRound.guild_id, ReviewRound.closed_at))
        return {guild_id: closed_at is not None for guild_id, closed_at in rows}
