"""Reminder DMs and the calendar file as members see them, on SimCord's clock.

SimCord's world starts on Thursday 2026-01-01 00:00 UTC. The cohort starts that day in Berlin and
posts on Mondays at 18:00 (17:00 UTC in winter); cohort week 2 runs from Thursday the 8th to
Wednesday the 14th and ends at 2026-01-14 23:00 UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import simcord

from bot.app import WaypointBot
from bot.scheduling import prompt_job_id
from cogs.reminders.cog import SWEEP_JOB_ID
from tests.behaviour.world import World, build_world, text_of

WEEK_1_SLOT = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
WEEK_2_END = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort()
    return world


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


async def fire(world: World, job_id: str) -> None:
    job = bot_of(world).scheduling.get_job(job_id)
    assert job is not None, job_id
    await job.func(*job.args, **job.kwargs)
    # A job fired by hand runs outside SimCord's bot work, so wait for the events it dispatched
    # (the prompt's ``waypoint_prompt_posted``, which sends the weekly DMs) by their task names.
    dispatched = [
        task for task in asyncio.all_tasks() if task.get_name().startswith("discord.py: on_waypoint")
    ]
    await asyncio.gather(*dispatched)


async def advance_to(world: World, moment: datetime) -> None:
    """Move the clock a day at a time: the hourly sweep fires ~24 times per step, and each step gets
    SimCord's full settle deadline, so a month's advance doesn't time out on a loaded machine."""
    while (left := (moment - world.env.now()).total_seconds()) > 0:
        await world.env.advance_time(min(left, 24 * 3600))


def dms(actor: simcord.MemberActor) -> list[str]:
    return [message.content for message in actor.user.dm_channel.history()]


async def join_with(world: World, actor: simcord.MemberActor, **settings: bool) -> None:
    await actor.slash(world.channel, "cohort join", cohort="Spring")
    if settings:
        result = await actor.slash(world.channel, "remind settings", **settings)
        assert result.ephemeral and "now" in result.response.content


# --- settings ----------------------------------------------------------------------------------


async def test_settings_are_off_by_default_and_change_only_what_is_given(world: World) -> None:
    shown = await world.alice.slash(world.channel, "remind settings")
    assert shown.ephemeral and "All are off" in shown.response.content

    await world.alice.slash(world.channel, "remind settings", weekly=True, review=True)
    changed = await world.alice.slash(world.channel, "remind settings", review=False)
    text = changed.response.content
    assert "`review`: off" in text and "`weekly`: **on**" in text and "`streak`: off" in text
    assert "All are off" in (await world.bob.slash(world.channel, "remind settings")).response.content


# --- weekly ------------------------------------------------------------------------------------


async def test_weekly_dm_follows_the_prompt_once_with_its_link(
    world: World, make_bot: Callable[..., WaypointBot]
) -> None:
    await join_with(world, world.alice, weekly=True)
    await join_with(world, world.bob)
    await advance_to(world, WEEK_1_SLOT)

    await fire(world, prompt_job_id(1))

    (dm,) = dms(world.alice)
    prompt = world.channel.last_message
    assert prompt is not None and prompt.jump_url in dm
    assert "Week 1 in **Spring**: phase 1" in dm and "Your next checkpoints" in dm
    assert dms(world.bob) == []
    await fire(world, SWEEP_JOB_ID)
    await fire(world, prompt_job_id(1))
    await world.env.restart_bot(make_bot())  # the start-up catch-up finds it sent
    assert len(dms(world.alice)) == 1


async def test_a_restart_between_the_prompt_and_the_dms_loses_nothing(
    world: World, make_bot: Callable[..., WaypointBot]
) -> None:
    await join_with(world, world.alice, weekly=True)
    await advance_to(world, WEEK_1_SLOT + timedelta(hours=1))  # the bot was down at the slot

    await world.env.restart_bot(make_bot())  # posts the missed prompt, then the DM
    await world.env.restart_bot(make_bot())
    await fire(world, SWEEP_JOB_ID)

    assert len([text for text in dms(world.alice) if "Week 1" in text]) == 1


async def test_weekly_dm_is_not_sent_when_turned_off_left_or_erased(world: World) -> None:
    carol = world.guild.add_member(world.env.create_user("carol"))
    for actor in (world.alice, world.bob, carol):
        await join_with(world, actor, weekly=True)
    await world.alice.slash(world.channel, "remind settings", weekly=False)
    world.guild.remove_member(world.bob)
    await bot_of(world).services.privacy.forget_me(world.guild.id, carol.id)
    await advance_to(world, WEEK_1_SLOT)

    await fire(world, prompt_job_id(1))

    assert dms(world.alice) == [] and dms(world.bob) == [] and dms(carol) == []


# --- review ------------------------------------------------------------------------------------


