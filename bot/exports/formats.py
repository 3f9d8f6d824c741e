"""File formats for moderator exports and members' data requests: CSV, JSON and XLSX.

This module only turns rows into bytes. A service builds the rows (plain tuples in the order of
``PROGRESS_COLUMNS``, ``CHECKPOINT_COLUMNS`` or ``REVIEW_COLUMNS``, holding ``int``, ``float``,
``str``, ``None`` and timezone-aware ``datetime`` values) and feeds them in as any iterable, so a
large server's export can be streamed from the database without ever holding every ORM object.

Conventions shared by every format:

- Timestamps are ISO 8601 in UTC at seconds precision with a ``Z`` suffix
  (``2026-11-24T18:05:00Z``); a naive datetime is a bug upstream and raises ``ValueError``.
- Columns named ``id`` or ``*_id`` hold identifiers, not quantities. Discord snowflakes exceed
  the 2**53 range that JavaScript numbers and Excel's 15 significant digits keep exact, so JSON
  and XLSX carry them as text; CSV writes the digits as they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import islice
from typing import BinaryIO, Final, cast

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

EXPORT_SCHEMA_VERSION: Final = 1


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


class ExportTooLargeError(ValueError):
    """The export cannot be produced in this format at all; the moderator has to narrow it."""


Row = tuple[object, ...]

PROGRESS_COLUMNS: Final = (
    "member_id",
    "display_name",
    "cohort",
    "roadmap",
    "joined_at",
    "current_phase",
    "checkpoints_done",
    "checkpoints_total",
    "percent",
    "last_activity_at",
    "reviews_given",
    "reviews_received",
    "pace",
)

CHECKPOINT_COLUMNS: Final = (
    "member_id",
    "display_name",
    "cohort",
    "roadmap",
    "phase",
    "checkpoint_key",
    "checkpoint_title",
    "status",
    "completed_at",
    "evidence_url",
)

REVIEW_COLUMNS: Final = (
    "cohort",
    "round_week",
    "round_started_at",
    "due_at",
    "group_id",
    "reviewer_id",
    "reviewee_id",
    "completed_at",
    "link",
)

# --------------------------------------------------------------------------- shared helpers

# Spreadsheet programs read a cell that starts with one of these as a formula (tab and carriage
# return because some of them strip leading whitespace first and then see the formula).
_FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Defuse formula injection: prefix a single quote when ``text`` starts like a formula.

    Display names, titles and evidence links are typed by members. Opened in Excel, LibreOffice
    or Google Sheets, a cell such as ``=HYPERLINK("http://evil", "click")`` or a DDE payload
    would run as a formula on the moderator's machine. The leading apostrophe makes the program
    show the text as text (OWASP's advice for CSV injection). Only strings go through here:
    numbers stay numbers, so a negative count is never altered.
    """
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


# Formatting a timestamp from lookup tables is several times faster than isoformat(), which
# matters when a long export holds hundreds of thousands of them.
_CLOCK_MINUTES: Final = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_CLOCK_SECONDS: Final = tuple(f"{second:02d}Z" for second in range(60))


class _DayPrefixes(dict[int, str]):
    """``"2026-11-24T"`` by proleptic ordinal, computed on first use of each day."""

    def __missing__(self, ordinal: int) -> str:
        prefix = self[ordinal] = date.fromordinal(ordinal).isoformat() + "T"
        return prefix


