"""Reminder claims on a real SQLite file: two sweeps at once send once; closed DMs; erasure."""

from __future__ import annotations

import asyncio

from bot.container import Services
from bot.db.models import PromptPost
from tests.db.conftest import FakeClock
from tests.db.test_reviews import ALICE, BOB, GUILD, _cohort


def everyone(_guild_id: int, _user_id: int) -> bool:
    return True


async def _posted_week_one(services: Services, clock: FakeClock) -> None:
    """Cohort Spring (starts 2026-03-02, the clock's day) with week 1's prompt just sent."""
    await _cohort(services)
    async with services.sessions.begin() as session:
        session.add(
            PromptPost(
                guild_id=GUILD,
                cohort_id=1,
                week=1,
                status="sent",
                message_id=999,
                claimed_at=clock.now,
                sent_at=clock.now,
            )
        )


async def test_two_sweeps_at_once_claim_each_dm_once(services: Services, clock: FakeClock) -> None:
    await _posted_week_one(services, clock)
    for user_id in (ALICE, BOB):
        await services.cohorts.join(GUILD, "Spring", user_id, f"user{user_id}")
        await services.reminders.settings(GUILD, user_id, weekly=True)

    results = await asyncio.gather(*(services.reminders.claim_recent_weekly(everyone) for _ in range(4)))

    claimed = sorted(reminder.user_id for batch in results for reminder in batch)
    assert claimed == [ALICE, BOB]
    (alice,) = [reminder for batch in results for reminder in batch if reminder.user_id == ALICE]
    assert alice.message_url == f"https://discord.com/channels/{GUILD}/555/999"
    assert await services.reminders.claim_weekly(1, 1, everyone) == []


async def test_a_stale_prompt_sends_no_weekly_dm(services: Services, clock: FakeClock) -> None:
    await _posted_week_one(services, clock)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.reminders.settings(GUILD, ALICE, weekly=True)
    clock.advance(hours=25)

    assert await services.reminders.claim_recent_weekly(everyone) == []


async def test_closed_dms_switch_everything_off_and_the_notice_is_taken_once(
    services: Services, clock: FakeClock
) -> None:
    await _posted_week_one(services, clock)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.reminders.settings(GUILD, ALICE, weekly=True, review=True, streak=True)
    (reminder,) = await services.reminders.claim_recent_weekly(everyone)

    await services.reminders.dms_closed(reminder)

    assert await services.reminders.pending_notices() == {(GUILD, ALICE)}
    told = await asyncio.gather(*(services.reminders.take_notice(GUILD, ALICE) for _ in range(3)))
    assert [when for when in told if when is not None] == [clock.now]
    view = await services.reminders.settings(GUILD, ALICE)
    assert (view.review, view.streak, view.weekly, view.dms_closed_at) == (False, False, False, None)


async def test_forget_me_deletes_settings_and_sent_reminders(services: Services, clock: FakeClock) -> None:
    await _posted_week_one(services, clock)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.reminders.settings(GUILD, ALICE, weekly=True)
    (reminder,) = await services.reminders.claim_recent_weekly(everyone)
    await services.reminders.mark_sent(reminder)
    mine = await services.privacy.my_data(GUILD, ALICE)
    assert mine.section_sizes["reminder_settings"] == 1 and mine.section_sizes["reminders_sent"] == 1

    report = await services.privacy.forget_me(GUILD, ALICE)

    assert report.counts["reminder_settings"] == 1 and report.counts["reminders_sent"] == 1
    after = await services.privacy.my_data(GUILD, ALICE)
    assert after.section_sizes["reminder_settings"] == 0 and after.section_sizes["reminders_sent"] == 0
