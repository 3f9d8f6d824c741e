"""Queries for review pairing: participants, rounds, groups and completed reviews.

Like every repository it never commits; the review services own the transaction.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    CohortMember,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewParticipant,
    ReviewRound,
)
from bot.db.rows import stream
from bot.db.upsert import insert_if_new

# A (reviewer, reviewee) pair; None stands for a member who erased their data.
ReviewPair = tuple[int | None, int | None]


class PairingRow(NamedTuple):
    """A participant as ``ReviewRounds`` needs them to build this week's candidates."""

    user_id: int
    active: bool
    snoozed_until_week: int | None
    missed_streak: int
    timezone: str | None
    languages: str


@dataclass(frozen=True, slots=True)
class StoredGroup:
    """One group of a round as stored; ``former`` counts seats of members who erased their data
    (NULL user ids), so the group keeps its size without naming them."""

    id: int
    round_id: int
    thread_id: int | None
    member_ids: tuple[int, ...]
    former: int = 0


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def session(self) -> AsyncSession:
        return self._session

    # --- participants ------------------------------------------------------------------------

    async def participant(self, cohort_id: int, user_id: int) -> ReviewParticipant | None:
        statement = select(ReviewParticipant).where(
            ReviewParticipant.cohort_id == cohort_id, ReviewParticipant.user_id == user_id
        )
        return await self._session.scalar(statement)

    def add_participant(self, participant: ReviewParticipant) -> None:
        self._session.add(participant)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A savepoint flushed on exit: an IntegrityError inside undoes only what it holds."""
        async with self._session.begin_nested():
            yield
            await self._session.flush()

    async def participants(self, cohort_id: int) -> Sequence[ReviewParticipant]:
        statement = (
            select(ReviewParticipant)
            .where(ReviewParticipant.cohort_id == cohort_id)
            .order_by(ReviewParticipant.user_id)
        )
        return (await self._session.scalars(statement)).all()

    async def pairing_rows(self, cohort_id: int) -> list[PairingRow]:
        """Participants who are still members of the cohort, with only what pairing reads
        (plain rows, not entities: a 10,000-member cohort loaded as objects took a second)."""
        statement = (
            select(
                ReviewParticipant.user_id,
                ReviewParticipant.active,
                ReviewParticipant.snoozed_until_week,
                ReviewParticipant.missed_streak,
                ReviewParticipant.timezone,
                ReviewParticipant.languages,
            )
            .join(
                CohortMember,
                and_(
                    CohortMember.cohort_id == ReviewParticipant.cohort_id,
                    CohortMember.user_id == ReviewParticipant.user_id,
                    CohortMember.left_at.is_(None),
                ),
            )
            .where(ReviewParticipant.cohort_id == cohort_id)
            .order_by(ReviewParticipant.user_id)
        )
        return [PairingRow(*row) async for rows in stream(self._session, statement) for row in rows]

    async def participant_count(self, cohort_id: int) -> int:
        statement = select(func.count()).where(ReviewParticipant.cohort_id == cohort_id)
        return int(await self._session.scalar(statement) or 0)

    async def participants_by_user(
        self, cohort_id: int, user_ids: Iterable[int]
    ) -> dict[int, ReviewParticipant]:
        wanted = list(user_ids)
        if not wanted:
            return {}
        statement = select(ReviewParticipant).where(
            ReviewParticipant.cohort_id == cohort_id, ReviewParticipant.user_id.in_(wanted)
        )
        return {participant.user_id: participant for participant in await self._session.scalars(statement)}

    async def participating_cohorts(self, guild_id: int, user_id: int) -> Sequence[Cohort]:
        """Cohorts where the member is opted in to pairing (snoozed or not)."""
        statement = (
            select(Cohort)
            .join(ReviewParticipant, ReviewParticipant.cohort_id == Cohort.id)
            .where(
                ReviewParticipant.guild_id == guild_id,
                ReviewParticipant.user_id == user_id,
                ReviewParticipant.active.is_(True),
            )
            .order_by(Cohort.name_key)
        )
        return (await self._session.scalars(statement)).all()

    async def pending_notices(self, guild_id: int, user_id: int) -> Sequence[ReviewParticipant]:
        statement = select(ReviewParticipant).where(
            ReviewParticipant.guild_id == guild_id,
            ReviewParticipant.user_id == user_id,
            ReviewParticipant.auto_snooze_notice.is_(True),
        )
        return (await self._session.scalars(statement)).all()

    async def completed_checkpoints(self, cohort_id: int) -> dict[int, set[str]]:
        """Every member's completed checkpoint keys in one query (for their roadmap phase)."""
        statement = select(CheckpointCompletion.user_id, CheckpointCompletion.checkpoint_key).where(
            CheckpointCompletion.cohort_id == cohort_id
        )
        keys: dict[int, set[str]] = defaultdict(set)
        for user_id, key in await self._session.execute(statement):
            keys[user_id].add(key)
        return keys

    async def phase_counts(
        self, cohort_id: int, phase_of_key: Mapping[str, int]
    ) -> dict[int, dict[int, int]]:
        """Per member, how many checkpoints they completed in each roadmap phase (by index).

        Counted by the database (one row per member and phase), not by loading every completion:
        a 10,000-member cohort has 600,000 of them.
        """
        if not phase_of_key:
            return {}
        phase = case(dict(phase_of_key), value=CheckpointCompletion.checkpoint_key)
        statement = (
            select(CheckpointCompletion.user_id, phase, func.count())
            .where(
                CheckpointCompletion.cohort_id == cohort_id,
                CheckpointCompletion.checkpoint_key.in_(list(phase_of_key)),
            )
            .group_by(CheckpointCompletion.user_id, phase)
        )
        counts: dict[int, dict[int, int]] = defaultdict(dict)
        async for rows in stream(self._session, statement):
            for user_id, index, done in rows:
                counts[user_id][index] = done
        return counts

    # --- rounds and groups -------------------------------------------------------------------

    async def past_meetings(self, cohort_id: int, week: int) -> array[int]:
        """(member, partner, week) for every pair who shared a group in the cohort's rounds
        before ``week``, flat in one integer array (``pairing.PackedWeek``): only what pairing
        needs, paired up by the database in one query.

        Erased seats are left out: they pair with nobody. Streamed: 26 rounds of a 10,000-member
        cohort are 130,000 rows, and the loop serves members' commands between the batches.
        """
        seat, partner = aliased(ReviewGroupMember), aliased(ReviewGroupMember)
        statement = (
            select(seat.user_id, partner.user_id, ReviewRound.week)
            .select_from(ReviewRound)
            .join(ReviewGroup, ReviewGroup.round_id == ReviewRound.id)
            .join(seat, seat.group_id == ReviewGroup.id)
            .join(partner, and_(partner.group_id == ReviewGroup.id, partner.user_id > seat.user_id))
            .where(ReviewRound.cohort_id == cohort_id, ReviewRound.week < week)
        )
        flat = array("q")
        async for rows in stream(self._session, statement):
            for row in rows:
                flat.extend(row)
        return flat

    async def round_for_week(self, cohort_id: int, week: int) -> ReviewRound | None:
        statement = select(ReviewRound).where(ReviewRound.cohort_id == cohort_id, ReviewRound.week == week)
        return await self._session.scalar(statement)

    async def round_by_id(self, round_id: int) -> ReviewRound | None:
        return await self._session.get(ReviewRound, round_id)

    async def group_by_id(self, group_id: int) -> ReviewGroup | None:
        return await self._session.get(ReviewGroup, group_id)

    def add_round(self, review_round: ReviewRound) -> None:
        self._session.add(review_round)

    async def add_groups(self, guild_id: int, round_id: int, groups: Sequence[Sequence[int]]) -> None:
        """Store groups and their seats: two plain bulk inserts and one read of the new ids.

        The inserts are Core statements on the tables: the ORM's bulk path inspects every row
        dict in Python first (80 ms per 250 groups, all of it on the event loop).

        The round is claimed by the caller, so its groups with the highest ids are the ones just
        inserted, in insertion order. (``RETURNING`` with ordered parameters cost three times as
        much at 10,000 members, all of it while SQLite's writer was held.)
        """
        if not groups:
            return
        await self._session.execute(
            insert(_GROUPS), [{"guild_id": guild_id, "round_id": round_id} for _ in groups]
        )
        newest = (
            select(ReviewGroup.id)
            .where(ReviewGroup.round_id == round_id)
            .order_by(ReviewGroup.id.desc())
            .limit(len(groups))
        )
        group_ids = list(reversed((await self._session.scalars(newest)).all()))
        seats = [
            {"guild_id": guild_id, "group_id": group_id, "user_id": user_id}
            for group_id, members in zip(group_ids, groups, strict=True)
            for user_id in members
        ]
        await self._session.execute(insert(_SEATS), seats)

    async def delete_round(self, round_id: int) -> None:
        """Remove a round with its groups and seats (the foreign keys cascade)."""
        await self._session.execute(delete(ReviewRound).where(ReviewRound.id == round_id))

    async def update_streaks(self, cohort_id: int, reviewed: Sequence[int], missed: Sequence[int]) -> None:
        """After a round closes: a recorded review resets the streak, a missed round adds one.

        The bulk form of ``rules.next_missed_streak`` for every member of the round at once.
        """
        for chunk in _chunks(reviewed):  # rows already at 0 are not rewritten (most of them)
            await self._session.execute(
                update(ReviewParticipant)
                .where(
                    ReviewParticipant.cohort_id == cohort_id,
                    ReviewParticipant.user_id.in_(chunk),
                    ReviewParticipant.missed_streak != 0,
                )
                .values(missed_streak=0)
                .execution_options(synchronize_session=False)
            )
        for chunk in _chunks(missed):
            await self._session.execute(
                update(ReviewParticipant)
                .where(ReviewParticipant.cohort_id == cohort_id, ReviewParticipant.user_id.in_(chunk))
                .values(missed_streak=ReviewParticipant.missed_streak + 1)
                .execution_options(synchronize_session=False)
            )

    async def snooze_for_misses(self, cohort_id: int, missed: Sequence[int], limit: int) -> list[int]:
        """Of the members who just missed a round, the active ones whose streak reached ``limit``
        with this miss: flag each for a notice and return them (sorted)."""
        snoozed: list[int] = []
        for chunk in _chunks(missed):
            statement = select(ReviewParticipant.user_id).where(
                ReviewParticipant.cohort_id == cohort_id,
                ReviewParticipant.user_id.in_(chunk),
                ReviewParticipant.missed_streak == limit,
                ReviewParticipant.active.is_(True),
            )
            snoozed.extend(await self._session.scalars(statement))
        for chunk in _chunks(snoozed):
            await self._session.execute(
                update(ReviewParticipant)
                .where(ReviewParticipant.cohort_id == cohort_id, ReviewParticipant.user_id.in_(chunk))
                .values(auto_snooze_notice=True)
                .execution_options(synchronize_session=False)
            )
        return sorted(snoozed)

    async def latest_round_week(self, cohort_id: int) -> int | None:
        return await self._session.scalar(
            select(func.max(ReviewRound.week)).where(ReviewRound.cohort_id == cohort_id)
        )

    async def rounds_before(self, cohort_id: int, week: int) -> Sequence[ReviewRound]:
        """The cohort's rounds before ``week``, oldest first: the pairing history."""
        statement = select(ReviewRound).where(ReviewRound.cohort_id == cohort_id, ReviewRound.week < week)
        return (await self._session.scalars(statement.order_by(ReviewRound.week))).all()

    async def groups_of(self, round_ids: Iterable[int]) -> dict[int, list[StoredGroup]]:
        """Groups per round id, each with its members sorted; rounds without groups map to []."""
        wanted = list(round_ids)
        by_round: dict[int, list[StoredGroup]] = {round_id: [] for round_id in wanted}
        if wanted:
            for group in await seated_groups(self._session, ReviewGroup.round_id.in_(wanted)):
                by_round[group.round_id].append(group)
        return by_round

    async def round_contents(self, round_id: int) -> tuple[list[StoredGroup], frozenset[ReviewPair]]:
        """A round's groups and its recorded (reviewer, reviewee) pairs; None for a former member."""
        groups = (await self.groups_of([round_id]))[round_id]
        statement = select(ReviewCompletion.reviewer_id, ReviewCompletion.reviewee_id).where(
            ReviewCompletion.round_id == round_id,
            or_(ReviewCompletion.reviewer_id.is_not(None), ReviewCompletion.reviewee_id.is_not(None)),
        )
        reviews = frozenset(
            (reviewer, reviewee) for reviewer, reviewee in await self._session.execute(statement)
        )
        return groups, reviews

    async def open_rounds_due_by(
        self, moment: datetime, cohort_id: int | None = None
    ) -> Sequence[ReviewRound]:
        """Open rounds whose due date is at or before ``moment``: one cohort's, or every guild's."""
        statement = select(ReviewRound).where(ReviewRound.closed_at.is_(None), ReviewRound.due_at <= moment)
        if cohort_id is not None:
            statement = statement.where(ReviewRound.cohort_id == cohort_id)
        return (await self._session.scalars(statement.order_by(ReviewRound.due_at, ReviewRound.id))).all()

    async def open_rounds(self, *, cohort_id: int | None = None) -> Sequence[ReviewRound]:
        statement = select(ReviewRound).where(ReviewRound.closed_at.is_(None))
        if cohort_id is not None:
            statement = statement.where(ReviewRound.cohort_id == cohort_id)
        return (await self._session.scalars(statement.order_by(ReviewRound.week.desc()))).all()

    async def rounds_needing_reminder(self, due_by: datetime, now: datetime) -> Sequence[ReviewRound]:
        """Open rounds without a reminder yet that are due after ``now`` and at or before ``due_by``."""
        statement = (
            select(ReviewRound)
            .where(
                ReviewRound.closed_at.is_(None),
                ReviewRound.reminder_sent_at.is_(None),
                ReviewRound.due_at > now,
                ReviewRound.due_at <= due_by,
            )
            .order_by(ReviewRound.due_at, ReviewRound.id)
        )
        return (await self._session.scalars(statement)).all()

    # --- completed reviews -------------------------------------------------------------------

    async def add_completion_if_new(self, completion: dict[str, Any]) -> bool:
        """Store a review unless the reviewer recorded this partner this round already (a double
        submit may race us): one statement, True when this call stored it."""
        unique = ["round_id", "reviewer_id", "reviewee_id"]
        return await insert_if_new(self._session, ReviewCompletion, completion, unique)

    async def set_completion_link(self, round_id: int, reviewer_id: int, reviewee_id: int, link: str) -> None:
        await self._session.execute(
            update(ReviewCompletion)
            .where(
                ReviewCompletion.round_id == round_id,
                ReviewCompletion.reviewer_id == reviewer_id,
                ReviewCompletion.reviewee_id == reviewee_id,
            )
            .values(link=link)
            .execution_options(synchronize_session=False)
        )

    async def completion_count(self, round_id: int) -> int:
        """How many reviews the round has: a cheap check that its contents did not change."""
        statement = select(func.count()).where(ReviewCompletion.round_id == round_id)
        return int(await self._session.scalar(statement) or 0)

    async def completions_of(self, round_ids: Iterable[int]) -> Sequence[ReviewCompletion]:
        wanted = list(round_ids)
        if not wanted:
            return []
        statement = (
            select(ReviewCompletion)
            .where(ReviewCompletion.round_id.in_(wanted))
            .order_by(ReviewCompletion.completed_at, ReviewCompletion.id)
        )
        return (await self._session.scalars(statement)).all()


