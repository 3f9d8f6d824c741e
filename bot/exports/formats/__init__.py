"""File formats for moderator exports: CSV, JSON and XLSX, and fitting a file to an upload.

This package only turns rows into bytes, one module per format; ``common`` holds what they
share (the column lists, the row shape, formula defusing) and ``bot.kernel.serial`` how
timestamps and identifiers are written. ``checkpoints`` builds the long checkpoint export from
each member's completions and writes its CSV directly (``stored_times`` helps it).
"""

from __future__ import annotations

from bot.exports.formats.checkpoints import (
    CheckpointBatch,
    CheckpointRows,
    CheckpointSlot,
    iter_checkpoint_csv,
    write_checkpoint_csv,
)
from bot.exports.formats.common import (
    CHECKPOINT_COLUMNS,
    EXPORT_SCHEMA_VERSION,
    PROGRESS_COLUMNS,
    REVIEW_COLUMNS,
    Batch,
    ColumnBatch,
    ExportFormat,
    ExportTooLargeError,
    Row,
    neutralise_cell,
    starts_like_formula,
)
from bot.exports.formats.csv_writer import iter_csv, iter_csv_batches, write_csv, write_csv_batches
from bot.exports.formats.json_writer import iter_json, iter_json_batches, write_json, write_json_batches
from bot.exports.formats.upload import export_filename, fit_to_limit
from bot.exports.formats.xlsx_writer import write_xlsx, write_xlsx_batches

__all__ = [
    "CHECKPOINT_COLUMNS",
    "EXPORT_SCHEMA_VERSION",
    "PROGRESS_COLUMNS",
    "REVIEW_COLUMNS",
    "Batch",
    "CheckpointBatch",
    "CheckpointRows",
    "CheckpointSlot",
    "ColumnBatch",
    "ExportFormat",
    "ExportTooLargeError",
    "Row",
    "export_filename",
    "fit_to_limit",
    "iter_checkpoint_csv",
    "iter_csv",
    "iter_csv_batches",
    "iter_json",
    "iter_json_batches",
    "neutralise_cell",
    "starts_like_formula",
    "write_checkpoint_csv",
    "write_csv",
    "write_csv_batches",
    "write_json",
    "write_json_batches",
    "write_xlsx",
    "write_xlsx_batches",
]
