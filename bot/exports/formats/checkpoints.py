"""The long checkpoint export: one row per active member and checkpoint of their cohort's roadmap.

The query (``bot.exports.queries``) streams each member's completions ordered by member, as
rows of (user id, display name, checkpoint key, completed_at as stored, evidence url); a member
without any gives one row with no key. ``CheckpointRows`` cuts that stream into
``CheckpointBatch``es of whole members. A member's rows, in ``CHECKPOINT_COLUMNS`` order, are
the roadmap's checkpoints in roadmap order (``done`` with the completion's time and evidence,
or ``open``), then completions of keys the roadmap no longer has (``retired``, by key: kept as
history, never counted).

Nearly every cell repeats: a member's id and name on each of their rows, each checkpoint's
cohort, roadmap, phase, key and title for every member. So rows are never built one by one.
Members whose completions came with the same keys in the same order share one ``MemberLayout``
(which completion fills which row), worked out once. The CSV of a member is one ``"".join`` of
pieces picked by the layout: the checkpoints' fixed text, rendered once per file, and the
member's own (``iter_checkpoint_csv``). XLSX and JSON get columns built by list repetition
(``CheckpointBatch.columns``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, BinaryIO, Final, TypeAlias

from bot.exports.formats.common import CHECKPOINT_COLUMNS, ColumnBatch
from bot.exports.formats.csv_writer import csv_fields, csv_header, csv_text_fields, write_chunks
from bot.exports.formats.stored_times import stored_times_as_text

DONE: Final = "done"
OPEN: Final = "open"
RETIRED: Final = "retired"  # done, but a later version of the roadmap dropped the checkpoint

# The cells of a streamed completion row.
_USER_ID: Final = itemgetter(0)
_DISPLAY_NAME: Final = itemgetter(1)
_KEY: Final = itemgetter(2)
_COMPLETED_AT: Final = itemgetter(3)
_EVIDENCE: Final = itemgetter(4)
# Takes the cells of some positions from a sequence (``_picker``).
_Pick: TypeAlias = Callable[[Sequence[Any]], tuple[Any, ...]]
# Distinct member layouts remembered per roadmap; past this the memory starts over, so members
# who all completed different sets cost a little more time, never more memory.
_LAYOUTS_KEPT: Final = 512


@dataclass(frozen=True, slots=True)
class CheckpointSlot:
    """One checkpoint of a roadmap as the long export shows it."""

    phase: str
    key: str
    title: str


@dataclass(frozen=True, slots=True, eq=False)
class MemberLayout:
    """Where the completions of a member go, for every member whose completions came as ``keys``.

    ``picks`` holds, for each of the member's export rows, the position of its completion among
    the member's streamed rows counted from one, or 0 for an open checkpoint; ``pick`` takes
    those cells from ``(lead, *member_cells)``, so an open row gets ``lead`` (None, say).
    """

    keys: tuple[str | None, ...]
    picks: tuple[int, ...]
    pick: _Pick
    statuses: tuple[str, ...]
    retired: tuple[str, ...]  # keys the roadmap no longer has, in the order of their rows
    rows: int  # export rows: one per checkpoint, and one per retired completion

    @classmethod
    def of(cls, keys: tuple[str | None, ...], slot_keys: Sequence[str]) -> MemberLayout:
        # A dict keeps the last completion of a key, should the database ever hold two.
        position = {key: index for index, key in enumerate(keys, start=1) if key is not None}
        filled = [position.get(key, 0) for key in slot_keys]
        retired = tuple(sorted(position.keys() - set(slot_keys)))
        picks = (*filled, *(position[key] for key in retired))
        return cls(
            keys=keys,
            picks=picks,
            pick=_picker(picks),
            statuses=(*(DONE if pick else OPEN for pick in filled), *(RETIRED for _ in retired)),
            retired=retired,
            rows=len(picks),
        )


def _picker(indices: Sequence[int]) -> _Pick:
    """``itemgetter`` that always returns a tuple, whatever the number of indices."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if indices:
        only = indices[0]
        return lambda values: (values[only],)
    return lambda _values: ()


