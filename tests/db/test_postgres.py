"""What only PostgreSQL needs checking for: a fresh install migrates, NUL never crashes, reads stream.

Everything else (every query, claim, export and erasure) is checked on PostgreSQL by running the
whole of tests/db and tests/behaviour against it; see tests/conftest.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.engine import (
    POSTGRES_POOL,
    create_engine,
    create_sessionmaker,
    schema_is_current,
    upgrade_database,
)
from bot.db.models import Base, CohortMember
from bot.db.rows import BATCH_ROWS, stream
from bot.kernel.errors import InvalidInputError

GUILD, MOD, ALICE = 1001, 1, 2


@pytest.mark.postgres
async def test_a_fresh_postgresql_database_is_migrated_to_the_current_schema(fresh_postgres_url: str) -> None:
    engine = create_engine(fresh_postgres_url)
    try:
        assert not await schema_is_current(engine)
        await upgrade_database(engine)
        await upgrade_database(engine)  # a second run changes nothing
        assert await schema_is_current(engine)
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            versions = (await connection.execute(text("SELECT count(*) FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert versions == 1


def test_postgresql_gets_a_bounded_checked_pool_and_sqlite_keeps_its_own() -> None:
    postgres = create_engine("postgresql+asyncpg://waypoint@127.0.0.1:5432/waypoint")  # nothing connects
    sqlite = create_engine("sqlite+aiosqlite:///:memory:")
    pool = postgres.sync_engine.pool
    assert (pool.size(), pool.timeout()) == (POSTGRES_POOL["pool_size"], POSTGRES_POOL["pool_timeout"])  # type: ignore[attr-defined]
    assert pool._pre_ping and not sqlite.sync_engine.pool._pre_ping


async def _cohort(services: Services) -> None:
    await services.cohorts.create(
        guild_id=GUILD,
        actor_id=MOD,
        name="Spring",
        roadmap_key="python-europe",
        channel_id=5,
        start="2026-03-02",
    )


async def test_text_with_nul_never_crashes_a_write(services: Services, database_backend: str) -> None:
    await _cohort(services)
    # A display name comes from Discord, not from a typed option: it is stored, never refused.
    await services.cohorts.join(GUILD, "Spring", ALICE, "Al\x00ice")
    async with services.sessions() as session:
        stored = await session.scalar(select(CohortMember.display_name))
    assert stored == ("Alice" if database_backend == "postgresql" else "Al\x00ice")
    # Typed text with NUL is refused before it reaches the database, on every backend.
    with pytest.raises(InvalidInputError, match="invisible or control"):
        await services.progress.complete(GUILD, ALICE, "python-oop-async", note="done\x00")
    with pytest.raises(InvalidInputError, match="invisible or control"):
        await services.prompts.add_custom(GUILD, "Spring", 2, "Read\x00 this", MOD)


@pytest.mark.postgres
async def test_exports_stream_from_a_server_side_cursor(postgres_url: str) -> None:
    """The first batch arrives before the server has computed row 700: rows are not fetched all at once."""
    engine: AsyncEngine = create_engine(postgres_url)
    rows = select(text("1 / (i - 700)")).select_from(text("generate_series(1, 1200) AS i"))
    received: list[int] = []

    async def read_all() -> None:
        async with create_sessionmaker(engine)() as session:
            async for batch in stream(session, rows):
                received.append(len(batch))

    try:
        # The driver's own error: SQLAlchemy does not wrap errors raised while fetching from a stream.
        with pytest.raises(Exception, match="division by zero"):
            await read_all()
    finally:
        await engine.dispose()
    assert received == [BATCH_ROWS]