async def test_review_dm_goes_48_hours_before_the_due_date_to_who_has_not_reviewed(world: World) -> None:
    for actor in (world.alice, world.bob):
        await join_with(world, actor, review=True)
        await actor.slash(world.channel, "review join", cohort="Spring")
    await fire(world, "review:1")
    round_view = (await bot_of(world).services.review_rounds.unpublished_rounds()) or None
    assert round_view is None  # the round was posted
    await world.bob.slash(world.channel, "review done", partner=world.alice)
    due = world.env.now() + timedelta(days=6)

    await advance_to(world, due - timedelta(hours=48, minutes=1))
    await fire(world, SWEEP_JOB_ID)
    assert dms(world.alice) == []

    await advance_to(world, due - timedelta(hours=47))
    await fire(world, SWEEP_JOB_ID)
    await fire(world, SWEEP_JOB_ID)
    reminders = [text for text in dms(world.alice) if "code review" in text]
    assert len(reminders) == 1 and "/review done" in reminders[0]
    assert not [text for text in dms(world.bob) if "code review" in text]  # he recorded his


# --- streak ------------------------------------------------------------------------------------


async def test_streak_dm_when_the_week_is_about_to_end_without_a_checkpoint(world: World) -> None:
    await join_with(world, world.alice, streak=True)
    await join_with(world, world.bob, streak=True)
    for actor in (world.alice, world.bob):
        await actor.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")  # week 1
    await advance_to(world, datetime(2026, 1, 9, tzinfo=UTC))
    await world.bob.slash(world.channel, "checkpoint done", checkpoint="crud-api")  # week 2

    await advance_to(world, WEEK_2_END - timedelta(hours=49))
    await fire(world, SWEEP_JOB_ID)
    assert dms(world.alice) == []

    await advance_to(world, WEEK_2_END - timedelta(hours=47))
    await fire(world, SWEEP_JOB_ID)
    await fire(world, SWEEP_JOB_ID)
    (dm,) = dms(world.alice)
    assert "streak of 1 week" in dm and "Next up" in dm
    assert dms(world.bob) == []


# --- closed DMs --------------------------------------------------------------------------------


async def test_closed_dms_switch_reminders_off_and_the_next_command_says_why_once(world: World) -> None:
    await join_with(world, world.alice, weekly=True, streak=True)
    world.env.inject_error(
        "POST", f"/channels/{world.alice.user.dm_channel.id}/messages", status=403, code=50007, times=None
    )
    await advance_to(world, WEEK_1_SLOT)
    await fire(world, prompt_job_id(1))

    first = await world.alice.slash(world.channel, "cohort list")
    (notice,) = first.followups
    assert notice.ephemeral and "switched your reminders off" in notice.content
    again = await world.alice.slash(world.channel, "cohort list")
    assert again.followups == []
    shown = await world.alice.slash(world.channel, "remind settings")
    assert "All are off" in shown.response.content and "switched" not in shown.response.content


async def test_the_remind_command_tells_the_notice_itself(world: World) -> None:
    await join_with(world, world.alice, weekly=True)
    world.env.inject_error(
        "POST", f"/channels/{world.alice.user.dm_channel.id}/messages", status=403, code=50007, times=None
    )
    await advance_to(world, WEEK_1_SLOT)
    await fire(world, prompt_job_id(1))

    turned_on = await world.alice.slash(world.channel, "remind settings", weekly=True)
    assert "switched your reminders off" in turned_on.response.content
    assert turned_on.followups == []


# --- privacy -----------------------------------------------------------------------------------


async def test_my_data_shows_the_settings_and_forget_me_removes_them(world: World) -> None:
    await join_with(world, world.alice, weekly=True)
    privacy = bot_of(world).services.privacy
    document = await privacy.my_data(world.guild.id, world.alice.id)
    assert (
        '"reminder_settings"' in document.payload.decode() and '"weekly": true' in document.payload.decode()
    )

    report = await privacy.forget_me(world.guild.id, world.alice.id)

    assert report.counts["reminder_settings"] == 1
    assert "All are off" in (await world.alice.slash(world.channel, "remind settings")).response.content


# --- the calendar ------------------------------------------------------------------------------


async def ics_of(result: Any) -> icalendar.Calendar:
    (attachment,) = result.response.attachments
    assert attachment.filename.endswith(".ics")
    return icalendar.Calendar.from_ical(await attachment.read())


async def test_cohort_calendar_attaches_the_dates(world: World) -> None:
    result = await world.alice.slash(world.channel, "cohort calendar", cohort="spring")

    calendar = await ics_of(result)
    summaries = [str(event["summary"]) for event in calendar.events]
    assert "Spring: weekly prompt" in summaries and "Spring: last day of the cohort" in summaries
    assert "Import the file" in text_of(result)


@pytest.mark.slow
async def test_paused_and_ended_cohorts_say_so(world: World) -> None:
    await world.moderator.slash(world.channel, "prompts pause", cohort="Spring")
    paused = await world.alice.slash(world.channel, "cohort calendar", cohort="Spring")
    assert "paused" in text_of(paused)
    assert "Spring: weekly prompt" not in [str(event["summary"]) for event in (await ics_of(paused)).events]

    await advance_to(world, datetime(2027, 1, 2, tzinfo=UTC))
    ended = await world.alice.slash(world.channel, "cohort calendar", cohort="Spring")
    assert "ended on 2026-12-30" in text_of(ended)
    assert (await ics_of(ended)).events


async def test_an_unknown_cohort_is_refused_plainly(world: World) -> None:
    result = await world.alice.slash(world.channel, "cohort calendar", cohort="Autumn")
    assert result.ephemeral and "no cohort called" in result.response.content
