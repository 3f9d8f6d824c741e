"""Weekly prompts as members and moderators see them: the job, restarts, pause, failures, commands.

SimCord's world starts on Thursday 2026-01-01 00:00 UTC. A cohort created with the defaults below
starts that day and posts on Mondays at 18:00 in Berlin (17:00 UTC in winter), so week 1's slot
is Monday 2026-01-05 17:00 UTC and week 2's a week later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import discord
import pytest
import simcord

from bot.app import WaypointBot
from bot.pacing import PostPacer
from bot.scheduling import WeeklySlotTrigger, prompt_job_id
from cogs.prompts import PromptsCog
from tests.behaviour.world import World, build_world, text_of

START = datetime(2026, 1, 1, tzinfo=UTC)
WEEK_1_SLOT = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


def prompts_cog(world: World) -> PromptsCog:
    # load_extension executes the module afresh, so compare by name rather than by class object.
    cog = bot_of(world).get_cog("PromptsCog")
    assert cog is not None and type(cog).__name__ == "PromptsCog"
    return cog  # type: ignore[return-value]


async def fire(world: World, cohort_id: int = 1) -> None:
    """Exactly what the scheduler does when the cohort's job fires."""
    job = bot_of(world).scheduling.get_job(prompt_job_id(cohort_id))
    assert job is not None, f"no prompt job for cohort {cohort_id}"
    await job.func(*job.args, **job.kwargs)


async def advance_to(world: World, moment: datetime) -> None:
    seconds = (moment - world.env.now()).total_seconds()
    assert seconds >= 0, "tests only move forward in time"
    await world.env.advance_time(seconds)


def embeds_in(channel: simcord.ChannelHandle) -> list[discord.Embed]:
    """Embeds the bot posted on its own (prompts), not replies to commands run in the channel."""
    return [
        embed
        for message in channel.history()
        if message.interaction_metadata is None
        for embed in message.embeds
    ]


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    if embed.footer and embed.footer.text:
        parts.append(embed.footer.text)
    return "\n".join(parts)


# --- the job ----------------------------------------------------------------------------------------


async def test_each_cohort_gets_a_job_in_its_own_timezone(world: World) -> None:
    await world.create_cohort(name="Spring", weekday="wed", time="19:30")
    await world.create_cohort(name="Tokyo", timezone="Asia/Tokyo")
    spring = bot_of(world).scheduling.get_job(prompt_job_id(1))
    tokyo = bot_of(world).scheduling.get_job(prompt_job_id(2))
    assert spring is not None and tokyo is not None
    assert isinstance(spring.trigger, WeeklySlotTrigger)
    assert spring.trigger.timezone == ZoneInfo("Europe/Berlin")
    assert tokyo.trigger.timezone == ZoneInfo("Asia/Tokyo")
    assert spring.args == (1,) and tokyo.args == (2,)
    # The trigger's own next fire is the cohort's local slot, whatever the clock says.
    after = datetime(2026, 3, 26, tzinfo=UTC)  # the week Berlin switches to summer time
    assert spring.trigger.get_next_fire_time(None, after) == datetime(2026, 4, 1, 17, 30, tzinfo=UTC)


async def test_the_job_fires_and_the_embed_lands_in_the_channel(world: World) -> None:
    await world.create_cohort()
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    before = len(world.channel.history())
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)

    message = world.channel.last_message
    assert message is not None and len(world.channel.history()) == before + 1
    assert message.author.id == bot_of(world).user.id  # type: ignore[union-attr]
    text = embed_text(message.embeds[0])
    assert "Spring · week 1 of" in text
    assert "Phase 1 of 3" in text
    assert "This week's focus" in text and "classes" in text  # python-europe's first prompt
    assert "How the cohort is doing" in text and "1 member" in text
    assert "/checkpoint done" in text

    await fire(world)  # a repeated fire (or a second process) posts nothing more
    assert len(world.channel.history()) == before + 1


async def test_weekly_prompts_follow_the_weeks_and_report_activity(world: World) -> None:
    await world.create_cohort()
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    await advance_to(world, WEEK_1_SLOT + WEEK)
    await fire(world)
    week_two = embed_text(embeds_in(world.channel)[-1])
    assert "week 2 of" in week_two
    assert "1 of 2 members completed a checkpoint last week" in week_two


