"""Leaderboards and streaks as members see them, on SimCord's clock.

SimCord's world starts on Thursday 2026-01-01 00:00 UTC. The cohort here starts that day in New
York (UTC-5 in winter, UTC-4 from Sunday 2026-03-08), so cohort week 1 runs Thursday 1 January to
Wednesday 7 January, local time, and ends at 2026-01-08 05:00 UTC. Week 10 (5-11 March) holds the
clock change and ends at 2026-03-12 04:00 UTC, an hour earlier in UTC than the weeks before it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import simcord

from bot.app import WaypointBot
from bot.scheduling import prompt_job_id
from tests.behaviour.world import World, build_world, text_of

NEW_YORK = "America/New_York"
WEEK_1_END = datetime(2026, 1, 8, 5, tzinfo=UTC)
KEYS = (
    "python-oop-async",
    "crud-api",
    "postgres-queries-indexing",
    "aws-free-tier-deploy",
    "api-authentication",
)


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort(timezone=NEW_YORK)
    await advance_to(world, datetime(2026, 1, 1, 12, tzinfo=UTC))  # 07:00 on the first day, local
    for actor in (world.alice, world.bob):
        await actor.slash(world.channel, "cohort join", cohort="Spring")
    return world


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


async def advance_to(world: World, moment: datetime) -> None:
    seconds = (moment - world.env.now()).total_seconds()
    assert seconds >= 0, "tests only move forward in time"
    await world.env.advance_time(seconds)


async def done(world: World, actor: simcord.MemberActor, key: str) -> None:
    result = await actor.slash(world.channel, "checkpoint done", checkpoint=key)
    assert "Done" in result.response.content, result.response.content
    await world.env.advance_time(60)  # the next one gets there later


async def board(world: World, actor: simcord.MemberActor, **options: Any) -> Any:
    return await actor.slash(world.channel, "leaderboard", **options)


def rows(result: Any) -> list[str]:
    description = result.response.embeds[0].description or ""
    return [line for line in description.splitlines() if " · **" in line]


def name(actor: simcord.MemberActor) -> str:
    return str(actor.member.display_name)


def last_callback(world: World) -> dict[str, Any]:
    entry = [e for e in world.env.http_requests if e.path.endswith("/callback")][-1]
    return entry.json["data"]  # type: ignore[no-any-return]


# --- scores and ranks ------------------------------------------------------------------------------


async def test_the_board_ranks_points_then_who_got_there_first_and_shows_the_counts(world: World) -> None:
    await done(world, world.bob, KEYS[0])
    await done(world, world.alice, KEYS[0])
    await done(world, world.alice, KEYS[1])
    await done(world, world.bob, KEYS[1])  # a tie at 2: Alice got there first

    result = await board(world, world.bob)

    assert not result.ephemeral  # visible in the channel
    assert last_callback(world)["allowed_mentions"] == {"parse": []}
    first, second = rows(result)
    assert name(world.alice) in first and "2 points" in first and "2 checkpoints, 0 reviews" in first
    assert name(world.bob) in second and "(you)" in second
    assert "week 1" in result.response.embeds[0].title
    assert "You're **#2** of 2 with 2 points" in text_of(result)


async def test_weeks_follow_the_cohorts_timezone_and_months_its_calendar(world: World) -> None:
    # 03:00 UTC on 8 January is still Wednesday the 7th in New York: week 1, not week 2.
    await advance_to(world, WEEK_1_END - timedelta(hours=2))
    await done(world, world.alice, KEYS[0])
    assert len(rows(await board(world, world.bob))) == 1

    await advance_to(world, WEEK_1_END)
    this_week = await board(world, world.bob)
    assert "week 2" in this_week.response.embeds[0].title and rows(this_week) == []
    assert "Nobody has points this week yet" in text_of(this_week)
    month = await board(world, world.bob, period="month")
    assert "January 2026" in month.response.embeds[0].title and len(rows(month)) == 1

    # 04:00 UTC on 1 February is still 31 January in New York: January's board, February is empty.
    await advance_to(world, datetime(2026, 2, 1, 4, tzinfo=UTC))
    await done(world, world.bob, KEYS[0])
    january = await board(world, world.alice, period="month")
    assert "January 2026" in january.response.embeds[0].title and len(rows(january)) == 2
    await advance_to(world, datetime(2026, 2, 1, 6, tzinfo=UTC))
    february = await board(world, world.alice, period="month")
    assert "February 2026" in february.response.embeds[0].title and rows(february) == []
    overall = await board(world, world.alice, period="all")
    assert len(rows(overall)) == 2


async def test_the_week_holding_the_clock_change_ends_at_local_midnight(world: World) -> None:
    # New York springs forward on Sunday 8 March: week 10 ends at 00:00 EDT on the 12th, 04:00 UTC.
    await advance_to(world, datetime(2026, 3, 12, 3, 30, tzinfo=UTC))  # 23:30 on the 11th, local
    await done(world, world.alice, KEYS[0])
    inside = await board(world, world.alice)
    assert "week 10" in inside.response.embeds[0].title and len(rows(inside)) == 1

    await advance_to(world, datetime(2026, 3, 12, 4, 30, tzinfo=UTC))  # 00:30 on the 12th, local
    await done(world, world.bob, KEYS[0])
    after = await board(world, world.alice)
    assert "week 11" in after.response.embeds[0].title
    (only,) = rows(after)
    assert name(world.bob) in only


async def test_the_callers_own_rank_outside_the_top_ten(world: World) -> None:
    others = [world.guild.add_member(world.env.create_user(f"learner-{number}")) for number in range(11)]
    for actor in others:
        await actor.slash(world.channel, "cohort join", cohort="Spring")
        await done(world, actor, KEYS[0])
    await done(world, world.alice, KEYS[0])  # the same score, but last to get there

    result = await board(world, world.alice)

    assert len(rows(result)) == 10
    assert name(world.alice) not in "\n".join(rows(result))
    assert "You're **#12** of 12 with 1 point (1 checkpoint, 0 reviews)" in text_of(result)
    bob_view = await board(world, world.bob)
    assert "You have no points this week yet" in text_of(bob_view)


async def test_a_review_given_scores_a_point(world: World) -> None:
    for actor in (world.alice, world.bob):
        await actor.slash(world.channel, "review join", cohort="Spring")
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    recorded = await world.alice.slash(world.channel, "review done", partner=world.bob)
    assert recorded.response is not None

    (row,) = rows(await board(world, world.bob))
    assert name(world.alice) in row and "0 checkpoints, 1 review" in row


async def test_undo_takes_the_point_away(world: World) -> None:
    await done(world, world.alice, KEYS[0])
    await done(world, world.alice, KEYS[1])
    await world.alice.slash(world.channel, "checkpoint undo", checkpoint=KEYS[1])

    (row,) = rows(await board(world, world.alice, period="all"))
    assert "1 point" in row and "1 checkpoint" in row
    await world.alice.slash(world.channel, "checkpoint undo", checkpoint=KEYS[0])
    assert rows(await board(world, world.alice, period="all")) == []


# --- hidden members, forget-me, isolation --------------------------------------------------------


async def test_hidden_members_are_left_out_not_blanked_and_hear_their_own_score_privately(
    world: World,
) -> None:
    await done(world, world.alice, KEYS[0])
    await done(world, world.alice, KEYS[1])
    await done(world, world.bob, KEYS[0])
    hidden = await world.alice.slash(world.channel, "privacy leaderboard", choice="hide")
    assert hidden.ephemeral and "now hidden" in hidden.response.content

    seen_by_bob = await board(world, world.bob)
    (only,) = rows(seen_by_bob)
    assert name(world.bob) in only and "`1.`" not in only
    assert name(world.alice) not in text_of(seen_by_bob)
    assert "#1** of 1" in text_of(seen_by_bob)

    own = await board(world, world.alice)
    assert name(world.alice) not in text_of(own)
    (note,) = own.followups
    assert note.ephemeral and "hidden" in note.content and "2 points" in note.content

    again = await world.alice.slash(world.channel, "privacy leaderboard", choice="hide")
    assert "already hidden" in again.response.content
    await world.alice.slash(world.channel, "privacy leaderboard", choice="show")
    assert len(rows(await board(world, world.bob))) == 2


async def test_forget_me_removes_the_member_from_every_board(world: World) -> None:
    await done(world, world.alice, KEYS[0])
    await done(world, world.bob, KEYS[0])
    await bot_of(world).services.privacy.forget_me(world.guild.id, world.alice.id)

    for period in ("week", "month", "all"):
        result = await board(world, world.bob, period=period)
        assert name(world.alice) not in text_of(result)
        assert len(rows(result)) == 1


async def test_members_who_left_the_cohort_are_not_listed(world: World) -> None:
    await done(world, world.alice, KEYS[0])
    await world.alice.slash(world.channel, "cohort leave", cohort="Spring")
    assert rows(await board(world, world.bob)) == []


async def test_boards_of_two_servers_never_mix(world: World) -> None:
    other = build_world(world.env, guild_name="Night School")
    await other.create_cohort(timezone=NEW_YORK)
    await other.alice.slash(other.channel, "cohort join", cohort="Spring")
    await other.alice.slash(other.channel, "checkpoint done", checkpoint=KEYS[0])
    await done(world, world.bob, KEYS[0])

    here = await board(world, world.alice, cohort="Spring")
    there = await board(other, other.bob, cohort="Spring")
    (mine,) = rows(here)
    (theirs,) = rows(there)
    assert name(world.bob) in mine and name(other.alice) in theirs
    assert name(other.alice) not in text_of(here)


async def test_names_that_look_like_mentions_or_markup_ping_nobody(world: World) -> None:
    sneaky = world.guild.add_member(world.env.create_user("@everyone"), nick="<@123456789012345678> **big**")
    await sneaky.slash(world.channel, "cohort join", cohort="Spring")
    await done(world, sneaky, KEYS[0])

    result = await board(world, world.bob)

    (row,) = rows(result)
    assert "<@123456789012345678>" not in row and "**big**" not in row
    assert last_callback(world)["allowed_mentions"] == {"parse": []}


# --- streaks -------------------------------------------------------------------------------------


def streak_field(result: Any) -> str:
    fields = {field.name: field.value for field in result.response.embeds[0].fields}
    return str(fields["Weekly streak"])


async def test_streaks_are_built_week_by_week_warned_and_broken(world: World) -> None:
    await done(world, world.alice, KEYS[0])  # week 1
    assert "1 week in a row (this week counts)" in streak_field(
        await world.alice.slash(world.channel, "progress")
    )

    await advance_to(world, WEEK_1_END + timedelta(days=1))  # week 2, nothing yet
    still = streak_field(await world.alice.slash(world.channel, "progress"))
    assert "1 week in a row" in still and "At risk" not in still
    await done(world, world.alice, KEYS[1])
    assert "2 weeks in a row" in streak_field(await world.alice.slash(world.channel, "progress"))

    # Week 3 ends at 05:00 UTC on the 22nd: 47 hours before, with nothing done, the streak is at risk.
    week_3_end = WEEK_1_END + timedelta(days=14)
    await advance_to(world, week_3_end - timedelta(hours=47))
    risky = streak_field(await world.alice.slash(world.channel, "progress"))
    assert "2 weeks in a row" in risky and "At risk" in risky

    await advance_to(world, week_3_end + timedelta(hours=1))  # week 3 passed empty
    broken = streak_field(await world.alice.slash(world.channel, "progress"))
    assert "No streak yet" in broken and "best 2 weeks" in broken
    await done(world, world.alice, KEYS[2])
    assert "1 week in a row" in streak_field(await world.alice.slash(world.channel, "progress"))


async def test_a_review_keeps_the_streak_and_the_streak_dm_agrees(world: World) -> None:
    await world.alice.slash(world.channel, "remind settings", streak=True)
    await done(world, world.alice, KEYS[0])  # week 1
    await advance_to(world, WEEK_1_END + timedelta(hours=1))  # week 2
    for actor in (world.alice, world.bob):
        await actor.slash(world.channel, "review join", cohort="Spring")
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    await world.alice.slash(world.channel, "review done", partner=world.bob)  # week 2: a review

    week_3_end = WEEK_1_END + timedelta(days=14)
    await advance_to(world, week_3_end - timedelta(hours=47))
    progress = streak_field(await world.alice.slash(world.channel, "progress"))
    assert "2 weeks in a row" in progress and "At risk" in progress
    job = bot_of(world).scheduling.get_job("reminders")
    assert job is not None
    await job.func(*job.args, **job.kwargs)
    streak_dms = [m.content for m in world.alice.user.dm_channel.history() if "streak" in m.content]
    assert len(streak_dms) == 1 and "streak of 2 weeks" in streak_dms[0]


async def test_the_weekly_prompt_names_members_on_notable_streaks_but_not_hidden_ones(world: World) -> None:
    carol = world.guild.add_member(world.env.create_user("carol"))
    await carol.slash(world.channel, "cohort join", cohort="Spring")
    for week in range(3):  # weeks 1, 2 and 3
        await advance_to(world, datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=7 * week))
        for actor in (world.alice, world.bob):
            await done(world, actor, KEYS[week])
    await world.bob.slash(world.channel, "privacy leaderboard", choice="hide")
    await done(world, carol, KEYS[0])  # one week only: not notable

    # Week 4's slot: Monday 26 January, 18:00 in New York (23:00 UTC).
    await advance_to(world, datetime(2026, 1, 26, 23, 0, 30, tzinfo=UTC))
    job = bot_of(world).scheduling.get_job(prompt_job_id(1))
    assert job is not None
    await job.func(*job.args, **job.kwargs)
    await asyncio.sleep(0)

    posts = [m for m in world.channel.history() if m.embeds and "week 4" in (m.embeds[0].title or "")]
    (post,) = posts
    doing = next(field.value for field in post.embeds[0].fields if field.name == "How the cohort is doing")
    assert "On a streak" in doing and name(world.alice) in doing and "3 weeks" in doing
    assert name(world.bob) not in doing and "carol" not in doing
    assert world.env.backend.get_message(post.channel.id, post.id).ping_user_ids == []
