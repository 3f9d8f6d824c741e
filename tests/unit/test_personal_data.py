"""Personal data is declared where it is stored: every column that could hold a member's id or
words carries a declaration, so a new one cannot be left out of `/privacy my-data` and `forget-me`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, String, Table, Text

from bot.db.models import Base
from bot.db.personal import Erasure, MemberId, MemberText, NotMemberData, declaration
from bot.privacy.queries import erasure_kinds
from bot.privacy.rules import COUNT_WORDING

# Names that say "a person": user_id, member_id, author_id, reviewer_id, created_by, actor_id...
LOOKS_LIKE_A_PERSON = re.compile(
    r"(^|_)(user|member|author|actor|reviewer|reviewee|owner|creator|participant|sender)(_id)?$|_by$"
)

COLUMNS = [
    pytest.param(table, column, id=f"{table.name}.{column.name}")
    for table in Base.metadata.tables.values()
    for column in table.columns
]


def _has_member_id(table: Table) -> bool:
    return any(isinstance(declaration(column), MemberId) for column in table.columns)


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_a_column_named_like_a_person_is_a_declared_member_id(table: Table, column: Column[Any]) -> None:
    if LOOKS_LIKE_A_PERSON.search(column.name):
        assert isinstance(declaration(column), MemberId), (
            f"{table.name}.{column.name} looks like it holds a member's id: declare it with member_id(...)"
        )


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_every_discord_id_column_says_whose_it_is(table: Table, column: Column[Any]) -> None:
    """Snowflakes are BigInteger: each one is a member's id or declared as something else."""
    if isinstance(column.type, BigInteger) and column.name != "guild_id":
        assert declaration(column) is not None, (
            f"{table.name}.{column.name} holds a Discord id: declare it with member_id(...) if it is a"
            " member's, else not_member_data(...)"
        )


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_text_in_a_members_row_says_how_it_is_erased(table: Table, column: Column[Any]) -> None:
    if _has_member_id(table) and isinstance(column.type, String | Text):
        assert isinstance(declaration(column), MemberText | NotMemberData), (
            f"{table.name}.{column.name} is text in a row about a member: declare it with"
            " member_text(...) if the member wrote or chose it, else not_member_data(...)"
        )


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_text_deleted_with_its_row_sits_in_a_row_that_is_deleted(table: Table, column: Column[Any]) -> None:
    found = declaration(column)
    if isinstance(found, MemberText) and found.erase is Erasure.DELETE_ROW:
        owners = [declaration(other) for other in table.columns]
        assert any(isinstance(owner, MemberId) and owner.erase is Erasure.DELETE_ROW for owner in owners)


def test_member_ids_are_erasable_and_sections_are_distinct() -> None:
    specs = [
        (column, spec)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(spec := declaration(column), MemberId)
    ]
    assert len({spec.section for _, spec in specs}) == len(specs)
    assert len({spec.rank for _, spec in specs}) == len(specs)
    for column, spec in specs:
        assert spec.erase in (Erasure.DELETE_ROW, Erasure.SET_NULL)
        if spec.erase is Erasure.SET_NULL:
            assert column.nullable, f"{column} is anonymised to NULL, so it must be nullable"
        # A section never shows another member's id.
        shown = {name.partition(" as ")[0].rpartition(".")[2] for name in spec.shows}
        assert not any(LOOKS_LIKE_A_PERSON.search(name) for name in shown)


def test_every_erasure_count_has_its_wording() -> None:
    assert sorted(erasure_kinds()) == sorted(COUNT_WORDING)


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_text_in_a_row_that_stays_is_cleared_with_its_author_or_says_why_it_stays(
    table: Table, column: Column[Any]
) -> None:
    """Erasure removes every text a member wrote (issue: hostile use, erasure then export)."""
    found = declaration(column)
    if not isinstance(found, MemberText) or found.erase is Erasure.DELETE_ROW:
        return
    if found.erase is Erasure.CLEAR:
        assert found.author in table.columns, f"{table.name}.{column.name}: its author is not a column here"
        author = declaration(table.columns[found.author])
        assert isinstance(author, MemberId) and author.erase is Erasure.SET_NULL
        assert column.nullable, f"{table.name}.{column.name} is cleared to NULL, so it must be nullable"
    else:
        assert found.erase is Erasure.KEEP and found.kept_because, (
            f"{table.name}.{column.name} outlives its author: clear it with member_text(Erasure.CLEAR,"
            " author=...) or say why it stays (kept_because=...)"
        )


def test_a_review_link_is_the_reviewers_words() -> None:
    link = declaration(Base.metadata.tables["review_completions"].c.link)

    assert link == MemberText(Erasure.CLEAR, author="reviewer_id")
