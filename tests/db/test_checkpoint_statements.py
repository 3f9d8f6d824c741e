"""A member's checkpoint is a short transaction: a handful of statements, whatever the cohort's
size, since on SQLite every other writer waits for it (issue 11: `/checkpoint done` p99 < 20 ms).

Each statement is a round trip through the driver's thread; while a weekly round runs, each one
waits its turn for the event loop. These tests pin the statements a completion and an undo send,
so a change that adds one is a visible decision, not an accident.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.models import MemberTally, TallyBucket
from tests.db.test_races import ALICE, GUILD, make_cohort


def statements(engine: AsyncEngine) -> list[str]:
    """The first word and table of each statement the engine sends from now on."""
    seen: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        words = statement.split()
        table = next((word for word in words if word in _TABLES), "")
        seen.append(f"{words[0]} {table}".strip())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


_TABLES = {"checkpoint_completions", "member_tallies", "tally_buckets", "cohort_members", "cohorts"}


def expected(engine: AsyncEngine, *body: str) -> list[str]:
    """SQLite writes begin by taking the write lock; PostgreSQL locks the member's row instead."""
    if engine.dialect.name == "sqlite":
        return ["BEGIN", *body]
    return [body[0], body[1], "UPDATE cohort_members", *body[2:]]


async def scores(services: Services) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(MemberTally.kind, MemberTally.period, MemberTally.points).order_by(
                MemberTally.kind, MemberTally.period
            )
        )
        buckets = await session.execute(
            select(TallyBucket.kind, TallyBucket.points, func.sum(TallyBucket.members))
            .group_by(TallyBucket.kind, TallyBucket.points)
            .order_by(TallyBucket.kind, TallyBucket.points)
        )
        return [tuple(row) for row in rows], [tuple(row) for row in buckets]  # type: ignore[misc]


async def test_a_first_completion_sends_seven_statements_and_keeps_the_scores(
    services: Services, engine: AsyncEngine
) -> None:
    await make_cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    seen = statements(engine)
    change = await services.progress.complete(GUILD, ALICE, "python-oop-async", note="first")
    assert change.changed and change.done == 1
    assert seen == expected(
        engine,
        "SELECT cohorts",  # the member's cohort
        "INSERT checkpoint_completions",  # stored unless a double click stored it first
        "SELECT checkpoint_completions",  # the three periods recounted, beside the stored points
        "INSERT member_tallies",  # the three period rows, upserted
        "INSERT tally_buckets",  # into the new point buckets
        "SELECT checkpoint_completions",  # the progress shown in the reply
    )
    rows, buckets = await scores(services)
    assert [(kind, points) for kind, _, points in rows] == [("all", 1), ("month", 1), ("week", 1)]
    assert buckets == [("all", 1, 1), ("month", 1, 1), ("week", 1, 1)]


async def test_a_repeat_only_amends_and_an_undo_takes_the_point_back(
    services: Services, engine: AsyncEngine
) -> None:
    await make_cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.progress.complete(GUILD, ALICE, "python-oop-async")
    seen = statements(engine)
    again = await services.progress.complete(GUILD, ALICE, "python-oop-async", note="a better note")
    assert not again.changed and again.done == 1
    begin = ["BEGIN"] if engine.dialect.name == "sqlite" else []
    assert seen == [
        *begin,
        "SELECT cohorts",
        "INSERT checkpoint_completions",  # nothing stored: it was done
        "UPDATE checkpoint_completions",  # the new note
        "SELECT checkpoint_completions",
    ]
    seen.clear()
    undone = await services.progress.undo(GUILD, ALICE, "python-oop-async")
    assert undone.changed and undone.done == 0
    assert seen == expected(
        engine,
        "SELECT cohorts",
        "DELETE checkpoint_completions",  # returns when it was completed, for its periods
        "SELECT checkpoint_completions",
        "DELETE member_tallies",  # nothing left to count in any period
        "INSERT tally_buckets",  # out of the one-point buckets
        "SELECT checkpoint_completions",
    )
    assert await scores(services) == ([], [("all", 1, 0), ("month", 1, 0), ("week", 1, 0)])
