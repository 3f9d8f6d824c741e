"""Scores and streak weeks over one session (never commits): the counters and the board reads.

The board reads are index range reads on ``ix_member_tallies_board`` (cohort, kind, period,
points DESC, reached_at, user_id), joined to the member's enrolment (members who left are not
listed) and their leaderboard choice (hidden members are not listed either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    type_coerce,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from bot.db.engine import writes_alone
from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    CohortMember,
    LeaderboardChoice,
    MemberTally,
    ReviewCompletion,
    ReviewRound,
    TallyBucket,
)
from bot.db.types import UTCDateTime
from bot.db.upsert import insert_for
from bot.momentum.rules import PeriodKey, PeriodKind, Tally


@dataclass(frozen=True, slots=True)
class TallyRow:
    user_id: int
    display_name: str
    checkpoints: int
    reviews: int
    points: int
    reached_at: datetime


@dataclass(frozen=True, slots=True)
class Recount:
    """A member's exact score for one period (None: nothing to count) and the points of their
    stored row for it (None: no row)."""

    key: PeriodKey
    score: Tally | None
    stored: int | None

    @property
    def points(self) -> int:
        return self.score.points if self.score is not None else 0


# A tally row joined to its member's enrolment in the same cohort.
ENROLMENT = and_(CohortMember.cohort_id == MemberTally.cohort_id, CohortMember.user_id == MemberTally.user_id)


@dataclass(frozen=True, slots=True)
class Caller:
    in_cohort: bool
    hidden: bool
    row: MemberTally | None  # detached: their score for the period, if any


def _listed(guild_id: int | BindParameter[int]) -> list[ColumnElement[bool]]:
    """Rows (joined on ``ENROLMENT``) of members still in the cohort who did not hide themselves
    (a guild id, or the bound parameter of a statement built once)."""
    return [
        CohortMember.left_at.is_(None),
        ~select(LeaderboardChoice.id)
        .where(
            LeaderboardChoice.guild_id == guild_id,
            LeaderboardChoice.user_id == MemberTally.user_id,
            LeaderboardChoice.hidden.is_(True),
        )
        .exists(),
    ]


def _in_period(cohort_id: int, key: PeriodKey) -> list[ColumnElement[bool]]:
    return [
        MemberTally.cohort_id == cohort_id,
        MemberTally.kind == key.kind.value,
        MemberTally.period == key.period,
    ]


class MomentumRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- the counters --------------------------------------------------------------------------

    async def lock_member(self, cohort_id: int, user_id: int) -> None:
        """Serialise a member's recounts: the second writer waits, then reads the first one's rows.

        A no-op UPDATE of the member's enrolment rather than ``SELECT ... FOR UPDATE``: it locks
        the row on PostgreSQL. A SQLite writing session needs nothing: it began with the
        database's write lock.
        """
        if writes_alone(self._session):
            return
        await self._session.execute(
            update(CohortMember)
            .where(CohortMember.cohort_id == cohort_id, CohortMember.user_id == user_id)
            .values(user_id=CohortMember.user_id)
        )

    async def recount(
        self,
        cohort_id: int,
        user_id: int,
        periods: Sequence[tuple[PeriodKey, datetime | None, datetime | None]],
    ) -> list[Recount]:
        """The member's exact score in each (period, since, until) from raw rows, beside the points
        their stored row holds: one statement of scalar subqueries for all the periods, since a
        checkpoint's transaction recounts three (week, month, all time) in a writer's turn."""
        columns: list[Any] = []
        for key, since, until in periods:
            checkpoints = select().where(
                CheckpointCompletion.cohort_id == cohort_id,
                CheckpointCompletion.user_id == user_id,
                *_between(CheckpointCompletion.completed_at, since, until),
            )
            reviews = (
                select()
                .select_from(ReviewCompletion)
                .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
                .where(
                    ReviewCompletion.reviewer_id == user_id,
                    ReviewRound.cohort_id == cohort_id,
                    *_between(ReviewCompletion.completed_at, since, until),
                )
            )
            stored = select(MemberTally.points).where(
                *_in_period(cohort_id, key), MemberTally.user_id == user_id
            )
            columns += [
                checkpoints.add_columns(func.count(CheckpointCompletion.id)).scalar_subquery(),
                type_coerce(
                    checkpoints.add_columns(func.max(CheckpointCompletion.completed_at)).scalar_subquery(),
                    UTCDateTime,
                ),
                reviews.add_columns(func.count(ReviewCompletion.id)).scalar_subquery(),
                type_coerce(
                    reviews.add_columns(func.max(ReviewCompletion.completed_at)).scalar_subquery(),
                    UTCDateTime,
                ),
                stored.scalar_subquery(),
            ]
        if not columns:
            return []
        row = (await self._session.execute(select(*columns))).one()
        found: list[Recount] = []
        for (key, _, _), start in zip(periods, range(0, len(row), 5), strict=True):
            done, done_at, given, given_at, stored_points = row[start : start + 5]
            latest = [at for at in (done_at, given_at) if at is not None]
            score = Tally(int(done or 0), int(given or 0), max(latest)) if latest else None
            found.append(Recount(key, score, None if stored_points is None else int(stored_points)))
        return found

    async def store(self, guild_id: int, cohort_id: int, user_id: int, recounts: Sequence[Recount]) -> None:
        """Make the member's rows say their recounted scores (no row when there is nothing to count)
        and move them between the periods' point buckets: an upsert, a delete when a score fell to
        nothing, and one upsert of the buckets."""
        kept = sorted(
            (
                (recount.key, recount.score)
                for recount in recounts
                if recount.score is not None and recount.points
            ),
            key=lambda item: item[0],
        )
        if kept:
            insert = insert_for(self._session, MemberTally)
            values = [
                {
                    "guild_id": guild_id,
                    "cohort_id": cohort_id,
                    "user_id": user_id,
                    "kind": key.kind.value,
                    "period": key.period,
                    **_columns(score),
                }
                for key, score in kept
            ]
            await self._session.execute(
                insert.values(values).on_conflict_do_update(
                    index_elements=["cohort_id", "user_id", "kind", "period"],
                    set_={name: insert.excluded[name] for name in _COUNTED},
                )
            )
        emptied = [recount.key for recount in recounts if not recount.points and recount.stored is not None]
        if emptied:
            await self._session.execute(
                delete(MemberTally).where(
                    MemberTally.cohort_id == cohort_id,
                    MemberTally.user_id == user_id,
                    or_(*(and_(*_in_period(cohort_id, key)) for key in emptied)),
                )
            )
        moves: list[tuple[PeriodKey, int, int]] = []
        for recount in recounts:
            before, after = recount.stored or 0, recount.points
            if before != after:
                moves += [(recount.key, before, -1)] if before else []
                moves += [(recount.key, after, 1)] if after else []
        await self._move(guild_id, cohort_id, moves)

    async def _move(self, guild_id: int, cohort_id: int, moves: Sequence[tuple[PeriodKey, int, int]]) -> None:
        """Add each (period, points, +1 or -1) to its bucket in one statement, in (period, points)
        order, so two writers on PostgreSQL never wait on each other in a circle. A bucket is only
        created by a member moving in; one that would count fewer than nobody (a member leaving a
        bucket that was never counted) is removed rather than kept negative."""
        if not moves:
            return
        insert = insert_for(self._session, TallyBucket)
        values = [
            {
                "guild_id": guild_id,
                "cohort_id": cohort_id,
                "kind": key.kind.value,
                "period": key.period,
                "points": points,
                "members": delta,
            }
            for key, points, delta in sorted(moves, key=lambda move: (move[0], move[1]))
        ]
        statement = (
            insert.values(values)
            .on_conflict_do_update(
                index_elements=["cohort_id", "kind", "period", "points"],
                set_={"members": TallyBucket.members + insert.excluded.members},
            )
            .returning(TallyBucket.id, TallyBucket.members)
        )
        below = [bucket_id for bucket_id, members in await self._session.execute(statement) if members < 0]
        if below:
            await self._session.execute(delete(TallyBucket).where(TallyBucket.id.in_(below)))

    async def forget(self, guild_id: int, user_id: int) -> None:
        """Before an erasure deletes a member's rows: take them out of their buckets."""
        statement = select(
            MemberTally.cohort_id, MemberTally.kind, MemberTally.period, MemberTally.points
        ).where(
            MemberTally.user_id == user_id,
            MemberTally.cohort_id.in_(select(Cohort.id).where(Cohort.guild_id == guild_id)),
        )
        moves: dict[int, list[tuple[PeriodKey, int, int]]] = {}
        for cohort_id, kind, period, points in (await self._session.execute(statement)).all():
            moves.setdefault(cohort_id, []).append((PeriodKey(PeriodKind(kind), period), points, -1))
        for cohort_id in sorted(moves):
            await self._move(guild_id, cohort_id, moves[cohort_id])

    # --- the board -----------------------------------------------------------------------------

    async def top(self, guild_id: int, cohort_id: int, key: PeriodKey, limit: int) -> list[TallyRow]:
        found = await self._session.execute(_TOP, {**_period(guild_id, cohort_id, key), "limit": limit})
        return [TallyRow(*row) for row in found]

    async def standing(
        self, guild_id: int, cohort_id: int, key: PeriodKey, row: MemberTally | None
    ) -> tuple[int, int]:
        """(listed members with points, listed members ranked above ``row``) in one round trip.

        Each count is the index range's raw count (a covering index scan, no join per row) minus
        the unlisted members' rows (hidden in this server, or gone from the cohort), looked up from
        those few members.
        """
        values = _period(guild_id, cohort_id, key)
        if row is None:
            return int(await self._session.scalar(_LISTED, values) or 0), 0
        values.update(points=row.points, reached=row.reached_at, user=row.user_id)
        listed, ahead = (await self._session.execute(_STANDING, values)).one()
        return int(listed or 0), int(ahead or 0)

    async def caller(self, guild_id: int, cohort_id: int, user_id: int, key: PeriodKey) -> Caller:
        """Whether the caller is in the cohort, hidden, and their row for the period: one round trip."""
        values = {**_period(guild_id, cohort_id, key), "user": user_id}
        found = (await self._session.execute(_CALLER, values)).one()
        in_cohort, hidden, checkpoints, reviews, points, reached_at = found
        row = (
            None
            if points is None
            else MemberTally(
                user_id=user_id,
                checkpoints=checkpoints,
                reviews=reviews,
                points=points,
                reached_at=reached_at,
            )
        )
        return Caller(bool(in_cohort), bool(hidden), row)

    # --- choices -------------------------------------------------------------------------------

    async def choice(self, guild_id: int, user_id: int) -> LeaderboardChoice | None:
        return await self._session.scalar(
            select(LeaderboardChoice).where(
                LeaderboardChoice.guild_id == guild_id, LeaderboardChoice.user_id == user_id
            )
        )

    async def set_hidden(self, guild_id: int, user_id: int, hidden: bool, now: datetime) -> bool:
        """Store the choice; returns whether it changed. A concurrent first choice is absorbed."""
        found = await self.choice(guild_id, user_id)
        if found is None:
            if not hidden:
                return False  # showing is the default: nothing to store
            try:
                async with self._session.begin_nested():
                    self._session.add(
                        LeaderboardChoice(guild_id=guild_id, user_id=user_id, hidden=True, updated_at=now)
                    )
                return True
            except IntegrityError:
                found = await self.choice(guild_id, user_id)
                assert found is not None
        changed = found.hidden != hidden
        found.hidden = hidden
        found.updated_at = now
        return changed

    # --- streak weeks --------------------------------------------------------------------------

    async def active_weeks(self, cohort_id: int, user_ids: Sequence[int]) -> dict[int, set[int]]:
        """The active cohort weeks of each member: one small row per week, never the raw history."""
        found: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
        if not user_ids:
            return found
        statement = select(MemberTally.user_id, MemberTally.period).where(
            MemberTally.cohort_id == cohort_id,
            MemberTally.user_id.in_(user_ids),
            MemberTally.kind == PeriodKind.WEEK.value,
            MemberTally.points > 0,
        )
        for user_id, week in await self._session.execute(statement):
            found[user_id].add(week)
        return found

    async def streak_candidates(
        self, guild_id: int, cohort_id: int, week: int, since: int
    ) -> list[tuple[int, str, set[int]]]:
        """(user id, stored name, active weeks from ``since``) of listed members whose streak is alive
        in ``week``: active in it or in the week before."""
        active_then = select(MemberTally.user_id).where(
            MemberTally.cohort_id == cohort_id,
            MemberTally.kind == PeriodKind.WEEK.value,
            MemberTally.period.in_((week - 1, week)),
        )
        statement = (
            select(MemberTally.user_id, CohortMember.display_name, MemberTally.period)
            .select_from(MemberTally)
            .join(CohortMember, ENROLMENT)
            .where(
                MemberTally.cohort_id == cohort_id,
                MemberTally.kind == PeriodKind.WEEK.value,
                MemberTally.period >= since,
                MemberTally.period <= week,
                MemberTally.user_id.in_(active_then),
                *_listed(guild_id),
            )
        )
        found: dict[int, tuple[str, set[int]]] = {}
        for user_id, name, period in await self._session.execute(statement):
            found.setdefault(user_id, (name, set()))[1].add(period)
        return [(user_id, name, weeks) for user_id, (name, weeks) in found.items()]


