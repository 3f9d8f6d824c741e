"""Formula injection after trimming (issue: hostile use, item "exports as a moderator opens them").

A spreadsheet that trims leading blanks on import (LibreOffice's "Trim spaces", Excel on paste)
turns ``" =1+1"`` into a live formula; the neutraliser looks past what would be trimmed. The
written bytes are read back: the CSV with the csv module and a trimming import, the XLSX with
openpyxl.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.exports.formats import iter_csv, neutralise_cell, starts_like_formula, write_xlsx
from bot.exports.formats.common import MAYBE_FORMULA_AFTER_NUL

# Blanks and invisible characters a trimming import, or the eye, skips before the formula.
LEADERS = [
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\u200b",
    "\ufeff",
    " \u00a0\t",
    "\x0b",
]
PAYLOADS = ["=1+1", '=HYPERLINK("http://evil.example","x")', "+1", "-1+2", "@SUM(A1)"]
HIDDEN_FORMULAS = [leader + payload for leader in LEADERS for payload in PAYLOADS]


def trimmed(cell: str) -> str:
    """What a "Trim spaces" import keeps of a cell: no leading blanks or invisible characters."""
    return cell.lstrip(" \t\r\n\x0b\x0c\u00a0\u2003\u3000\u200b\ufeff")


def read_csv(payload: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("text", HIDDEN_FORMULAS)
def test_a_formula_behind_blanks_is_neutralised(text: str) -> None:
    assert starts_like_formula(text)
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["  Ada", "\u00a0Zoë", " 1-2", "\u200bname", "   ", ""])
def test_blanks_before_harmless_text_change_nothing(text: str) -> None:
    assert neutralise_cell(text) == text


@pytest.mark.parametrize("text", HIDDEN_FORMULAS)
def test_csv_cells_never_trim_to_a_formula(text: str) -> None:
    payload = b"".join(iter_csv(("name", "n"), [("Ada", 1), (text, 2)]))

    cells = read_csv(payload)[2]
    assert cells[0] == "'" + text
    assert not trimmed(cells[0]).startswith(("=", "+", "-", "@"))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8))
def test_the_fast_csv_check_never_misses_a_cell_the_neutraliser_would_change(text: str) -> None:
    if neutralise_cell(text) != text:
        assert MAYBE_FORMULA_AFTER_NUL.search("\x00" + text)


@given(st.lists(st.text(alphabet=" \u00a0\t\u200b=+-@ab1", max_size=6), min_size=1, max_size=20))
def test_a_column_of_mixed_cells_reads_back_neutralised(names: list[str]) -> None:
    rows = [(name,) for name in names]

    parsed = [row[0] for row in read_csv(b"".join(iter_csv(("name",), rows)))[1:]]

    assert parsed == [neutralise_cell(name).replace("\r\n", "\n") for name in names]


@pytest.mark.parametrize("text", HIDDEN_FORMULAS)
def test_xlsx_cells_behind_blanks_are_text_with_a_quote_prefix(text: str) -> None:
    out = io.BytesIO()
    write_xlsx("x", ("name",), [(text,)], out)

    cell = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active["A2"]
    assert cell.data_type == "s"
    assert cell.quotePrefix
    assert cell.value == text.replace("\r\n", "\n").replace("\x0b", "")  # XML keeps neither
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


def test_xlsx_control_characters_dropped_before_a_formula_still_leave_it_neutralised() -> None:
    """XML cannot hold a bell character, so "\\x07=1" is written as "=1": it must be text."""
    out = io.BytesIO()
    write_xlsx("x", ("name",), [("\x07=1+1",)], out)

    cell = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=1+1", "s", True)
