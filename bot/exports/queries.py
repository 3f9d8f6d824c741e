"""The reads behind exports, /stats and members' data requests, and the audit log they write.

Exports of a large server walk hundreds of thousands of rows, so everything here is Core SQL
(no ORM objects, no identity map) streamed from the cursor in batches with ``yield_per``: memory
stays flat whatever the server's size. Callers get batches of export rows (tuples in the
column order of ``bot.exports.formats``) or of small records to finish into rows.

Timestamps in the two big streams are selected as raw values and converted by ``utc_timestamp``:
SQLAlchemy's per-value type processing (``UTCDateTime``) costs more than the whole CSV
formatting on a 600,000-row export.

The personal-data section at the end gathers and erases one member's rows in one server, for
``PrivacyService``; every statement there is scoped by ``guild_id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise, permutations
from typing import Any, Final, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AuditEntry,
    CheckpointCompletion,
    Cohort,
    CohortMember,
    CustomPrompt,
    GuildSettings,
    MemberDeparture,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewParticipant,
    ReviewRound,
)

# Rows fetched per round trip. Small on purpose: SQLAlchemy's row objects are garbage-collector
# containers, and the more of them are alive at once, the more get promoted to the oldest
# generation and trigger full collections of the whole process (2,000 made the long export
# spend a third of its time in the collector; 500 cuts that by two thirds).
BATCH_ROWS: Final = 500

Row = tuple[object, ...]
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


def utc_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from a raw timestamp: SQLite's naive UTC text or a driver datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # naive UTC text, as UTCDateTime stores it; ``replace(tzinfo=...)`` is 6x slower
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # the text carries its own offset
            return datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def required_utc_timestamp(value: object) -> datetime:
    moment = utc_timestamp(value)
    if moment is None:
        raise ValueError("a required timestamp is missing")
    return moment


def _raw(column: Any, name: str) -> ColumnElement[Any]:
    """The column without its result processing, labelled ``name``; see ``utc_timestamp``."""
    return type_coerce(column, String).label(name)


async def _stream(session: AsyncSession, statement: AnySelect) -> AsyncIterator[Sequence[Any]]:
    """The statement's rows in batches from a server-side cursor, on the session's connection.

    Executed by Core on the session's connection, not through the ORM session: the rows are
    tuple-like ``Row`` objects, with no ORM loading or identity map.
    """
    connection = await session.connection()
    result = await connection.stream(statement.execution_options(yield_per=BATCH_ROWS))
    async for partition in result.partitions():
        yield partition


# ------------------------------------------------------------------------------------ scope


@dataclass(frozen=True, slots=True)
class CohortRecord:
    id: int
    name: str
    roadmap_key: str
    start_date: date
    timezone: str


async def cohorts_in_guild(
    session: AsyncSession, guild_id: int, cohort_id: int | None = None
) -> list[CohortRecord]:
    """The guild's cohorts (or the one asked for), by name."""
    statement = (
        select(Cohort.id, Cohort.name, Cohort.roadmap_key, Cohort.start_date, Cohort.timezone)
        .where(Cohort.guild_id == guild_id)
        .order_by(Cohort.name_key, Cohort.id)
    )
    if cohort_id is not None:
        statement = statement.where(Cohort.id == cohort_id)
    return [CohortRecord(*row) for row in await session.execute(statement)]


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
    given = (
        select(
            ReviewCompletion.reviewer_id.label("user_id"),
            func.count().label("given"),
            func.max(ReviewCompletion.completed_at).label("last_at"),
        )
        .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
        .where(ReviewRound.cohort_id == cohort_id, ReviewCompletion.reviewer_id.is_not(None))
        .group_by(ReviewCompletion.reviewer_id)
        .subquery("given")
    )
    received = (
        select(ReviewCompletion.reviewee_id.label("user_id"), func.count().label("received"))
        .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
        .where(ReviewRound.cohort_id == cohort_id, ReviewCompletion.reviewee_id.is_not(None))
        .group_by(ReviewCompletion.reviewee_id)
        .subquery("received")
    )
    return (
        select(
            CohortMember.user_id,
            CohortMember.display_name,
            _raw(CohortMember.joined_at, "joined_at"),
            func.coalesce(done.c.done, 0),
            _raw(done.c.last_at, "last_completion_at"),
            func.coalesce(given.c.given, 0),
            _raw(given.c.last_at, "last_review_at"),
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
    async for partition in _stream(session, statement):
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


def checkpoint_rows_statement(cohort_id: int) -> AnySelect:
    """Each active member of a cohort with each of their completions, ordered by member.

    A left join: a member with no completion gives one row with an empty key.
    """
    return (
        select(
            CohortMember.user_id,
            CohortMember.display_name,
            CheckpointCompletion.checkpoint_key,
            _raw(CheckpointCompletion.completed_at, "completed_at"),
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


async def stream_checkpoint_rows(
    session: AsyncSession,
    cohort_id: int,
    cohort_name: str,
    roadmap_key: str,
    slots: Sequence[CheckpointSlot],
) -> AsyncIterator[list[Row]]:
    """One row per (active member, checkpoint of the roadmap), open ones included.

    Rows follow ``CHECKPOINT_COLUMNS``. The database streams each member's completions (a left
    join, so members with none still appear) ordered by member; Python walks the roadmap's
    checkpoint list once per member and fills in what was done. Completions of keys no longer
    in the roadmap are left out, as in /progress.
    """
    statement = checkpoint_rows_statement(cohort_id)
    # Rows are built by concatenating tuples made once per checkpoint and once per member,
    # which keeps the per-row work of a 600,000-row export in C.
    open_tails = [
        (cohort_name, roadmap_key, slot.phase, slot.key, slot.title, OPEN, None, None) for slot in slots
    ]
    done_heads = [(cohort_name, roadmap_key, slot.phase, slot.key, slot.title, DONE) for slot in slots]
    keys = [slot.key for slot in slots]
    member: tuple[int, str] | None = None
    completed: dict[str, tuple[object, str | None]] = {}

    def member_rows(member: tuple[int, str]) -> list[Row]:
        rows: list[Row] = []
        append = rows.append
        for key, open_tail, done_head in zip(keys, open_tails, done_heads, strict=True):
            hit = completed.get(key)
            if hit is None:
                append(member + open_tail)
            else:
                append(member + done_head + (utc_timestamp(hit[0]), hit[1]))
        return rows

    async for partition in _stream(session, statement):
        out: list[Row] = []
        for user_id, display_name, key, completed_at, evidence_url in partition:
            if member is None or user_id != member[0]:
                if member is not None:
                    out += member_rows(member)
                member = (user_id, display_name)
                completed = {}
            if key is not None:
                completed[key] = (completed_at, evidence_url)
        if out:
            yield out
    if member is not None:
        yield member_rows(member)


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
    async for partition in _stream(session, rounds):
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


# ------------------------------------------------------------------------------------ stats


async def stream_phase_counts(
    session: AsyncSession, cohort_id: int, phase_of_key: Mapping[str, int]
) -> AsyncIterator[list[tuple[int, int | None, int]]]:
    """(user id, phase index, checkpoints done in it) for each active member, by user id.

    A member with no completions gives one row with a NULL phase and a zero count.
    """
    phase_index = case(
        *[
            (CheckpointCompletion.checkpoint_key == key, literal(index))
            for key, index in phase_of_key.items()
        ],
        else_=None,
    ).label("phase_index")
    statement = (
        select(CohortMember.user_id, phase_index, func.count(CheckpointCompletion.id))
        .outerjoin(
            CheckpointCompletion,
            and_(
                CheckpointCompletion.cohort_id == CohortMember.cohort_id,
                CheckpointCompletion.user_id == CohortMember.user_id,
            ),
        )
        .where(CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None))
        .group_by(CohortMember.user_id, phase_index)
        .order_by(CohortMember.user_id)
    )
    async for partition in _stream(session, statement):
        yield [(user_id, index, count) for user_id, index, count in partition]


async def completions_per_window(
    session: AsyncSession, guild_id: int, cohort_ids: Sequence[int], bounds: Sequence[datetime]
) -> list[int]:
    """Checkpoints completed in each window ``[bounds[i], bounds[i + 1])``, in one query."""
    if len(bounds) < 2 or not cohort_ids:
        return [0] * max(len(bounds) - 1, 0)
    at = CheckpointCompletion.completed_at
    counts = [
        func.coalesce(func.sum(case((and_(at >= start, at < end), 1), else_=0)), 0)
        for start, end in pairwise(bounds)
    ]
    statement = select(*counts).where(
        CheckpointCompletion.guild_id == guild_id,
        CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
        at >= bounds[0],
        at < bounds[-1],
    )
    row = (await session.execute(statement)).one()
    return [int(value) for value in row]


async def active_and_stalled(
    session: AsyncSession, guild_id: int, cohort_ids: Sequence[int], since: datetime
) -> tuple[int, int]:
    """Distinct active members of the cohorts, and those with no completion there since ``since``."""
    if not cohort_ids:
        return 0, 0
    in_scope = and_(
        CohortMember.guild_id == guild_id,
        CohortMember.cohort_id.in_(list(cohort_ids)),
        CohortMember.left_at.is_(None),
    )
    recent = exists().where(
        CheckpointCompletion.guild_id == guild_id,
        CheckpointCompletion.user_id == CohortMember.user_id,
        CheckpointCompletion.cohort_id.in_(list(cohort_ids)),
        CheckpointCompletion.completed_at >= since,
    )
    active = await session.scalar(select(func.count(func.distinct(CohortMember.user_id))).where(in_scope))
    stalled = await session.scalar(
        select(func.count(func.distinct(CohortMember.user_id))).where(in_scope, ~recent)
    )
    return int(active or 0), int(stalled or 0)


# -------------------------------------------------------------------------------- audit log


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor_id: int | None
    action: str
    detail: str
    created_at: datetime


def add_audit_entry(
    session: AsyncSession, guild_id: int, actor_id: int | None, action: str, detail: str, now: datetime
) -> None:
    session.add(
        AuditEntry(guild_id=guild_id, actor_id=actor_id, action=action, detail=detail[:500], created_at=now)
    )


async def recent_audit_entries(session: AsyncSession, guild_id: int, limit: int) -> list[AuditRecord]:
    statement = (
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.detail, AuditEntry.created_at)
        .where(AuditEntry.guild_id == guild_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [AuditRecord(*row) for row in await session.execute(statement)]


# ---------------------------------------------------------------------------- personal data

Record = dict[str, object]


async def personal_records(session: AsyncSession, guild_id: int, user_id: int) -> dict[str, list[Record]]:
    """Every row about one member in one guild, section by section, for a data access request.

    Other members' ids are left out (the partners of a review group, the other side of a
    review): they are those members' data, not the caller's.
    """

    async def records(statement: AnySelect) -> list[Record]:
        return [dict(row._mapping) for row in await session.execute(statement)]

    cohort_name = Cohort.name.label("cohort")
    return {
        "memberships": await records(
            select(
                cohort_name,
                Cohort.roadmap_key.label("roadmap"),
                CohortMember.display_name,
                CohortMember.joined_at,
                CohortMember.left_at,
            )
            .join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(CohortMember.guild_id == guild_id, CohortMember.user_id == user_id)
            .order_by(CohortMember.joined_at, CohortMember.id)
        ),
        "checkpoint_completions": await records(
            select(
                cohort_name,
                CheckpointCompletion.checkpoint_key,
                CheckpointCompletion.completed_at,
                CheckpointCompletion.evidence_url,
                CheckpointCompletion.note,
            )
            .join(Cohort, Cohort.id == CheckpointCompletion.cohort_id)
            .where(CheckpointCompletion.guild_id == guild_id, CheckpointCompletion.user_id == user_id)
            .order_by(CheckpointCompletion.completed_at, CheckpointCompletion.id)
        ),
        "review_participation": await records(
            select(
                cohort_name,
                ReviewParticipant.active,
                ReviewParticipant.languages,
                ReviewParticipant.timezone,
                ReviewParticipant.snoozed_until_week,
                ReviewParticipant.missed_streak,
                ReviewParticipant.joined_at,
            )
            .join(Cohort, Cohort.id == ReviewParticipant.cohort_id)
            .where(ReviewParticipant.guild_id == guild_id, ReviewParticipant.user_id == user_id)
            .order_by(ReviewParticipant.id)
        ),
        "review_groups": await records(
            select(
                cohort_name,
                ReviewRound.week.label("round_week"),
                ReviewGroup.id.label("group_id"),
                ReviewGroup.thread_id,
            )
            .select_from(ReviewGroupMember)
            .join(ReviewGroup, ReviewGroup.id == ReviewGroupMember.group_id)
            .join(ReviewRound, ReviewRound.id == ReviewGroup.round_id)
            .join(Cohort, Cohort.id == ReviewRound.cohort_id)
            .where(ReviewGroupMember.guild_id == guild_id, ReviewGroupMember.user_id == user_id)
            .order_by(ReviewRound.created_at, ReviewGroup.id)
        ),
        "reviews_given": await records(_reviews(guild_id, ReviewCompletion.reviewer_id == user_id)),
        "reviews_received": await records(_reviews(guild_id, ReviewCompletion.reviewee_id == user_id)),
        "departures": await records(
            select(MemberDeparture.left_at).where(
                MemberDeparture.guild_id == guild_id, MemberDeparture.user_id == user_id
            )
        ),
        "cohorts_created": await records(
            select(cohort_name, Cohort.created_at)
            .where(Cohort.guild_id == guild_id, Cohort.created_by == user_id)
            .order_by(Cohort.created_at, Cohort.id)
        ),
        "custom_prompts_written": await records(
            select(cohort_name, CustomPrompt.week, CustomPrompt.text, CustomPrompt.created_at)
            .join(Cohort, Cohort.id == CustomPrompt.cohort_id)
            .where(CustomPrompt.guild_id == guild_id, CustomPrompt.author_id == user_id)
            .order_by(CustomPrompt.created_at, CustomPrompt.id)
        ),
        "audit_entries_as_actor": await records(
            select(AuditEntry.action, AuditEntry.detail, AuditEntry.created_at)
            .where(AuditEntry.guild_id == guild_id, AuditEntry.actor_id == user_id)
            .order_by(AuditEntry.created_at, AuditEntry.id)
        ),
    }


def _reviews(guild_id: int, side: ColumnElement[bool]) -> AnySelect:
    return (
        select(
            Cohort.name.label("cohort"),
            ReviewRound.week.label("round_week"),
            ReviewCompletion.completed_at,
            ReviewCompletion.link,
        )
        .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
        .join(Cohort, Cohort.id == ReviewRound.cohort_id)
        .where(ReviewCompletion.guild_id == guild_id, side)
        .order_by(ReviewCompletion.completed_at, ReviewCompletion.id)
    )


async def erase_member(session: AsyncSession, guild_id: int, user_id: int) -> dict[str, int]:
    """Delete one member's own rows in one guild and anonymise their place in shared history.

    Deleted: cohort memberships, checkpoint completions, review opt-ins, departure records.
    Anonymised (the row stays, the id becomes NULL, or 0 where the column is required): review
    group seats, reviews given and received, custom prompts written, cohorts created, and the
    member's own data requests in the audit log. Moderators' export entries keep their actor:
    they are the record of who took data out of the server. Returns the number of rows per kind.
    """

    async def count(statement: Any) -> int:
        result = await session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    return {
        "memberships": await count(
            delete(CohortMember).where(CohortMember.guild_id == guild_id, CohortMember.user_id == user_id)
        ),
        "checkpoint_completions": await count(
            delete(CheckpointCompletion).where(
                CheckpointCompletion.guild_id == guild_id, CheckpointCompletion.user_id == user_id
            )
        ),
        "review_opt_ins": await count(
            delete(ReviewParticipant).where(
                ReviewParticipant.guild_id == guild_id, ReviewParticipant.user_id == user_id
            )
        ),
        "departures": await count(
            delete(MemberDeparture).where(
                MemberDeparture.guild_id == guild_id, MemberDeparture.user_id == user_id
            )
        ),
        "review_group_seats_anonymised": await count(
            update(ReviewGroupMember)
            .where(ReviewGroupMember.guild_id == guild_id, ReviewGroupMember.user_id == user_id)
            .values(user_id=None)
        ),
        "reviews_given_anonymised": await count(
            update(ReviewCompletion)
            .where(ReviewCompletion.guild_id == guild_id, ReviewCompletion.reviewer_id == user_id)
            .values(reviewer_id=None)
        ),
        "reviews_received_anonymised": await count(
            update(ReviewCompletion)
            .where(ReviewCompletion.guild_id == guild_id, ReviewCompletion.reviewee_id == user_id)
            .values(reviewee_id=None)
        ),
        "custom_prompts_anonymised": await count(
            update(CustomPrompt)
            .where(CustomPrompt.guild_id == guild_id, CustomPrompt.author_id == user_id)
            .values(author_id=None)
        ),
        "cohorts_created_anonymised": await count(
            update(Cohort)
            .where(Cohort.guild_id == guild_id, Cohort.created_by == user_id)
            .values(created_by=None)
        ),
        "data_requests_anonymised": await count(
            update(AuditEntry)
            .where(
                AuditEntry.guild_id == guild_id,
                AuditEntry.actor_id == user_id,
                AuditEntry.action.startswith("privacy."),
            )
            .values(actor_id=None)
        ),
    }


async def has_member_data(session: AsyncSession, guild_id: int, user_id: int) -> bool:
    """Whether the member has any enrolment, completion or review opt-in in the guild."""
    checks = (
        exists().where(CohortMember.guild_id == guild_id, CohortMember.user_id == user_id),
        exists().where(CheckpointCompletion.guild_id == guild_id, CheckpointCompletion.user_id == user_id),
        exists().where(ReviewParticipant.guild_id == guild_id, ReviewParticipant.user_id == user_id),
    )
    return bool(await session.scalar(select(or_(*checks))))


async def departures_due(session: AsyncSession, left_before: datetime) -> list[tuple[int, int, datetime]]:
    """(guild, user, left at) of departures older than ``left_before`` in guilds whose policy is purge."""
    statement = (
        select(MemberDeparture.guild_id, MemberDeparture.user_id, MemberDeparture.left_at)
        .join(GuildSettings, GuildSettings.guild_id == MemberDeparture.guild_id)
        .where(GuildSettings.on_leave == "purge", MemberDeparture.left_at <= left_before)
        .order_by(MemberDeparture.left_at, MemberDeparture.id)
    )
    return [(guild_id, user_id, left_at) for guild_id, user_id, left_at in await session.execute(statement)]
