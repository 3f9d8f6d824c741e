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

from sqlalchemy import and_, delete, func, or_, select, type_coerce, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from bot.db.models import (
    CheckpointCompletion,
    CohortMember,
    LeaderboardChoice,
    MemberTally,
    ReviewCompletion,
    ReviewRound,
)
from bot.db.types import UTCDateTime
from bot.momentum.rules import PeriodKey, PeriodKind, Tally


@dataclass(frozen=True, slots=True)
class TallyRow:
    user_id: int
    display_name: str
    checkpoints: int
    reviews: int
    points: int
    reached_at: datetime


# A tally row joined to its member's enrolment in the same cohort.
ENROLMENT = and_(CohortMember.cohort_id == MemberTally.cohort_id, CohortMember.user_id == MemberTally.user_id)


def _listed(guild_id: int) -> list[ColumnElement[bool]]:
    """Rows (joined on ``ENROLMENT``) of members still in the cohort who did not hide themselves."""
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
        """Serialise a member's recounts (PostgreSQL): the second waits, then sees the first's rows."""
        statement = (
            select(CohortMember.id)
            .where(CohortMember.cohort_id == cohort_id, CohortMember.user_id == user_id)
            .with_for_update()
        )
        await self._session.execute(statement)

    async def recount(
        self, cohort_id: int, user_id: int, since: datetime | None, until: datetime | None
    ) -> tuple[int, int, datetime | None]:
        """(checkpoints, reviews given, latest of them) of one member in [since, until), from raw rows."""
        checkpoints = select(
            func.count(CheckpointCompletion.id),
            type_coerce(func.max(CheckpointCompletion.completed_at), UTCDateTime),
        ).where(
            CheckpointCompletion.cohort_id == cohort_id,
            CheckpointCompletion.user_id == user_id,
            *_between(CheckpointCompletion.completed_at, since, until),
        )
        reviews = (
            select(
                func.count(ReviewCompletion.id),
                type_coerce(func.max(ReviewCompletion.completed_at), UTCDateTime),
            )
            .join(ReviewRound, ReviewRound.id == ReviewCompletion.round_id)
            .where(
                ReviewCompletion.reviewer_id == user_id,
                ReviewRound.cohort_id == cohort_id,
                *_between(ReviewCompletion.completed_at, since, until),
            )
        )
        done, done_at = (await self._session.execute(checkpoints)).one()
        given, given_at = (await self._session.execute(reviews)).one()
        latest = [at for at in (done_at, given_at) if at is not None]
        return int(done or 0), int(given or 0), max(latest) if latest else None

    async def store(
        self, guild_id: int, cohort_id: int, user_id: int, key: PeriodKey, score: Tally | None
    ) -> None:
        """Make the member's row for ``key`` say ``score`` (no row when there is nothing to count)."""
        where = [*_in_period(cohort_id, key), MemberTally.user_id == user_id]
        if score is None or score.points == 0:
            await self._session.execute(delete(MemberTally).where(*where))
            return
        row = await self._session.scalar(select(MemberTally).where(*where))
        if row is None:
            try:
                async with self._session.begin_nested():
                    row = MemberTally(
                        guild_id=guild_id,
                        cohort_id=cohort_id,
                        user_id=user_id,
                        kind=key.kind.value,
                        period=key.period,
                        reached_at=score.reached_at,
                    )
                    self._session.add(row)
                    _copy(row, score)
                return
            except IntegrityError:  # created meanwhile: take it over
                row = await self._session.scalar(select(MemberTally).where(*where))
                assert row is not None
        _copy(row, score)

    # --- the board -----------------------------------------------------------------------------

    async def top(self, guild_id: int, cohort_id: int, key: PeriodKey, limit: int) -> list[TallyRow]:
        statement = (
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
            .where(*_in_period(cohort_id, key), *_listed(guild_id))
            .order_by(MemberTally.points.desc(), MemberTally.reached_at, MemberTally.user_id)
            .limit(limit)
        )
        return [TallyRow(*row) for row in await self._session.execute(statement)]

    async def row_of(self, cohort_id: int, user_id: int, key: PeriodKey) -> MemberTally | None:
        return await self._session.scalar(
            select(MemberTally).where(*_in_period(cohort_id, key), MemberTally.user_id == user_id)
        )

    async def standing(
        self, guild_id: int, cohort_id: int, key: PeriodKey, row: MemberTally | None
    ) -> tuple[int, int]:
        """(listed members with points, listed members ranked above ``row``) in one round trip.

        Each count is the index range's raw count minus the rows of unlisted members (hidden in
        this server, or gone from the cohort), found from those few members rather than by joining
        every row of the range to its enrolment: a covering index scan instead of a join per row.
        """
        listed = self._raw(cohort_id, key) - self._unlisted(guild_id, cohort_id, key)
        if row is None:
            return int(await self._session.scalar(select(listed)) or 0), 0
        better = or_(
            MemberTally.points > row.points,
            and_(MemberTally.points == row.points, MemberTally.reached_at < row.reached_at),
            and_(
                MemberTally.points == row.points,
                MemberTally.reached_at == row.reached_at,
                MemberTally.user_id < row.user_id,
            ),
        )
        above = [MemberTally.points >= row.points, better]
        ahead = self._raw(cohort_id, key, above) - self._unlisted(guild_id, cohort_id, key, above)
        total, ranked_above = (await self._session.execute(select(listed, ahead))).one()
        return int(total or 0), int(ranked_above or 0)

    @staticmethod
    def _raw(cohort_id: int, key: PeriodKey, extra: Sequence[ColumnElement[bool]] = ()) -> Any:
        statement = select(func.count()).select_from(MemberTally).where(*_in_period(cohort_id, key), *extra)
        return statement.scalar_subquery()

    @staticmethod
    def _unlisted(
        guild_id: int, cohort_id: int, key: PeriodKey, extra: Sequence[ColumnElement[bool]] = ()
    ) -> Any:
        hidden = select(LeaderboardChoice.user_id).where(
            LeaderboardChoice.guild_id == guild_id, LeaderboardChoice.hidden.is_(True)
        )
        gone = select(CohortMember.user_id).where(
            CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_not(None)
        )
        statement = (
            select(func.count())
            .select_from(MemberTally)
            .where(*_in_period(cohort_id, key), *extra, MemberTally.user_id.in_(union(hidden, gone)))
        )
        return statement.scalar_subquery()

    # --- choices -------------------------------------------------------------------------------

    async def choice(self, guild_id: int, user_id: int) -> LeaderboardChoice | None:
        return await self._session.scalar(
            select(LeaderboardChoice).where(
                LeaderboardChoice.guild_id == guild_id, LeaderboardChoice.user_id == user_id
            )
        )

    async def is_hidden(self, guild_id: int, user_id: int) -> bool:
        found = await self.choice(guild_id, user_id)
        return found is not None and found.hidden

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


def _copy(row: MemberTally, score: Tally) -> None:
    row.checkpoints = score.checkpoints
    row.reviews = score.reviews
    row.points = score.points
    row.reached_at = score.reached_at
