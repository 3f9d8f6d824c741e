"""The reads behind moderators' exports: progress, checkpoints and reviews, streamed in batches.

Everything here is Core SQL streamed from the cursor (``bot.db.rows``): memory stays flat
whatever the server's size. Callers get batches of export rows (tuples in the column order of
``bot.exports.formats``) or of small records to finish into rows. The long checkpoint export can
also be read from a SQLite file by SQLite's own driver, in the formatting thread
(``read_checkpoint_rows``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import permutations
from typing import Any, Final

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import rows as db_rows
from bot.db.engine import SQLITE_BUSY_TIMEOUT_MS
from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    CohortMember,
    GuildSettings,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewRound,
)
from bot.db.rows import AnySelect, raw, required_utc_timestamp, stream, utc_timestamp
from bot.exports.formats import CheckpointBatch, CheckpointRows, CheckpointSlot, Row


async def guild_is_known(session: AsyncSession, guild_id: int) -> bool:
    """Whether Waypoint holds anything for this guild: a cohort or its settings."""
    has_cohort = exists().where(Cohort.guild_id == guild_id)
    has_settings = exists().where(GuildSettings.guild_id == guild_id)
    return bool(await session.scalar(select(or_(has_cohort, has_settings))))


# --------------------------------------------------------------------------------- progress


@dataclass(frozen=True, slots=True)
class MemberProgress:
    """One active member of a cohort, with counts aggregated in the database."""

    user_id: int
    display_name: str
    joined_at: datetime
    checkpoints_done: int
    last_completion_at: datetime | None
    reviews_given: int
    last_review_at: datetime | None
    reviews_received: int

    @property
    def last_activity_at(self) -> datetime | None:
        moments = [moment for moment in (self.last_completion_at, self.last_review_at) if moment]
        return max(moments) if moments else None


def _reviews_by(member: Any, cohort_id: int, name: str, *, with_last: bool) -> Any:
    """Per member of a cohort's rounds: how many reviews they gave (or received), and the latest."""
    columns = [member.label("user_id"), func.count().label(name)]
    if with_last:
        columns.append(func.max(ReviewCompletion.completed_at).label("last_at"))
    return (
        select(*columns)
        .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
        .where(ReviewRound.cohort_id == cohort_id, member.is_not(None))
        .group_by(member)
        .subquery(name)
    )


def member_progress_statement(cohort_id: int, checkpoint_keys: Sequence[str]) -> AnySelect:
    """Active members of a cohort by user id, each with GROUP BY aggregates.

    ``checkpoints_done`` counts only ``checkpoint_keys`` (the roadmap's current keys), as
    /progress does. Reviews count ``review_completions`` of the cohort's rounds by reviewer and
    by reviewee.
    """
    done = (
        select(
            CheckpointCompletion.user_id.label("user_id"),
            func.count().label("done"),
            func.max(CheckpointCompletion.completed_at).label("last_at"),
        )
        .where(
            CheckpointCompletion.cohort_id == cohort_id,
            CheckpointCompletion.checkpoint_key.in_(list(checkpoint_keys)),
        )
        .group_by(CheckpointCompletion.user_id)
        .subquery("done")
    )
    given = _reviews_by(ReviewCompletion.reviewer_id, cohort_id, "given", with_last=True)
    received = _reviews_by(ReviewCompletion.reviewee_id, cohort_id, "received", with_last=False)
    return (
        select(
            CohortMember.user_id,
            CohortMember.display_name,
            raw(CohortMember.joined_at, "joined_at"),
            func.coalesce(done.c.done, 0),
            raw(done.c.last_at, "last_completion_at"),
            func.coalesce(given.c.given, 0),
            raw(given.c.last_at, "last_review_at"),
            func.coalesce(received.c.received, 0),
        )
        .outerjoin(done, done.c.user_id == CohortMember.user_id)
        .outerjoin(given, given.c.user_id == CohortMember.user_id)
        .outerjoin(received, received.c.user_id == CohortMember.user_id)
        .where(CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None))
        .order_by(CohortMember.user_id)
    )


