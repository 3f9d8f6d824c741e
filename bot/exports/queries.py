"""The reads behind moderators' exports: progress, checkpoints and reviews, streamed in batches.

Everything here is Core SQL streamed from the cursor (``bot.db.rows``): memory stays flat
whatever the server's size. Callers get batches of export rows (tuples in the column order of
``bot.exports.formats``) or of small records to finish into rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import permutations
from typing import Any, Final

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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
from bot.exports.formats import ColumnBatch, Row


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


@dataclass(frozen=True, slots=True)
class CheckpointSlot:
    """One checkpoint of a roadmap as the long export shows it."""

    phase: str
    key: str
    title: str


DONE: Final = "done"
OPEN: Final = "open"
RETIRED: Final = "retired"  # done, but a later version of the roadmap dropped the checkpoint


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


# Rows gathered into one column batch before it is handed to the formatter.
CHECKPOINT_BATCH_ROWS: Final = 6_000


class _CheckpointColumns:
    """Builds the checkpoint export column by column from completions ordered by member.

    Per member, the roadmap's checkpoints are looked up once in a dict of their completions; the
    columns that repeat (the member's id and name, cohort, roadmap, phase, key, title) are made
    by list repetition, so the per-row work of a 600,000-row export stays small and no row
    tuple is ever built.
    """

    def __init__(self, cohort_name: str, roadmap_key: str, slots: Sequence[CheckpointSlot]) -> None:
        self._head = (cohort_name, roadmap_key)
        self._phases = [slot.phase for slot in slots]
        self._keys = [slot.key for slot in slots]
        self._known = frozenset(self._keys)
        self._titles = [slot.title for slot in slots]
        self._member: tuple[int, str] | None = None
        self._completed: dict[str, tuple[object, str | None]] = {}
        self._start_batch()

    def _start_batch(self) -> None:
        self.members = 0
        self._ids: list[int] = []
        self._names: list[str] = []
        self._statuses: list[str] = []
        self._stamps: list[object] = []
        self._evidence: list[str | None] = []
        self._phase_column: list[str | None] = []
        self._key_column: list[str] = []
        self._title_column: list[str | None] = []

    @property
    def rows(self) -> int:
        return len(self._ids)

    def add(self, partition: Iterable[Sequence[Any]]) -> None:
        """Completions as (user id, display name, key, raw completed_at, evidence)."""
        for user_id, display_name, key, completed_at, evidence_url in partition:
            if self._member is None or user_id != self._member[0]:
                self.finish_member()
                self._member = (user_id, display_name)
            if key is not None:
                self._completed[key] = (completed_at, evidence_url)

    def finish_member(self) -> None:
        if self._member is None:
            return
        user_id, display_name = self._member
        count = len(self._keys)
        self._ids += [user_id] * count
        self._names += [display_name] * count
        if self._completed:
            hits = list(map(self._completed.get, self._keys))
            self._statuses += [OPEN if hit is None else DONE for hit in hits]
            self._stamps += [None if hit is None else hit[0] for hit in hits]
            self._evidence += [None if hit is None else hit[1] for hit in hits]
        else:
            self._statuses += [OPEN] * count
            self._stamps += [None] * count
            self._evidence += [None] * count
        self._phase_column += self._phases
        self._key_column += self._keys
        self._title_column += self._titles
        retired = sorted(key for key in self._completed if key not in self._known)
        if retired:  # kept as history, after the roadmap's own checkpoints
            self._ids += [user_id] * len(retired)
            self._names += [display_name] * len(retired)
            self._statuses += [RETIRED] * len(retired)
            self._stamps += [self._completed[key][0] for key in retired]
            self._evidence += [self._completed[key][1] for key in retired]
            self._phase_column += [None] * len(retired)
            self._key_column += retired
            self._title_column += [None] * len(retired)
        self.members += 1
        self._member, self._completed = None, {}

    def take(self) -> ColumnBatch:
        """The finished members' rows, in ``CHECKPOINT_COLUMNS`` order; starts a new batch."""
        rows = self.rows
        cohort_name, roadmap_key = self._head
        batch = ColumnBatch(
            (
                self._ids,
                self._names,
                [cohort_name] * rows,
                [roadmap_key] * rows,
                self._phase_column,
                self._key_column,
                self._title_column,
                self._statuses,
                _utc_timestamps(self._stamps),
                self._evidence,
            )
        )
        self._start_batch()
        return batch


def _utc_timestamps(raws: Sequence[object]) -> list[datetime | None]:
    """``utc_timestamp`` over a column, SQLite's naive UTC text parsed in one comprehension."""
    parse = datetime.fromisoformat
    try:
        return [None if raw is None else parse(raw + "+00:00") for raw in raws]  # type: ignore[operator]
    except (TypeError, ValueError):  # driver datetimes, or text with its own offset
        return list(map(utc_timestamp, raws))


async def stream_checkpoint_rows(
    session: AsyncSession,
    cohort_id: int,
    cohort_name: str,
    roadmap_key: str,
    slots: Sequence[CheckpointSlot],
) -> AsyncIterator[ColumnBatch]:
    """One row per (active member, checkpoint of the roadmap), open ones included.

    Rows follow ``CHECKPOINT_COLUMNS``, in batches given column by column. The database streams
    each member's completions (a left join, so members with none still appear) ordered by
    member; Python walks the roadmap's checkpoint list once per member and fills in what was
    done. Completions of keys the roadmap no longer has follow the member's rows with the status
    ``retired``: kept as history, never counted (as in /progress).
    """
    columns = _CheckpointColumns(cohort_name, roadmap_key, slots)
    async for partition in stream(session, checkpoint_rows_statement(cohort_id)):
        columns.add(partition)
        if columns.rows >= CHECKPOINT_BATCH_ROWS:
            yield columns.take()
    columns.finish_member()
    if columns.rows:
        yield columns.take()


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
