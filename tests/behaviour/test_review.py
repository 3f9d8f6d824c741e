"""Weekly peer review as members and moderators see it: opting in, rounds, threads, reviews, jobs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
import simcord
from simcord.backend.errors import OptionError

from bot.app import WaypointBot
from tests.behaviour.world import World, build_world, text_of

ANNOUNCEMENT = "**Code review round"
MENTION = re.compile(r"<@(\d+)>")


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort()  # starts 2026-01-01, the simulated "today": week 1
    return world


def next_fire(job: Any, world: World) -> datetime:
    fire: datetime = job.trigger.get_next_fire_time(None, world.env.now())
    return fire.astimezone(UTC)


def bot_of(env: simcord.Env) -> WaypointBot:
    bot = env.bot
    assert isinstance(bot, WaypointBot)
    return bot


def add_member(world: World, name: str) -> simcord.MemberActor:
    return world.guild.add_member(world.env.create_user(name))


async def opt_in(world: World, *actors: simcord.MemberActor, **options: Any) -> None:
    for actor in actors:
        await actor.slash(world.channel, "cohort join", cohort="Spring")
        joined = await actor.slash(world.channel, "review join", cohort="Spring", **options)
        assert joined.ephemeral and "review pairing" in joined.response.content


def announcements(world: World) -> list[discord.Message]:
    return [message for message in world.channel.history() if message.content.startswith(ANNOUNCEMENT)]


def pinged(world: World, message: discord.Message) -> set[int]:
    return set(world.env.backend.get_message(message.channel.id, message.id).ping_user_ids)


def thread_groups(world: World) -> dict[int, set[int]]:
    """Each review thread's id -> the members its first message addresses."""
    groups = {}
    for thread in world.channel.threads:
        first = thread.history()[0]
        groups[thread.id] = {int(user_id) for user_id in MENTION.findall(first.content.split(":", 1)[0])}
    return groups


async def cohort_id(world: World) -> int:
    return (await bot_of(world.env).services.cohorts.info(world.guild.id, "Spring")).id


async def partner_of(world: World, actor: simcord.MemberActor) -> int:
    for members in thread_groups(world).values():
        if actor.id in members:
            return next(member for member in members if member != actor.id)
    raise AssertionError(f"{actor.name} is in no review thread")


# --- opting in, out and snoozing ---------------------------------------------------------------


async def test_join_update_snooze_and_leave(world: World) -> None:
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    joined = await world.alice.slash(
        world.channel, "review join", cohort="Spring", languages="Python, Go", timezone="Europe/Berlin"
    )
    assert joined.ephemeral
    assert "You're in review pairing for **Spring**" in joined.response.content
    assert "Languages: python, go · Timezone: Europe/Berlin" in joined.response.content
    updated = await world.alice.slash(world.channel, "review join", cohort="Spring", timezone="Asia/Tokyo")
    assert "preferences for **Spring** are saved" in updated.response.content
    assert "python, go" in updated.response.content and "Asia/Tokyo" in updated.response.content

    snoozed = await world.alice.slash(world.channel, "review snooze", cohort="Spring", weeks=2)
    assert snoozed.ephemeral
    assert "skip the next 2 rounds in **Spring**" in snoozed.response.content
    assert "from week 3" in snoozed.response.content
    status = text_of(await world.alice.slash(world.channel, "review status", cohort="Spring"))
    assert "Snoozed: back in the pairing from week 3" in status

    left = await world.alice.slash(world.channel, "review leave", cohort="Spring")
    assert "left review pairing in **Spring**" in left.response.content
    again = await world.alice.slash(world.channel, "review leave", cohort="Spring")
    assert "weren't opted in" in again.response.content
    assert "Opted out" in text_of(await world.alice.slash(world.channel, "review status", cohort="Spring"))