_DAY_PREFIXES: Final = _DayPrefixes()


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC at seconds precision with a ``Z`` suffix; naive datetimes are refused."""
    if moment.tzinfo is not UTC:
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError(f"export timestamps must be timezone-aware, got naive {moment!r}")
        moment = moment.astimezone(UTC)
    return (
        _DAY_PREFIXES[moment.toordinal()]
        + _CLOCK_MINUTES[moment.hour * 60 + moment.minute]
        + _CLOCK_SECONDS[moment.second]
    )


def _is_id_column(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _check_width(columns: Sequence[str], row: Sequence[object]) -> None:
    if len(row) != len(columns):
        raise ValueError(f"row has {len(row)} cells but there are {len(columns)} columns: {row!r}")


# --------------------------------------------------------------------------------------- CSV

_UTF8_BOM: Final = "\ufeff".encode()
_CSV_BATCH_ROWS: Final = 5_000
_NONE_TYPE: Final = type(None)
_NUMBER_TYPES: Final = frozenset({int, float, _NONE_TYPE})
_TEXT_TYPES: Final = frozenset({str, _NONE_TYPE})
_TIMESTAMP_TYPES: Final = frozenset({datetime, _NONE_TYPE})
# RFC 4180: a field holding the separator, a double quote or a line break must be quoted.
_NEEDS_QUOTES: Final = re.compile(r'[",\r\n]')
# A text column is checked in one pass by joining its cells behind NUL separators: every cell
# start is then a NUL followed by the cell's first character. A NUL inside a cell can only
# raise a false alarm, which merely sends the column down the cell-by-cell path.
_JOINED_FORMULA_START: Final = re.compile(r"\x00[=+\-@\t\r]")


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


def _csv_column(values: tuple[object, ...]) -> Sequence[str]:
    """One column of a batch as CSV field texts, touching cells one by one only where needed.

    Columns hold one type in practice, so the type check, the formula check and the quoting
    check run over the whole column in C (``set(map(type, ...))``, one join, two regex
    searches). Clean text and whole numbers are then used as they are; cells are visited in
    Python only for timestamps, empty cells and text that needs neutralising or quoting.
    """
    kinds = set(map(type, values))
    has_empty = _NONE_TYPE in kinds
    if kinds <= _TEXT_TYPES:
        texts = cast("tuple[str | None, ...]", values)
        joined = "\x00" + "\x00".join(filter(None, texts))
        if _JOINED_FORMULA_START.search(joined) is None and _NEEDS_QUOTES.search(joined) is None:
            return (
                ["" if text is None else text for text in texts]
                if has_empty
                else cast("tuple[str, ...]", texts)
            )
    elif kinds <= _TIMESTAMP_TYPES:
        moments = cast("tuple[datetime | None, ...]", values)
        if all(moment.tzinfo is UTC for moment in filter(None, moments)):
            days, minutes, seconds = _DAY_PREFIXES, _CLOCK_MINUTES, _CLOCK_SECONDS
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

    Speed: rows are taken in batches, converted column by column (``_csv_column``) and joined
    into lines with ``str.join``, which keeps nearly all of the work in C; each yielded chunk is
    one batch, so memory stays flat however many rows come in.
    """
    if not columns:
        raise ValueError("an export needs at least one column")
    header_buffer = io.StringIO()
    csv.writer(header_buffer, dialect="excel").writerow(columns)
    header = header_buffer.getvalue().encode("utf-8")
    yield _UTF8_BOM + header if bom else header

    remaining = iter(rows)
    while batch := list(islice(remaining, _CSV_BATCH_ROWS)):
        fields_by_column = list(map(_csv_column, _transpose(columns, batch)))
        if len(columns) == 1:
            # A lone empty field would read back as a blank line, which readers skip.
            fields_by_column = [[field or '""' for field in fields_by_column[0]]]
        lines = map(",".join, zip(*fields_by_column, strict=True))
        yield ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _transpose(columns: Sequence[str], batch: list[Row]) -> list[tuple[object, ...]]:
    """The batch as one tuple per column; every row must have one cell per column."""
    try:
        by_column = list(zip(*batch, strict=True))
    except ValueError:
        by_column = []
    if len(by_column) != len(columns):
        for row in batch:
            _check_width(columns, row)
    return by_column


def write_csv(columns: Sequence[str], rows: Iterable[Row], out: BinaryIO, *, bom: bool = True) -> int:
    """Write the CSV of ``iter_csv`` to ``out``; returns the number of bytes written."""
    written = 0
    for chunk in iter_csv(columns, rows, bom=bom):
        out.write(chunk)
        written += len(chunk)
    return written


# -------------------------------------------------------------------------------------- JSON

