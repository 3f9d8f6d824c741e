"""The PostgreSQL half of the suite: finding a server, one migrated database per worker, a fast reset.

A server is used when ``WAYPOINT_TEST_POSTGRES_URL`` names one, or when something answers on
127.0.0.1:5432 (then as ``postgres``, the Debian default with local trust);
``WAYPOINT_TEST_POSTGRES_URL=off`` runs the SQLite half only. Each pytest process
(each xdist worker) creates its own database ``waypoint_test_<random>_<worker>``, migrates it once
with the real migrations, and drops it when the session ends.

Between tests the database is emptied rather than recreated: ``DELETE`` from every table, children
first, and every sequence set back to its start (``setval``), on one connection kept open for the
session. Measured on PostgreSQL 15 with the real schema: under 1 ms, against 20 ms when the
sequences are restarted with ``ALTER SEQUENCE ... RESTART`` (a new file for each), 230 ms for
``TRUNCATE ... RESTART IDENTITY CASCADE`` (which replaces each table's files) and 180 ms for
``CREATE DATABASE ... TEMPLATE``.
That connection lives on an event loop of its own, in a thread, because pytest-asyncio gives every
test a fresh loop and an asyncpg connection belongs to the loop that opened it.

The tests of a fresh install get a second, never-migrated database per worker, likewise kept for the
session: before each such test its ``public`` schema is dropped and recreated as the server made it
(5 ms), where dropping the database would make the server write a checkpoint first.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from collections.abc import Coroutine
from typing import Any, Final, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

from bot.db.engine import create_engine, upgrade_database
from bot.db.models import Base

URL_VARIABLE: Final = "WAYPOINT_TEST_POSTGRES_URL"
LOCAL_SERVER: Final = ("127.0.0.1", 5432)
LOCAL_URL: Final = "postgresql://postgres@127.0.0.1:5432/postgres"
HOW_TO_ENABLE: Final = (
    "PostgreSQL half skipped: no server answers on 127.0.0.1:5432 and WAYPOINT_TEST_POSTGRES_URL names "
    "none. To run it, start one or set"
    " WAYPOINT_TEST_POSTGRES_URL=postgresql://user:password@host:port/postgres "
    "(.ci/run does it for you)."
)
MISSING_IN_CI: Final = (
    "CI is set but no PostgreSQL server answers: set WAYPOINT_TEST_POSTGRES_URL or start one on "
    "127.0.0.1:5432 (.ci/run installs and starts one)."
)

T = TypeVar("T")


def server_url() -> str | None:
    """The admin URL of the server the tests may use, or None when there is none."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    if configured.lower() == "off":  # a quick local run: SQLite only, even with a server there
        return None
    if configured:
        return configured
    try:
        socket.create_connection(LOCAL_SERVER, timeout=0.5).close()
    except OSError:
        return None
    return LOCAL_URL


def _dsn(url: URL) -> str:
    """A plain libpq-style DSN for asyncpg (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class _LoopThread:
    """An event loop running in a daemon thread; ``run`` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="postgres-tests", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class TestDatabase:
    """One migrated database for this process's tests; ``reset`` empties it, ``drop`` removes it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, admin_url: str, worker: str) -> None:
        self._admin = make_url(admin_url)
        self.name = f"waypoint_test_{secrets.token_hex(4)}_{worker}"
        self.url = self._admin.set(drivername="postgresql+asyncpg", database=self.name)
        self.async_url = self.url.render_as_string(hide_password=False)
        self._loop = _LoopThread()
        self._connection: asyncpg.Connection | None = None
        self._reset_sql = ""
        self._empty_sql = ""

    def create(self, *, migrate: bool = True) -> None:
        """Create the database; migrated and ready for ``reset``, or left empty (as a fresh install)
        and ready for ``empty``."""
        self._loop.run(self._create() if migrate else self._create_empty())

    def reset(self) -> None:
        self._loop.run(self._reset())

    def empty(self) -> None:
        """Back to a never-migrated database, as ``create(migrate=False)`` left it."""
        self._loop.run(self._empty())

    def drop(self) -> None:
        try:
            self._loop.run(self._drop())
        finally:
            self._loop.stop()

    async def _admin_execute(self, sql: str) -> None:
        connection = await asyncpg.connect(_dsn(self._admin))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def _create(self) -> None:
        await self._admin_execute(f'CREATE DATABASE "{self.name}"')
        # Tests need no durability: a commit need not wait for the disk (the largest cost on PostgreSQL).
        await self._admin_execute(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off')
        engine = create_engine(self.async_url)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()
        self._connection = await asyncpg.connect(_dsn(self.url))
        await self._connection.execute("SET lock_timeout = '10s'")  # a leaked transaction fails loudly
        sequences = await self._connection.fetch(
            "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = current_schema()"
        )
        children_first = [table.name for table in reversed(Base.metadata.sorted_tables)]
        # ``setval(..., start, false)``: the next value is the sequence's start, as after ``ALTER
        # SEQUENCE ... RESTART``, which would give each sequence a new file (20 ms for all of them).
        restarts = ", ".join(
            f"setval('\"{row['sequencename']}\"', {row['start_value']}, false)" for row in sequences
        )
        self._reset_sql = "".join(f'DELETE FROM "{table}";' for table in children_first) + (
            f"SELECT {restarts};" if restarts else ""
        )

    async def _reset(self) -> None:
        assert self._connection is not None, "create() first"
        await self._connection.execute(self._reset_sql)

    async def _create_empty(self) -> None:
        await self._admin_execute(f'CREATE DATABASE "{self.name}"')
        self._connection = await asyncpg.connect(_dsn(self.url))
        await self._connection.execute("SET lock_timeout = '10s'")
        # The schema ``public`` as the server made it (its owner and grants differ between versions),
        # so that dropping and recreating it gives back exactly this new database.
        schema = "(SELECT oid, nspowner, nspacl FROM pg_namespace WHERE nspname = 'public')"
        owner = await self._connection.fetchval(f"SELECT nspowner::regrole::text FROM {schema} AS s")
        grants = await self._connection.fetch(
            "SELECT a.privilege_type, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END"
            f" AS grantee FROM {schema} AS s, aclexplode(s.nspacl) AS a WHERE a.grantee <> s.nspowner"
        )
        self._empty_sql = (
            f"DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION {owner};"
            + "".join(
                f"GRANT {row['privilege_type']} ON SCHEMA public TO {row['grantee']};" for row in grants
            )
        )

    async def _empty(self) -> None:
        """Drop the schema a test migrated into, instead of the database: ``DROP DATABASE`` makes the
        server write a checkpoint (up to seconds while other tests write), dropping a schema does not.
        Connections a test left open are ended first, as ``DROP DATABASE ... WITH (FORCE)`` would."""
        assert self._connection is not None, "create(migrate=False) first"
        await self._connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await self._connection.execute(self._empty_sql)

    async def _drop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        await self._admin_execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