class CheckpointRows:
    """One cohort's completion stream, cut into batches of whole members (see the module).

    The rows must come ordered by user id, as the query's ``ORDER BY`` gives them: a member's
    rows are found by bisection.
    """

    def __init__(
        self,
        cohort_name: str,
        roadmap_key: str,
        slots: Sequence[CheckpointSlot],
        *,
        read_timestamps: Callable[[Sequence[object]], list[datetime | None]],
        batch_rows: int,
    ) -> None:
        """``read_timestamps`` turns a column of completed_at values as stored into aware UTC
        datetimes; a batch is handed over once it holds ``batch_rows`` export rows."""
        self.cohort_name = cohort_name
        self.roadmap_key = roadmap_key
        self.slots = tuple(slots)
        self.read_timestamps = read_timestamps
        self._slot_keys = [slot.key for slot in slots]
        self._batch_rows = batch_rows
        self._layouts: dict[tuple[str | None, ...], MemberLayout] = {}
        self._unfinished: Sequence[Sequence[Any]] = ()  # the last member's rows: more may follow

    def add(self, partition: Sequence[Sequence[Any]]) -> list[CheckpointBatch]:
        """Take the next streamed rows; returns the batches of the members they complete."""
        rows = [*self._unfinished, *partition] if self._unfinished else partition
        if not rows:
            return []
        user_ids = list(map(_USER_ID, rows))
        last_member_start = user_ids.index(user_ids[-1])
        self._unfinished = rows[last_member_start:]
        return self._batches(rows, user_ids, last_member_start)

    def finish(self) -> list[CheckpointBatch]:
        """The batches of the last member, once the stream has ended."""
        rows, self._unfinished = self._unfinished, ()
        return self._batches(rows, list(map(_USER_ID, rows)), len(rows))

    def _batches(self, rows: Sequence[Sequence[Any]], user_ids: list[int], end: int) -> list[CheckpointBatch]:
        """Batches of the members whose rows start before ``end``, ``batch_rows`` at a time."""
        keys = list(map(_KEY, rows))
        batches: list[CheckpointBatch] = []
        members: list[tuple[int, int, MemberLayout]] = []
        batch_start = start = row_count = 0
        layout, layout_keys = None, None
        while start < end:
            stop = bisect_right(user_ids, user_ids[start], start, end)
            member_keys = keys[start:stop]
            if member_keys != layout_keys or layout is None:  # alike members often follow each other
                layout, layout_keys = self._layout(tuple(member_keys)), member_keys
            members.append((start - batch_start, stop - batch_start, layout))
            row_count += layout.rows
            start = stop
            if row_count >= self._batch_rows:
                batches.append(CheckpointBatch(self, rows[batch_start:start], members, row_count))
                batch_start, members, row_count = start, [], 0
        if row_count:
            batches.append(CheckpointBatch(self, rows[batch_start:start], members, row_count))
        return batches

    def _layout(self, keys: tuple[str | None, ...]) -> MemberLayout:
        layout = self._layouts.get(keys)
        if layout is None:
            if len(self._layouts) >= _LAYOUTS_KEPT:
                self._layouts.clear()
            layout = self._layouts[keys] = MemberLayout.of(keys, self._slot_keys)
        return layout


@dataclass(frozen=True, slots=True, eq=False)
class CheckpointBatch:
    """The completion rows of whole members and, per member, where its rows start and stop and
    its layout."""

    roadmap: CheckpointRows
    rows: Sequence[Sequence[Any]]
    members: Sequence[tuple[int, int, MemberLayout]]
    row_count: int  # export rows, not streamed rows

    def __len__(self) -> int:
        return self.row_count

    def columns(self) -> ColumnBatch:
        """The export rows column by column, typed as XLSX and JSON want them."""
        roadmap, rows = self.roadmap, self.rows
        slot_phases = [slot.phase for slot in roadmap.slots]
        slot_keys = [slot.key for slot in roadmap.slots]
        slot_titles = [slot.title for slot in roadmap.slots]
        completed_at, evidence = list(map(_COMPLETED_AT, rows)), list(map(_EVIDENCE, rows))
        ids: list[object] = []
        names: list[object] = []
        phases: list[str | None] = []
        keys: list[str] = []
        titles: list[str | None] = []
        statuses: list[str] = []
        stamps: list[object] = []
        links: list[object] = []
        for start, stop, layout in self.members:
            first = rows[start]
            ids += [first[0]] * layout.rows
            names += [first[1]] * layout.rows
            phases += slot_phases
            keys += slot_keys
            titles += slot_titles
            if layout.retired:
                phases += [None] * len(layout.retired)
                keys += layout.retired
                titles += [None] * len(layout.retired)
            statuses += layout.statuses
            stamps += layout.pick((None, *completed_at[start:stop]))
            links += layout.pick((None, *evidence[start:stop]))
        count = len(ids)
        return ColumnBatch(
            (
                ids,
                names,
                [roadmap.cohort_name] * count,
                [roadmap.roadmap_key] * count,
                phases,
                keys,
                titles,
                statuses,
                roadmap.read_timestamps(stamps),
                links,
            )
        )


# ------------------------------------------------------------------------------------------ CSV


def iter_checkpoint_csv(batches: Iterable[CheckpointBatch], *, bom: bool = True) -> Iterator[bytes]:
    """The CSV of ``iter_csv`` over ``CHECKPOINT_COLUMNS`` and the batches' rows, byte for byte.

    Text goes through ``csv_fields`` (links through ``csv_text_fields``, its equivalent for
    mostly distinct text), so quoting and formula neutralising are those of every CSV export:
    the checkpoints' fixed text once per cohort, the members' names and links once per batch.
    Times are ``format_timestamp``'s, sliced from SQLite's stored text when they are that.
    """
    yield csv_header(CHECKPOINT_COLUMNS, bom=bom)
    writer = _CheckpointCsv()
    for batch in batches:
        if len(batch):
            yield writer.text(batch).encode("utf-8")


