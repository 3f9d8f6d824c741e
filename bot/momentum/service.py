"""Leaderboards, the leaderboard choice and a member's streak: each call is one unit of work.

A board costs a handful of index reads whatever the cohort's size: the top rows, the number of
listed members and, when the caller is outside the top, how many listed members rank above them
(``bot.momentum.repository``). A streak reads the member's week rows, one per active week.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.resolve import cohort_named, member_cohort
from bot.db.models import Cohort
from bot.kernel import slots
from bot.momentum import rules
from bot.momentum.repository import MomentumRepository
from bot.momentum.rules import BOARD_SIZE, PeriodKind
from bot.momentum.views import Board, BoardEntry, Standing, StreakView, VisibilityChange

log = logging.getLogger(__name__)


class MomentumService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def leaderboard(
        self, guild_id: int, user_id: int, cohort_name: str | None, kind: PeriodKind = PeriodKind.WEEK
    ) -> Board:
        """The top of the cohort's board for the current period, and the caller's own standing."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await _cohort(session, guild_id, user_id, cohort_name)
            key = rules.current_period(kind, cohort.start_date, cohort.timezone, now)
            local = slots.local_date(now, cohort.timezone)
            month_start = date(local.year, local.month, 1) if kind is PeriodKind.MONTH else None
            started = not (kind is PeriodKind.WEEK and key.period < 1)
            repository = MomentumRepository(session)
            caller = await repository.caller(guild_id, cohort.id, user_id, key)
            in_cohort, hidden, own = caller.in_cohort, caller.hidden, caller.row
            if not started:
                me = Standing(in_cohort, hidden, None, 0, 0, 0)
                return Board(cohort.name, key, False, month_start, (), 0, me)
            top = await repository.top(guild_id, cohort.id, key, BOARD_SIZE)
            entries = tuple(
                BoardEntry(rank, row.user_id, row.display_name, row.checkpoints, row.reviews, row.points)
                for rank, row in enumerate(top, start=1)
            )
            own_ranked = own if in_cohort and not hidden else None
            shown = next((entry.rank for entry in entries if entry.user_id == user_id), None)
            if len(entries) < BOARD_SIZE and (own_ranked is None or shown is not None):
                listed, rank = len(entries), shown  # everyone listed is on the board: nothing to count
            else:
                listed, ahead = await repository.standing(
                    guild_id, cohort.id, key, own_ranked if shown is None else None
                )
                rank = shown if shown is not None else (ahead + 1 if own_ranked is not None else None)
            me = Standing(
                in_cohort,
                hidden,
                rank,
                own.checkpoints if own else 0,
                own.reviews if own else 0,
                own.points if own else 0,
            )
        return Board(cohort.name, key, True, month_start, entries, listed, me)

    async def set_visibility(self, guild_id: int, user_id: int, hidden: bool) -> VisibilityChange:
        async with self._sessions.begin() as session:
            changed = await MomentumRepository(session).set_hidden(guild_id, user_id, hidden, self._clock())
        if changed:
            log.info(
                "guild=%s user=%s leaderboard choice: %s", guild_id, user_id, "hide" if hidden else "show"
            )
        return VisibilityChange(hidden, changed)

    async def streak(self, guild_id: int, user_id: int, cohort_name: str | None) -> StreakView:
        """The member's current and best streak in their cohort, and whether it is at risk now."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await member_cohort(session, guild_id, user_id, cohort_name)
            weeks = (await MomentumRepository(session).active_weeks(cohort.id, [user_id]))[user_id]
        week = slots.cohort_week(cohort.start_date, now, cohort.timezone)
        return StreakView(cohort.name, week, rules.streak_of(weeks, cohort.start_date, cohort.timezone, now))


async def _cohort(session: AsyncSession, guild_id: int, user_id: int, cohort_name: str | None) -> Cohort:
    """A named cohort (anyone may look at its board), else the caller's own cohort."""
    if cohort_name:
        return await cohort_named(session, guild_id, cohort_name)
    return await member_cohort(session, guild_id, user_id, None)
