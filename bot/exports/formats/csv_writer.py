"""CSV exports: RFC 4180, UTF-8 with a byte order mark, streamed in batches."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import BinaryIO, Final, cast

from bot.exports.formats.common import (
    MAYBE_FORMULA_AFTER_NUL,
    Batch,
    Row,
    batched,
    columns_of,
    neutralise_cell,
)
from bot.kernel.serial import CLOCK_MINUTES, CLOCK_SECONDS, DAY_PREFIXES, format_timestamp

_UTF8_BOM: Final = "\ufeff".encode()
_CSV_BATCH_ROWS: Final = 5_000
_NONE_TYPE: Final = type(None)
_NUMBER_TYPES: Final = frozenset({int, float, _NONE_TYPE})
_TEXT_TYPES: Final = frozenset({str, _NONE_TYPE})
_TIMESTAMP_TYPES: Final = frozenset({datetime, _NONE_TYPE})
# RFC 4180: a field holding the separator, a double quote or a line break must be quoted.
_QUOTED_CHARACTERS: Final = '",\r\n'
_NEEDS_QUOTES: Final = re.compile(f"[{_QUOTED_CHARACTERS}]")
# A text column is checked in one pass by joining its cells behind NUL separators: every cell
# start is then a NUL followed by the cell's first character (``MAYBE_FORMULA_AFTER_NUL``). A NUL
# inside a cell can only raise a false alarm, which merely sends the column down the cell-by-cell
# path.


def _csv_field(value: str) -> str:
    if _NEEDS_QUOTES.search(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


def _csv_cell(value: object) -> str:
    """One cell as its final CSV field text, for any supported type."""
    if value is None:
        return ""
    if isinstance(value, str):  # also StrEnum members: their text is their value
        return _csv_field(neutralise_cell(str(value)))
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    raise TypeError(f"cannot export a {type(value).__name__} cell: {value!r}")


def csv_fields(values: Sequence[object]) -> Sequence[str]:
    """One column of a batch as CSV field texts, touching cells one by one only where needed.

    Columns hold one type in practice, so the type check, the formula check and the quoting
    check run over the whole column in C (``set(map(type, ...))``, one join, a regex search
    and four ``in``). Clean text and whole numbers are then used as they are; cells are visited in
    Python only for timestamps, empty cells and text that needs neutralising or quoting, and
    such text only once per distinct value (a member's name repeats on each of their rows).
    """
    kinds = set(map(type, values))
    has_empty = _NONE_TYPE in kinds
    if kinds <= _TEXT_TYPES:
        texts = cast("Sequence[str | None]", values)
        distinct = set(texts)  # most text columns repeat a few values (cohort, phase, status)
        if _all_plain("\x00" + "\x00".join(filter(None, distinct))):
            return (
                ["" if text is None else text for text in texts]
                if has_empty
                else cast("Sequence[str]", texts)
            )
        rendered = {text: _csv_cell(text) for text in distinct}
        return list(map(rendered.__getitem__, texts))
    if kinds <= _TIMESTAMP_TYPES:
        moments = cast("tuple[datetime | None, ...]", values)
        if all(moment.tzinfo is UTC for moment in filter(None, moments)):
            days, minutes, seconds = DAY_PREFIXES, CLOCK_MINUTES, CLOCK_SECONDS
            return [
                ""
                if moment is None
                else days[moment.toordinal()]
                + minutes[moment.hour * 60 + moment.minute]
                + seconds[moment.second]
                for moment in moments
            ]
    elif kinds <= _NUMBER_TYPES and float not in kinds:
        return (
            ["" if number is None else str(number) for number in values]
            if has_empty
            else list(map(str, values))
        )
    return list(map(_csv_cell, values))


def csv_text_fields(texts: Sequence[str | None]) -> Sequence[str]:
    """``csv_fields`` of a column of plain ``str`` or None whose values mostly differ (links).

    The column is checked joined whole rather than as a set of distinct values, which would
    cost more than it saves; a column that is not all text goes to ``csv_fields``.
    """
    try:
        joined = "\x00" + "\x00".join(filter(None, texts))
    except TypeError:  # not all text
        return csv_fields(texts)
    if _all_plain(joined):
        return [text or "" for text in texts]
    return csv_fields(texts)


def _all_plain(joined: str) -> bool:
    """Whether no cell of ``joined`` (cells behind NULs) can start a formula or needs quotes."""
    return MAYBE_FORMULA_AFTER_NUL.search(joined) is None and not any(
        character in joined for character in _QUOTED_CHARACTERS
    )


def iter_csv(columns: Sequence[str], rows: Iterable[Row], *, bom: bool = True) -> Iterator[bytes]:
    """Stream an RFC 4180 CSV file as UTF-8 chunks: a header row, then one line per row.

    The output is what ``csv.writer`` with the ``excel`` dialect writes (CRLF line ends; a field
    holding a comma, a double quote or a line break is quoted, its quotes doubled), and the tests
    hold it to that. ``None`` becomes an empty field, timestamps ISO 8601 UTC, and text cells
    pass through ``neutralise_cell``.

    ``bom``: by default the file starts with a UTF-8 byte order mark. Exports are mostly opened
    by moderators in Excel, which reads a CSV without one in the local ANSI code page and
    garbles every accented or non-Latin display name; Google Sheets, LibreOffice and Python's
    ``utf-8-sig`` codec all skip the mark. Pass ``bom=False`` for programs that do not.

    Speed: rows are taken in batches, converted column by column (``csv_fields``) and joined
    into lines with ``str.join``, which keeps nearly all of the work in C; each yielded chunk is
    one batch, so memory stays flat however many rows come in.
    """
    yield csv_header(columns, bom=bom)
    yield from _csv_batches(columns, batched(rows, _CSV_BATCH_ROWS))


def csv_header(columns: Sequence[str], *, bom: bool = True) -> bytes:
    """The first chunk of every CSV file: the byte order mark (see ``iter_csv``) and the header line."""
    if not columns:
        raise ValueError("an export needs at least one column")
    header_buffer = io.StringIO()
    csv.writer(header_buffer, dialect="excel").writerow(columns)
    header = header_buffer.getvalue().encode("utf-8")
    return _UTF8_BOM + header if bom else header


def _csv_batches(columns: Sequence[str], batches: Iterable[Batch]) -> Iterator[bytes]:
    for batch in batches:
        if not len(batch):
            continue
        fields_by_column = list(map(csv_fields, columns_of(columns, batch)))
        if len(columns) == 1:
            # A lone empty field would read back as a blank line, which readers skip.
            fields_by_column = [[field or '""' for field in fields_by_column[0]]]
        lines = map(",".join, zip(*fields_by_column, strict=True))
        yield ("\r\n".join(lines) + "\r\n").encode("utf-8")


def iter_csv_batches(
    columns: Sequence[str], batches: Iterable[Batch], *, bom: bool = True
) -> Iterator[bytes]:
    """``iter_csv`` over rows handed in batches (lists of rows or ``ColumnBatch``), one chunk each."""
    yield from iter_csv(columns, (), bom=bom)
    yield from _csv_batches(columns, batches)


def write_csv(columns: Sequence[str], rows: Iterable[Row], out: BinaryIO, *, bom: bool = True) -> int:
    """Write the CSV of ``iter_csv`` to ``out``; returns the number of bytes written."""
    return write_chunks(iter_csv(columns, rows, bom=bom), out)


def write_csv_batches(
    columns: Sequence[str], batches: Iterable[Batch], out: BinaryIO, *, bom: bool = True
) -> int:
    """Write the CSV of ``iter_csv_batches`` to ``out``; returns the number of bytes written."""
    return write_chunks(iter_csv_batches(columns, batches, bom=bom), out)


def write_chunks(chunks: Iterable[bytes], out: BinaryIO) -> int:
    """Write every chunk to ``out``; returns the number of bytes written."""
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written
