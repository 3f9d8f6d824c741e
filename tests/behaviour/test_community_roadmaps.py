"""A server's own roadmaps (issue 12), as moderators and members see them through SimCord.

Import, follow end to end, every kind of refused file, who may do what, isolation between
servers, versions (kept, renamed, retired completions), removal and export round trips.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import simcord
import yaml
from simcord import SetupError

from bot.content import parse_roadmap
from tests.behaviour.test_hostile_inputs import fingerprint
from tests.behaviour.world import World, build_world, text_of

EVENINGS = """\
# A short course written for these tests.
key: rust-evenings
title: Rust in the Evenings
summary: Two weeks of evening sessions, from a first cargo project to a tiny web service.
phases:
  - key: ownership
    title: Ownership first
    summary: Borrowing and lifetimes, with the compiler as a patient teacher.
    start_day: 0
    duration_days: 7
    topics: [borrowing, lifetimes]
    checkpoints:
      - key: borrow-checker
        title: Peace with the borrow checker
        description: A small program compiles with no clone you cannot explain.
      - key: error-handling
        title: Errors as values
        description: A command-line tool handles every failure with Result instead of unwrap.
    prompts:
      - "Post the compiler message that puzzled you most this week, and how you read it now."
  - key: services
    title: A small service
    summary: One HTTP endpoint backed by a database table.
    start_day: 7
    duration_days: 7
    topics: [http, sql]
    checkpoints:
      - key: hello-endpoint
        title: Hello endpoint
        description: One route answers JSON and has a test that calls it.
        kind: project
      - key: sql-queries
        title: Typed queries
        description: The endpoint reads its data with queries the compiler checks.
    prompts:
      - "Which crate surprised you this week, pleasantly or not? Tell the cohort why."
