"""What every export format shares: the formats, the column lists, the row shape, formula defusing.

A service builds the rows (plain tuples in the order of ``PROGRESS_COLUMNS``,
``CHECKPOINT_COLUMNS`` or ``REVIEW_COLUMNS``, holding ``int``, ``float``, ``str``, ``None`` and
timezone-aware ``datetime`` values) and feeds them in as any iterable, so a large server's export
can be streamed from the database without ever holding every ORM object. Timestamps and
identifiers follow ``bot.kernel.serial``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final


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

# Spreadsheet programs read a cell that starts with one of these as a formula (tab and carriage
# return because some of them strip leading whitespace first and then see the formula).
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Defuse formula injection: prefix a single quote when ``text`` starts like a formula.

    Display names, titles and evidence links are typed by members. Opened in Excel, LibreOffice
    or Google Sheets, a cell such as ``=HYPERLINK("http://evil", "click")`` or a DDE payload
    would run as a formula on the moderator's machine. The leading apostrophe makes the program
    show the text as text (OWASP's advice for CSV injection). Only strings go through here:
    numbers stay numbers, so a negative count is never altered.
    """
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def check_width(columns: Sequence[str], row: Sequence[object]) -> None:
    if len(row) != len(columns):
        raise ValueError(f"row has {len(row)} cells but there are {len(columns)} columns: {row!r}")