def _between(
    column: InstrumentedAttribute[datetime], since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if since is not None:
        found.append(column >= since)
    if until is not None:
        found.append(column < until)
    return found


# The columns a recount sets on a member's row.
_COUNTED = ("checkpoints", "reviews", "points", "reached_at")


def _columns(score: Tally) -> dict[str, Any]:
    return {
        "checkpoints": score.checkpoints,
        "reviews": score.reviews,
        "points": score.points,
        "reached_at": score.reached_at,
    }


# --- the board's statements, built once: their cache keys are memoized, the values are bound ----

_GUILD: Any = bindparam("guild", type_=BigInteger)
_COHORT: Any = bindparam("cohort", type_=Integer)
_KIND: Any = bindparam("kind", type_=String)
_PERIOD: Any = bindparam("period", type_=Integer)
_POINTS: Any = bindparam("points", type_=Integer)
_REACHED: Any = bindparam("reached", type_=UTCDateTime)
_USER: Any = bindparam("user", type_=BigInteger)
_IN_PERIOD = (MemberTally.cohort_id == _COHORT, MemberTally.kind == _KIND, MemberTally.period == _PERIOD)


def _period(guild_id: int, cohort_id: int, key: PeriodKey) -> dict[str, Any]:
    return {"guild": guild_id, "cohort": cohort_id, "kind": key.kind.value, "period": key.period}


def _count(*terms: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(MemberTally).where(*_IN_PERIOD, *terms).scalar_subquery()


# Hidden in this server or gone from the cohort: few, looked up through ix_member_tallies_member.
_UNLISTED = MemberTally.user_id.in_(
    union(
        select(LeaderboardChoice.user_id).where(
            LeaderboardChoice.guild_id == _GUILD, LeaderboardChoice.hidden.is_(True)
        ),
        select(CohortMember.user_id).where(
            CohortMember.cohort_id == _COHORT, CohortMember.left_at.is_not(None)
        ),
    )
)
# Ahead: more points, or as many reached earlier, or at the same instant with a smaller id. Three
# plain index ranges count faster than one range with an OR evaluated on every row.
_AHEAD_RANGES = (
    (MemberTally.points > _POINTS,),
    (MemberTally.points == _POINTS, MemberTally.reached_at < _REACHED),
    (MemberTally.points == _POINTS, MemberTally.reached_at == _REACHED, MemberTally.user_id < _USER),
)


def _members(*terms: ColumnElement[bool]) -> Any:
    """Members in the period's point buckets (all of them, or those the terms pick)."""
    return (
        select(func.coalesce(func.sum(TallyBucket.members), 0))
        .where(
            TallyBucket.cohort_id == _COHORT,
            TallyBucket.kind == _KIND,
            TallyBucket.period == _PERIOD,
            *terms,
        )
        .scalar_subquery()
    )


_LISTED_COUNT = _members() - _count(_UNLISTED)
_LISTED = select(_LISTED_COUNT)
# Above: everyone in a higher bucket, then the few in the caller's bucket who got there first.
_STANDING = select(
    _LISTED_COUNT,
    _members(TallyBucket.points > _POINTS)
    + _count(*_AHEAD_RANGES[1])
    + _count(*_AHEAD_RANGES[2])
    - _count(_UNLISTED, or_(*(and_(*terms) for terms in _AHEAD_RANGES))),
)


def _mine(column: Any) -> Any:
    return select(column).where(*_IN_PERIOD, MemberTally.user_id == _USER).scalar_subquery()


_CALLER = select(
    select(CohortMember.id)
    .where(CohortMember.cohort_id == _COHORT, CohortMember.user_id == _USER, CohortMember.left_at.is_(None))
    .exists(),
    select(LeaderboardChoice.id)
    .where(
        LeaderboardChoice.guild_id == _GUILD,
        LeaderboardChoice.user_id == _USER,
        LeaderboardChoice.hidden.is_(True),
    )
    .exists(),
    _mine(MemberTally.checkpoints),
    _mine(MemberTally.reviews),
    _mine(MemberTally.points),
    _mine(MemberTally.reached_at),
)
_TOP = (
    select(
        MemberTally.user_id,
        CohortMember.display_name,
        MemberTally.checkpoints,
        MemberTally.reviews,
        MemberTally.points,
        MemberTally.reached_at,
    )
    .select_from(MemberTally)
    .join(CohortMember, ENROLMENT)
    .where(
        *_IN_PERIOD,
        *_listed(_GUILD),
    )
    .order_by(MemberTally.points.desc(), MemberTally.reached_at, MemberTally.user_id)
    .limit(bindparam("limit"))
)