async def test_opt_in_bad_inputs_are_refused_and_change_nothing(world: World) -> None:
    outsider = await world.bob.slash(world.channel, "review join", cohort="Spring")
    assert outsider.ephemeral and "aren't in **Spring**" in outsider.response.content
    unknown = await world.alice.slash(world.channel, "review join", cohort="Sprung")
    assert unknown.ephemeral and "Did you mean `Spring`" in unknown.response.content
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    zone = await world.alice.slash(world.channel, "review join", cohort="Spring", timezone="Europe/Berln")
    assert zone.ephemeral and "Did you mean `Europe/Berlin`" in zone.response.content
    languages = await world.alice.slash(
        world.channel, "review join", cohort="Spring", languages=",".join(f"l{n}" for n in range(11))
    )
    assert languages.ephemeral and "at most 10 languages" in languages.response.content
    not_opted = await world.alice.slash(world.channel, "review snooze", cohort="Spring", weeks=1)
    assert not_opted.ephemeral and "use `/review join` first" in not_opted.response.content
    status = text_of(await world.alice.slash(world.channel, "review status", cohort="Spring"))
    assert "Not opted in" in status
    # Discord itself refuses a number outside the declared 1..8 range before the bot sees it.
    with pytest.raises(OptionError):
        await world.alice.slash(world.channel, "review snooze", cohort="Spring", weeks=9)


# --- a moderator's round -----------------------------------------------------------------------


async def test_moderator_round_announces_pairs_and_opens_threads(world: World) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    result = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert result.ephemeral
    assert "Week 1's review round for **Spring** is out" in result.response.content
    assert "2 pairs" in result.response.content

    (announcement,) = announcements(world)
    players = {world.alice.id, world.bob.id, carol.id, dave.id}
    assert pinged(world, announcement) == players  # the paired members only: not the moderator
    assert "<t:" in announcement.content and "/review done" in announcement.content

    groups = thread_groups(world)
    assert len(groups) == 2
    assert sorted(len(members) for members in groups.values()) == [2, 2]
    assert set().union(*groups.values()) == players
    for thread in world.channel.threads:
        intro = thread.history()[0]
        assert intro.content.count("<@") == 2 and "What to do" in intro.content
        assert "/review done partner:@name" in intro.content
        assert re.search(r"<t:\d+:F>", intro.content)
        assert pinged(world, intro) == groups[thread.id]
        assert thread.name is not None and thread.name.startswith("Week 1 review · ")

    # A second run in the same week shows the same pairs instead of pairing again.
    repeat = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert not repeat.ephemeral
    assert "already ran, so here are its groups again" in repeat.response.content
    assert set(map(int, MENTION.findall(repeat.response.content))) == players
    assert pinged(world, repeat.response.message) == set()
    assert len(announcements(world)) == 1 and thread_groups(world) == groups


async def test_odd_count_makes_one_trio_and_a_single_member_is_told(world: World) -> None:
    carol = add_member(world, "carol")
    await opt_in(world, world.alice)
    alone = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "1 member with no partner" in alone.response.content
    (announcement,) = announcements(world)
    assert "only one available this week" in announcement.content
    assert pinged(world, announcement) == set() and world.channel.threads == []
    dm = world.alice.user.dm_channel.last_message
    assert dm is not None and "no partner for you this round" in dm.content
    status = text_of(await world.alice.slash(world.channel, "review status"))
    assert "only one available this round" in status

    # Next week, three members: one trio, nobody left out.
    await opt_in(world, world.bob, carol)
    await world.env.advance_time(7 * 24 * 3600)
    trio = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "1 trio" in trio.response.content
    groups = thread_groups(world)
    assert list(groups.values()) == [{world.alice.id, world.bob.id, carol.id}]


async def test_members_who_left_the_server_are_not_paired(world: World) -> None:
    carol = add_member(world, "carol")
    await opt_in(world, world.alice, world.bob, carol)
    world.guild.remove_member(carol)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert list(thread_groups(world).values()) == [{world.alice.id, world.bob.id}]
    assert carol.id not in pinged(world, announcements(world)[0])


async def test_pair_before_the_start_and_with_nobody_is_refused(world: World) -> None:
    await world.create_cohort(name="Summer", start="2026-06-01")
    early = await world.moderator.slash(world.channel, "review pair", cohort="Summer")
    assert early.ephemeral and "starts on 2026-06-01" in early.response.content
    empty = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert empty.ephemeral and "Nobody in **Spring** is available" in empty.response.content
    unknown = await world.moderator.slash(world.channel, "review pair", cohort="Sprig")
    assert unknown.ephemeral and "Did you mean `Spring`" in unknown.response.content
    assert announcements(world) == []


