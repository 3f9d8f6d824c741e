"""Persistence on a real SQLite file: migrations, pragmas, time zones, isolation, idempotency."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cohorts.repository import MemberRepository
from bot.cohorts.resolve import cohort_named
from bot.config import Settings
from bot.container import Services
from bot.db.engine import create_sessionmaker, schema_is_current, upgrade_database
from bot.db.models import Base, CheckpointCompletion, Cohort
from bot.kernel.errors import ConflictError, NotFoundError, PermissionDeniedError
from tests.db.conftest import FakeClock, sqlite_path

GUILD, OTHER_GUILD = 1001, 2002
MOD, ALICE, BOB = 1, 2, 3


@pytest.mark.sqlite_only  # opens the file with sqlite3; tests/db/test_postgres.py checks PostgreSQL's
async def test_migrations_create_the_whole_schema_and_are_idempotent(
    engine: AsyncEngine, settings: Settings
) -> None:
    await upgrade_database(engine)  # a second run changes nothing
    assert await schema_is_current(engine)
    async with engine.connect() as connection:
        tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    # The file is a real SQLite database that other tools can open.
    with sqlite3.connect(sqlite_path(settings)) as raw:
        assert raw.execute("select count(*) from alembic_version").fetchone() == (1,)


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_with_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert (await connection.execute(text("pragma journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("pragma foreign_keys"))).scalar() == 1
        assert (await connection.execute(text("pragma busy_timeout"))).scalar() == 5000


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                CheckpointCompletion(
                    guild_id=GUILD,
                    cohort_id=999,
                    user_id=ALICE,
                    checkpoint_key="x",
                    completed_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )


async def _cohort(services: Services, name: str = "Spring", guild: int = GUILD) -> None:
    await services.cohorts.create(
        guild_id=guild,
        actor_id=MOD,
        name=name,
        roadmap_key="python-europe",
        channel_id=555,
        start="2026-03-02",
        timezone="Europe/Berlin",
        weekday="mon",
        at="18:00",
    )


async def test_datetimes_come_back_aware_utc(services: Services, engine: AsyncEngine) -> None:
    await _cohort(services)
    async with create_sessionmaker(engine)() as session:
        cohort = await session.scalar(select(Cohort))
    assert cohort is not None
    assert cohort.created_at.tzinfo is not None
    assert cohort.created_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert cohort.start_date == date(2026, 3, 2)


async def test_snowflakes_survive_as_big_integers(services: Services) -> None:
    big_guild = 1_234_567_890_123_456_789
    await _cohort(services, guild=big_guild)
    await services.cohorts.join(big_guild, "Spring", 987_654_321_098_765_432, "alice")
    async with services.sessions() as session:
        spring = await cohort_named(session, big_guild, "Spring")
        members = await MemberRepository(session).active_in(spring.id)
    assert [member.user_id for member in members] == [987_654_321_098_765_432]


async def test_guild_isolation(services: Services) -> None:
    await _cohort(services, guild=GUILD)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.progress.complete(GUILD, ALICE, "python-oop-async")
    with pytest.raises(NotFoundError):
        await services.cohorts.info(OTHER_GUILD, "Spring")
    with pytest.raises(NotFoundError):
        await services.progress.report(OTHER_GUILD, ALICE)
    assert await services.cohorts.all_in_guild(OTHER_GUILD) == []
    await _cohort(services, guild=OTHER_GUILD)  # the same name is free in another server
    assert (await services.cohorts.info(OTHER_GUILD, "spring")).member_count == 0


async def test_duplicate_names_conflict_case_insensitively(services: Services) -> None:
    await _cohort(services)
    with pytest.raises(ConflictError):
        await _cohort(services, name="  SPRING ")


async def test_completion_is_idempotent_under_concurrency(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    results = await asyncio.gather(
        *(services.progress.complete(GUILD, ALICE, "python-oop-async") for _ in range(5)),
        return_exceptions=True,
    )
    assert not [result for result in results if isinstance(result, BaseException)]
    report = await services.progress.report(GUILD, ALICE)
    assert report.report.done == 1


async def test_leave_keeps_progress_for_return(services: Services) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.progress.complete(GUILD, ALICE, "crud-api", evidence="https://example.org/api")
    assert (await services.cohorts.leave(GUILD, "Spring", ALICE)).changed
    with pytest.raises(PermissionDeniedError):
        await services.progress.complete(GUILD, ALICE, "python-oop-async", cohort_name="Spring")
    assert (await services.cohorts.join(GUILD, "Spring", ALICE, "alice")).changed
    assert (await services.progress.report(GUILD, ALICE)).report.done == 1


async def test_progress_follows_the_calendar(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    clock.advance(days=200)  # the foundations phase (90 days) is long over
    view = await services.progress.report(GUILD, ALICE)
    assert view.position.week == 29
    assert view.current_phase is not None and view.current_phase.key == "advanced"
    assert view.report.pace.value == "behind"
    assert view.report.expected == 8  # phases one and two (4 + 4 checkpoints) are due
