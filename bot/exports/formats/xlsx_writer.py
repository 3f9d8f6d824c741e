"""XLSX exports: one typed worksheet, streamed by openpyxl's write-only mode."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import BinaryIO, Final

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.exports.formats.common import ExportTooLargeError, Row, check_width, starts_like_formula
from bot.kernel.serial import is_id_column

XLSX_MAX_DATA_ROWS: Final = 1_048_576 - 1  # Excel's sheet height, less the header row
_XLSX_TIMESTAMP_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
_XLSX_DATE_FORMAT: Final = "yyyy-mm-dd"
_SHEET_TITLE_FORBIDDEN: Final = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    """Excel refuses titles over 31 characters or holding any of ``[]:*?/\\``."""
    cleaned = _SHEET_TITLE_FORBIDDEN.sub("-", title).strip("' ")[:31]
    return cleaned or "export"


def write_xlsx(sheet_title: str, columns: Sequence[str], rows: Iterable[Row], out: BinaryIO) -> None:
    """Write one worksheet with a bold, frozen header row and typed cells.

    Uses openpyxl's write-only mode, which streams rows to disk instead of building the sheet
    in memory. Cell types: ``int`` and ``float`` stay numbers, timestamps become real Excel
    datetimes (naive, in UTC, as Excel has no time zones; their columns say so by ending in ``_utc``)
    with a ``yyyy-mm-dd hh:mm:ss`` format,
    ``None`` an empty cell. Identifier columns (``*_id``) are text so Excel keeps every digit of
    a snowflake. Text is always stored as text: openpyxl would turn ``=...`` into a formula and
    ``#N/A`` into an error, so such cells are forced to the string type and, when they start
    like a formula, flagged with Excel's quote prefix (the stored form of a typed leading
    apostrophe), which keeps the member's exact text visible yet never evaluated, even after
    editing the cell. Control characters that XML cannot hold are dropped and carriage returns
    become line feeds.

    Raises ``ExportTooLargeError`` past Excel's 1,048,576 rows; ``out`` then holds a truncated
    workbook that the caller should discard.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    for index, name in enumerate(columns, start=1):
        wide = name.endswith(("_at", "_utc", "url", "link"))
        sheet.column_dimensions[get_column_letter(index)].width = max(len(name) + 2, 20 if wide else 12)

    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    converters = [_xlsx_converter(sheet, name) for name in columns]
    width = len(columns)
    too_many = False
    for count, row in enumerate(rows, start=1):
        if count > XLSX_MAX_DATA_ROWS:
            too_many = True
            break
        if len(row) != width:
            check_width(columns, row)
        sheet.append([convert(value) for convert, value in zip(converters, row, strict=True)])
    # Saving is also what closes the sheet's stream and removes openpyxl's temporary file, so
    # it happens even when the rows did not fit.
    workbook.save(out)
    if too_many:
        raise ExportTooLargeError(f"an Excel sheet holds at most {XLSX_MAX_DATA_ROWS:,} rows")


def _xlsx_converter(sheet: object, column: str) -> Callable[[object], object]:
    """The cell conversion for one column; ids become text, everything else keeps its type."""
    identifier = is_id_column(column)

    def text_cell(text: str) -> object:
        formula_like = starts_like_formula(text)
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
        if "\r" in text:
            # XML turns a raw carriage return into a line feed on reading; do it knowingly.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not formula_like and text not in ERROR_CODES:
            return text
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        if formula_like:
            cell.quotePrefix = True
        return cell

    def convert(value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str):
            return text_cell(str(value))
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value) if identifier else value
        if isinstance(value, float):
            return value
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=_naive_utc(value))
            cell.number_format = _XLSX_TIMESTAMP_FORMAT
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = _XLSX_DATE_FORMAT
            return cell
        raise TypeError(f"cannot export a {type(value).__name__} cell: {value!r}")

    return convert


def _naive_utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"export timestamps must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
