"""Engine, sessions and migrations.

SQLite (the default, one community) gets WAL, foreign keys and a busy timeout. PostgreSQL (many
servers, several processes) gets a bounded connection pool that checks a connection before handing
it out, and text parameters with NUL characters cleaned: PostgreSQL refuses NUL in text, and a
member's display name or a moderator's prompt must not be able to crash a write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000

# PostgreSQL pool: connections kept open per process, extra ones opened under load, how long a
# caller waits for one before failing, and a liveness check so a restarted server or a dropped
# idle connection costs one retry instead of an error. Recycled before typical idle timeouts.
POSTGRES_POOL: Final[dict[str, Any]] = {
    "pool_size": 10,
    "max_overflow": 20,
    "pool_timeout": 30,
    "pool_pre_ping": True,
    "pool_recycle": 1800,
}
NUL = "\x00"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _without_nul(value: Any) -> Any:
    return value.replace(NUL, "") if isinstance(value, str) and NUL in value else value


def _clean_row(row: Any) -> Any:
    if isinstance(row, dict):
        return {key: _without_nul(value) for key, value in row.items()}
    if isinstance(row, Sequence) and not isinstance(row, str):
        return type(row)(_without_nul(value) for value in row)  # type: ignore[call-arg]
    return row


def _strip_nul(
    _connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> tuple[str, Any]:
    """``before_cursor_execute``: drop NUL characters from every text parameter (PostgreSQL only)."""
    if executemany and isinstance(parameters, list):
        return statement, [_clean_row(row) for row in parameters]
    return statement, _clean_row(parameters)


def create_engine(database_url: str) -> AsyncEngine:
    """Build the engine; for a SQLite file, make sure its folder exists."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    options: dict[str, Any] = {}
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    elif backend == "postgresql":
        options.update(POSTGRES_POOL)
    engine = create_async_engine(url, **options)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif backend == "postgresql":
        event.listen(engine.sync_engine, "before_cursor_execute", _strip_nul, retval=True)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def _current_heads(connection: Connection) -> tuple[set[str], set[str]]:
    context = MigrationContext.configure(connection)
    script = ScriptDirectory.from_config(alembic_config())
    return set(context.get_current_heads()), set(script.get_heads())


async def upgrade_database(engine: AsyncEngine) -> None:
    """Apply every pending migration (idempotent)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
    log.info("database schema is up to date")


async def schema_is_current(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        current, expected = await connection.run_sync(_current_heads)
    return current == expected
