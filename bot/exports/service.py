"""Moderator exports (progress, checkpoints, reviews) and the audit log they are recorded in.

An export streams rows from the database (``bot.exports.queries``) on the event loop and
formats them (``bot.exports.formats``) in a worker thread, handing batches over through a small
bounded queue: a 600,000-row export neither holds every row in memory nor blocks the bot for
seconds. The long checkpoint export of a SQLite file is read by the worker thread itself, which
takes half the time (``queries.read_checkpoint_rows``). Every export is written to the audit log
with who asked for it.

What the files hold (the column lists are ``PROGRESS_COLUMNS``, ``CHECKPOINT_COLUMNS`` and
``REVIEW_COLUMNS`` in ``bot.exports.formats``):

- progress: one row per active member and cohort. ``current_phase`` is the phase the cohort's
  calendar is in today (empty before the start and after the end); ``checkpoints_done`` counts
  the roadmap's current checkpoints; ``percent`` is done / total with one decimal;
  ``last_activity_at`` is the latest checkpoint completed or review given; ``pace`` is
  ``ahead``, ``on track``, ``behind`` or ``not started``, as in /progress.
- checkpoints: one row per active member and checkpoint of their cohort's roadmap, in roadmap
  order; ``status`` is ``done`` or ``open``; ``phase`` is the phase title.
- reviews: one row per ordered (reviewer, reviewee) pair of every review group, with the
  completed review's time and link when it was done (see ``stream_review_rows``).

Members who left a cohort are not in the progress and checkpoint exports. Without a cohort an
export covers every cohort of the server, cohorts ordered by name and members by id.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import IO, BinaryIO, Final, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, roadmap_of
from bot.content import RoadmapCatalog
from bot.db.audit import AuditRecord, add_audit_entry, recent_audit_entries
from bot.db.models import Cohort
from bot.exports import queries
from bot.exports.formats import (
    CHECKPOINT_COLUMNS,
    PROGRESS_COLUMNS,
    REVIEW_COLUMNS,
    Batch,
    CheckpointBatch,
    CheckpointRows,
    CheckpointSlot,
    ExportFormat,
    ExportTooLargeError,
    Row,
    export_filename,
    fit_to_limit,
    write_checkpoint_csv,
    write_csv_batches,
    write_json_batches,
    write_xlsx_batches,
)
from bot.exports.pump import pump_batches, pump_in_thread
from bot.kernel import calendar, slots
from bot.kernel.errors import InvalidInputError
from bot.kernel.pace import expected_by_day, pace_of

log = logging.getLogger(__name__)


class ExportKind(StrEnum):
    PROGRESS = "progress"
    CHECKPOINTS = "checkpoints"
    REVIEWS = "reviews"


COLUMNS: Final[dict[ExportKind, tuple[str, ...]]] = {
    ExportKind.PROGRESS: PROGRESS_COLUMNS,
    ExportKind.CHECKPOINTS: CHECKPOINT_COLUMNS,
    ExportKind.REVIEWS: REVIEW_COLUMNS,
}

AUDIT_ENTRIES_SHOWN: Final = 50
# CSV and JSON exports deflate five to ten times; a file beyond this many upload limits will not
# fit even zipped, so it is refused before being read into memory.
MAX_ZIP_RATIO: Final = 12
# Small exports stay in memory; larger ones go to a temporary file while being written.
_SPOOL_BYTES: Final = 8 * 1024 * 1024
# Batches waiting between the database side and the formatting thread.


@dataclass(frozen=True, slots=True)
class ExportSummary:
    kind: ExportKind
    fmt: ExportFormat
    guild_id: int
    cohort_name: str | None  # as stored; None for every cohort
    rows: int
    size: int  # bytes of the file before any zipping


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export ready to attach: ``payload`` fits the upload limit it was built for."""

    filename: str
    payload: bytes
    summary: ExportSummary
    zipped: bool


@dataclass(frozen=True, slots=True)
class _Scope:
    guild_id: int
    cohort_name: str | None
    cohorts: Sequence[Cohort]


