"""The long checkpoint export built member by member (``bot.exports.formats.checkpoints``).

Whatever the layout of the streamed rows, the partitions they come in and the batch size, the
CSV must be byte for byte what ``iter_csv`` writes for the same rows built one by one, and the
typed columns (for XLSX and JSON) the same rows; stored SQLite times become export text in bulk
exactly as reading and formatting them one by one does, or not at all.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.db.rows import utc_timestamp
from bot.exports.formats import CHECKPOINT_COLUMNS, iter_csv
from bot.exports.formats.checkpoints import (
    DONE,
    OPEN,
    RETIRED,
    CheckpointBatch,
    CheckpointRows,
    CheckpointSlot,
    iter_checkpoint_csv,
)
from bot.exports.formats.csv_writer import csv_fields, csv_text_fields
from bot.exports.formats.stored_times import stored_times_as_text
from bot.exports.pump import pump_in_thread
from bot.exports.queries import _utc_timestamps
from bot.kernel.serial import format_timestamp

SLOTS = [
    CheckpointSlot("Basics", "setup", "Set up"),
    CheckpointSlot("Basics", "hello", "Say =hello"),
    CheckpointSlot("Web, at last", "api", 'The "API"'),
    CheckpointSlot("Web, at last", "deploy", "Deploy 100%"),
]
KEYS = [slot.key for slot in SLOTS]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10)
MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC))


def stored(moment: datetime) -> str:
    """How SQLAlchemy stores an aware datetime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@st.composite
def members(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Streamed rows of members ordered by id: current keys in any order, retired keys, none at all."""
    as_text = draw(st.booleans())  # SQLite's stored text, or the datetimes another driver gives
    rows: list[tuple[Any, ...]] = []
    for user_id in sorted(draw(st.sets(st.integers(min_value=1, max_value=2**62), max_size=8))):
        name = draw(st.one_of(TEXT, st.sampled_from(["=cmd", " @x", "Smith, Ada", "50%s", 'q"q'])))
        keys = draw(st.lists(st.sampled_from([*KEYS, "gone", "older"]), unique=True, max_size=6))
        if not keys:
            rows.append((user_id, name, None, None, None))
        for key in keys:
            moment = draw(MOMENTS)
            link = draw(st.one_of(st.none(), TEXT, st.just("https://example.org/a,b")))
            rows.append((user_id, name, key, stored(moment) if as_text else moment, link))
    return rows


def expected_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The export rows built the plain way, one member and one checkpoint at a time."""
    result: list[tuple[Any, ...]] = []
    by_member: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_member.setdefault(row[0], []).append(row)
    for user_id, member_rows in by_member.items():
        name = member_rows[0][1]
        done = {key: (utc_timestamp(at), link) for _, _, key, at, link in member_rows if key is not None}
        for slot in SLOTS:
            at, link = done.get(slot.key, (None, None))
            status = DONE if slot.key in done else OPEN
            result.append(
                (user_id, name, "Spring", "road", slot.phase, slot.key, slot.title, status, at, link)
            )
        for key in sorted(set(done) - set(KEYS)):
            at, link = done[key]
            result.append((user_id, name, "Spring", "road", None, key, None, RETIRED, at, link))
    return result


def batches_of(rows: list[tuple[Any, ...]], partition: int, batch_rows: int) -> list[CheckpointBatch]:
    cut = CheckpointRows("Spring", "road", SLOTS, read_timestamps=_utc_timestamps, batch_rows=batch_rows)
    batches = []
    for start in range(0, len(rows), partition):
        batches += cut.add(rows[start : start + partition])
    return batches + cut.finish()


@settings(max_examples=150, deadline=None)
@given(members(), st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=12))
def test_batches_give_the_rows_built_one_by_one(
    rows: list[tuple[Any, ...]], partition: int, size: int
) -> None:
    expected = expected_rows(rows)
    batches = batches_of(rows, partition, size)

    assert sum(map(len, batches)) == len(expected)
    assert b"".join(iter_checkpoint_csv(batches)) == b"".join(iter_csv(CHECKPOINT_COLUMNS, expected))
    typed = [row for batch in batches for row in batch.columns().rows()]
    assert typed == expected


def test_members_with_the_same_keys_share_a_layout_and_others_do_not() -> None:
    at = "2026-03-02 10:00:00.000000"
    rows = [
        (1, "Ada", "api", at, None),
        (1, "Ada", "setup", at, None),
        (2, "Bo", "api", at, None),
        (2, "Bo", "setup", at, None),
        (3, "Cy", "setup", at, None),
        (3, "Cy", "api", at, None),
    ]

    batches = batches_of(rows, partition=6, batch_rows=100)

    layouts = [layout for batch in batches for _, _, layout in batch.members]
    assert layouts[0] is layouts[1] and layouts[2] is not layouts[0]
    assert [layout.picks for layout in layouts] == [(2, 0, 1, 0), (2, 0, 1, 0), (1, 0, 2, 0)]


# ------------------------------------------------------------------------------- stored times