"""

# Version 2: a title changed, one checkpoint renamed, one removed, one added.
EVENINGS_V2 = (
    EVENINGS.replace("title: Peace with the borrow checker", "title: At peace with the borrow checker")
    .replace(
        "      - key: error-handling\n        title: Errors as values\n",
        "      - key: errors-as-values\n        title: Errors as values\n"
        "        renamed_from: [error-handling]\n",
    )
    .replace(
        "      - key: sql-queries\n        title: Typed queries\n"
        "        description: The endpoint reads its data with queries the compiler checks.\n",
        "      - key: deploy-it\n        title: Deploy it\n"
        "        description: The service runs somewhere a friend can reach it.\n",
    )
)


def upload(text: str, name: str = "evenings.yaml") -> tuple[str, bytes]:
    return name, text.encode("utf-8")


async def import_file(world: World, text: str, name: str = "evenings.yaml") -> Any:
    return await world.moderator.slash(world.channel, "roadmap import", file=upload(text, name))


async def attachment(result: Any) -> tuple[str, bytes]:
    (found,) = result.response.attachments
    return found.filename, await found.read()


def csv_rows(payload: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    return build_world(simcord_env)


# ------------------------------------------------------------------------------ end to end


async def test_a_moderator_imports_a_roadmap_and_a_cohort_follows_it_end_to_end(world: World) -> None:
    imported = await import_file(world, EVENINGS)
    assert "Imported **Rust in the Evenings** (`rust-evenings`)" in text_of(imported)
    assert "version 1" in text_of(imported)

    listed = text_of(await world.alice.slash(world.channel, "roadmap list"))
    assert "Rust in the Evenings (this server's)" in listed and "version 1" in listed
    shown = text_of(await world.alice.slash(world.channel, "roadmap show", roadmap="rust-evenings"))
    assert "this server's, v1" in shown and "Ownership first" in shown
    choices = await world.alice.autocomplete(world.channel, "roadmap show", "roadmap", "rust")
    assert [choice["value"] for choice in choices] == ["rust-evenings"]

    await world.create_cohort(name="Evenings", roadmap="rust-evenings")
    await world.alice.slash(world.channel, "cohort join", cohort="Evenings")
    done = await world.alice.slash(world.channel, "checkpoint done", checkpoint="borrow-checker")
    assert "Peace with the borrow checker" in text_of(done)
    choices = await world.alice.autocomplete(world.channel, "checkpoint done", "checkpoint", "hello")
    assert [choice["value"] for choice in choices] == ["hello-endpoint"]
    progress = text_of(await world.alice.slash(world.channel, "progress"))
    assert "1/4" in progress or "1 of 4" in progress, progress

    posted = await world.moderator.slash(world.channel, "prompts post-now", cohort="Evenings")
    assert "Posted the week 1 prompt" in posted.response.content
    preview = text_of(
        await world.moderator.slash(world.channel, "prompts preview", cohort="Evenings", week=2)
    )
    assert "Which crate surprised you this week" in preview

    exported = await world.moderator.slash(
        world.channel, "export checkpoints", cohort="Evenings", format="csv"
    )
    rows = csv_rows((await attachment(exported))[1])
    assert {row["checkpoint_key"] for row in rows} == {
        "borrow-checker",
        "error-handling",
        "hello-endpoint",
        "sql-queries",
    }
    assert [row["status"] for row in rows if row["checkpoint_key"] == "borrow-checker"] == ["done"]


# ------------------------------------------------------------------------------ refused files

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [{', '.join(['*' + chr(97 + level)] * 9)}]\n"
    for level in range(8)
)


def many_phases(count: int) -> str:
    phase = EVENINGS.split("phases:\n")[1].split("  - key: services")[0]
    phases = "".join(
        phase.replace("key: ownership", f"key: phase-{index}")
        .replace("key: borrow-checker", f"key: borrow-{index}")
        .replace("key: error-handling", f"key: errors-{index}")
        for index in range(count)
    )
    return EVENINGS.split("phases:\n")[0] + "phases:\n" + phases


REFUSED = {
    "syntax": (
        EVENINGS.replace("topics: [borrowing, lifetimes]", "topics: [borrowing, lifetimes"),
        "YAML syntax error at line",
    ),
    "schema": (
        EVENINGS.replace("        title: Hello endpoint\n", ""),
        "line 28, roadmap 'rust-evenings', phase 2 'services', checkpoint 1 'hello-endpoint':"
        " title is missing",
    ),
    "duplicate checkpoint key": (
        EVENINGS.replace("key: sql-queries", "key: hello-endpoint"),
        "checkpoint key 'hello-endpoint' is used twice",
    ),
    "duplicate mapping key": (
        EVENINGS.replace("    start_day: 7\n", "    start_day: 7\n    start_day: 8\n"),
        "duplicate key 'start_day'",
    ),
    "too many phases": (
        many_phases(25),
        "phases: Tuple should have at most 24 items after validation, not 25",
    ),
    "key too long": (
        EVENINGS.replace("key: rust-evenings", "key: " + "r" * 49),
        "key: String should have at most 48",
    ),
    "invisible text": (
        EVENINGS.replace("title: Hello endpoint", 'title: "Hello\\u200b endpoint"'),
        "checkpoint 1 'hello-endpoint', title: contains invisible or control characters",
    ),
    "alias bomb": (ALIAS_BOMB, "anchors and aliases (&name, *name) are not allowed"),
    "shipped key": (
        EVENINGS.replace("key: rust-evenings", "key: python-europe"),
        "export it with `/roadmap export` and import it under your own key",
    ),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
async def test_an_invalid_file_is_refused_with_its_line_and_field_and_changes_nothing(
    world: World, kind: str
) -> None:
    text, expected = REFUSED[kind]
    before = await fingerprint(world.env.bot)
    result = await import_file(world, text)
    answer = text_of(result)
    assert result.ephemeral and "The file was refused" in answer
    assert (
        expected.replace("_", "\\_").replace("*", "\\*").replace("`", "\\`") in answer or expected in answer
    ), answer
    assert await fingerprint(world.env.bot) == before
    assert world.env.errors == []


async def test_a_file_that_is_not_yaml_or_not_text_gets_one_sentence(world: World) -> None:
    before = await fingerprint(world.env.bot)
    picture = await world.moderator.slash(
        world.channel, "roadmap import", file=("cat.png", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    )
    assert "not a text file in UTF-8" in text_of(picture)
    prose = await import_file(world, "Just some notes about the course, not a roadmap.", "notes.txt")
    assert "the top level must be a mapping of roadmap fields, not a str" in text_of(prose)
    huge = await import_file(world, "# " + "x" * (256 * 1024), "huge.yaml")
    assert "a roadmap file can be at most 256 KiB" in text_of(huge)
    assert await fingerprint(world.env.bot) == before


async def test_more_than_ten_problems_are_listed_as_ten_and_a_count(world: World) -> None:
    broken = EVENINGS
    for field in ("title: Hello endpoint", "title: Typed queries", "title: Errors as values"):
        broken = broken.replace(field, "title: ''")
    broken = broken.replace("duration_days: 7", "duration_days: -1").replace("start_day: 7", "start_day: -3")
    broken = broken.replace("description: A small program", "descriptio: A small program")
    broken = broken.replace("kind: project", "kind: hobby").replace("topics: [http, sql]", "topics: []")
    broken = broken.replace("summary: One HTTP", "summary: ''\n    extra: One HTTP")
    answer = text_of(await import_file(world, broken))
    assert answer.count("\n• ") == 10 and "…and " in answer and " more." in answer


# ------------------------------------------------------------------------------ who and where


async def test_members_cannot_import_or_remove(world: World) -> None:
    await import_file(world, EVENINGS)
    before = await fingerprint(world.env.bot)
    tried = await world.alice.slash(world.channel, "roadmap import", file=upload(EVENINGS_V2))
    assert "Only moderators can do that" in text_of(tried)
    removed = await world.alice.slash(world.channel, "roadmap remove", roadmap="rust-evenings")
    assert "Only moderators can do that" in text_of(removed)
    assert await fingerprint(world.env.bot) == before


async def test_another_server_never_sees_a_servers_roadmap(simcord_env: simcord.Env) -> None:
    home, away = build_world(simcord_env, "Home"), build_world(simcord_env, "Away")
    await import_file(home, EVENINGS)

    assert "Rust in the Evenings" not in text_of(await away.alice.slash(away.channel, "roadmap list"))
    shown = await away.alice.slash(away.channel, "roadmap show", roadmap="rust-evenings")
    assert "There is no roadmap `rust-evenings`" in text_of(shown)
    exported = await away.alice.slash(away.channel, "roadmap export", roadmap="rust-evenings")
    assert not exported.response.attachments and "There is no roadmap" in text_of(exported)
    choices = await away.alice.autocomplete(away.channel, "roadmap show", "roadmap", "rust")
    assert choices == []
    created = await away.moderator.slash(
        away.channel, "cohort create", name="Copycat", roadmap="rust-evenings", channel=away.channel
    )
    assert "There is no roadmap" in text_of(created)
    removed = await away.moderator.slash(away.channel, "roadmap remove", roadmap="rust-evenings")
    assert "There is no roadmap" in text_of(removed)
    # The same key is free in the other server: its own roadmap, its own version 1.
    again = await import_file(away, EVENINGS.replace("Rust in the Evenings", "Rust after Work"))
    assert "version 1" in text_of(again)
    assert "Rust in the Evenings" in text_of(
        await home.alice.slash(home.channel, "roadmap show", roadmap="rust-evenings")
    )


# ------------------------------------------------------------------------------ versions


async def evening_cohort(world: World) -> None:
    await import_file(world, EVENINGS)
    await world.create_cohort(name="Evenings", roadmap="rust-evenings")
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Evenings")
    for key in ("borrow-checker", "error-handling", "sql-queries"):
        await world.alice.slash(world.channel, "checkpoint done", checkpoint=key)
    await world.bob.slash(world.channel, "checkpoint done", checkpoint="error-handling")


async def test_a_new_version_keeps_carries_over_and_retires_completions(world: World) -> None:
    await evening_cohort(world)
    asked = await import_file(world, EVENINGS_V2)
    summary = text_of(asked)
    assert "would become version 2, followed by **Evenings**" in summary
    assert "renamed `error-handling` → checkpoint `errors-as-values`" in summary
    assert "2 members' completions carry over" in summary
    assert (
        "removed checkpoint `sql-queries` **Typed queries** · 1 member's completions kept as history"
        in summary
    )
    assert "added checkpoint `deploy-it`" in summary
    assert "changed checkpoint `borrow-checker`" in summary

    assert asked.ephemeral  # only the importer sees it, so only the importer can press Confirm
    confirmed = await world.moderator.click(asked.response, label="Confirm")
    assert "is now version 2" in text_of(confirmed)

    alice = text_of(await world.alice.slash(world.channel, "progress"))
    assert "2/4" in alice or "2 of 4" in alice, alice
    bob = text_of(await world.bob.slash(world.channel, "progress"))
    assert "1/4" in bob or "1 of 4" in bob, bob
    # Renamed: already done under the new key.
    again = await world.bob.slash(world.channel, "checkpoint done", checkpoint="errors-as-values")
    assert "already" in text_of(again).lower()

    rows = csv_rows(
        (await attachment(await world.moderator.slash(world.channel, "export checkpoints", format="csv")))[1]
    )
    alice_rows = {
        row["checkpoint_key"]: row["status"] for row in rows if row["member_id"] == str(world.alice.id)
    }
    assert alice_rows == {
        "borrow-checker": "done",
        "errors-as-values": "done",
        "hello-endpoint": "open",
        "deploy-it": "open",
        "sql-queries": "retired",
    }
    my_data = json.loads((await attachment(await world.alice.slash(world.channel, "privacy my-data")))[1])
    completions = {
        row["checkpoint_key"]: row.get("retired", False)
        for row in my_data["sections"]["checkpoint_completions"]
    }
    assert completions == {"borrow-checker": False, "errors-as-values": False, "sql-queries": True}

    audit = text_of(await world.moderator.slash(world.channel, "export audit"))
    assert "`roadmap.import`" in audit and "`roadmap.version`" in audit
    exported = await world.alice.slash(world.channel, "roadmap export", roadmap="rust-evenings")
    assert (await attachment(exported))[1].decode("utf-8") == EVENINGS_V2


async def test_a_version_left_unconfirmed_changes_nothing(world: World) -> None:
    await evening_cohort(world)
    before = await fingerprint(world.env.bot)
    asked = await import_file(world, EVENINGS_V2)
    await world.env.advance_time(61)
    assert "No answer within a minute, so the roadmap was not changed" in asked.response.content
    with pytest.raises(SetupError, match="disabled"):
        await world.moderator.click(asked.response, label="Confirm")
    assert await fingerprint(world.env.bot) == before
    cancelled = await import_file(world, EVENINGS_V2)
    await world.moderator.click(cancelled.response, label="Cancel")
    assert await fingerprint(world.env.bot) == before
    assert "v1" in text_of(await world.alice.slash(world.channel, "roadmap show", roadmap="rust-evenings"))


async def test_the_same_file_twice_is_no_new_version(world: World) -> None:
    await import_file(world, EVENINGS)
    before = await fingerprint(world.env.bot)
    assert "nothing to change" in text_of(await import_file(world, EVENINGS))
    assert await fingerprint(world.env.bot) == before


# ------------------------------------------------------------------------------ removal and export


async def test_removing_a_followed_roadmap_is_refused_naming_the_cohorts(world: World) -> None:
    await evening_cohort(world)
    before = await fingerprint(world.env.bot)
    refused = await world.moderator.slash(world.channel, "roadmap remove", roadmap="rust-evenings")
    assert "can't be removed while cohorts follow it: **Evenings**" in text_of(refused)
    assert await fingerprint(world.env.bot) == before
    shipped = await world.moderator.slash(world.channel, "roadmap remove", roadmap="python-europe")
    assert "ships with Waypoint" in text_of(shipped)


async def test_an_unfollowed_roadmap_is_removed_and_its_versions_stay_stored(world: World) -> None:
    await import_file(world, EVENINGS)
    removed = await world.moderator.slash(world.channel, "roadmap remove", roadmap="rust-evenings")
    assert "Removed **Rust in the Evenings**" in text_of(removed)
    assert "Rust in the Evenings" not in text_of(await world.alice.slash(world.channel, "roadmap list"))
    audit = text_of(await world.moderator.slash(world.channel, "export audit"))
    assert "`roadmap.remove`" in audit
    back = await import_file(world, EVENINGS)
    assert "version 2" in text_of(back)  # numbers are never reused


async def test_export_then_import_round_trips_to_an_equal_roadmap(world: World) -> None:
    exported = await world.alice.slash(world.channel, "roadmap export", roadmap="nodejs-path")
    name, payload = await attachment(exported)
    assert name == "nodejs-path.yaml"
    shipped = world.env.bot.services.catalog.get("nodejs-path")
    assert parse_roadmap(payload, name)[0] == shipped
    own = yaml.safe_load(payload) | {"key": "our-node", "title": "Our Node path"}
    imported = await import_file(world, yaml.safe_dump(own, sort_keys=False), "ours.yaml")
    assert "Imported **Our Node path**" in text_of(imported)
    ours = world.env.bot.services.catalog.get("our-node", world.guild.id)
    assert ours is not None and ours.phases == shipped.phases
    again = await world.alice.slash(world.channel, "roadmap export", roadmap="our-node")
    assert parse_roadmap((await attachment(again))[1], "again.yaml")[0] == ours


async def test_a_servers_roadmap_survives_a_restart(world: World) -> None:
    await import_file(world, EVENINGS)
    bot = world.env.bot
    fresh = type(bot.services.catalog)(list(bot.services.catalog))
    from bot.roadmaps.service import RoadmapService

    loaded = await RoadmapService(bot.services.sessions, fresh, bot.clock).load()
    assert loaded == 1
    found = fresh.server_roadmap(world.guild.id, "rust-evenings")
    assert found is not None and found.version == 1


async def test_a_hostile_file_name_is_never_shown_as_markup(world: World) -> None:
    result = await import_file(
        world, "key: [", "[Nitro](https://evil.example)<@123456789012345678>@everyone.yaml"
    )
    answer = text_of(result)
    assert "The file was refused" in answer
    assert "](https://evil.example)" not in answer and "<@123456789012345678>" not in answer
    assert "@everyone" not in answer


async def test_a_server_holds_at_most_twenty_roadmaps_of_its_own(world: World) -> None:
    for number in range(20):
        key = f"path-{number:02d}"
        assert "Imported" in text_of(
            await import_file(world, EVENINGS.replace("key: rust-evenings", f"key: {key}"))
        )
    refused = await import_file(world, EVENINGS)
    assert "this server has 20 roadmaps of its own already" in text_of(refused)
    listed = await world.alice.slash(world.channel, "roadmap list")
    assert len(listed.response.embeds[0].fields) == 25


async def test_hostile_text_in_a_servers_roadmap_never_links_or_pings(world: World) -> None:
    hostile = EVENINGS.replace(
        "title: Hello endpoint", 'title: "[Free Nitro](https://evil.example) <@123456789012345678> @everyone"'
    )
    await import_file(world, hostile)
    shown = text_of(await world.alice.slash(world.channel, "roadmap show", roadmap="rust-evenings", phase=2))
    assert "](https://evil.example)" not in shown and "<@123456789012345678>" not in shown
    assert "@everyone" not in shown