# The tables themselves, for Core bulk inserts (see ``add_groups``).
_GROUPS = cast(Table, ReviewGroup.__table__)
_SEATS = cast(Table, ReviewGroupMember.__table__)

# Members per IN list: well under every driver's limit on bound parameters.
_CHUNK = 500


def _chunks(user_ids: Sequence[int]) -> list[Sequence[int]]:
    return [user_ids[start : start + _CHUNK] for start in range(0, len(user_ids), _CHUNK)]


async def seated_groups(session: AsyncSession, where: ColumnElement[bool]) -> list[StoredGroup]:
    """The groups ``where`` selects, in id order, with their seats: members sorted, and the seats
    of members who erased their data counted as ``former``."""
    statement = (
        select(
            ReviewGroup.id,
            ReviewGroup.round_id,
            ReviewGroup.thread_id,
            ReviewGroupMember.id,
            ReviewGroupMember.user_id,
        )
        .outerjoin(ReviewGroupMember, ReviewGroupMember.group_id == ReviewGroup.id)
        .where(where)
        .order_by(ReviewGroup.id)
    )
    rows: dict[int, tuple[int, int | None, list[int], list[int]]] = {}
    async for batch in stream(session, statement):  # a 10,000-member round: 10,000 seats
        for group_id, round_id, thread_id, seat_id, user_id in batch:
            entry = rows.setdefault(group_id, (round_id, thread_id, [], []))
            if user_id is not None:
                entry[2].append(user_id)
            elif seat_id is not None:  # a seat whose member erased their data
                entry[3].append(seat_id)
    return [
        StoredGroup(group_id, round_id, thread_id, tuple(sorted(members)), len(former))
        for group_id, (round_id, thread_id, members, former) in rows.items()
    ]
