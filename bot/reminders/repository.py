"""Reminder settings, claimed sends and the facts reminders read, over one session (never commits)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    CohortMember,
    PromptPost,
    ReminderSend,
    ReminderSetting,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewRound,
)

CLAIMED = "claimed"
SENT = "sent"
FAILED = "failed"
KINDS = ("review", "streak", "weekly")


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def session(self) -> AsyncSession:
        return self._session

    # --- settings ------------------------------------------------------------------------------

    async def setting(self, guild_id: int, user_id: int) -> ReminderSetting | None:
        statement = select(ReminderSetting).where(
            ReminderSetting.guild_id == guild_id, ReminderSetting.user_id == user_id
        )
        return await self._session.scalar(statement)

    async def setting_for_update(self, guild_id: int, user_id: int, now: datetime) -> ReminderSetting:
        """The member's row, created (all off) on first use; a concurrent creation is absorbed."""
        found = await self.setting(guild_id, user_id)
        if found is not None:
            return found
        try:
            async with self._session.begin_nested():
                self._session.add(ReminderSetting(guild_id=guild_id, user_id=user_id, updated_at=now))
        except IntegrityError:
            pass
        found = await self.setting(guild_id, user_id)
        assert found is not None
        return found

    async def opted_in(self, kind: str) -> set[tuple[int, int]]:
        """(guild, user) of every member with ``kind`` reminders on."""
        column = {"review": ReminderSetting.review, "streak": ReminderSetting.streak}.get(
            kind, ReminderSetting.weekly
        )
        statement = select(ReminderSetting.guild_id, ReminderSetting.user_id).where(column.is_(True))
        return {(row[0], row[1]) for row in await self._session.execute(statement)}

    async def pending_notices(self) -> set[tuple[int, int]]:
        statement = select(ReminderSetting.guild_id, ReminderSetting.user_id).where(
            ReminderSetting.notice_pending.is_(True)
        )
        return {(row[0], row[1]) for row in await self._session.execute(statement)}

    # --- claimed sends -------------------------------------------------------------------------

    async def claim(
        self, guild_id: int, cohort_id: int, user_id: int, kind: str, period: int, now: datetime
    ) -> int | None:
        """Insert the send as 'claimed' and return its id; None when it was claimed before."""
        send = ReminderSend(
            guild_id=guild_id,
            cohort_id=cohort_id,
            user_id=user_id,
            kind=kind,
            period=period,
            status=CLAIMED,
            claimed_at=now,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(send)
        except IntegrityError:
            return None
        return send.id

    async def claimed(self, cohort_id: int, kind: str, period: int) -> set[int]:
        statement = select(ReminderSend.user_id).where(
            ReminderSend.cohort_id == cohort_id, ReminderSend.kind == kind, ReminderSend.period == period
        )
        return set((await self._session.scalars(statement)).all())

    async def set_status(self, send_id: int, status: str) -> None:
        await self._session.execute(
            update(ReminderSend).where(ReminderSend.id == send_id).values(status=status)
        )

    # --- what reminders read -------------------------------------------------------------------

    async def cohort(self, cohort_id: int) -> Cohort | None:
        return await self._session.get(Cohort, cohort_id)

    async def running_cohorts(self) -> Sequence[Cohort]:
        return (await self._session.scalars(select(Cohort).where(Cohort.finished_at.is_(None)))).all()

    async def active_members(self, cohort_id: int) -> list[int]:
        statement = select(CohortMember.user_id).where(
            CohortMember.cohort_id == cohort_id, CohortMember.left_at.is_(None)
        )
        return list((await self._session.scalars(statement)).all())

    async def completions(self, cohort_id: int, user_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
        statement = select(
            CheckpointCompletion.user_id,
            CheckpointCompletion.checkpoint_key,
            CheckpointCompletion.completed_at,
        ).where(CheckpointCompletion.cohort_id == cohort_id, CheckpointCompletion.user_id.in_(user_ids))
        found: dict[int, dict[str, datetime]] = {user_id: {} for user_id in user_ids}
        for user_id, key, at in await self._session.execute(statement):
            found[user_id][key] = at
        return found

    async def latest_sent_prompts(self, since: datetime) -> Sequence[PromptPost]:
        statement = select(PromptPost).where(
            PromptPost.status == SENT, PromptPost.sent_at.is_not(None), PromptPost.sent_at >= since
        )
        return (await self._session.scalars(statement)).all()

    async def prompt_post(self, cohort_id: int, week: int) -> PromptPost | None:
        statement = select(PromptPost).where(PromptPost.cohort_id == cohort_id, PromptPost.week == week)
        return await self._session.scalar(statement)

    async def open_rounds_due_between(self, start: datetime, end: datetime) -> Sequence[ReviewRound]:
        statement = select(ReviewRound).where(
            ReviewRound.closed_at.is_(None), ReviewRound.due_at > start, ReviewRound.due_at <= end
        )
        return (await self._session.scalars(statement)).all()

    async def members_without_review(self, round_id: int) -> list[int]:
        """Members of the round's paired groups (two seats or more) who recorded no review in it."""
        seats = (
            select(ReviewGroupMember.group_id)
            .join(ReviewGroup, ReviewGroup.id == ReviewGroupMember.group_id)
            .where(ReviewGroup.round_id == round_id)
            .group_by(ReviewGroupMember.group_id)
            .having(func.count(ReviewGroupMember.id) >= 2)
        )
        reviewed = select(ReviewCompletion.reviewer_id).where(
            ReviewCompletion.round_id == round_id, ReviewCompletion.reviewer_id.is_not(None)
        )
        statement = select(ReviewGroupMember.user_id).where(
            ReviewGroupMember.group_id.in_(seats),
            ReviewGroupMember.user_id.is_not(None),
            ReviewGroupMember.user_id.not_in(reviewed),
        )
        return [user_id for user_id in (await self._session.scalars(statement)).all() if user_id is not None]

    async def review_dues(self, cohort_id: int) -> list[tuple[int, datetime]]:
        statement = select(ReviewRound.week, ReviewRound.due_at).where(ReviewRound.cohort_id == cohort_id)
        return [(row[0], row[1]) for row in await self._session.execute(statement)]
