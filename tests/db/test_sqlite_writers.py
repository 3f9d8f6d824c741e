"""Many writers at once: every one succeeds, on SQLite by taking turns (``bot.db.engine``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.models import CheckpointCompletion, Cohort
from tests.db.test_races import GUILD, make_cohort

MEMBERS = range(500, 560)
KEYS = ("python-oop-async", "crud-api")


async def spring_with_members(services: Services) -> None:
    await make_cohort(services)
    for user_id in MEMBERS:
        await services.cohorts.join(GUILD, "Spring", user_id, f"member {user_id}")


async def test_sixty_members_marking_two_checkpoints_at_once_all_succeed(services: Services) -> None:
    await spring_with_members(services)
    outcomes = await asyncio.gather(
        *(services.progress.complete(GUILD, user_id, key) for user_id in MEMBERS for key in KEYS),
        return_exceptions=True,
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert failures == []
    assert all(outcome.changed for outcome in outcomes)  # type: ignore[union-attr]
    async with services.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(CheckpointCompletion))
    assert stored == len(MEMBERS) * len(KEYS)
    reports = [await services.progress.report(GUILD, user_id) for user_id in MEMBERS[:3]]
    assert [report.report.done for report in reports] == [2, 2, 2]


def begins(engine: AsyncEngine) -> list[str]:
    """The BEGIN statements the engine sends, in order."""
    seen: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


@pytest.mark.sqlite_only
async def test_a_writing_transaction_takes_the_write_lock_first_and_a_read_does_not(
    services: Services, engine: AsyncEngine
) -> None:
    seen = begins(engine)
    async with services.sessions() as session:
        await session.scalar(select(func.count()).select_from(Cohort))
    async with services.sessions.begin() as session:
        await session.scalar(select(func.count()).select_from(Cohort))
    assert seen == ["BEGIN", "BEGIN IMMEDIATE"]


@pytest.mark.sqlite_only
async def test_a_write_inside_a_write_is_refused_at_once_rather_than_waiting_for_itself(
    services: Services,
) -> None:
    async with services.sessions.begin():
        with pytest.raises(RuntimeError, match="would wait for itself"):
            async with services.sessions.begin():
                pass
    async with services.sessions.begin() as session:  # the queue is free again
        assert await session.scalar(select(func.count()).select_from(Cohort)) == 0


@pytest.mark.sqlite_only
async def test_writers_wait_in_this_process_for_their_turn_in_the_order_they_asked(
    services: Services, engine: AsyncEngine
) -> None:
    """No writer reaches SQLite's lock (and its busy timeout) while another one holds it."""
    seen = begins(engine)
    release, holding = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def writer(name: str, hold: bool = False) -> None:
        async with services.sessions.begin() as session:
            await session.scalar(select(func.count()).select_from(Cohort))
            order.append(name)
            if hold:
                holding.set()
                await release.wait()

    first = asyncio.create_task(writer("first", hold=True))
    await holding.wait()
    others = [asyncio.create_task(writer(name)) for name in ("second", "third")]
    for _ in range(50):  # the waiting writers get every chance to run
        await asyncio.sleep(0)
    assert order == ["first"] and seen == ["BEGIN IMMEDIATE"]
    release.set()
    await asyncio.gather(first, *others)
    assert order == ["first", "second", "third"]
    assert seen == ["BEGIN IMMEDIATE"] * 3