class ExportService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    # ------------------------------------------------------------------------------ exports

    async def write(
        self,
        guild_id: int,
        cohort_name: str | None,
        kind: ExportKind,
        fmt: ExportFormat,
        out: IO[bytes],
        *,
        actor_id: int | None,
        origin: str = "Discord",
    ) -> ExportSummary:
        """Write an export to ``out`` (any size) and log it; used by the command line."""
        summary = await self._build(guild_id, cohort_name, kind, fmt, out)
        await self._audit_export(summary, actor_id, origin=origin, zipped=False)
        return summary

    async def export_file(
        self,
        guild_id: int,
        guild_name: str,
        cohort_name: str | None,
        kind: ExportKind,
        fmt: ExportFormat,
        limit: int,
        *,
        actor_id: int,
    ) -> ExportFile:
        """Build an export as an attachment of at most ``limit`` bytes, zipped if need be.

        Raises ``InvalidInputError`` with what to narrow when it cannot fit, or when an XLSX
        sheet would need more rows than Excel allows.
        """
        now = self._clock()
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            summary = await self._build(guild_id, cohort_name, kind, fmt, spool)
            filename = export_filename(guild_name, summary.cohort_name, kind.value, now.date(), fmt)
            if summary.size > limit * MAX_ZIP_RATIO:
                raise InvalidInputError(_too_large(summary, limit))
            spool.seek(0)
            payload = spool.read()
        fitted = await asyncio.to_thread(fit_to_limit, filename, payload, limit, modified_at=now)
        if fitted is None:
            raise InvalidInputError(_too_large(summary, limit))
        zipped = fitted[0] != filename
        await self._audit_export(summary, actor_id, origin="Discord", zipped=zipped)
        return ExportFile(filename=fitted[0], payload=fitted[1], summary=summary, zipped=zipped)

    async def guild_is_known(self, guild_id: int) -> bool:
        async with self._sessions() as session:
            return await queries.guild_is_known(session, guild_id)

    async def recent_audit(self, guild_id: int, limit: int = AUDIT_ENTRIES_SHOWN) -> list[AuditRecord]:
        async with self._sessions() as session:
            return await recent_audit_entries(session, guild_id, limit)

    async def _build(
        self, guild_id: int, cohort_name: str | None, kind: ExportKind, fmt: ExportFormat, out: IO[bytes]
    ) -> ExportSummary:
        now = self._clock()
        start = out.tell()
        async with self._sessions() as session:
            scope = await self._scope(session, guild_id, cohort_name)
            binary = cast(BinaryIO, out)  # BinaryIO only adds text-mode helpers the writers never use
            try:
                if kind is ExportKind.CHECKPOINTS:
                    rows = await self._pump_checkpoints(
                        session, scope, _checkpoint_sink(fmt, scope, now, binary)
                    )
                else:
                    batches = self._rows(session, scope, kind, now)
                    rows = await pump_batches(batches, _sink(kind, fmt, scope, now, binary))
            except ExportTooLargeError as error:
                reason = str(error)
                raise InvalidInputError(
                    f"{reason[:1].upper()}{reason[1:]}, and this export has more. Use `format:csv`"
                    + ("." if scope.cohort_name else ", or narrow it with the `cohort` option.")
                ) from error
        summary = ExportSummary(kind, fmt, guild_id, scope.cohort_name, rows, out.tell() - start)
        log.info(
            "guild=%s built %s export of %s as %s: %d rows, %d bytes",
            guild_id,
            kind,
            scope.cohort_name or "all cohorts",
            fmt,
            rows,
            summary.size,
        )
        return summary

    async def _scope(self, session: AsyncSession, guild_id: int, cohort_name: str | None) -> _Scope:
        if cohort_name and cohort_name.strip():
            cohort = await cohort_named(session, guild_id, cohort_name)
            return _Scope(guild_id, cohort.name, [cohort])
        return _Scope(guild_id, None, await CohortRepository(session).in_guild(guild_id))

    def _rows(
        self, session: AsyncSession, scope: _Scope, kind: ExportKind, now: datetime
    ) -> AsyncIterator[Batch]:
        if kind is ExportKind.PROGRESS:
            return self._progress_rows(session, scope, now)
        only = scope.cohorts[0].id if scope.cohort_name is not None and scope.cohorts else None
        return queries.stream_review_rows(session, scope.guild_id, only)

    async def _progress_rows(
        self, session: AsyncSession, scope: _Scope, now: datetime
    ) -> AsyncIterator[list[Row]]:
        for cohort in scope.cohorts:
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            where = calendar.position(cohort.start_date, slots.local_date(now, cohort.timezone), roadmap)
            phase = calendar.phase_for_day(roadmap, where.day) if where.started else None
            phase_title = phase.title if phase else None
            expected = expected_by_day(roadmap, where.day) if where.started else 0
            total = roadmap.checkpoint_count
            keys = [checkpoint.key for _, checkpoint in roadmap.checkpoints()]
            async for batch in queries.stream_member_progress(session, cohort.id, keys):
                yield [
                    (
                        member.user_id,
                        member.display_name,
                        cohort.name,
                        roadmap.key,
                        member.joined_at,
                        phase_title,
                        member.checkpoints_done,
                        total,
                        round(member.checkpoints_done * 100 / total, 1) if total else 0.0,
                        member.last_activity_at,
                        member.reviews_given,
                        member.reviews_received,
                        pace_of(member.checkpoints_done, expected, total, started=where.started).value,
                    )
                    for member in batch
                ]

    async def _pump_checkpoints(
        self, session: AsyncSession, scope: _Scope, sink: Callable[[Iterable[CheckpointBatch]], object]
    ) -> int:
        """The checkpoint export through ``sink``; returns its row count.

        From a SQLite file, the formatting thread reads the rows itself
        (``queries.read_checkpoint_rows``); otherwise the session streams them.
        """
        database = await queries.sqlite_file(session)
        if database is None:
            return await pump_batches(self._checkpoint_batches(session, scope), sink)
        cohorts = [
            (queries.checkpoint_rows_query(cohort.id), self._checkpoint_rows(cohort))
            for cohort in scope.cohorts
        ]
        return await pump_in_thread(lambda: queries.read_checkpoint_rows(database, cohorts), sink)

    async def _checkpoint_batches(
        self, session: AsyncSession, scope: _Scope
    ) -> AsyncIterator[CheckpointBatch]:
        for cohort in scope.cohorts:
            async for batch in queries.stream_checkpoint_rows(
                session, cohort.id, self._checkpoint_rows(cohort)
            ):
                yield batch

    def _checkpoint_rows(self, cohort: Cohort) -> CheckpointRows:
        roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
        slots = [
            CheckpointSlot(phase.title, checkpoint.key, checkpoint.title)
            for phase, checkpoint in roadmap.checkpoints()
        ]
        return queries.checkpoint_rows(cohort.name, roadmap.key, slots)

    async def _audit_export(
        self, summary: ExportSummary, actor_id: int | None, *, origin: str, zipped: bool
    ) -> None:
        detail = (
            f"{summary.kind} export of {summary.cohort_name or 'all cohorts'} as {summary.fmt}: "
            f"{summary.rows:,} rows, {summary.size:,} bytes{', zipped' if zipped else ''} via {origin}"
        )
        async with self._sessions.begin() as session:
            add_audit_entry(
                session, summary.guild_id, actor_id, f"export.{summary.kind}", detail, self._clock()
            )


