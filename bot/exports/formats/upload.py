"""An export as an attachment: a safe file name, and zipped when it would not fit the upload limit."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import UTC, date, datetime
from typing import Final

from bot.exports.formats.common import ExportFormat

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
