"""JSON exports: one document (schema version 2) with a row object per line, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO, Final

from bot.exports.formats.common import EXPORT_SCHEMA_VERSION, Batch, Row, batched, check_width, rows_of
from bot.kernel.serial import id_as_text, is_id_column, json_encoder

_JSON_BATCH_ROWS: Final = 2_000
_RESERVED_JSON_KEYS: Final = frozenset({"schema_version", "kind", "columns", "rows"})


def _records(
    batch: Iterable[Row], columns: Sequence[str], id_positions: list[int]
) -> list[dict[str, object]]:
    """Rows as objects keyed by column name, identifiers as strings."""
    records = []
    for row in batch:
        if len(row) != len(columns):
            check_width(columns, row)
        if id_positions:
            cells = list(row)
            for index in id_positions:
                cells[index] = id_as_text(columns[index], cells[index])
            records.append(dict(zip(columns, cells, strict=True)))
        else:
            records.append(dict(zip(columns, row, strict=True)))
    return records


def iter_json(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], rows: Iterable[Row]
) -> Iterator[bytes]:
    """One JSON document of ``rows``; see ``iter_json_batches`` for its shape."""
    return iter_json_batches(kind, meta, columns, batched(rows, _JSON_BATCH_ROWS))


def iter_json_batches(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], batches: Iterable[Batch]
) -> Iterator[bytes]:
    """Stream one JSON document as UTF-8 chunks. The shape (schema version 2)::

        {"schema_version": 2, "kind": "progress",
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
    encoder = json_encoder()
    head: dict[str, object] = {"schema_version": EXPORT_SCHEMA_VERSION, "kind": kind}
    head.update({key: id_as_text(key, value) for key, value in meta.items()})
    head["columns"] = list(columns)
    # Drop the closing brace so the rows array can follow inside the same object.
    yield (encoder.encode(head)[:-1] + ',"rows":[').encode("utf-8")

    id_positions = [index for index, name in enumerate(columns) if is_id_column(name)]
    first_batch = True
    for batch in batches:
        if not len(batch):
            continue
        records = _records(rows_of(batch), columns, id_positions)
        # One row per line: a large file stays readable and diffable.
        body = ",\n".join(map(encoder.encode, records))
        yield (("\n" if first_batch else ",\n") + body).encode("utf-8")
        first_batch = False
    yield b"\n]}\n" if not first_batch else b"]}\n"


def write_json(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], rows: Iterable[Row], out: BinaryIO
) -> int:
    """Write the document of ``iter_json`` to ``out``; returns the number of bytes written."""
    return write_json_batches(kind, meta, columns, batched(rows, _JSON_BATCH_ROWS), out)


def write_json_batches(
    kind: str, meta: Mapping[str, object], columns: Sequence[str], batches: Iterable[Batch], out: BinaryIO
) -> int:
    """Write the document of ``iter_json_batches`` to ``out``; returns the number of bytes written."""
    written = 0
    for chunk in iter_json_batches(kind, meta, columns, batches):
        out.write(chunk)
        written += len(chunk)
    return written
