"""The weekly prompt ledger on a real SQLite file: one post per (cohort, week), whatever happens.

The clock starts on Monday 2026-03-02 09:00 UTC; the cohorts here start that day and post on
Mondays at 18:00 in Berlin (17:00 UTC), so week 1's slot is 2026-03-02 17:00 UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.container import Services, build_services
from bot.content import RoadmapCatalog
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import CheckpointCompletion, Cohort, PromptPost
from bot.kernel.errors import ConflictError
from bot.prompts.views import OutgoingPost, PostedBefore
from tests.db.conftest import FakeClock

GUILD = 1001
MOD, ALICE, BOB, CAROL = 1, 2, 3, 4
WEEK_1_SLOT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


async def create_cohort(services: Services, name: str = "Spring", **options: str) -> int:
    arguments = {
        "start": "2026-03-02",
        "timezone": "Europe/Berlin",
        "weekday": "mon",
        "at": "18:00",
        "roadmap_key": "python-europe",
    } | options
    summary = await services.cohorts.create(
        guild_id=GUILD, actor_id=MOD, name=name, channel_id=555, **arguments
    )
    return summary.id


async def rows(services: Services, cohort_id: int) -> dict[int, str]:
    async with services.sessions() as session:
        found = await session.scalars(select(PromptPost).where(PromptPost.cohort_id == cohort_id))
        return {row.week: row.status for row in found}


async def cohort_row(services: Services, cohort_id: int) -> Cohort:
    async with services.sessions() as session:
        cohort = await session.get(Cohort, cohort_id)
        assert cohort is not None
        return cohort


@pytest_asyncio.fixture
async def second_process(
    settings: Settings, clock: FakeClock, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> AsyncIterator[Services]:
    """Services over their own engine and connections, as a second bot process would have."""
    engine = create_engine(settings.database_url)
    yield build_services(settings, engine, catalog_loader(settings.content_dir), clock)
    await engine.dispose()


# --- idempotency -------------------------------------------------------------------------------------


async def test_two_processes_posting_the_same_week_send_one_message(
    services: Services, second_process: Services, clock: FakeClock
) -> None:
    cohort_ids = [await create_cohort(services, name=f"Cohort {number}") for number in range(10)]
    clock.now = WEEK_1_SLOT
    sent: list[tuple[int, int]] = []

    async def process(container: Services, cohort_id: int) -> None:
        """What each process's job does: claim, then send only what it claimed."""
        post = await container.prompts.claim_scheduled(cohort_id)
        if post is not None:
            sent.append((post.cohort_id, post.week))
            await container.prompts.mark_sent(post, message_id=10_000 + cohort_id)

    await asyncio.gather(
        *(
            process(container, cohort_id)
            for cohort_id in cohort_ids
            for container in (services, second_process)
        )
    )
    assert sorted(sent) == [(cohort_id, 1) for cohort_id in cohort_ids]
    for cohort_id in cohort_ids:
        assert await rows(services, cohort_id) == {1: "sent"}