async def test_a_failing_channel_does_not_stop_other_cohorts(world: World) -> None:
    other = world.guild.create_text_channel("other")
    await world.create_cohort(name="Broken")
    await world.moderator.slash(
        world.channel,
        "cohort create",
        name="Healthy",
        roadmap="nodejs-path",
        channel=other,
        start="2026-01-01",
        timezone="Europe/Berlin",
    )
    # After the cohort was set up, someone takes Send Messages away from the bot in its channel.
    study = bot_of(world).get_channel(world.channel.id)
    assert isinstance(study, discord.TextChannel)
    await study.set_permissions(study.guild.me, send_messages=False)
    await advance_to(world, WEEK_1_SLOT)
    await asyncio.gather(fire(world, 1), fire(world, 2))

    assert not embeds_in(world.channel)
    assert "Healthy · week 1" in embed_text(embeds_in(other)[-1])
    info = text_of(await world.moderator.slash(world.channel, "cohort info", cohort="Broken"))
    assert "Needs attention" in info and "Send Messages" in info
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Broken")
    assert preview.ephemeral and "⚠️ Needs attention" in preview.response.content
    assert "Needs attention" not in text_of(
        await world.moderator.slash(world.channel, "cohort info", cohort="Healthy")
    )


async def test_a_deleted_channel_marks_the_cohort_and_a_new_channel_clears_it(world: World) -> None:
    doomed = world.guild.create_text_channel("doomed")
    await world.moderator.slash(
        world.channel,
        "cohort create",
        name="Spring",
        roadmap="python-europe",
        channel=doomed,
        start="2026-01-01",
        timezone="Europe/Berlin",
    )
    await bot_of(world).get_channel(doomed.id).delete()  # type: ignore[union-attr]
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    info = text_of(await world.moderator.slash(world.channel, "cohort info", cohort="Spring"))
    assert "no longer exists" in info

    moved = await world.moderator.slash(
        world.channel, "prompts schedule", cohort="Spring", channel=world.channel
    )
    assert not moved.ephemeral and f"<#{world.channel.id}>" in moved.response.content
    assert "Needs attention" not in text_of(
        await world.moderator.slash(world.channel, "cohort info", cohort="Spring")
    )
    posted = await world.moderator.slash(world.channel, "prompts post-now", cohort="Spring")
    assert "Posted the week 1 prompt" in posted.response.content
    assert "Spring · week 1" in embed_text(embeds_in(world.channel)[-1])


async def test_server_errors_are_retried_then_recorded_as_missed(world: World) -> None:
    await world.create_cohort()
    cog = prompts_cog(world)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    cog.sleep = no_wait
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=502, times=1)
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    assert len(embeds_in(world.channel)) == 1
    assert waits == [2.0]

    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=503, times=None)
    await advance_to(world, WEEK_1_SLOT + WEEK)
    await fire(world)
    assert len(embeds_in(world.channel)) == 1
    assert waits == [2.0, 2.0, 4.0, 8.0]  # exponential backoff, then give up
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=2)
    assert "passed without a post (missed)" in preview.response.content
    assert "Needs attention" not in preview.response.content  # a Discord outage is not the mods' job


# --- restarts -------------------------------------------------------------------------------------


async def test_restart_after_a_missed_slot_posts_exactly_once(
    world: World, make_bot: Callable[..., WaypointBot]
) -> None:
    await world.create_cohort()
    await advance_to(world, WEEK_1_SLOT + timedelta(hours=2))  # the bot was down at the slot
    assert not embeds_in(world.channel)

    await world.env.restart_bot(make_bot())
    assert len(embeds_in(world.channel)) == 1
    assert "week 1" in embed_text(embeds_in(world.channel)[0])

    await world.env.restart_bot(make_bot())
    await world.env.restart_bot()
    await fire(world)
    assert len(embeds_in(world.channel)) == 1


async def test_restart_long_after_slots_skips_instead_of_flooding(
    world: World, make_bot: Callable[..., WaypointBot]
) -> None:
    await world.create_cohort()
    await advance_to(world, WEEK_1_SLOT + 2 * WEEK + timedelta(days=1))  # weeks 1 to 3 passed
    await world.env.restart_bot(make_bot())
    assert not embeds_in(world.channel)
    for week in (1, 2, 3):
        preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=week)
        assert "passed without a post (skipped)" in preview.response.content
    await advance_to(world, WEEK_1_SLOT + 3 * WEEK)
    await fire(world)
    assert [embed.title for embed in embeds_in(world.channel)] == ["📚 Spring · week 4 of 52"]


# --- pause and resume ----------------------------------------------------------------------------