async def stream_member_progress(
    session: AsyncSession, cohort_id: int, checkpoint_keys: Sequence[str]
) -> AsyncIterator[list[MemberProgress]]:
    """The rows of ``member_progress_statement`` as records, batch by batch."""
    statement = member_progress_statement(cohort_id, checkpoint_keys)
    async for partition in stream(session, statement):
        yield [
            MemberProgress(
                user_id=user_id,
                display_name=name,
                joined_at=required_utc_timestamp(joined),
                checkpoints_done=done_count,
                last_completion_at=utc_timestamp(last_done),
                reviews_given=given_count,
                last_review_at=utc_timestamp(last_given),
                reviews_received=received_count,
            )
            for (
                user_id,
                name,
                joined,
                done_count,
                last_done,
                given_count,
                last_given,
                received_count,
            ) in partition
        ]


# ------------------------------------------------------------------------------ checkpoints


def checkpoint_rows_statement(cohort_id: int) -> AnySelect:
    """Each active member of a cohort with each of their completions, ordered by member.

    A left join: a member with no completion gives one row with an empty key.
    """
    return (
        select(
            CohortMember.user_id,
            CohortMember.display_name,
            CheckpointCompletion.checkpoint_key,
            raw(CheckpointCompletion.completed_at, "completed_at"),
            CheckpointCompletion.evidence_url,
        )
        .outerjoin(
            CheckpointCompletion,
            and_(
                CheckpointCompletion.cohort_id == CohortMember.cohort_id,
                CheckpointCompletion.user_id == CohortMember.user_id,
            ),
        )
        .where(CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None))
        .order_by(CohortMember.user_id)
    )


# Export rows gathered into one batch before it is handed to the formatter.
CHECKPOINT_BATCH_ROWS: Final = 6_000
# Completion rows fetched per round trip by ``read_checkpoint_rows``, in ``stream``'s partitions.
_PARTITIONS_PER_FETCH: Final = 4


def _utc_timestamps(raws: Sequence[object]) -> list[datetime | None]:
    """``utc_timestamp`` over a column, SQLite's naive UTC text parsed in one comprehension."""
    parse = datetime.fromisoformat
    try:
        return [None if raw is None else parse(raw + "+00:00") for raw in raws]  # type: ignore[operator]
    except (TypeError, ValueError):  # driver datetimes, or text with its own offset
        return list(map(utc_timestamp, raws))


def checkpoint_rows(cohort_name: str, roadmap_key: str, slots: Sequence[CheckpointSlot]) -> CheckpointRows:
    """Cuts one cohort's completions (``checkpoint_rows_statement``) into export batches.

    One row per (active member, checkpoint of the roadmap), open ones included: the database
    streams each member's completions (a left join, so members with none still appear) ordered
    by member, and the writers fill in the roadmap (``bot.exports.formats.checkpoints``).
    Completions of keys the roadmap no longer has follow the member's rows with the status
    ``retired``: kept as history, never counted (as in /progress).
    """
    return CheckpointRows(
        cohort_name, roadmap_key, slots, read_timestamps=_utc_timestamps, batch_rows=CHECKPOINT_BATCH_ROWS
    )


async def stream_checkpoint_rows(
    session: AsyncSession, cohort_id: int, members: CheckpointRows
) -> AsyncIterator[CheckpointBatch]:
    """The cohort's batches read on the session (PostgreSQL; SQLite without a file)."""
    async for partition in stream(session, checkpoint_rows_statement(cohort_id)):
        for batch in members.add(partition):
            yield batch
    for batch in members.finish():
        yield batch


async def sqlite_file(session: AsyncSession) -> str | None:
    """The SQLite database file behind the session, or None (PostgreSQL, SQLite in memory)."""
    url = (await session.connection()).engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else database


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A statement as SQLite's own driver takes it: the SQL and its positional parameters."""

    sql: str
    parameters: tuple[Any, ...]

    @classmethod
    def of(cls, statement: AnySelect) -> CompiledQuery:
        compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params()
        return cls(str(compiled), tuple(values[name] for name in compiled.positiontup or ()))


def checkpoint_rows_query(cohort_id: int) -> CompiledQuery:
    return CompiledQuery.of(checkpoint_rows_statement(cohort_id))


def read_checkpoint_rows(
    database: str, cohorts: Sequence[tuple[CompiledQuery, CheckpointRows]]
) -> Iterator[CheckpointBatch]:
    """The batches of each cohort in turn, read from the SQLite file with its own connection.

    Synchronous, for the formatting thread (``pump_in_thread``), so one thread reads and
    writes: on a 600,000-row export, reading on the event loop through aiosqlite's thread and
    formatting in a third cost a third more CPU time, and more whenever the machine was busy,
    in GIL hand-overs and in rows read on one core and formatted on another. The rows are plain
    tuples from the driver, never SQLAlchemy ``Row`` objects (slow to build, and work for the
    garbage collector). Like the session's reads, this connection sees what is committed when
    each statement starts. Bound parameters go to the driver as they are: integers here.
    """
    connection = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        for query, members in cohorts:
            cursor = connection.execute(query.sql, query.parameters)
            while partition := cursor.fetchmany(db_rows.BATCH_ROWS * _PARTITIONS_PER_FETCH):
                yield from members.add(partition)
            yield from members.finish()
    finally:
        connection.close()


