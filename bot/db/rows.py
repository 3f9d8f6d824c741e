"""Reading many rows fast: Core statements streamed in batches, raw timestamps converted by hand.

Exports of a large server walk hundreds of thousands of rows, so those reads are Core SQL (no
ORM objects, no identity map) streamed from the cursor in batches with ``yield_per``: memory
stays flat whatever the server's size.

Timestamps in the big streams are selected as raw values (``raw``) and converted by
``utc_timestamp``: SQLAlchemy's per-value type processing (``UTCDateTime``) costs more than the
whole CSV formatting on a 600,000-row export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias

from sqlalchemy import ColumnElement, Select, String, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

# Rows fetched per round trip. Small on purpose: SQLAlchemy's row objects are garbage-collector
# containers, and the more of them are alive at once, the more get promoted to the oldest
# generation and trigger full collections of the whole process (2,000 made the long export
# spend a third of its time in the collector; 500 cuts that by two thirds).
BATCH_ROWS: Final = 500

AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


def utc_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from a raw timestamp: SQLite's naive UTC text or a driver datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # naive UTC text, as UTCDateTime stores it; ``replace(tzinfo=...)`` is 6x slower
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # the text carries its own offset
            return datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def required_utc_timestamp(value: object) -> datetime:
    moment = utc_timestamp(value)
    if moment is None:
        raise ValueError("a required timestamp is missing")
    return moment


def raw(column: Any, name: str) -> ColumnElement[Any]:
    """The column without its result processing, labelled ``name``; see ``utc_timestamp``."""
    return type_coerce(column, String).label(name)


async def stream(session: AsyncSession, statement: AnySelect) -> AsyncIterator[Sequence[Any]]:
    """The statement's rows in batches from a server-side cursor, on the session's connection.

    Executed by Core on the session's connection, not through the ORM session: the rows are
    tuple-like ``Row`` objects, with no ORM loading or identity map. ``AsyncConnection.stream``
    asks for ``stream_results``: on PostgreSQL (asyncpg) that is a real server-side cursor inside
    the session's transaction, fetching ``BATCH_ROWS`` at a time, so the server never sends the
    whole result at once; on SQLite the rows are stepped from the file as they are read.
    """
    connection = await session.connection()
    result = await connection.stream(statement.execution_options(yield_per=BATCH_ROWS))
    async for partition in result.partitions():
        yield partition
