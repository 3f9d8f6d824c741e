"""XLSX exports: one typed worksheet, its XML written column by column and streamed into the zip.

A 600,000-row export took two minutes through openpyxl and most of one through XlsxWriter's
``constant_memory`` mode, which both build every cell as Python objects and write them one by
one. The worksheet XML is simple, so it is rendered here the way the CSV is: a batch at a time,
each column checked and converted in one pass, each distinct text rendered once (a member's
name repeats on every checkpoint row), then joined into rows. The fixed parts of the file are in
``xlsx_package``; the result is read back with openpyxl in the tests.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import BinaryIO, Final, cast
from xml.sax.saxutils import escape

from bot.exports.formats.common import (
    Batch,
    ExportTooLargeError,
    Row,
    batched,
    columns_of,
    starts_like_formula,
)
from bot.exports.formats.xlsx_package import (
    SHEET_PART,
    SHEET_TAIL,
    STYLE_DATE,
    STYLE_QUOTED,
    STYLE_TIMESTAMP,
    column_letter,
    sheet_head,
    write_fixed_parts,
)
from bot.kernel.serial import is_id_column

XLSX_MAX_DATA_ROWS: Final = 1_048_576 - 1  # Excel's sheet height, less the header row
_XLSX_BATCH_ROWS: Final = 5_000
# Deflate level of the zip: 1 is several times faster than the default 6 on a large sheet and
# the file is only a few percent larger.
_COMPRESS_LEVEL: Final = 1
_SHEET_TITLE_FORBIDDEN: Final = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold (C0 controls but tab, line feed and carriage return; U+FFFE/F).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH_ORDINAL: Final = date(1899, 12, 30).toordinal()
_SECONDS_PER_DAY: Final = 86_400


def _sheet_title(title: str) -> str:
    """Excel refuses titles over 31 characters or holding any of ``[]:*?/\\``."""
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("-", title).strip("' ")[:31]
    return cleaned or "export"


def _column_width(name: str) -> int:
    wide = name.endswith(("_at", "_utc", "url", "link"))
    return max(len(name) + 2, 20 if wide else 12)


def write_xlsx(sheet_title: str, columns: Sequence[str], rows: Iterable[Row], out: BinaryIO) -> None:
    """Write one worksheet with a bold, frozen header row and typed cells.

    Cell types: ``int`` and ``float`` stay numbers, timestamps become real Excel datetimes
    (naive, in UTC, as Excel has no time zones; their columns say so by ending in ``_utc``) with
    a ``yyyy-mm-dd hh:mm:ss`` format, ``None`` an empty cell. Identifier columns (``*_id``) are
    text so Excel keeps every digit of a snowflake. Text is always stored as text (an inline
    string: ``=...`` never becomes a formula nor ``#N/A`` an error) and, when it starts like a
    formula, carries Excel's quote prefix (the stored form of a typed leading apostrophe), which
    keeps the member's exact text visible yet never evaluated, even after editing the cell.
    Characters that XML cannot hold are dropped and carriage returns become line feeds.

    Raises ``ExportTooLargeError`` past Excel's 1,048,576 rows; ``out`` then holds a truncated
    workbook that the caller should discard.
    """
    write_xlsx_batches(sheet_title, columns, batched(rows, _XLSX_BATCH_ROWS), out)


def write_xlsx_batches(
    sheet_title: str, columns: Sequence[str], batches: Iterable[Batch], out: BinaryIO
) -> None:
    """``write_xlsx`` over rows handed in batches (lists of rows or ``ColumnBatch``)."""
    letters = [column_letter(index) for index in range(len(columns))]
    identifiers = [is_id_column(name) for name in columns]
    too_many = False
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESS_LEVEL) as package:
        write_fixed_parts(package, _sheet_title(sheet_title))
        with package.open(SHEET_PART, "w") as sheet:
            sheet.write(sheet_head([_column_width(name) for name in columns], columns).encode("utf-8"))
            next_row = 2
            for batch in batches:
                if next_row - 2 + len(batch) > XLSX_MAX_DATA_ROWS:
                    too_many = True
                    break
                cells = [
                    _column_cells(values, identifier)
                    for values, identifier in zip(columns_of(columns, batch), identifiers, strict=True)
                ]
                sheet.write(_rows_xml(next_row, letters, cells).encode("utf-8"))
                next_row += len(batch)
            sheet.write(SHEET_TAIL.encode("utf-8"))
    if too_many:
        raise ExportTooLargeError(f"an Excel sheet holds at most {XLSX_MAX_DATA_ROWS:,} rows")


def _rows_xml(first_row: int, letters: Sequence[str], cells: Sequence[Sequence[str | None]]) -> str:
    """``<row>`` elements; each cell is ``<c r="B7"`` plus its rendered rest, empty ones left out."""
    rows = []
    for number, row in enumerate(zip(*cells, strict=True), start=first_row):
        n = str(number)
        body = "".join(
            [
                f'<c r="{letter}{n}"{cell}'
                for letter, cell in zip(letters, row, strict=True)
                if cell is not None
            ]
        )
        rows.append(f'<row r="{n}">{body}</row>')
    return "".join(rows)


def _column_cells(values: Sequence[object], identifier: bool) -> Sequence[str | None]:
    """One column of a batch as the rest of each cell element after its reference; None: no cell."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {datetime}:
        moments = cast("Sequence[datetime | None]", values)
        return [None if moment is None else _timestamp_cell(moment) for moment in moments]
    if kinds <= {str} or (identifier and kinds <= {str, int}):
        # Each distinct text once: names, titles and ids repeat down a column.
        rendered = {value: _text_cell(str(value)) for value in set(values) if value is not None}
        return list(map(rendered.get, values))
    return [_cell(value, identifier) for value in values]


def _cell(value: object, identifier: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # also StrEnum members: their text is their value
        return _text_cell(str(value))
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return _text_cell(str(value)) if identifier else f"><v>{int(value)}</v></c>"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a spreadsheet cell cannot hold {value!r}")
        return f"><v>{float(value)!r}</v></c>"
    if isinstance(value, datetime):
        return _timestamp_cell(value)
    if isinstance(value, date):
        return f' s="{STYLE_DATE}"><v>{value.toordinal() - _EXCEL_EPOCH_ORDINAL}</v></c>'
    raise TypeError(f"cannot export a {type(value).__name__} cell: {value!r}")


def _text_cell(text: str) -> str:
    formula_like = starts_like_formula(text)  # before dropping characters, which could hide one
    text = _XML_ILLEGAL.sub("", text)
    if "\r" in text:
        # XML turns a raw carriage return into a line feed on reading; do it knowingly.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    style = f' s="{STYLE_QUOTED}"' if formula_like else ""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _timestamp_cell(moment: datetime) -> str:
    """An Excel serial date-time (days since 1899-12-30) of the UTC time, to the second."""
    if moment.tzinfo is not UTC:
        if moment.utcoffset() is None:
            raise ValueError(f"export timestamps must be timezone-aware, got naive {moment!r}")
        moment = moment.astimezone(UTC)
    seconds = moment.hour * 3_600 + moment.minute * 60 + moment.second
    serial = moment.toordinal() - _EXCEL_EPOCH_ORDINAL + seconds / _SECONDS_PER_DAY
    return f' s="{STYLE_TIMESTAMP}"><v>{serial!r}</v></c>'
