"""Engine, sessions and migrations.

SQLite (the default, one community) gets WAL, foreign keys, a busy timeout and one writer at a
time (``Sessions``). PostgreSQL (many servers, several processes) gets a bounded connection pool
that checks a connection before handing it out, and text parameters with NUL characters cleaned:
PostgreSQL refuses NUL in text, and a member's display name or a moderator's prompt must not be
able to crash a write.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event
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
# Execution option of the connections ``Sessions.begin`` writes through: BEGIN IMMEDIATE on SQLite.
SQLITE_IMMEDIATE = "waypoint_sqlite_immediate"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The driver's own implicit BEGIN is turned off: ``_sqlite_begin`` says which kind.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    """A writing transaction takes SQLite's write lock at BEGIN, where the busy timeout applies.

    A deferred transaction that has read and then wants to write while another writer committed
    meanwhile fails at once with "database is locked" (the busy timeout cannot help: its snapshot
    is stale); taking the lock first makes the writer wait its turn instead.
    """
    immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    elif backend == "postgresql":
        event.listen(engine.sync_engine, "before_cursor_execute", _strip_nul, retval=True)
    return engine


def opens_elsewhere(database_url: str) -> bool:
    """Whether another process can open this database (not a private in-memory SQLite one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


class WriterQueue:
    """This process's SQLite writers, one at a time, in the order they asked (an asyncio lock).

    SQLite has one writer per database. Left to its busy handler, waiting writers poll with
    growing sleeps (up to 100 ms each), so a member's one-row write could wait a tenth of a second
    after the lock was already free; queued here, the next writer starts the moment the last one
    commits. Another process (a CLI command) is still waited for by the busy timeout.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("a writing transaction inside another one would wait for itself")
        async with self._lock:
            self._holder = task
            token = _IN_WRITE_TURN.set(True)
            try:
                yield
            finally:
                _IN_WRITE_TURN.reset(token)
                self._holder = None


_IN_WRITE_TURN: ContextVar[bool] = ContextVar("waypoint_in_write_turn", default=False)


def in_write_turn() -> bool:
    """True inside a SQLite writing transaction of this process, where no other writer runs."""
    return _IN_WRITE_TURN.get()


def writes_alone(session: AsyncSession) -> bool:
    """True for a SQLite writing session (``Sessions.begin``): it began with the database's write
    lock, so no other writer can change anything until it ends, and row locks would add nothing."""
    bind = session.bind
    return isinstance(bind, AsyncEngine) and bool(bind.get_execution_options().get(SQLITE_IMMEDIATE))


_WRITERS: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def _writers_of(engine: AsyncEngine) -> WriterQueue:
    """One queue per engine, shared by every sessionmaker over it."""
    return _WRITERS.setdefault(engine.sync_engine, WriterQueue())


class Sessions(async_sessionmaker[AsyncSession]):
    """``sessions()`` reads; ``sessions.begin()`` is a transaction that writes and commits.

    On SQLite a writing transaction waits for this process's previous writer (``WriterQueue``)
    and then starts with BEGIN IMMEDIATE; on PostgreSQL it is a plain transaction, bounded by the
    pool, and row locks decide who waits.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self._writers = _writers_of(engine) if engine.dialect.name == "sqlite" else None
        self._write_bind = engine.execution_options(**{SQLITE_IMMEDIATE: True})

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:  # type: ignore[override]
        if self._writers is None:
            return super().begin()
        return self._sqlite_write()

    @asynccontextmanager
    async def _sqlite_write(self) -> AsyncIterator[AsyncSession]:
        assert self._writers is not None
        async with self._writers.turn(), self(bind=self._write_bind) as session, session.begin():
            yield session


def create_sessionmaker(engine: AsyncEngine) -> Sessions:
    return Sessions(engine)


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
