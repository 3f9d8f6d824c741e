"""``INSERT ... ON CONFLICT`` on the two databases Waypoint runs on.

One statement where a savepoint, an insert and a release (or a read, then a write) would be three
or four round trips: inside a writer's turn every round trip counts, since SQLite lets one writer
in at a time.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Upsert: TypeAlias = sqlite.Insert | postgresql.Insert


def insert_for(session: AsyncSession, table: Any) -> Upsert:
    """An INSERT into ``table`` (a mapped class or a Table) that can take ``on_conflict_*``."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"Waypoint runs on SQLite or PostgreSQL, not on {dialect}")


async def insert_if_new(
    session: AsyncSession, entity: Any, values: dict[str, Any], unique: list[str]
) -> bool:
    """Insert one row unless one with the same ``unique`` columns exists (a double submit or another
    process may race us): one statement, True when this call stored the row."""
    statement = (
        insert_for(session, entity)
        .values(values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(*entity.__table__.primary_key.columns)
    )
    return await session.scalar(statement) is not None
