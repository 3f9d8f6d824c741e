"""Rows handed column by column (``ColumnBatch``) and the XLSX file written without a library.

Every writer must give the same bytes (CSV, JSON) or the same cells (XLSX, read back with
openpyxl) whether rows come as tuples or as columns, in one batch or several.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.exports.formats import (
    ColumnBatch,
    iter_csv,
    iter_csv_batches,
    iter_json,
    iter_json_batches,
    write_xlsx,
    write_xlsx_batches,
)
from bot.exports.queries import _utc_timestamps

COLUMNS = ("member_id", "name", "count", "share", "at_utc", "day", "flag")
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
MOMENTS = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC))
ROWS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2**63),
        st.one_of(st.none(), TEXT, st.sampled_from(["=1+1", " @x", "Ada", "a,b", 'q"q', "x\r\ny"])),
        st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**6)),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.one_of(st.none(), MOMENTS),
        st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 1, 1)),
        st.booleans(),
    ),
    max_size=30,
)


def as_columns(rows: list[tuple[Any, ...]], size: int) -> list[ColumnBatch]:
    """The rows in column batches of ``size`` rows."""
    return [
        ColumnBatch(tuple(list(column) for column in zip(*rows[start : start + size], strict=True)))
        for start in range(0, len(rows), size)
        if rows[start : start + size]
    ]


def sheet_values(payload: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


@settings(max_examples=60, deadline=None)
@given(ROWS, st.integers(min_value=1, max_value=7))
def test_column_batches_give_the_same_files_as_rows(rows: list[tuple[Any, ...]], size: int) -> None:
    batches = as_columns(rows, size)

    assert b"".join(iter_csv_batches(COLUMNS, batches)) == b"".join(iter_csv(COLUMNS, rows))
    by_rows = b"".join(iter_json("x", {}, COLUMNS, rows))
    assert b"".join(iter_json_batches("x", {}, COLUMNS, batches)) == by_rows
    json.loads(by_rows)

    from_rows, from_columns = io.BytesIO(), io.BytesIO()
    write_xlsx("x", COLUMNS, rows, from_rows)
    write_xlsx_batches("x", COLUMNS, batches, from_columns)
    assert sheet_values(from_columns.getvalue()) == sheet_values(from_rows.getvalue())


@settings(max_examples=60, deadline=None)
@given(ROWS)
def test_xlsx_reads_back_what_was_written(rows: list[tuple[Any, ...]]) -> None:
    out = io.BytesIO()
    write_xlsx("x", COLUMNS, rows, out)

    values = sheet_values(out.getvalue())
    assert values[0] == COLUMNS
    assert len(values) == len(rows) + 1
    for written, (member_id, name, count, share, at, day, flag) in zip(values[1:], rows, strict=True):
        assert written[0] == str(member_id)
        if name is None:
            assert written[1] is None
        else:
            kept = name.replace("\r\n", "\n").replace("\r", "\n")
            kept = "".join(c for c in kept if c in "\t\n" or not (c < " " or c in "\ufffe\uffff"))
            assert written[1] == kept
        assert written[2] == count
        assert written[3] == pytest.approx(share)
        assert written[4] == (None if at is None else at.replace(tzinfo=None, microsecond=0))
        assert written[5] == datetime(day.year, day.month, day.day)
        assert written[6] is flag


def test_xlsx_escapes_markup_and_keeps_blanks() -> None:
    out = io.BytesIO()
    texts = ["<b>&amp;</b>", "  two spaces around  ", "line\nbreak", "tab\tinside", "\u00a0nbsp"]
    write_xlsx("Ampersand & <co>", ("name",), [(text,) for text in texts], out)

    workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    sheet = workbook.active
    assert sheet is not None
    assert sheet.title == "Ampersand & <co>"
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == texts
    assert all(not cell.quotePrefix for (cell,) in sheet.iter_rows(min_row=2))


def test_xlsx_file_has_one_sheet_of_inline_strings_and_no_formula() -> None:
    out = io.BytesIO()
    write_xlsx(
        "x", ("member_id", "name", "joined_at_utc"), [(1, "=1+1", datetime(2026, 1, 1, tzinfo=UTC))], out
    )

    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.testzip() is None
        assert "xl/sharedStrings.xml" not in archive.namelist()
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml
    assert '<c r="A2" t="inlineStr"><is><t>1</t></is></c>' in sheet_xml
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    assert [sheet.column_dimensions[letter].width for letter in "ABC"] == [12, 12, 20]
    # Read-only mode streams the sheet like a large export would be read.
    streamed = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    assert streamed is not None
    assert list(streamed.iter_rows(values_only=True))[1] == ("1", "=1+1", datetime(2026, 1, 1))


def test_xlsx_refuses_values_a_cell_cannot_hold() -> None:
    with pytest.raises(ValueError, match="nan"):
        write_xlsx("x", ("share",), [(float("nan"),)], io.BytesIO())
    with pytest.raises(ValueError, match="naive"):
        write_xlsx("x", ("at_utc",), [(datetime(2026, 1, 1),)], io.BytesIO())
    with pytest.raises(TypeError, match="cannot export a list"):
        write_xlsx("x", ("x",), [([1],)], io.BytesIO())


def test_a_column_batch_must_match_the_columns() -> None:
    with pytest.raises(ValueError, match="2 columns of one length"):
        list(iter_csv_batches(("a", "b"), [ColumnBatch(([1, 2], [3]))]))
    with pytest.raises(ValueError, match="2 columns of one length"):
        list(iter_csv_batches(("a", "b"), [ColumnBatch(([1],))]))


def test_a_formula_among_repeated_names_is_neutralised_alone() -> None:
    names = ["Ada"] * 5 + ["=cmd"] * 3 + ["Smith, Bo"] * 2
    payload = b"".join(iter_csv_batches(("name",), [ColumnBatch((names,))]))

    assert (
        payload.decode("utf-8-sig").split("\r\n")[1:-1] == ["Ada"] * 5 + ["'=cmd"] * 3 + ['"Smith, Bo"'] * 2
    )


def test_checkpoint_timestamps_parse_sqlite_text_driver_datetimes_and_offsets() -> None:
    moment = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    assert _utc_timestamps(["2026-03-02 10:00:00.000000", None]) == [moment, None]
    assert _utc_timestamps([datetime(2026, 3, 2, 10, 0), None]) == [moment, None]
    assert _utc_timestamps(["2026-03-02 12:00:00+02:00"]) == [moment]
    aware = _utc_timestamps([datetime(2026, 3, 2, 5, 0, tzinfo=timezone(timedelta(hours=-5)))])
    assert aware == [moment] and all(value is not None and value.tzinfo is UTC for value in aware)
