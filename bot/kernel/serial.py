"""How values are written into the files Waypoint hands out: moderators' exports and members' data.

Shared by every file format (``bot.exports.formats``) and by the personal-data document
(``bot.privacy.document``), so one timestamp, one identifier and one JSON convention hold for
all of them:

- Timestamps are ISO 8601 in UTC at seconds precision with a ``Z`` suffix
  (``2026-11-24T18:05:00Z``); a naive datetime is a bug upstream and raises ``ValueError``.
- Columns named ``id`` or ``*_id`` hold identifiers, not quantities. Discord snowflakes exceed
  the 2**53 range that JavaScript numbers and Excel's 15 significant digits keep exact, so JSON
  and XLSX carry them as text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Final

EXPORT_SCHEMA_VERSION: Final = 1

# Formatting a timestamp from lookup tables is several times faster than isoformat(), which
# matters when a long export holds hundreds of thousands of them.
CLOCK_MINUTES: Final = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
CLOCK_SECONDS: Final = tuple(f"{second:02d}Z" for second in range(60))


class _DayPrefixes(dict[int, str]):
    """``"2026-11-24T"`` by proleptic ordinal, computed on first use of each day."""

    def __missing__(self, ordinal: int) -> str:
        prefix = self[ordinal] = date.fromordinal(ordinal).isoformat() + "T"
        return prefix


DAY_PREFIXES: Final = _DayPrefixes()


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC at seconds precision with a ``Z`` suffix; naive datetimes are refused."""
    if moment.tzinfo is not UTC:
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError(f"export timestamps must be timezone-aware, got naive {moment!r}")
        moment = moment.astimezone(UTC)
    return (
        DAY_PREFIXES[moment.toordinal()]
        + CLOCK_MINUTES[moment.hour * 60 + moment.minute]
        + CLOCK_SECONDS[moment.second]
    )


def is_id_column(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def id_as_text(name: str, value: object) -> object:
    """An identifier column's integer as a string; any other value as it is."""
    if is_id_column(name) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _json_default(value: object) -> object:
    """Called by the encoder for what JSON has no type for: timestamps and dates."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__} value to JSON: {value!r}")


def json_encoder(indent: int | None = None) -> json.JSONEncoder:
    # allow_nan=False: NaN and Infinity are not JSON; better a loud error than a file that
    # strict parsers reject.
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.JSONEncoder(
        ensure_ascii=False, allow_nan=False, default=_json_default, indent=indent, separators=separators
    )
