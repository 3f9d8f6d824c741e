"""Personal data, declared where it is stored: the vocabulary of the ``info`` on schema columns.

Every column that holds a member's id or something a member wrote carries one declaration in
its SQLAlchemy ``info`` (under ``INFO_KEY``), and ``/privacy my-data`` and ``forget-me`` are
built by walking them over ``Base.metadata`` (``bot.privacy.queries``), so a new table or
column is covered by saying what it is, next to its type:

- ``member_id(...)``: the row is about the member whose id this is. It says which section of
  the data download lists the row and what it shows, and how erasure treats the row: deleted,
  or kept with this id set to NULL (shared history keeps its shape, the member leaves it).
- ``member_text(...)``: text a member wrote or chose (a name, a note, a link): it goes with its
  row when the row is deleted; in a row that stays (anonymised) it names its ``author`` column and
  is cleared when that member is erased, or says why it is kept (``kept_because``).
- ``not_member_data(...)``: a Discord id or text that is not about a member (a channel, a role,
  a content key), so a test can tell a forgotten declaration from a deliberate one.

``declaration(column)`` reads one back. No DDL changes: ``info`` never reaches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from sqlalchemy import Column

INFO_KEY: Final = "personal_data"


class Erasure(StrEnum):
    DELETE_ROW = "the row is deleted"
    SET_NULL = "the id is set to NULL; the row stays"
    KEEP = "kept in its row, whose owner id is set to NULL"
    CLEAR = "set to NULL when its author is erased; the row stays"


@dataclass(frozen=True, slots=True)
class MemberId:
    """The id of the member a row is about, and how ``/privacy`` lists and erases the row.

    ``shows`` and ``order_by`` name columns of this table (``"left_at"``) or of a table reached
    through its foreign keys (``"cohorts.name as cohort"``). ``erase_only_if`` restricts erasure
    to rows whose column starts with a prefix (the other rows keep the id).
    """

    section: str
    rank: int  # the section's place in the download
    shows: tuple[str, ...]
    erase: Erasure
    erased_as: str  # the name of the erasure count
    order_by: tuple[str, ...] = ()
    erase_only_if: tuple[str, str] | None = None  # (column, prefix)


@dataclass(frozen=True, slots=True)
class MemberText:
    """Text a member wrote or chose; ``erase`` is what erasing its owner does to it.

    ``author``: for ``CLEAR``, the ``member_id`` column of the same row naming who wrote it (a
    review's link is the reviewer's words, not the reviewee's). ``kept_because``: for ``KEEP``,
    why the text outlives its author.
    """

    erase: Erasure
    author: str | None = None
    kept_because: str | None = None


@dataclass(frozen=True, slots=True)
class NotMemberData:
    """A column that looks personal but is not: ``what`` it holds instead."""

    what: str


Declaration = MemberId | MemberText | NotMemberData


def member_id(
    section: str,
    *,
    rank: int,
    shows: tuple[str, ...],
    erase: Erasure,
    erased_as: str,
    order_by: tuple[str, ...] = (),
    erase_only_if: tuple[str, str] | None = None,
) -> dict[str, Declaration]:
    return {INFO_KEY: MemberId(section, rank, shows, erase, erased_as, order_by, erase_only_if)}


def member_text(
    erase: Erasure, *, author: str | None = None, kept_because: str | None = None
) -> dict[str, Declaration]:
    return {INFO_KEY: MemberText(erase, author, kept_because)}


def not_member_data(what: str) -> dict[str, Declaration]:
    return {INFO_KEY: NotMemberData(what)}


def declaration(column: Column[object]) -> Declaration | None:
    found = column.info.get(INFO_KEY)
    return found if isinstance(found, MemberId | MemberText | NotMemberData) else None
