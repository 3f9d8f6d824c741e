"""A popular slot on a real SQLite file: every prompt once, every round run, nothing missed.

Two processes with overlapping shards (one runs every shard, a rolling restart's newcomer runs
shard 1 of 2) fire every prompt and review job of the slot at the same moment, each through its
own engine and its own scheduling facility (gate and retry hook). The once-only guarantee is the
database's claims, not the timer. ``bench/bench_popular_slot.py`` runs the same at 1,000 cohorts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.container import Services
from bot.content import RoadmapCatalog
from bot.scheduling import Ownership
from tests.db.popular_slot import (
    SLOT_INSTANT,
    fire_slot,
    guild_id_of,
    seed,
    seed_members,
    start_process,
    stop,
)

COHORTS = 150


async def test_two_processes_at_a_popular_slot_post_everything_once(
    settings: Settings, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> None:
    await seed(settings, COHORTS)
    catalog = catalog_loader(settings.content_dir)
    processes = [
        await start_process(settings, catalog, Ownership()),
        await start_process(settings, catalog, Ownership(2, (1,))),
    ]
    try:
        assert len(processes[0].scheduling.scheduler.get_jobs()) == 2 * COHORTS
        newcomer_jobs = len(processes[1].scheduling.scheduler.get_jobs())
        assert 0 < newcomer_jobs < 2 * COHORTS  # shard 1's guilds only
        result = await fire_slot(processes, COHORTS)
    finally:
        await stop(processes)
    assert (result.posted, result.missed, result.duplicated, result.unrecorded) == (COHORTS, 0, 0, 0)
    assert result.rounds == COHORTS
    assert result.retries == 0  # the gate keeps the pool from ever timing out


async def test_a_process_down_past_the_slot_is_caught_up_by_its_replacement(
    settings: Settings, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> None:
    await seed(settings, 40)
    catalog = catalog_loader(settings.content_dir)
    late = SLOT_INSTANT + timedelta(hours=2)  # inside the 12-hour grace period
    replacement = await start_process(settings, catalog, Ownership(2, (0, 1)), now=late)
    services = replacement.services
    try:
        plans = await services.prompts.catch_up(owns=replacement.scheduling.owns)
        assert {plan.week for plan in plans} == {1} and len(plans) == 40
        for plan in plans:
            assert plan.week is not None
            post = await services.prompts.claim_week(plan.cohort_id, plan.week)
            assert post is not None
            await services.prompts.mark_sent(post, message_id=plan.cohort_id)
        missing = await services.review_rounds.cohorts_missing_their_round(settings.prompt_grace)
        assert len(missing) == 40
        for cohort_id in missing:
            assert await services.review_rounds.run_scheduled_round(cohort_id, lambda _user: True)
        assert await services.review_rounds.cohorts_missing_their_round(settings.prompt_grace) == []
        assert await services.prompts.catch_up(owns=replacement.scheduling.owns) == []
    finally:
        await stop([replacement])


async def test_a_process_catches_up_only_its_own_shards(
    settings: Settings, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> None:
    await seed(settings, 20)
    process = await start_process(
        settings,
        catalog_loader(settings.content_dir),
        Ownership(2, (1,)),
        now=SLOT_INSTANT + timedelta(hours=1),
    )
    try:
        plans = await process.services.prompts.catch_up(owns=process.scheduling.owns)
        ours = {number for number in range(1, 21) if (guild_id_of(number) >> 22) % 2 == 1}
        assert {plan.cohort_id for plan in plans} == ours
        scheduled = {int(job.id.split(":")[1]) for job in process.scheduling.scheduler.get_jobs()}
        assert scheduled == ours
    finally:
        await stop([process])


async def test_a_burst_of_a_thousand_joins_and_leaves_has_no_errors(
    settings: Settings, services: Services
) -> None:
    await seed(settings, 1)
    await seed_members(settings, 1, range(1_000))
    guild = guild_id_of(1)
    now = datetime(2026, 1, 5, tzinfo=UTC)
    await asyncio.gather(*(services.privacy.record_departure(guild, user, now) for user in range(500)))

    async def event(user: int) -> bool:
        # Half the burst leaves, the other half (who left before) comes back, all at once.
        if user < 500:
            return await services.privacy.cancel_departure(guild, user)
        return await services.privacy.record_departure(guild, user, now)

    outcomes = await asyncio.gather(*(event(user) for user in range(1_000)), return_exceptions=True)
    assert [outcome for outcome in outcomes if isinstance(outcome, BaseException)] == []
    assert all(outcomes)