@settings(max_examples=200, deadline=None)
@given(st.lists(MOMENTS, max_size=20))
def test_stored_times_become_the_export_text(moments: list[datetime]) -> None:
    texts = stored_times_as_text([stored(moment) for moment in moments])

    if any((moment.month, moment.day) == (2, 29) or moment.year < 1000 for moment in moments):
        assert texts is None  # rare enough to be left to reading one by one
    else:
        assert texts == [format_timestamp(moment) for moment in moments]


@settings(max_examples=300, deadline=None)
@given(
    MOMENTS, st.integers(min_value=0, max_value=25), st.characters(codec="utf-8", exclude_categories=("Cs",))
)
def test_a_damaged_stored_time_is_never_turned_into_text(
    moment: datetime, position: int, character: str
) -> None:
    """Either the bulk path declines, or it says what reading the value one by one says."""
    text = stored(moment)
    damaged = text[:position] + character + text[position + 1 :]

    texts = stored_times_as_text([stored(datetime(2026, 1, 1, tzinfo=UTC)), damaged])

    if texts is not None:
        assert texts[1] == format_timestamp(utc_timestamp(damaged))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01 10:00:00.000000",
        "2026-00-10 10:00:00.000000",
        "2026-04-31 10:00:00.000000",
        "2026-02-30 10:00:00.000000",
        "2026-01-32 10:00:00.000000",
        "2026-01-00 10:00:00.000000",
        "2026-01-01 24:00:00.000000",
        "2026-01-01 10:60:00.000000",
        "2026-01-01 10:00:60.000000",
        "0000-01-01 10:00:00.000000",
        "2026-01-01T10:00:00.000000",
        "2026-01-01 10:00:00",
        "2026-01-01 10:00:00+02:00",
        "2026-01-01 10:00:00.000000+00",
        "2026-01-01 1０:00:00.000000",
        None,
    ],
)
def test_anything_but_a_stored_time_goes_the_slow_way(value: object) -> None:
    assert stored_times_as_text(["2026-01-01 10:00:00.000000", value]) is None


def test_stored_time_text_keeps_seconds_and_drops_the_fraction() -> None:
    assert stored_times_as_text(["2026-11-24 18:05:59.999999", "1000-01-01 00:00:00.000000"]) == [
        "2026-11-24T18:05:59Z",
        "1000-01-01T00:00:00Z",
    ]
    assert stored_times_as_text([]) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), TEXT, st.sampled_from(["=1", " -2", "a,b", "x\ny"])), max_size=12))
def test_text_fields_of_mostly_distinct_text_are_the_csv_fields(texts: list[str | None]) -> None:
    assert list(csv_text_fields(texts)) == list(csv_fields(texts))


# ------------------------------------------------------------------------- one thread for both


async def test_pump_in_thread_reads_and_formats_in_one_thread() -> None:
    threads: set[int] = set()

    def batches() -> Iterator[list[int]]:
        try:
            for number in range(5):
                threads.add(threading.get_ident())
                yield [number, number]
        finally:
            threads.add(threading.get_ident())

    seen: list[int] = []

    def sink(handed: Any) -> None:
        for batch in handed:
            threads.add(threading.get_ident())
            seen.extend(batch)

    assert await pump_in_thread(batches, sink) == 10
    assert seen == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert len(threads) == 1 and threading.get_ident() not in threads


async def test_pump_in_thread_closes_the_reader_in_its_thread_when_the_sink_stops_early() -> None:
    closed_in: list[int] = []
    sink_thread: list[int] = []

    def batches() -> Iterator[list[int]]:
        try:
            yield from ([number] for number in range(100))
        finally:
            closed_in.append(threading.get_ident())

    def sink(handed: Any) -> None:
        sink_thread.append(threading.get_ident())
        for batch in handed:
            if batch == [2]:
                raise ValueError("too many rows")

    with pytest.raises(ValueError, match="too many rows"):
        await pump_in_thread(batches, sink)
    assert closed_in == sink_thread


async def test_pump_in_thread_raises_the_readers_error() -> None:
    def batches() -> Iterator[list[int]]:
        yield [1]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        await pump_in_thread(batches, lambda handed: list(handed))


async def test_a_cancelled_pump_in_thread_stops_the_reader_before_returning() -> None:
    started, release = threading.Event(), threading.Event()
    read: list[int] = []
    finished: list[str] = []

    def batches() -> Iterator[list[int]]:
        for number in range(1_000):
            read.append(number)
            yield [number]

    def sink(handed: Any) -> None:
        try:
            for _ in handed:
                started.set()
                release.wait(timeout=5)
        except Exception as error:
            finished.append(type(error).__name__)
            raise

    task = asyncio.ensure_future(pump_in_thread(batches, sink))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    asyncio.get_running_loop().call_soon(release.set)  # after the pump has seen the cancellation
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["_AbortedError"]  # the thread had stopped when the cancellation went on
    assert len(read) < 1_000


def test_damaged_time_strategy_covers_offsets() -> None:
    """The slow path this module compares against accepts what the bulk path declines."""
    assert utc_timestamp("2026-01-01 12:00:00+02:00") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert (
        stored(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=5)) == "2026-01-01 00:00:00.000005"
    )
