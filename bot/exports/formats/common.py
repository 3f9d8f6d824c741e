"""What every export format shares: the formats, the column lists, the row shape, formula defusing.

A service builds the rows (plain tuples in the order of ``PROGRESS_COLUMNS``,
``CHECKPOINT_COLUMNS`` or ``REVIEW_COLUMNS``, holding ``int``, ``float``, ``str``, ``None`` and
timezone-aware ``datetime`` values) and feeds them in as any iterable, so a large server's export
can be streamed from the database without ever holding every ORM object. Timestamps and
identifiers follow ``bot.kernel.serial``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Final, TypeAlias

from bot.kernel.text import INVISIBLE, is_hidden

# Version 2: timestamp columns end in ``_utc`` (``completed_at_utc``). The personal-data document
# of ``/privacy my-data`` has its own version (``bot.kernel.serial``).
EXPORT_SCHEMA_VERSION: Final = 2


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


class ExportTooLargeError(ValueError):
    """The export cannot be produced in this format at all; the moderator has to narrow it."""


Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class ColumnBatch:
    """Consecutive rows given column by column: ``cells[column][row]``; every column as long.

    A query whose rows repeat most of their cells (every checkpoint of every member) builds its
    columns with list repetition instead of a tuple per row, and the CSV and XLSX writers, which
    work column by column, take them as they are.
    """

    cells: tuple[Sequence[object], ...]

    def __len__(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def rows(self) -> Iterator[Row]:
        return zip(*self.cells, strict=True)


# What the writers' batch entry points take: a list of rows, or the same rows column by column.
Batch: TypeAlias = Sequence[Row] | ColumnBatch


def batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    remaining = iter(rows)
    while batch := list(islice(remaining, size)):
        yield batch


def rows_of(batch: Batch) -> Iterable[Row]:
    return batch.rows() if isinstance(batch, ColumnBatch) else batch


def columns_of(columns: Sequence[str], batch: Batch) -> Sequence[Sequence[object]]:
    """The batch column by column; every row must have one cell per column."""
    if isinstance(batch, ColumnBatch):
        by_column: Sequence[Sequence[object]] = batch.cells
        lengths = {len(cells) for cells in by_column}
        if len(by_column) != len(columns) or len(lengths) > 1:
            raise ValueError(f"a column batch needs {len(columns)} columns of one length")
        return by_column
    try:
        by_column = list(zip(*batch, strict=True))
    except ValueError:
        by_column = []
    if len(by_column) != len(columns):
        for row in batch:
            check_width(columns, row)
    return by_column


PROGRESS_COLUMNS: Final = (
    "member_id",
    "display_name",
    "cohort",
    "roadmap",
    "joined_at_utc",
    "current_phase",
    "checkpoints_done",
    "checkpoints_total",
    "percent",
    "last_activity_at_utc",
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
    "completed_at_utc",
    "evidence_url",
)

REVIEW_COLUMNS: Final = (
    "cohort",
    "round_week",
    "round_started_at_utc",
    "due_at_utc",
    "group_id",
    "reviewer_id",
    "reviewee_id",
    "completed_at_utc",
    "link",
)

# Spreadsheet programs read a cell that starts with one of these as a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@")
# A cell starting with a tab or a carriage return is neutralised whatever follows: some programs
# turn them into cell or row breaks on import.
BREAK_STARTS: Final = ("\t", "\r")


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula, even after trimming it.

    Importing with "Trim spaces" (LibreOffice) or pasting into Excel strips leading spaces, tabs,
    line breaks, no-break spaces and other blanks, so ``" =1+1"`` becomes ``=1+1``: the first
    character that is neither whitespace nor invisible (zero-width space, BOM, control
    characters) decides.
    """
    if text.startswith(BREAK_STARTS):
        return True
    for character in text:
        if character.isspace() or is_hidden(character):
            continue
        return character in FORMULA_STARTS
    return False


def neutralise_cell(text: str) -> str:
    """Defuse formula injection: prefix a single quote when ``text`` starts like a formula.

    Display names, titles and evidence links are typed by members. Opened in Excel, LibreOffice
    or Google Sheets, a cell such as ``=HYPERLINK("http://evil", "click")`` or a DDE payload
    would run as a formula on the moderator's machine; so would ``" =..."`` once the import
    trims spaces (``starts_like_formula``). The leading apostrophe makes the program show the
    text as text (OWASP's advice for CSV injection). Only strings go through here: numbers stay
    numbers, so a negative count is never altered.
    """
    if starts_like_formula(text):
        return "'" + text
    return text


# A cheap test over many cells joined behind NUL separators (see ``csv_writer``): it matches every
# cell ``starts_like_formula`` flags (and a few more, which are then checked one by one): a formula
# character, or any first character that is not a letter, digit or common punctuation (blanks,
# controls, invisible characters, emoji).
_PLAIN_FIRST: Final = r"\w!\"#$%&'()*,./:;<>?\[\]^`{|}~"
MAYBE_FORMULA_AFTER_NUL: Final = re.compile(
    r"\x00(?:[=+\-@" + re.escape("".join(sorted(INVISIBLE))) + r"]|[^" + _PLAIN_FIRST + r"])"
)


def check_width(columns: Sequence[str], row: Sequence[object]) -> None:
    if len(row) != len(columns):
        raise ValueError(f"row has {len(row)} cells but there are {len(columns)} columns: {row!r}")