def write_checkpoint_csv(batches: Iterable[CheckpointBatch], out: BinaryIO, *, bom: bool = True) -> int:
    """Write the CSV of ``iter_checkpoint_csv`` to ``out``; returns the number of bytes written."""
    return write_chunks(iter_checkpoint_csv(batches, bom=bom), out)


class _CheckpointCsv:
    """The text of batches, with what repeats between them remembered for one file.

    A member's text is one ``"".join`` of pieces picked from ``(head, *fixed, *times, *links)``:
    ``head`` is "member_id,display_name,", ``fixed`` the layout's unchanging pieces (each row's
    "cohort,roadmap,phase,key,title,status," and the separators), ``times`` and ``links`` the
    CSV text of the member's completions. A ``%`` template took three times as long.
    """

    def __init__(self) -> None:
        self._roadmap: CheckpointRows | None = None
        self._slot_text: list[str] = []  # per checkpoint: "cohort,roadmap,phase,key,title,"
        self._layouts: dict[MemberLayout, tuple[tuple[str, ...], _Pick]] = {}

    def text(self, batch: CheckpointBatch) -> str:
        if batch.roadmap is not self._roadmap:
            self._start_roadmap(batch.roadmap)
        rows = batch.rows
        firsts = [rows[start] for start, _, _ in batch.members]
        heads = [
            f"{user_id},{name},"
            for user_id, name in zip(
                csv_fields(list(map(_USER_ID, firsts))),
                csv_fields(list(map(_DISPLAY_NAME, firsts))),
                strict=True,
            )
        ]
        times, links = self._completions(batch)
        pieces: list[str] = []
        last_layout: MemberLayout | None = None
        fixed: tuple[str, ...] = ()
        pick = _picker(())
        for (start, stop, layout), head in zip(batch.members, heads, strict=True):
            if layout is not last_layout:  # alike members often follow each other
                last_layout, (fixed, pick) = layout, self._layouts.get(layout) or self._plan(layout)
            pieces += pick((head, *fixed, *times[start:stop], *links[start:stop]))
        return "".join(pieces)

    def _start_roadmap(self, roadmap: CheckpointRows) -> None:
        self._roadmap = roadmap
        self._layouts = {}
        self._lead = ",".join(csv_fields([roadmap.cohort_name, roadmap.roadmap_key])) + ","
        slots = roadmap.slots
        self._slot_text = [
            f"{self._lead}{phase},{key},{title},"
            for phase, key, title in zip(
                csv_fields([slot.phase for slot in slots]),
                csv_fields([slot.key for slot in slots]),
                csv_fields([slot.title for slot in slots]),
                strict=True,
            )
        ]

    def _plan(self, layout: MemberLayout) -> tuple[tuple[str, ...], _Pick]:
        """The layout's fixed pieces, and what picks a member's pieces, in order, from
        ``(head, *fixed, *times, *links)`` over the member's streamed rows."""
        fixed = [",", "\r\n"]
        texts = [*self._slot_text, *(f"{self._lead},{key},," for key in csv_fields(layout.retired))]
        for text, status, pick in zip(texts, layout.statuses, layout.picks, strict=True):
            fixed.append(text + _STATUS_TEXT[status] + ("," if pick else ",,\r\n"))
        # Places in (head, *fixed, *times, *links); picks count a member's rows from 1.
        comma, line_end, before_times = 1, 2, len(fixed)
        before_links = before_times + len(layout.keys)
        plan: list[int] = []
        for row, pick in enumerate(layout.picks):
            place = 3 + row  # of the row's fixed text
            if pick:
                plan += (0, place, before_times + pick, comma, before_links + pick, line_end)
            else:
                plan += (0, place)
        if len(self._layouts) >= 2 * _LAYOUTS_KEPT:
            self._layouts.clear()
        made = self._layouts[layout] = (tuple(fixed), _picker(plan))
        return made

    def _completions(self, batch: CheckpointBatch) -> tuple[Sequence[str], Sequence[str]]:
        """Per streamed row, the CSV text of its completion time and of its evidence link.

        A member without completions has one row with no time: never shown, so it is given
        any stored time to let the rest take the fast path.
        """
        rows = batch.rows
        stored = list(map(_COMPLETED_AT, rows))
        times = stored
        without = [start for start, _, layout in batch.members if layout.keys == (None,)]
        if without:
            times = stored.copy()
            for start in without:
                times[start] = _UNUSED_STORED_TIME
        texts: Sequence[str] | None = stored_times_as_text(times)
        if texts is None:  # not all SQLite's stored text: read one by one
            texts = csv_fields(batch.roadmap.read_timestamps(stored))
        return texts, csv_text_fields(list(map(_EVIDENCE, rows)))


_UNUSED_STORED_TIME: Final = "2000-01-01 00:00:00.000000"
_STATUS_TEXT: Final = dict(zip((DONE, OPEN, RETIRED), csv_fields([DONE, OPEN, RETIRED]), strict=True))