async def test_a_repeated_fire_in_the_same_week_posts_nothing(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    first = await services.prompts.claim_scheduled(cohort_id)
    assert first is not None and first.week == 1
    clock.advance(hours=1)
    assert await services.prompts.claim_scheduled(cohort_id) is None  # still claimed, not yet sent
    await services.prompts.mark_sent(first, message_id=77)
    clock.now = WEEK_1_SLOT + timedelta(days=2)
    assert await services.prompts.claim_scheduled(cohort_id) is None
    clock.now = WEEK_1_SLOT + WEEK
    second = await services.prompts.claim_scheduled(cohort_id)
    assert second is not None and second.week == 2


async def test_post_now_takes_over_an_undelivered_week_but_never_a_sent_one(
    services: Services, clock: FakeClock
) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    post = await services.prompts.claim_scheduled(cohort_id)
    assert post is not None
    await services.prompts.mark_missed(post, "HTTP 503")
    again = await services.prompts.claim_current(GUILD, "spring")
    assert isinstance(again, OutgoingPost) and again.week == 1
    await services.prompts.mark_sent(again, message_id=88)
    done = await services.prompts.claim_current(GUILD, "Spring")
    assert isinstance(done, PostedBefore) and done.message_id == 88 and done.week == 1
    assert await rows(services, cohort_id) == {1: "sent"}


async def test_concurrent_post_now_and_fire_post_once(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    scheduled, by_hand = await asyncio.gather(
        services.prompts.claim_scheduled(cohort_id), services.prompts.claim_current(GUILD, "Spring")
    )
    claims = [scheduled, by_hand]
    assert sum(isinstance(claim, OutgoingPost) for claim in claims) == 1


async def test_post_now_before_the_start_is_refused(services: Services) -> None:
    await create_cohort(services, start="2026-04-01")
    with pytest.raises(ConflictError, match="starts on 2026-04-01"):
        await services.prompts.claim_current(GUILD, "Spring")


# --- outcomes ---------------------------------------------------------------------------------------


async def test_refusals_flag_the_cohort_and_a_success_clears_it(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    post = await services.prompts.claim_scheduled(cohort_id)
    assert post is not None
    await services.prompts.mark_failed(post, "HTTP 403", attention="I can't post in <#555>.")
    flagged = await cohort_row(services, cohort_id)
    assert flagged.attention_reason == "I can't post in <#555>." and flagged.attention_since == WEEK_1_SLOT
    info = await services.cohorts.info(GUILD, "Spring")
    assert info.attention_reason == "I can't post in <#555>."

    clock.now = WEEK_1_SLOT + WEEK
    following = await services.prompts.claim_scheduled(cohort_id)
    assert following is not None
    await services.prompts.mark_sent(following, message_id=99)
    cleared = await cohort_row(services, cohort_id)
    assert cleared.attention_reason is None and cleared.attention_since is None
    assert await rows(services, cohort_id) == {1: "failed", 2: "sent"}


async def test_choosing_a_channel_clears_attention(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    post = await services.prompts.claim_scheduled(cohort_id)
    assert post is not None
    await services.prompts.mark_failed(post, "HTTP 404", attention="The channel is gone.")
    change = await services.prompts.change_schedule(GUILD, "Spring", channel_id=666)
    assert change.changed == ("channel",)
    cohort = await cohort_row(services, cohort_id)
    assert cohort.channel_id == 666 and cohort.attention_reason is None


async def test_the_closing_message_finishes_the_cohort(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services, roadmap_key="ninety-day-plan")  # 13 weeks
    clock.now = WEEK_1_SLOT + 20 * WEEK  # long past the end, never closed
    closing = await services.prompts.claim_scheduled(cohort_id)
    assert closing is not None and closing.week == 14 and closing.content.is_closing
    await services.prompts.mark_sent(closing, message_id=5)
    assert (await cohort_row(services, cohort_id)).finished_at == clock.now
    clock.advance(days=7)
    assert await services.prompts.claim_scheduled(cohort_id) is None
    assert await rows(services, cohort_id) == {14: "sent"}


async def test_activity_counts_current_members_active_last_week(
    services: Services, clock: FakeClock, engine: AsyncEngine
) -> None:
    cohort_id = await create_cohort(services)
    for user in (ALICE, BOB, CAROL):
        await services.cohorts.join(GUILD, "Spring", user, f"user{user}")
    await services.cohorts.leave(GUILD, "Spring", CAROL)
    slot = WEEK_1_SLOT + WEEK
    async with create_sessionmaker(engine).begin() as session:
        for user, when in (
            (ALICE, slot - timedelta(days=1)),  # last week: counts
            (ALICE, slot - timedelta(days=2)),  # the same member twice: counts once
            (BOB, slot - timedelta(days=8)),  # the week before: doesn't count
            (CAROL, slot - timedelta(days=1)),  # left the cohort: doesn't count
        ):
            session.add(
                CheckpointCompletion(
                    guild_id=GUILD,
                    cohort_id=cohort_id,
                    user_id=user,
                    checkpoint_key=f"key-{user}-{when.day}",
                    completed_at=when,
                )
            )
    clock.now = slot
    post = await services.prompts.claim_scheduled(cohort_id)
    assert post is not None
    assert post.content.activity == "1 of 2 members completed a checkpoint last week."


# --- start-up catch-up, pause and resume --------------------------------------------------------------


async def test_catch_up_posts_a_recent_miss_once_and_records_older_ones(
    services: Services, clock: FakeClock
) -> None:
    recent = await create_cohort(services, name="Recent")
    stale = await create_cohort(services, name="Stale", weekday="fri")  # Friday 6 March, 17:00 UTC
    paused = await create_cohort(services, name="Paused")
    await services.prompts.pause(GUILD, "Paused")
    clock.now = WEEK_1_SLOT + WEEK + timedelta(hours=3)  # Monday 9 March, 20:00 UTC

    plans = {plan.cohort_id: plan for plan in await services.prompts.catch_up()}
    assert plans[recent].week == 2 and plans[recent].skipped_weeks == (1,)
    assert plans[stale].week is None and plans[stale].skipped_weeks == (1,)
    assert paused not in plans
    assert await rows(services, recent) == {1: "skipped"}
    assert await rows(services, stale) == {1: "skipped"}
    assert await rows(services, paused) == {}

    post = await services.prompts.claim_week(recent, 2)
    assert post is not None
    await services.prompts.mark_sent(post, message_id=1)
    again = {plan.cohort_id: plan for plan in await services.prompts.catch_up()}
    assert again == {}  # a second start-up finds nothing left to do


async def test_catch_up_turns_abandoned_claims_into_missed(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    clock.now = WEEK_1_SLOT
    assert await services.prompts.claim_scheduled(cohort_id) is not None  # then the process died
    clock.advance(minutes=2)
    await services.prompts.catch_up()
    assert await rows(services, cohort_id) == {1: "claimed"}  # maybe another process is sending
    clock.advance(minutes=10)
    await services.prompts.catch_up()
    assert await rows(services, cohort_id) == {1: "missed"}  # never posted twice, but visible


async def test_catch_up_never_skips_the_closing_message(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services, roadmap_key="ninety-day-plan")
    clock.now = WEEK_1_SLOT + 15 * WEEK + timedelta(days=2)  # weeks 1-16 passed while down
    plans = await services.prompts.catch_up()
    assert [plan.week for plan in plans] == [None]
    assert set(await rows(services, cohort_id)) == set(range(1, 14))  # 14 is the closing week
    clock.now = WEEK_1_SLOT + 16 * WEEK
    closing = await services.prompts.claim_scheduled(cohort_id)
    assert closing is not None and closing.week == 14 and closing.content.is_closing


async def test_resume_skips_the_weeks_that_passed_while_paused(services: Services, clock: FakeClock) -> None:
    cohort_id = await create_cohort(services)
    await services.prompts.pause(GUILD, "Spring")
    clock.now = WEEK_1_SLOT + 2 * WEEK + timedelta(hours=1)
    assert await services.prompts.claim_scheduled(cohort_id) is None
    change = await services.prompts.resume(GUILD, "Spring")
    assert change.changed and change.skipped_weeks == (1, 2, 3)
    assert change.next_week == 4 and change.next_at == WEEK_1_SLOT + 3 * WEEK
    assert await services.prompts.claim_scheduled(cohort_id) is None  # week 3 is not posted late
    assert (await services.prompts.resume(GUILD, "Spring")).changed is False


async def test_job_slots_cover_every_cohort(services: Services) -> None:
    first = await create_cohort(services, name="One")
    second = await create_cohort(services, name="Two", weekday="thu", at="07:45", timezone="Asia/Tokyo")
    slots = dict(await services.prompts.job_slots())
    assert set(slots) == {first, second}
    assert slots[second].describe() == "Thursdays at 07:45 (Asia/Tokyo)"
    assert dict(await services.prompts.job_slots([second])) == {second: slots[second]}