def _too_large(summary: ExportSummary, limit: int) -> str:
    advice = (
        "narrow it with the `cohort` option"
        if summary.cohort_name is None
        else "ask the bot's operator to run `waypoint export` for it"
    )
    return (
        f"The {summary.kind} export ({summary.rows:,} rows, {_megabytes(summary.size)}) does not fit "
        f"the {_megabytes(limit)} upload limit here, even zipped: {advice}."
    )


def _megabytes(size: int) -> str:
    if size < 1_000_000:
        return f"{size / 1_000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


# ------------------------------------------------------------------------------ formatting


def _checkpoint_sink(
    fmt: ExportFormat, scope: _Scope, now: datetime, out: BinaryIO
) -> Callable[[Iterable[CheckpointBatch]], object]:
    """The CSV writer of checkpoint batches; the other formats take them as typed columns."""
    if fmt is ExportFormat.CSV:
        return lambda batches: write_checkpoint_csv(batches, out)
    sink = _sink(ExportKind.CHECKPOINTS, fmt, scope, now, out)
    return lambda batches: sink(batch.columns() for batch in batches)


def _sink(
    kind: ExportKind, fmt: ExportFormat, scope: _Scope, now: datetime, out: BinaryIO
) -> Callable[[Iterable[Batch]], object]:
    """The formatter for one export, as a function of its row batches that writes to ``out``."""
    columns = COLUMNS[kind]
    if fmt is ExportFormat.CSV:
        return lambda batches: write_csv_batches(columns, batches, out)
    if fmt is ExportFormat.JSON:
        meta = {"generated_at": now, "guild_id": scope.guild_id, "cohort": scope.cohort_name}
        return lambda batches: write_json_batches(kind.value, meta, columns, batches, out)
    title = f"{kind} {scope.cohort_name or 'all cohorts'}"
    return lambda batches: write_xlsx_batches(title, columns, batches, out)