async def test_non_moderators_cannot_pair_or_schedule(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    pair = await world.alice.slash(world.channel, "review pair", cohort="Spring")
    assert pair.ephemeral and "Only moderators" in pair.response.content
    schedule = await world.bob.slash(world.channel, "review schedule", cohort="Spring", enabled=False)
    assert schedule.ephemeral and "Only moderators" in schedule.response.content
    assert announcements(world) == [] and world.channel.threads == []
    assert bot_of(world.env).scheduling.get_job(f"review:{await cohort_id(world)}") is not None


# --- recording reviews and reading status ------------------------------------------------------


async def test_done_status_history_and_progress(world: World) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    partner_id = await partner_of(world, world.alice)
    partner = next(actor for actor in (world.bob, carol, dave) if actor.id == partner_id)

    status = await world.alice.slash(world.channel, "review status")
    text = text_of(status)
    assert status.ephemeral
    assert f"Partner: <@{partner_id}>" in text and "Due <t:" in text and "Thread: <#" in text
    assert f"⏳ <@{world.alice.id}> → <@{partner_id}>" in text

    done = await world.alice.slash(
        world.channel, "review done", partner=partner, link="https://github.com/alice/pr/1"
    )
    assert done.ephemeral
    assert f"Recorded: you reviewed <@{partner_id}>'s code for week 1" in done.response.content
    assert pinged(world, done.response.message) == set()
    repeat = await world.alice.slash(world.channel, "review done", partner=partner)
    assert "already recorded" in repeat.response.content

    text = text_of(await world.alice.slash(world.channel, "review status"))
    assert f"✅ <@{world.alice.id}> → <@{partner_id}>" in text
    assert f"⏳ <@{partner_id}> → <@{world.alice.id}>" in text

    history = text_of(await world.bob.slash(world.channel, "review history", member=world.alice))
    assert "**Week 1**" in history and f"with <@{partner_id}>" in history
    assert "https://github.com/alice/pr/1" in history and "given 1 · received 0" in history

    progress = text_of(await world.alice.slash(world.channel, "progress"))
    assert "Reviews\ngiven 1 · received 0" in progress
    partner_progress = text_of(await partner.slash(world.channel, "progress"))
    assert "Reviews\ngiven 0 · received 1" in partner_progress


async def test_done_bad_inputs_are_refused_and_change_nothing(world: World) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    helper_bot = world.guild.add_member(world.env.create_user("helper-bot", bot=True))
    await opt_in(world, world.alice, world.bob, carol, dave)

    no_round = await world.alice.slash(world.channel, "review done", partner=world.bob)
    assert no_round.ephemeral and "no review round in **Spring** yet this week" in no_round.response.content

    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    partner_id = await partner_of(world, world.alice)
    partner = next(actor for actor in (world.bob, carol, dave) if actor.id == partner_id)
    stranger = next(actor for actor in (world.bob, carol, dave) if actor.id != partner_id)
    cases = [
        ({"partner": stranger}, "isn't in your review group"),
        ({"partner": helper_bot}, "Bots don't take part in reviews"),
        ({"partner": world.alice}, "your own work"),
        ({"partner": partner, "link": "javascript:alert(1)"}, "http:// or https://"),
        ({"partner": partner, "cohort": "Sprung"}, "Did you mean `Spring`"),
    ]
    for options, expected in cases:
        result = await world.alice.slash(world.channel, "review done", **options)
        assert result.ephemeral, options
        assert expected in result.response.content, (options, result.response.content)
        assert result.response.content.count(". ") <= 1  # one sentence
    outsider = await world.moderator.slash(world.channel, "review done", partner=partner, cohort="Spring")
    assert outsider.ephemeral and "aren't in **Spring**" in outsider.response.content

    progress = text_of(await world.alice.slash(world.channel, "progress"))
    assert "given 0 · received 0" in progress


# --- the scheduler's jobs ----------------------------------------------------------------------


async def test_weekly_job_runs_the_round_once_at_the_review_slot(world: World) -> None:
    bot = bot_of(world.env)
    job = bot.scheduling.get_job(f"review:{await cohort_id(world)}")
    assert job is not None
    # With the prompt slot by default: Monday 18:00 in Berlin, 17:00 UTC in winter.
    assert next_fire(job, world) == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)

    await opt_in(world, world.alice, world.bob)
    await job.func(*job.args, **job.kwargs)
    await job.func(*job.args, **job.kwargs)  # a second fire in the same week changes nothing
    assert len(announcements(world)) == 1
    assert list(thread_groups(world).values()) == [{world.alice.id, world.bob.id}]
    # A moderator's run in the same week shows the job's round.
    repeat = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "already ran" in repeat.response.content

    await world.env.advance_time(7 * 24 * 3600)
    await job.func(*job.args, **job.kwargs)
    assert len(announcements(world)) == 2 and "week 2" in announcements(world)[-1].content


