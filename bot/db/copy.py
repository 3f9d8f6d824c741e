"""``waypoint db copy``: move a community's data to another database (SQLite to PostgreSQL, or any pair).

The target is migrated first and must be empty. Every table of the one schema is copied in
foreign-key order (parents before children), streamed from the source in batches and written in
one transaction, so a failure leaves the target empty rather than half-filled. Rows keep their ids;
on PostgreSQL each id sequence is then moved past the largest copied id, so the next insert does
not collide. Row counts are compared table by table before the transaction commits.

The source is only read. Stop the bot while copying: rows written to the source during the copy
would make the counts differ, and the copy is refused rather than left incomplete.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import create_engine, schema_is_current, upgrade_database
from bot.db.models import Base

log = logging.getLogger(__name__)

COPY_BATCH_ROWS: Final = 1000


class CopyError(Exception):
    """The copy cannot go ahead or did not add up; the message is one sentence for the operator."""


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int


def tables_in_order() -> list[Table]:
    """Every table of the schema, each after the tables its foreign keys point to."""
    return list(Base.metadata.sorted_tables)


def shown(url: str) -> str:
    """A database URL fit for a terminal: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


async def copy_database(source_url: str, target_url: str) -> list[CopiedTable]:
    """Copy every row from ``source_url`` into the empty ``target_url``; the per-table row counts."""
    if make_url(source_url) == make_url(target_url):
        raise CopyError("the source and the target are the same database")
    _require_sqlite_file(source_url)
    source, target = create_engine(source_url), create_engine(target_url)
    try:
        if not await schema_is_current(source):
            raise CopyError(
                f"{shown(source_url)} is not a Waypoint database at the current schema: "
                "run `waypoint db upgrade` on it first"
            )
        await upgrade_database(target)
        async with source.connect() as reading, target.begin() as writing:
            await _refuse_non_empty(writing, target_url)
            copied = [await _copy_table(reading, writing, table) for table in tables_in_order()]
            if writing.dialect.name == "postgresql":
                await _advance_sequences(writing)
            await _verify(reading, writing, copied)
    finally:
        await source.dispose()
        await target.dispose()
    log.info(
        "copied %d rows from %s to %s", sum(t.rows for t in copied), shown(source_url), shown(target_url)
    )
    return copied


def _require_sqlite_file(url: str) -> None:
    """Opening a missing SQLite file would create an empty one: say that nothing is there instead."""
    parsed = make_url(url)
    on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if on_disk and not Path(str(parsed.database)).is_file():
        raise CopyError(f"there is no database file at {parsed.database}")


async def _row_count(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def _refuse_non_empty(connection: AsyncConnection, target_url: str) -> None:
    for table in tables_in_order():
        if await connection.scalar(select(select(table).limit(1).exists())):
            raise CopyError(
                f"the target {shown(target_url)} is not empty ({table.name} has rows): "
                "copy into a new, empty database"
            )


async def _copy_table(reading: AsyncConnection, writing: AsyncConnection, table: Table) -> CopiedTable:
    rows = 0
    result = await reading.stream(select(table).execution_options(yield_per=COPY_BATCH_ROWS))
    async for batch in result.mappings().partitions():
        await writing.execute(insert(table), [dict(row) for row in batch])
        rows += len(batch)
    return CopiedTable(table.name, rows)


async def _advance_sequences(connection: AsyncConnection) -> None:
    """After explicit ids, move each id sequence to the largest id (or back to 1 for an empty table)."""
    for table in tables_in_order():
        column = table.autoincrement_column
        if column is None:
            continue
        sequence = await connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        )
        if sequence is None:
            continue
        largest = f'MAX("{column.name}")'
        await connection.execute(
            text(
                f'SELECT setval(:sequence, COALESCE({largest}, 1), {largest} IS NOT NULL) FROM "{table.name}"'
            ),
            {"sequence": sequence},
        )


async def _verify(reading: AsyncConnection, writing: AsyncConnection, copied: list[CopiedTable]) -> None:
    tables = {table.name: table for table in tables_in_order()}
    for entry in copied:
        in_source = await _row_count(reading, tables[entry.name])
        in_target = await _row_count(writing, tables[entry.name])
        if not in_source == in_target == entry.rows:
            raise CopyError(
                f"row counts differ for {entry.name} (source {in_source}, copied {entry.rows}, "
                f"target {in_target}); was the bot still writing to the source? Nothing was copied"
            )