_JSON_BATCH_ROWS: Final = 2_000
_RESERVED_JSON_KEYS: Final = frozenset({"schema_version", "kind", "columns", "rows"})


def _json_default(value: object) -> object:
    """Called by the encoder for what JSON has no type for: timestamps and dates."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__} value to JSON: {value!r}")


def _json_encoder(indent: int | None = None) -> json.JSONEncoder:
    # allow_nan=False: NaN and Infinity are not JSON; better a loud error than a file that
    # strict parsers reject.
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, default=_json_default, indent=indent, separators=separators
    )


def _id_as_text(name: str, value: object) -> object:
    if _is_id_column(name) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def iter_json(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], rows: Iterable[Row]
) -> Iterator[bytes]:
    """Stream one JSON document as UTF-8 chunks. The shape (schema version 1)::

        {"schema_version": 1, "kind": "progress",
         "generated_at": "2026-11-24T18:05:00Z", "guild_id": "1234...", "cohort": "spring",
         "columns": ["member_id", "display_name", ...],
         "rows": [
        {"member_id": "5678...", "display_name": "Ada", ...},
        ...
        ]}

    ``meta`` supplies the keys between ``kind`` and ``columns`` (by convention ``generated_at``,
    ``guild_id`` and ``cohort``, ``null`` for all cohorts); it may not reuse the four fixed keys.
    Each row is an object keyed by column name, one per line, with every column present
    (``null`` when empty): friendlier to read and to load than positional arrays, and
    ``columns`` still gives the order. Identifiers (``id``, ``*_id``) are strings because
    snowflakes do not fit a JavaScript number; timestamps are ISO 8601 UTC strings. Text is not
    formula-neutralised: JSON is read by programs, not spreadsheets. Consumers should check
    ``schema_version`` and refuse a version they do not know.
    """
    clash = _RESERVED_JSON_KEYS.intersection(meta)
    if clash:
        raise ValueError(f"meta may not set {sorted(clash)}")
    encoder = _json_encoder()
    head: dict[str, object] = {"schema_version": EXPORT_SCHEMA_VERSION, "kind": kind}
    head.update({key: _id_as_text(key, value) for key, value in meta.items()})
    head["columns"] = list(columns)
    # Drop the closing brace so the rows array can follow inside the same object.
    yield (encoder.encode(head)[:-1] + ',"rows":[').encode("utf-8")

    width = len(columns)
    id_positions = [index for index, name in enumerate(columns) if _is_id_column(name)]
    remaining = iter(rows)
    first_batch = True
    while batch := list(islice(remaining, _JSON_BATCH_ROWS)):
        records = []
        for row in batch:
            if len(row) != width:
                _check_width(columns, row)
            if id_positions:
                cells = list(row)
                for index in id_positions:
                    cells[index] = _id_as_text(columns[index], cells[index])
                records.append(dict(zip(columns, cells, strict=True)))
            else:
                records.append(dict(zip(columns, row, strict=True)))
        # One row per line: a large file stays readable and diffable.
        body = ",\n".join(map(encoder.encode, records))
        yield (("\n" if first_batch else ",\n") + body).encode("utf-8")
        first_batch = False
    yield b"\n]}\n" if not first_batch else b"]}\n"


def write_json(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], rows: Iterable[Row], out: BinaryIO
) -> int:
    """Write the document of ``iter_json`` to ``out``; returns the number of bytes written."""
    written = 0
    for chunk in iter_json(kind, meta, columns, rows):
        out.write(chunk)
        written += len(chunk)
    return written


def _jsonable(value: object, key: str = "") -> object:
    """A copy of nested mappings and sequences with identifiers turned into strings."""
    if isinstance(value, Mapping):
        return {str(inner_key): _jsonable(inner, str(inner_key)) for inner_key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item, key) for item in value]
    return _id_as_text(key, value)


def personal_data_document(
    guild_id: int,
    user_id: int,
    generated_at: datetime,
    sections: Mapping[str, Sequence[Mapping[str, object]]],
) -> bytes:
    """Everything stored about one member in one server, as pretty-printed UTF-8 JSON.

    Shape (schema version 1)::

        {"schema_version": 1, "kind": "personal_data", "generated_at": "...Z",
         "guild_id": "...", "user_id": "...",
         "sections": {"memberships": [{...}], "checkpoints": [{...}], ...}}

    ``sections`` keeps the caller's order; each holds a list of records. It is meant for the
    member to read, so it is indented, keeps non-ASCII text as is, and ends with a newline.
    """
    document = {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "kind": "personal_data",
        "generated_at": format_timestamp(generated_at),
        "guild_id": str(guild_id),
        "user_id": str(user_id),
        "sections": {name: _jsonable(list(records)) for name, records in sections.items()},
    }
    return (_json_encoder(indent=2).encode(document) + "\n").encode("utf-8")


# -------------------------------------------------------------------------------------- XLSX

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
    datetimes (naive, in UTC, as Excel has no time zones) with a ``yyyy-mm-dd hh:mm:ss`` format,
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
        wide = name.endswith("_at") or name.endswith(("url", "link"))
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
            _check_width(columns, row)
        sheet.append([convert(value) for convert, value in zip(converters, row, strict=True)])
    # Saving is also what closes the sheet's stream and removes openpyxl's temporary file, so
    # it happens even when the rows did not fit.
    workbook.save(out)
    if too_many:
        raise ExportTooLargeError(f"an Excel sheet holds at most {XLSX_MAX_DATA_ROWS:,} rows")


def _xlsx_converter(sheet: object, column: str) -> Callable[[object], object]:
    """The cell conversion for one column; ids become text, everything else keeps its type."""
    identifier = _is_id_column(column)

    def text_cell(text: str) -> object:
        formula_like = text.startswith(_FORMULA_TRIGGERS)
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


# ------------------------------------------------------------------------- upload and naming

_ZIP_EPOCH: Final = datetime(1980, 1, 1, tzinfo=UTC)


def fit_to_limit(
    filename: str, payload: bytes, limit: int, *, modified_at: datetime | None = None
) -> tuple[str, bytes] | None:
    """Make an export fit Discord's upload limit, or report that it cannot.

    Returns ``(filename, payload)`` untouched when it fits, else a deflate-compressed zip named
    ``filename + ".zip"`` holding the file when that fits (CSV and JSON shrink several times
    over), else ``None``: the caller then asks the moderator to narrow the export, for example
    to one cohort. ``modified_at`` dates the file inside the archive; without it the zip epoch
    is used, so the same payload always gives the same bytes.
    """
    if limit <= 0:
        raise ValueError("the upload limit must be positive")
    if len(payload) <= limit:
        return filename, payload
    if modified_at is not None and modified_at.utcoffset() is None:
        raise ValueError(f"modified_at must be timezone-aware, got naive {modified_at!r}")
    stamp = (modified_at or _ZIP_EPOCH).astimezone(UTC)
    entry = zipfile.ZipInfo(
        filename, date_time=(stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    )
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16  # a plain readable file once extracted
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(entry, payload, compresslevel=6)
    compressed = archive.getvalue()
    if len(compressed) <= limit:
        return filename + ".zip", compressed
    return None


_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")


def _slug(text: str, fallback: str, max_length: int = 40) -> str:
    """Lower-case ASCII words joined by hyphens; accents are folded, other scripts dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", folded.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or fallback


def export_filename(guild_name: str, cohort: str | None, kind: str, day: date, fmt: ExportFormat) -> str:
    """A safe ASCII file name, e.g. ``waypoint-my-server-spring-cohort-progress-2026-11-24.csv``.

    Discord and every file system accept it; without a cohort it reads ``all-cohorts``.
    """
    guild_part = _slug(guild_name, "server")
    cohort_part = "all-cohorts" if cohort is None else _slug(cohort, "cohort")
    kind_part = _slug(kind, "export")
    return f"waypoint-{guild_part}-{cohort_part}-{kind_part}-{day.isoformat()}.{fmt.value}"