# ---------------------------------------------------------------------------------- reviews


async def stream_review_rows(
    session: AsyncSession, guild_id: int, cohort_id: int | None
) -> AsyncIterator[list[Row]]:
    """Every review round, each ordered pair inside its groups, and the completed reviews.

    Rows follow ``REVIEW_COLUMNS``. Inside a group everyone reviews everyone else, so a pair
    gives two rows and a trio six; a row's ``completed_at`` and ``link`` are filled when that
    review was done. Completed reviews that match no pair (a member was regrouped, or both ids
    were anonymised) still get a row, without a group. A round with no groups gets one row so
    it is not lost. Anonymised members (erased at their request) show as empty ids.
    """
    rounds = (
        select(
            ReviewRound.id,
            Cohort.name,
            ReviewRound.week,
            ReviewRound.created_at,
            ReviewRound.due_at,
            ReviewGroup.id,
            ReviewGroupMember.id,
            ReviewGroupMember.user_id,
        )
        .join(Cohort, Cohort.id == ReviewRound.cohort_id)
        .outerjoin(ReviewGroup, ReviewGroup.round_id == ReviewRound.id)
        .outerjoin(ReviewGroupMember, ReviewGroupMember.group_id == ReviewGroup.id)
        .where(ReviewRound.guild_id == guild_id, Cohort.guild_id == guild_id)
        .order_by(Cohort.name_key, ReviewRound.week, ReviewRound.id, ReviewGroup.id, ReviewGroupMember.id)
    )
    if cohort_id is not None:
        rounds = rounds.where(ReviewRound.cohort_id == cohort_id)

    current: tuple[int, str, int, datetime, datetime] | None = None
    groups: dict[int, list[int | None]] = {}
    async for partition in stream(session, rounds):
        out: list[Row] = []
        for round_id, cohort_name, week, started_at, due_at, group_id, seat_id, user_id in partition:
            if current is None or current[0] != round_id:
                if current is not None:
                    out.extend(await _round_rows(session, current, groups))
                current = (round_id, cohort_name, week, started_at, due_at)
                groups = {}
            if group_id is not None:
                seats = groups.setdefault(group_id, [])
                if seat_id is not None:  # NULL: a group with no seats; a NULL user: an erased member
                    seats.append(user_id)
        if out:
            yield out
    if current is not None:
        yield await _round_rows(session, current, groups)


async def _round_rows(
    session: AsyncSession,
    review_round: tuple[int, str, int, datetime, datetime],
    groups: Mapping[int, list[int | None]],
) -> list[Row]:
    round_id, cohort_name, week, started_at, due_at = review_round
    statement = (
        select(
            ReviewCompletion.reviewer_id,
            ReviewCompletion.reviewee_id,
            ReviewCompletion.completed_at,
            ReviewCompletion.link,
        )
        .where(ReviewCompletion.round_id == round_id)
        .order_by(ReviewCompletion.completed_at, ReviewCompletion.id)
    )
    pending: dict[tuple[int | None, int | None], list[tuple[datetime, str | None]]] = {}
    for reviewer_id, reviewee_id, completed_at, link in await session.execute(statement):
        pending.setdefault((reviewer_id, reviewee_id), []).append((completed_at, link))

    head = (cohort_name, week, started_at, due_at)
    rows: list[Row] = []
    for group_id, members in groups.items():
        for reviewer_id, reviewee_id in permutations(members, 2):
            done = pending.get((reviewer_id, reviewee_id))
            if done:
                completed_at, link = done.pop(0)
                rows.append((*head, group_id, reviewer_id, reviewee_id, completed_at, link))
            else:
                rows.append((*head, group_id, reviewer_id, reviewee_id, None, None))
    for (reviewer_id, reviewee_id), leftovers in pending.items():
        for completed_at, link in leftovers:
            rows.append((*head, None, reviewer_id, reviewee_id, completed_at, link))
    if not rows:
        rows.append((*head, None, None, None, None, None))
    return rows