async def test_schedule_moves_or_stops_the_weekly_job(world: World) -> None:
    bot = bot_of(world.env)
    job_id = f"review:{await cohort_id(world)}"
    shown = await world.moderator.slash(world.channel, "review schedule", cohort="Spring")
    assert "Mondays at 18:00 (Europe/Berlin) (with the prompt slot)" in shown.response.content
    moved = await world.moderator.slash(
        world.channel, "review schedule", cohort="Spring", weekday="wed", time="09:30"
    )
    assert moved.ephemeral and "Wednesdays at 09:30 (Europe/Berlin)" in moved.response.content
    job = bot.scheduling.get_job(job_id)
    assert job is not None
    assert next_fire(job, world) == datetime(2026, 1, 7, 8, 30, tzinfo=UTC)
    bad = await world.moderator.slash(world.channel, "review schedule", cohort="Spring", time="25:00")
    assert bad.ephemeral and "not on the clock" in bad.response.content
    off = await world.moderator.slash(world.channel, "review schedule", cohort="Spring", enabled=False)
    assert "are off" in off.response.content and bot.scheduling.get_job(job_id) is None
    on = await world.moderator.slash(world.channel, "review schedule", cohort="Spring", enabled=True)
    assert "Wednesdays at 09:30" in on.response.content and bot.scheduling.get_job(job_id) is not None


async def test_review_job_follows_a_moved_prompt_slot(world: World) -> None:
    job_id = f"review:{await cohort_id(world)}"
    moved = await world.moderator.slash(
        world.channel, "prompts schedule", cohort="Spring", weekday="fri", time="07:15"
    )
    assert moved.response is not None
    job = bot_of(world.env).scheduling.get_job(job_id)
    assert job is not None
    assert next_fire(job, world) == datetime(2026, 1, 2, 6, 15, tzinfo=UTC)  # Friday 07:15 Berlin
    # A review slot of its own no longer follows the prompts.
    await world.moderator.slash(world.channel, "review schedule", cohort="Spring", weekday="tue")
    await world.moderator.slash(world.channel, "prompts schedule", cohort="Spring", weekday="sat")
    job = bot_of(world.env).scheduling.get_job(job_id)
    assert job is not None
    assert next_fire(job, world) == datetime(2026, 1, 6, 6, 15, tzinfo=UTC)  # Tuesday, same time


async def test_reminder_job_nudges_only_those_without_a_review_once(world: World) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    partner_id = await partner_of(world, world.alice)
    partner = next(actor for actor in (world.bob, carol, dave) if actor.id == partner_id)
    await world.alice.slash(world.channel, "review done", partner=partner)
    job = bot_of(world.env).scheduling.get_job("review-reminders")
    assert job is not None

    await world.env.advance_time(3 * 24 * 3600)  # three days left: too early
    await job.func(*job.args, **job.kwargs)
    assert all(len(thread.history()) == 1 for thread in world.channel.threads)

    await world.env.advance_time(24 * 3600 + 60)  # inside the last two days
    await job.func(*job.args, **job.kwargs)
    await job.func(*job.args, **job.kwargs)  # idempotent
    groups = thread_groups(world)
    for thread in world.channel.threads:
        messages = thread.history()
        assert len(messages) == 2
        reminder = messages[1]
        assert reminder.content.startswith("⏰") and "/review done" in reminder.content
        expected = groups[thread.id] - {world.alice.id}
        assert pinged(world, reminder) == expected


