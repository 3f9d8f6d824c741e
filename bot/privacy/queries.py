"""One member's rows in one server, found by walking the personal-data declarations of the schema.

Every column declared with ``member_id`` in ``bot.db.models`` (see ``bot.db.personal``) gives one
section of a data download and one count of an erasure; nothing here names a table, so a new
column holding a member's id is covered once it is declared. Every statement is scoped by
``guild_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Base, Cohort, GuildSettings, MemberDeparture
from bot.db.personal import Erasure, MemberId, MemberText, declaration
from bot.momentum import tally

Record = dict[str, object]


@dataclass(frozen=True, slots=True)
class _Owned:
    """A column holding the id of the member its rows are about, with its declaration."""

    column: Column[Any]
    spec: MemberId

    @property
    def table(self) -> Table:
        table = self.column.table
        assert isinstance(table, Table)
        return table

    def mine(self, guild_id: int, user_id: int) -> tuple[ColumnElement[bool], ...]:
        return (self.table.c.guild_id == guild_id, self.column == user_id)

    def authored(self) -> list[str]:
        """The text columns of this row written by the member this column names (``CLEAR``)."""
        return [
            column.name
            for column in self.table.columns
            if isinstance(text := declaration(column), MemberText)
            and text.erase is Erasure.CLEAR
            and text.author == self.column.name
        ]


def _owned_columns() -> list[_Owned]:
    """Every ``member_id`` column of the schema, in the order of their sections."""
    found = [
        _Owned(column, spec)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(spec := declaration(column), MemberId)
    ]
    return sorted(found, key=lambda owned: owned.spec.rank)


def erasure_kinds() -> list[str]:
    """The names of the counts an erasure returns, in section order."""
    return [owned.spec.erased_as for owned in _owned_columns()]


@dataclass(frozen=True, slots=True)
class _Join:
    table: Table
    condition: ColumnElement[bool]
    via: str  # the table it is reached from


def _joins(start: Table) -> dict[str, _Join]:
    """Each table reachable from ``start`` through foreign keys, nearest first, and how."""
    found: dict[str, _Join] = {}
    frontier = [start]
    while frontier:
        table = frontier.pop(0)
        for key in table.foreign_keys:
            target = key.column.table
            if isinstance(target, Table) and target.name != start.name and target.name not in found:
                found[target.name] = _Join(target, key.column == key.parent, table.name)
                frontier.append(target)
    return found


def _section_statement(owned: _Owned, guild_id: int, user_id: int) -> Any:
    """The select of one section: its shown columns, joined as far as they reach, in order."""
    joins = _joins(owned.table)
    needed: set[str] = set()

    def resolve(name: str) -> ColumnElement[Any]:
        path, _, label = (part.strip() for part in name.partition(" as "))
        table_name, _, column_name = path.rpartition(".")
        table = owned.table if table_name in ("", owned.table.name) else joins[table_name].table
        while table_name in joins:  # the tables on the way there are joined too
            needed.add(table_name)
            table_name = joins[table_name].via
        column: ColumnElement[Any] = table.c[column_name]
        return column.label(label) if label else column

    shown = [resolve(name) for name in owned.spec.shows]
    order = [resolve(name) for name in owned.spec.order_by]
    statement = select(*shown).select_from(owned.table)
    for name, join in joins.items():
        if name in needed:
            statement = statement.join(join.table, join.condition)
    return statement.where(*owned.mine(guild_id, user_id)).order_by(*order)


async def personal_records(session: AsyncSession, guild_id: int, user_id: int) -> dict[str, list[Record]]:
    """Every row about one member in one guild, section by section, for a data access request.

    Other members' ids are left out (the partners of a review group, the other side of a
    review): no section shows another ``member_id`` column.
    """
    sections: dict[str, list[Record]] = {}
    for owned in _owned_columns():
        result = await session.execute(_section_statement(owned, guild_id, user_id))
        sections[owned.spec.section] = [dict(row._mapping) for row in result]
    return sections


async def erase_member(session: AsyncSession, guild_id: int, user_id: int) -> dict[str, int]:
    """Delete one member's own rows in one guild and anonymise their place in shared history.

    Each ``member_id`` column says which: ``DELETE_ROW`` rows are deleted, ``SET_NULL`` rows stay
    with the id set to NULL (only those matching ``erase_only_if`` when it is set), and the text
    the member wrote in them (``member_text(Erasure.CLEAR, author=...)``, a review's link) is
    cleared with it. Returns the number of rows per kind.
    """
    await tally.forget(session, guild_id, user_id)  # the score buckets count rows erased below
    counts: dict[str, int] = {}
    # The member's own rows go first, then their place in shared history.
    for owned in sorted(_owned_columns(), key=lambda owned: owned.spec.erase is not Erasure.DELETE_ROW):
        where = list(owned.mine(guild_id, user_id))
        if owned.spec.erase_only_if is not None:
            column, prefix = owned.spec.erase_only_if
            where.append(owned.table.c[column].startswith(prefix))
        if owned.spec.erase is Erasure.DELETE_ROW:
            statement: Any = delete(owned.table).where(*where)
        else:
            cleared = [owned.column.name, *owned.authored()]
            statement = update(owned.table).where(*where).values(dict.fromkeys(cleared))
        result = await session.execute(statement)
        counts[owned.spec.erased_as] = int(getattr(result, "rowcount", 0) or 0)
    return counts


async def has_member_data(session: AsyncSession, guild_id: int, user_id: int) -> bool:
    """Whether the member has any row that erasure would delete, besides a recorded departure."""
    checks = [
        exists().where(*owned.mine(guild_id, user_id))
        for owned in _owned_columns()
        if owned.spec.erase is Erasure.DELETE_ROW and owned.table is not MemberDeparture.__table__
    ]
    return bool(await session.scalar(select(or_(*checks))))


async def departures_due(session: AsyncSession, left_before: datetime) -> list[tuple[int, int, datetime]]:
    """(guild, user, left at) of departures older than ``left_before`` in guilds whose policy is purge."""
    statement = (
        select(MemberDeparture.guild_id, MemberDeparture.user_id, MemberDeparture.left_at)
        .join(GuildSettings, GuildSettings.guild_id == MemberDeparture.guild_id)
        .where(GuildSettings.on_leave == "purge", MemberDeparture.left_at <= left_before)
        .order_by(MemberDeparture.left_at, MemberDeparture.id)
    )
    return [(guild_id, user_id, left_at) for guild_id, user_id, left_at in await session.execute(statement)]


async def cohort_roadmaps(session: AsyncSession, guild_id: int) -> dict[str, str]:
    """Each cohort's name in this server and the key of the roadmap it follows."""
    statement = select(Cohort.name, Cohort.roadmap_key).where(Cohort.guild_id == guild_id)
    return {str(row[0]): str(row[1]) for row in await session.execute(statement)}
