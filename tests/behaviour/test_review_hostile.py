"""Review commands used carelessly or with intent: long and hidden input, markup and mentions,
double clicks, two moderators at once, masked links and a partner who erased their data."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import simcord
from simcord.backend.errors import OptionError

from cogs.review.jobs import present_in
from tests.behaviour.test_review import (
    add_member,
    announcements,
    bot_of,
    cohort_id,
    opt_in,
    pinged,
    thread_groups,
)
from tests.behaviour.world import World, build_world, text_of

LONG = "x" * 6000
HOSTILE = {
    "invisible": "Spr\u200bi\u200dn\u2060g\ufeff\u00ad\u3164",
    "control": "Spring\u202e\x07",
    "markup": "[Free Nitro](https://evil.example) **bold** `code`",
    "mentions": "<@123> @everyone @here <@&456>",
}
CODE_SPAN = re.compile(r"`[^`]*`")
UNESCAPED_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\((?!<)")
UNESCAPED_MENTION = re.compile(r"(?<!\\)<@&?\d+>|(?<!\\)@(everyone|here)")
EVIL_LINK = "https://ok.example/>)**[Verify-your-account](https://evil.example)**"
# Every string option of every /review command (and /progress), with the longest value the bot
# accepts from Discord; Discord itself refuses anything longer.
OPTIONS: list[tuple[str, str, dict[str, Any], int]] = [
    ("alice", "review join", {"cohort": None}, 100),
    ("alice", "review join", {"cohort": "Spring", "languages": None}, 400),
    ("alice", "review join", {"cohort": "Spring", "timezone": None}, 100),
    ("alice", "review leave", {"cohort": None}, 100),
    ("alice", "review snooze", {"cohort": None, "weeks": 1}, 100),
    ("moderator", "review pair", {"cohort": None}, 100),
    ("moderator", "review schedule", {"cohort": None}, 100),
    ("moderator", "review schedule", {"cohort": "Spring", "weekday": None}, 100),
    ("moderator", "review schedule", {"cohort": "Spring", "time": None}, 100),
    ("alice", "review done", {"partner": "bob", "link": None}, 600),
    ("alice", "review done", {"partner": "bob", "cohort": None}, 100),
    ("alice", "review status", {"cohort": None}, 100),
    ("alice", "review history", {"cohort": None}, 100),
    ("alice", "progress", {"cohort": None}, 100),
]


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort()
    return world


def _options(world: World, template: dict[str, Any], value: str) -> dict[str, Any]:
    members = {"bob": world.bob}
    return {
        key: value if given is None else members.get(given, given) if key == "partner" else given
        for key, given in template.items()
    }


def assert_safe_refusal(world: World, result: Any, what: object) -> None:
    message = result.response
    assert message is not None, f"no answer to {what}"
    assert result.ephemeral, what
    assert len(message.content or "") <= 2000, what
    text = CODE_SPAN.sub("", text_of(result))  # inside a code span nothing renders or pings
    assert UNESCAPED_LINK.search(text) is None, (what, text)
    assert UNESCAPED_MENTION.search(text) is None, (what, text)
    assert pinged(world, message.message) == set(), what


async def test_every_string_option_answers_long_hidden_markup_and_mention_input(
    simcord_env: simcord.Env, world: World
) -> None:
    await world.alice.slash(world.channel, "cohort join", cohort="Spring")
    await world.bob.slash(world.channel, "cohort join", cohort="Spring")
    swept = 0
    for actor_name, command, template, longest in OPTIONS:
        actor = getattr(world, actor_name)
        with pytest.raises(OptionError):  # Discord refuses what is longer than the option allows
            await actor.slash(world.channel, command, **_options(world, template, LONG))
        values = {"longest": "x" * longest, **HOSTILE}
        for label, value in values.items():
            result = await actor.slash(world.channel, command, **_options(world, template, value))
            assert_safe_refusal(world, result, (command, template, label))
            swept += 1
    assert swept == len(OPTIONS) * 5
    assert simcord_env.errors == []
    # Nothing was changed by any of it: no round, no review, the same schedule. (A cohort name
    # typed with invisible characters around "Spring" is matched to Spring by the cohort lookup.)
    assert announcements(world) == []
    schedule = await world.moderator.slash(world.channel, "review schedule", cohort="Spring")
    assert "Mondays at 18:00 (Europe/Berlin)" in schedule.response.content
    assert "given 0 · received 0" in text_of(await world.bob.slash(world.channel, "progress"))


async def test_the_masked_link_from_the_issue_is_refused(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    refused = await world.alice.slash(world.channel, "review done", partner=world.bob, link=EVIL_LINK)
    assert refused.ephemeral and "single web address" in refused.response.content
    assert "evil.example" not in refused.response.content
    history = text_of(await world.bob.slash(world.channel, "review history"))
    assert "Verify" not in history and "given 0 · received 0" in history


async def test_display_names_are_escaped_where_shown(world: World) -> None:
    mallory = add_member(world, "[Verify](https://evil.example) **mallory**")
    await opt_in(world, mallory, world.bob)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    await mallory.slash(world.channel, "review done", partner=world.bob, link="https://ok.example/pr/1")
    history = text_of(await world.bob.slash(world.channel, "review history", member=mallory))
    assert UNESCAPED_LINK.search(history) is None and "\\[Verify\\]" in history
    progress = text_of(await world.bob.slash(world.channel, "progress", member=mallory))
    assert UNESCAPED_LINK.search(progress) is None
    no_history = await world.bob.slash(world.channel, "review history", member=world.alice, cohort="Spring")
    assert no_history.response is not None


async def _pair_as_a_moderator_does(world: World) -> bool:
    """What ``/review pair`` runs after its checks: the round (created or found), then its posts.

    SimCord runs one interaction at a time, so two moderators' simultaneous commands are raced
    here on the cog's own path, with the same services and the same posting code.
    """
    bot = bot_of(world.env)
    guild = bot.get_guild(world.guild.id)
    jobs: Any = bot.get_cog("ReviewJobs")  # loaded as an extension: its own module object
    assert guild is not None and jobs is not None
    outcome = await bot.services.review_rounds.run_round(guild.id, "Spring", present_in(guild))
    return await jobs.publish(guild, outcome.round, first_time=outcome.created)


def assert_announced_once(world: World, players: set[int]) -> None:
    (announcement,) = announcements(world)
    assert pinged(world, announcement) == players
    groups = thread_groups(world)
    assert len(world.channel.threads) == len(groups) == len(players) // 2
    assert set().union(*groups.values()) == players
    pings: dict[int, int] = dict.fromkeys(players, 0)
    for message in [announcement, *(thread.history()[0] for thread in world.channel.threads)]:
        for user_id in pinged(world, message):
            pings[user_id] += 1
    assert pings == dict.fromkeys(players, 2)  # once in the announcement, once in their thread


async def test_two_moderators_pairing_at_once_announce_the_round_once(
    simcord_env: simcord.Env, world: World
) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    published = await asyncio.gather(_pair_as_a_moderator_does(world), _pair_as_a_moderator_does(world))
    assert published == [True, True]  # what the other is posting counts as done: no "couldn't post"
    assert_announced_once(world, {world.alice.id, world.bob.id, carol.id, dave.id})
    repeat = await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    assert "already ran" in repeat.response.content and "couldn't post" not in repeat.response.content
    assert_announced_once(world, {world.alice.id, world.bob.id, carol.id, dave.id})
    assert simcord_env.errors == []


async def test_a_pair_command_racing_the_weekly_job_posts_once(
    simcord_env: simcord.Env, world: World
) -> None:
    carol, dave = add_member(world, "carol"), add_member(world, "dave")
    await opt_in(world, world.alice, world.bob, carol, dave)
    bot = bot_of(world.env)
    job = bot.scheduling.get_job(f"review:{await cohort_id(world)}")
    assert job is not None
    command, _ = await asyncio.gather(
        world.moderator.slash(world.channel, "review pair", cohort="Spring"), job.func(*job.args)
    )
    assert command.response is not None and "couldn't post" not in command.response.content
    assert_announced_once(world, {world.alice.id, world.bob.id, carol.id, dave.id})
    assert simcord_env.errors == []


async def test_after_a_partner_erases_their_data_the_other_sees_a_former_member(world: World) -> None:
    await opt_in(world, world.alice, world.bob)
    await world.moderator.slash(world.channel, "review pair", cohort="Spring")
    await world.alice.slash(world.channel, "review done", partner=world.bob, link="https://a.example/1")
    await world.bob.slash(world.channel, "review done", partner=world.alice, link="https://b.example/2")
    asked = await world.alice.slash(world.channel, "privacy forget-me")
    await world.alice.click(asked.response, label="Delete my data")

    history = text_of(await world.bob.slash(world.channel, "review history"))
    assert "with a former member" in history and "no partner" not in history
    assert "reviewed: a former member" in history and "reviewed by: a former member" in history
    assert "https://a.example/1" not in history  # what Alice wrote is not shown in her name
    assert "given 1 · received 1" in history
    status = text_of(await world.bob.slash(world.channel, "review status"))
    assert "only one available" not in status and "Partner: a former member" in status
    assert re.search(r"✅ <@\d+> → a former member", status)
    progress = text_of(await world.bob.slash(world.channel, "progress"))
    assert "given 1 · received 1" in progress
