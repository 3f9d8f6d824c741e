"""``upgrade_unless_current``: what a bot's start-up or a fixture's ``upgrade_database`` does to a
database that is at the heads already, for a fraction of the cost.

Alembic re-reads the migration scripts and runs ``env.py`` on every ``upgrade_database``, to find
that there is nothing to do: 10 to 25 ms per bot start or ``engine`` fixture, on every test's copy
of the migrated template and on the emptied, migrated PostgreSQL database. Here the scripts' heads
are read once per process and compared with the database's; any database not at them (never
migrated, or behind) still goes through the real ``upgrade_database``.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import alembic_config, upgrade_database

_SCRIPT_HEADS: set[str] = set()


def _current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def upgrade_unless_current(engine: AsyncEngine) -> None:
    """``upgrade_database(engine)``, minus alembic's reading of the scripts when there is nothing to do."""
    if not _SCRIPT_HEADS:
        _SCRIPT_HEADS.update(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_heads)
    if current != _SCRIPT_HEADS:
        await upgrade_database(engine)