async def test_pause_and_resume_without_flooding(world: World) -> None:
    await world.create_cohort()
    paused = await world.moderator.slash(world.channel, "prompts pause", cohort="Spring")
    assert "Paused weekly prompts for **Spring**" in paused.response.content
    again = await world.moderator.slash(world.channel, "prompts pause", cohort="Spring")
    assert again.ephemeral and "already paused" in again.response.content
    info = text_of(await world.alice.slash(world.channel, "cohort info", cohort="Spring"))
    assert "prompts are paused" in info

    for week in range(3):
        await advance_to(world, WEEK_1_SLOT + week * WEEK)
        await fire(world)
    assert not embeds_in(world.channel)

    resumed = await world.moderator.slash(world.channel, "prompts resume", cohort="Spring")
    assert "Resumed" in resumed.response.content and "week 1, 2, 3" in resumed.response.content
    assert "Next: week 4" in resumed.response.content
    await fire(world)  # right after resuming nothing old is posted
    assert not embeds_in(world.channel)

    await advance_to(world, WEEK_1_SLOT + 3 * WEEK)
    await fire(world)
    assert [embed.title for embed in embeds_in(world.channel)] == ["📚 Spring · week 4 of 52"]
    not_paused = await world.moderator.slash(world.channel, "prompts resume", cohort="Spring")
    assert not_paused.ephemeral and "aren't paused" in not_paused.response.content


# --- commands -------------------------------------------------------------------------------------


async def test_preview_shows_the_post_and_when_as_a_timestamp(world: World) -> None:
    await world.create_cohort()
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="spring")
    assert preview.ephemeral
    stamp = int(WEEK_1_SLOT.timestamp())
    assert f"<t:{stamp}:F>" in preview.response.content and f"<t:{stamp}:R>" in preview.response.content
    shown = preview.response.embeds[0]
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    posted = embeds_in(world.channel)[-1]
    assert shown.to_dict() == posted.to_dict()  # exactly what was posted

    later = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=3)
    assert f"<t:{int((WEEK_1_SLOT + 2 * WEEK).timestamp())}:F>" in later.response.content
    assert "Spring · week 3" in later.response.embeds[0].title


async def test_post_now_counts_as_the_weeks_post(world: World) -> None:
    await world.create_cohort()
    posted = await world.moderator.slash(world.channel, "prompts post-now", cohort="Spring")
    assert posted.ephemeral and "Posted the week 1 prompt for **Spring**" in posted.response.content
    message = world.channel.last_message
    assert message is not None and str(message.id) in posted.response.content

    twice = await world.moderator.slash(world.channel, "prompts post-now", cohort="Spring")
    assert "already posted" in twice.response.content and str(message.id) in twice.response.content
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)  # the scheduled slot of the same week
    assert len(embeds_in(world.channel)) == 1


async def test_custom_prompt_replaces_the_weeks_focus(world: World) -> None:
    await world.create_cohort()
    added = await world.moderator.slash(
        world.channel, "prompts add", cohort="Spring", week=2, text="Pair up and review each other's PRs."
    )
    assert added.ephemeral and "Saved a custom prompt for week 2" in added.response.content
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=2)
    assert "Pair up and review each other's PRs." in preview.response.embeds[0].description
    assert "from your moderators" in preview.response.embeds[0].description
    await advance_to(world, WEEK_1_SLOT + WEEK)
    await fire(world)
    assert "Pair up and review" in (embeds_in(world.channel)[-1].description or "")


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("prompts add", {"cohort": "Spring", "week": 1, "text": "x" * 1501}, "at most 1500 characters"),
        ("prompts add", {"cohort": "Spring", "week": 1, "text": "   "}, "needs some text"),
        ("prompts add", {"cohort": "Spring", "week": 10**9, "text": "Hello there"}, "from 1 to 53"),
        ("prompts add", {"cohort": "Spring", "week": 54, "text": "Hello there"}, "from 1 to 53"),
        ("prompts add", {"cohort": "Sprung", "week": 1, "text": "Hello there"}, "Did you mean `Spring`"),
        ("prompts preview", {"cohort": "Spring", "week": 54}, "from 1 to 53"),
        ("prompts preview", {"cohort": "Nope"}, "no cohort called **Nope**"),
        ("prompts schedule", {"cohort": "Spring", "weekday": "someday"}, "not a weekday"),
        ("prompts schedule", {"cohort": "Spring", "time": "6pm"}, "HH:MM"),
        ("prompts schedule", {"cohort": "Spring", "timezone": "Mars/Olympus"}, "not a timezone"),
        ("prompts schedule", {"cohort": "Spring"}, "Nothing to change"),
        ("prompts post-now", {"cohort": "Nope"}, "no cohort called **Nope**"),
    ],
)
async def test_bad_input_is_one_ephemeral_sentence_and_changes_nothing(
    world: World, command: str, options: dict[str, object], expected: str
) -> None:
    await world.create_cohort()
    before = bot_of(world).scheduling.get_job(prompt_job_id(1)).trigger.slot  # type: ignore[union-attr]
    result = await world.moderator.slash(world.channel, command, **options)
    assert result.ephemeral
    assert expected in result.response.content
    assert bot_of(world).scheduling.get_job(prompt_job_id(1)).trigger.slot == before  # type: ignore[union-attr]
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring", week=1)
    assert "from your moderators" not in (preview.response.embeds[0].description or "")
    assert not embeds_in(world.channel)


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("prompts post-now", {}),
        ("prompts pause", {}),
        ("prompts resume", {}),
        ("prompts add", {"week": 1, "text": "Members can't set this."}),
        ("prompts schedule", {"weekday": "fri"}),
    ],
)
async def test_moderator_commands_refuse_members(
    world: World, command: str, options: dict[str, object]
) -> None:
    await world.create_cohort()
    result = await world.alice.slash(world.channel, command, cohort="Spring", **options)
    assert result.ephemeral and "Only moderators" in result.response.content
    assert not embeds_in(world.channel)
    info = text_of(await world.alice.slash(world.channel, "cohort info", cohort="Spring"))
    assert "Mondays at 18:00" in info and "paused" not in info


