"""Start-up catch-up: what happened to the weeks whose slot passed while the bot was down.

The latest missed week is posted late if its slot is recent; older ones are recorded as
'skipped', so they are reported once and never flooded into a channel later. Claims left behind
by a process that died mid-post are recorded as 'missed'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.kernel import slots
from bot.prompts import rules
from bot.prompts.base import PromptUseCases
from bot.prompts.repository import MISSED, CatchUpRow, PromptCohortRepository, PromptPostRepository
from bot.prompts.views import CatchUpPlan

log = logging.getLogger(__name__)

# A claim this old was never confirmed: the process that made it died before sending.
STALE_CLAIM = timedelta(minutes=5)


class PromptCatchUp(PromptUseCases):
    """The start-up decision for every active cohort, made in one transaction."""

    async def catch_up(self, owns: Callable[[int], bool] | None = None) -> list[CatchUpPlan]:
        """Start-up: for each active cohort, post the latest missed week if it is recent, skip older ones.

        Skipped weeks are recorded so they are reported once and never posted. The closing
        message is never skipped: if its slot passed long ago it goes out at the next fire.
        ``owns(guild_id)`` keeps the plan to the guilds this process looks after (its shards).
        """
        now = self._clock()
        plans: list[CatchUpPlan] = []
        to_skip: list[tuple[int, int, int]] = []
        async with self._sessions.begin() as session:
            posts = PromptPostRepository(session)
            await _record_stale_claims(posts, now)
            last_weeks = await posts.last_weeks()
            for row in await PromptCohortRepository(session).active_for_catch_up():
                if owns is not None and not owns(row.guild_id):
                    continue
                plan = self._plan(row, last_weeks.get(row.cohort_id), now)
                if plan is not None:
                    plans.append(plan)
                    to_skip += [(row.guild_id, row.cohort_id, number) for number in plan.skipped_weeks]
            await posts.skip_many(to_skip, now)
        return plans

    def _plan(self, row: CatchUpRow, last: int | None, now: datetime) -> CatchUpPlan | None:
        """One cohort's plan, or None when nothing was missed (or its roadmap is gone)."""
        roadmap = self._catalog.get(row.roadmap_key, row.guild_id)
        if roadmap is None:
            log.warning(
                "guild=%s cohort=%s: roadmap %r is gone", row.guild_id, row.cohort_id, row.roadmap_key
            )
            return None
        if not rules.calendar_fits(row.start_date, roadmap):
            log.warning(
                "guild=%s cohort=%s starts on %s: no prompts to catch up",
                row.guild_id,
                row.cohort_id,
                row.start_date,
            )
            return None
        decision = slots.catch_up_decision(row.slot, row.start_date, last, now, self._grace)
        if decision.nothing_to_do:
            return None
        closing = rules.closing_week(roadmap)
        week = decision.post_week
        if week is not None and week >= closing:
            week = closing if (last or 0) < closing else None
        # Every skipped week is newer than the cohort's last row, so none has a row yet.
        skipped = tuple(number for number in decision.skipped_weeks if number < closing)
        if week is None and not skipped:
            return None
        return CatchUpPlan(row.cohort_id, row.guild_id, row.name, week, skipped)


async def _record_stale_claims(posts: PromptPostRepository, now: datetime) -> None:
    """Claims older than ``STALE_CLAIM`` were never sent: record them as missed, never retry them."""
    for stale in await posts.stale_claims(now - STALE_CLAIM):
        stale.status = MISSED
        stale.error = "claimed but never confirmed as sent (the bot stopped mid-post)"
        log.warning(
            "guild=%s cohort=%s week %s was claimed but never sent; recorded as missed",
            stale.guild_id,
            stale.cohort_id,
            stale.week,
        )
