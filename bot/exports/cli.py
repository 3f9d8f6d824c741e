"""``waypoint export``: the moderators' exports from the command line, for operators.

Same rows and formats as ``/export`` (see ``bot.exports.service``), without Discord and
without an upload limit: the file is streamed to ``--output``. It is written next to the
target and renamed into place, so a failed export never leaves half a file behind. The export
is recorded in the server's audit log (no actor, "via command line").

Exit codes: 0 written; 1 failed (database not migrated, or more rows than an Excel sheet
holds); 3 unknown server (no cohort and no settings for that id); 4 unknown cohort.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Final

from bot.exports.formats import ExportFormat
from bot.exports.service import ExportKind, ExportService
from bot.kernel.errors import InvalidInputError, NotFoundError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNKNOWN_GUILD: Final = 3
EXIT_UNKNOWN_COHORT: Final = 4


async def export_to_file(
    exports: ExportService, guild_id: int, cohort: str | None, kind: str, fmt: str, output: Path
) -> int:
    """Write one export to ``output``, print a one-line summary, and return the exit code.

    The caller (``bot.__main__``) owns the engine and has checked that the schema is current.
    """
    export_kind, export_format = ExportKind(kind), ExportFormat(fmt)
    if not await exports.guild_is_known(guild_id):
        print(f"waypoint: no Waypoint data for server {guild_id}.", file=sys.stderr)
        return EXIT_UNKNOWN_GUILD
    handle, partial, target = _partial_file(output)
    try:
        with os.fdopen(handle, "wb") as out:
            summary = await exports.write(
                guild_id, cohort, export_kind, export_format, out, actor_id=None, origin="command line"
            )
        partial.replace(target)
    except NotFoundError as error:
        print(f"waypoint: {_plain(error.message)}", file=sys.stderr)
        return EXIT_UNKNOWN_COHORT
    except InvalidInputError as error:
        print(f"waypoint: {_plain(error.message)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        _discard(partial)
    print(
        f"wrote {rows_phrase(export_kind, summary.rows)} of {summary.cohort_name or 'every cohort'} "
        f"in server {guild_id} as {export_format} to {output} ({summary.size:,} bytes)"
    )
    return EXIT_OK


ROW_NOUNS: Final = {
    ExportKind.PROGRESS: "progress",
    ExportKind.CHECKPOINTS: "checkpoint",
    ExportKind.REVIEWS: "review",
}


def rows_phrase(kind: ExportKind, rows: int) -> str:
    """``"208 checkpoint rows"``, ``"1 review row"``: the kind as an adjective, the count agreeing."""
    return f"{rows:,} {ROW_NOUNS[kind]} {'row' if rows == 1 else 'rows'}"


def _partial_file(output: Path) -> tuple[int, Path, Path]:
    """An open temporary file beside ``output``, its path, and ``output`` made absolute."""
    target = output.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    return handle, Path(partial), target


def _discard(partial: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # already renamed into place
        partial.unlink()


def _plain(message: str) -> str:
    """A reply written for Discord, without its Markdown, for a terminal."""
    return message.replace("**", "").replace("`", "'")