async def test_schedule_moves_the_next_run_and_mentions_only_the_role(world: World) -> None:
    await world.create_cohort()
    learners = world.guild.create_role("Learners")
    moved = await world.moderator.slash(
        world.channel,
        "prompts schedule",
        cohort="Spring",
        weekday="fri",
        time="07:15",
        timezone="America/New_York",
        role=learners,
    )
    assert "Fridays at 07:15 (America/New_York)" in moved.response.content
    next_run = datetime(2026, 1, 2, 12, 15, tzinfo=UTC)  # Friday 07:15 in New York (UTC-5)
    assert f"<t:{int(next_run.timestamp())}:F>" in moved.response.content
    job = bot_of(world).scheduling.get_job(prompt_job_id(1))
    assert job is not None and job.trigger.timezone == ZoneInfo("America/New_York")
    assert job.trigger.get_next_fire_time(None, world.env.now()) == next_run

    await advance_to(world, next_run)
    await fire(world)
    message = world.channel.last_message
    assert message is not None and message.content == f"<@&{learners.id}>"
    request = [entry for entry in world.env.http_requests if entry.method == "POST"][-1]
    assert request.path == f"/channels/{world.channel.id}/messages"
    # Only that role may be pinged: no @everyone/@here ("parse" is empty) and no members.
    assert request.json["allowed_mentions"] == {"parse": [], "roles": [learners.id]}

    everyone = await world.moderator.slash(
        world.channel, "prompts schedule", cohort="Spring", role=world.guild.default_role
    )
    assert everyone.ephemeral and "never mention @everyone" in everyone.response.content


async def test_a_finished_cohort_gets_one_closing_message_then_stops(world: World) -> None:
    # python-europe runs 52 weeks; a cohort that started in November 2024 is past its end.
    await world.create_cohort(start="2024-11-01")
    coming = await world.alice.slash(world.channel, "prompts preview", cohort="Spring")
    assert "closing message" in coming.response.content
    assert f"Would be posted <t:{int(WEEK_1_SLOT.timestamp())}:F>" in coming.response.content
    await advance_to(world, WEEK_1_SLOT)
    await fire(world)
    closing = embeds_in(world.channel)
    assert len(closing) == 1 and "finished the roadmap" in (closing[0].title or "")
    for week in (1, 2):
        await advance_to(world, WEEK_1_SLOT + week * WEEK)
        await fire(world)
    assert len(embeds_in(world.channel)) == 1
    preview = await world.alice.slash(world.channel, "prompts preview", cohort="Spring")
    assert "Already posted" in preview.response.content


async def test_many_cohorts_in_one_slot_are_paced_and_none_dropped(world: World) -> None:
    channels = [world.guild.create_text_channel(f"c{number}") for number in range(12)]
    for number, channel in enumerate(channels):
        await world.moderator.slash(
            world.channel,
            "cohort create",
            name=f"Cohort {number}",
            roadmap="nodejs-path",
            channel=channel,
            start="2026-01-01",
            timezone="Europe/Berlin",
        )
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    prompts_cog(world).pacer = PostPacer(rate=4.0, burst=2, monotonic=lambda: 0.0, sleep=record)
    await advance_to(world, WEEK_1_SLOT)
    await asyncio.gather(*(fire(world, cohort_id) for cohort_id in range(1, 13)))
    assert all(len(embeds_in(channel)) == 1 for channel in channels)
    # Two went at once; the other ten waited their turn, a quarter second apart.
    assert sorted(waits) == [pytest.approx(0.25 * turn) for turn in range(1, 11)]