@pytest.mark.slow
async def test_three_missed_rounds_snooze_a_member_who_is_told_once(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    bot = bot_of(world.env)
    weekly = bot.scheduling.get_job(f"review:{await cohort_id(world)}")
    upkeep = bot.scheduling.get_job("review-reminders")
    assert weekly is not None and upkeep is not None
    for _ in range(3):
        await weekly.func(*weekly.args)
        await world.alice.slash(world.channel, "review done", partner=world.bob)  # Bob never reviews
        await world.env.advance_time(7 * 24 * 3600)
    await upkeep.func()
    notice = world.bob.user.dm_channel.last_message
    assert notice is not None and "3 rounds in a row in **Spring**" in notice.content
    assert world.alice.user.dm_channel.last_message is None
    status = text_of(await world.bob.slash(world.channel, "review status"))
    assert "Snoozed after missing 3 rounds" in status

    await weekly.func(*weekly.args)  # week 4: Alice is not paired with an absent member
    assert "only one available" in announcements(world)[-1].content
    back = await world.bob.slash(world.channel, "review join", cohort="Spring")
    assert "Welcome back" in back.response.content


@pytest.mark.slow
async def test_notice_waits_for_next_use_when_dms_are_closed(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    bot = bot_of(world.env)
    weekly = bot.scheduling.get_job(f"review:{await cohort_id(world)}")
    upkeep = bot.scheduling.get_job("review-reminders")
    assert weekly is not None and upkeep is not None
    for _ in range(3):
        await weekly.func(*weekly.args)
        await world.alice.slash(world.channel, "review done", partner=world.bob)
        await world.env.advance_time(7 * 24 * 3600)
    world.env.inject_error(
        "POST", f"/channels/{world.bob.user.dm_channel.id}/messages", status=403, code=50007
    )
    await upkeep.func()
    status = await world.bob.slash(world.channel, "review status")
    (followup,) = status.followups
    assert followup.ephemeral and "3 rounds in a row in **Spring**" in followup.content
    again = await world.bob.slash(world.channel, "review status")
    assert again.followups == []


async def test_hourly_upkeep_runs_a_round_whose_slot_passed_while_down(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    upkeep = bot_of(world.env).scheduling.get_job("review-reminders")
    assert upkeep is not None
    await upkeep.func()
    assert announcements(world) == []  # Monday's 18:00 slot has not come yet
    # Monday 2026-01-05 18:00 Berlin is 17:00 UTC; the bot was down then and is back an hour later.
    await world.env.advance_time((4 * 24 + 18) * 3600)
    await upkeep.func()
    await upkeep.func()
    (announcement,) = announcements(world)
    assert "week 1" in announcement.content
    assert list(thread_groups(world).values()) == [{world.alice.id, world.bob.id}]


# --- restarts ----------------------------------------------------------------------------------


async def test_restart_in_the_middle_of_a_round_finishes_the_same_pairs(
    simcord_env: simcord.Env, make_bot: Callable[..., WaypointBot], world: World
) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    # The process pairs the week and dies before posting anything.
    outcome = await bot_of(simcord_env).services.review_rounds.run_round(
        world.guild.id, "Spring", lambda _: True
    )
    assert announcements(world) == []
    expected = sorted(sorted(group.member_ids) for group in outcome.round.groups)

    await simcord_env.restart_bot(make_bot())
    job = bot_of(simcord_env).scheduling.get_job(f"review:{outcome.round.cohort_id}")
    assert job is not None
    await job.func(*job.args, **job.kwargs)
    assert len(announcements(world)) == 1
    assert sorted(sorted(members) for members in thread_groups(world).values()) == expected

    repeat = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "already ran" in repeat.response.content
    assert len(world.channel.threads) == 2


async def test_hourly_upkeep_finishes_a_round_whose_posts_failed(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500)
    result = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "couldn't post everything" in result.response.content
    assert announcements(world) == []
    assert len(world.channel.threads) == 1  # the thread itself was opened

    await simcord_env_restart_same(world)
    upkeep = bot_of(world.env).scheduling.get_job("review-reminders")
    assert upkeep is not None
    await upkeep.func()
    await upkeep.func()
    assert len(announcements(world)) == 1 and len(world.channel.threads) == 1


async def simcord_env_restart_same(world: World) -> None:
    """The same bot logs in again, as after a gateway reconnect or a quick restart."""
    await world.env.restart_bot()
