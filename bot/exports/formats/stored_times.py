"""Times as SQLite stores them, turned into export text a whole column at a time.

SQLAlchemy stores an aware datetime in SQLite as naive UTC text at microseconds,
``2026-11-24 18:05:00.123456``. The export writes it ``2026-11-24T18:05:00Z``
(``bot.kernel.serial.format_timestamp``): the same characters, a ``T`` for the space, the
fraction dropped, a ``Z``. Reading 600,000 of them into datetimes and formatting those took a
sixth of a long CSV export, so ``stored_times_as_text`` does it with byte operations over the
column joined into one buffer (C loops: slices with a step, translations), and checks on the way
that every value is such text and names a real moment. Anything else, it declines and the
caller reads the values one by one, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

_WIDTH: Final = 26  # characters of one stored time
_STEP: Final = _WIDTH + 1  # each followed by a NUL in the joined buffer
_TEXT_STEP: Final = 21  # the export's text, 20 characters, and a NUL
_SEPARATORS: Final = ((4, b"-"), (7, b"-"), (10, b" "), (13, b":"), (16, b":"), (19, b"."))
_DIGITS: Final = b"0123456789"
# Where each field starts in a value; the tens and units of a two-digit field follow each other.
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE, _SECOND = 0, 5, 8, 11, 14, 17
# The digits a field's tens may be.
_TENS: Final = ((_MONTH, b"01"), (_DAY, b"0123"), (_HOUR, b"012"), (_MINUTE, b"012345"), (_SECOND, b"012345"))


def stored_times_as_text(values: Sequence[object]) -> list[str] | None:
    """``format_timestamp`` of each stored time, or None unless all are valid stored text."""
    count = len(values)
    if not count:
        return []
    try:
        joined = "\x00".join(values) + "\x00"  # type: ignore[arg-type]
    except TypeError:  # None, or datetimes from another driver
        return None
    if len(joined) != _STEP * count or not joined.isascii():
        return None
    data = bytearray(joined, "ascii")
    if not _well_formed(data, count) or not _real_moments(data, count):
        return None
    # "2026-11-24 18:05:00.123456" -> "2026-11-24T18:05:00Z", each followed by a NUL to split on.
    texts = bytearray(b"T" * (_TEXT_STEP * count))
    for position in (*range(10), *range(11, 19)):
        texts[position::_TEXT_STEP] = data[position::_STEP]
    texts[19::_TEXT_STEP] = b"Z" * count
    texts[20::_TEXT_STEP] = b"\x00" * count
    return texts.decode("ascii").split("\x00")[:count]


def _well_formed(data: bytearray, count: int) -> bool:
    """Each value is 26 characters: its separators in place and digits everywhere else."""
    if data[_WIDTH::_STEP] != b"\x00" * count:
        return False
    if any(data[position::_STEP] != separator * count for position, separator in _SEPARATORS):
        return False
    return len(data.translate(None, _DIGITS)) == (len(_SEPARATORS) + 1) * count


def _real_moments(data: bytearray, count: int) -> bool:
    """Every month, day, hour, minute and second in range, and every day in its month.

    Two-digit fields are checked with one bit mask per condition (``_where``), combined with
    ``&`` and ``|`` as Python ints: a byte per value, so a nonzero result names a bad value. A
    29 February or a year before 1000 is not decided here: such a column is read one by one.
    """
    if any(data[field::_STEP].translate(None, tens) for field, tens in _TENS):
        return False
    if _where(data, _YEAR, b"0"):
        return False

    def digit(field: int, digits: bytes) -> int:
        return _where(data, field, digits)

    month_0, month_1 = digit(_MONTH, b"0"), digit(_MONTH, b"1")
    day_0, day_2, day_3 = digit(_DAY, b"0"), digit(_DAY, b"2"), digit(_DAY, b"3")
    february = month_0 & digit(_MONTH + 1, b"2")
    thirty_day_month = (month_0 & digit(_MONTH + 1, b"469")) | (month_1 & digit(_MONTH + 1, b"1"))
    out_of_range = (
        (month_0 & digit(_MONTH + 1, b"0"))  # month 00
        | (month_1 & digit(_MONTH + 1, b"3456789"))  # 13 to 19
        | (day_0 & digit(_DAY + 1, b"0"))  # day 00
        | (day_3 & digit(_DAY + 1, b"23456789"))  # 32 to 39
        | (february & day_3)  # 30 and 31 February
        | (february & day_2 & digit(_DAY + 1, b"9"))  # 29 February: left to the slow path
        | (thirty_day_month & day_3 & digit(_DAY + 1, b"1"))  # 31 April, June, September, November
        | (digit(_HOUR, b"2") & digit(_HOUR + 1, b"456789"))  # 24 to 29 o'clock
    )
    return not out_of_range


def _where(data: bytearray, position: int, characters: bytes) -> int:
    """One byte per value, nonzero where the value's character at ``position`` is in ``characters``."""
    return int.from_bytes(data[position::_STEP].translate(_MASK_TABLES[characters]), "big")


_MASK_TABLES: Final = {
    characters: bytes(0xFF if byte in characters else 0 for byte in range(256))
    for characters in (
        b"0",
        b"1",
        b"2",
        b"3",
        b"9",
        b"469",
        b"456789",
        b"3456789",
        b"23456789",
    )
}
