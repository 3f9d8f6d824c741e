"""Exports and /stats as moderators see them: the attachment's bytes are parsed and checked."""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from types import ModuleType
from typing import Any

import openpyxl
import pytest
import simcord
from PIL import Image

from bot.exports.formats import CHECKPOINT_COLUMNS, PROGRESS_COLUMNS, REVIEW_COLUMNS
from tests.behaviour.world import World, build_world, text_of

HOSTILE = '=HYPERLINK("http://evil.example","click me")'


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    """Spring (python-europe) from 2026-01-01; Alice has done two checkpoints, Bob none."""
    world = build_world(simcord_env)
    await world.create_cohort()
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(
        world.channel,
        "checkpoint done",
        checkpoint="python-oop-async",
        evidence="https://github.com/alice/oop",
    )
    await world.env.advance_time(3600)
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="crud-api")
    return world


async def download(result: Any) -> tuple[str, bytes]:
    """The one file of an ephemeral export reply: its name and bytes."""
    message = result.response
    assert message is not None, result
    assert result.ephemeral
    (attachment,) = message.attachments
    return attachment.filename, await attachment.read()


def loaded_cog_module() -> ModuleType:
    """The extension as the bot loaded it: discord.py imports it as a module object of its own."""
    return sys.modules["cogs.export"]


def parse_csv(payload: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


async def test_moderator_downloads_the_progress_csv(world: World) -> None:
    result = await world.moderator.slash(world.channel, "export progress", format="csv")

    name, payload = await download(result)
    assert name == "waypoint-study-hall-all-cohorts-progress-2026-01-01.csv"
    assert "2 rows as CSV" in result.response.content
    rows = parse_csv(payload)
    assert list(rows[0]) == list(PROGRESS_COLUMNS)
    by_id = {row["member_id"]: row for row in rows}
    assert set(by_id) == {str(world.alice.id), str(world.bob.id)}
    alice = by_id[str(world.alice.id)]
    assert alice["display_name"] == world.alice.member.display_name  # type: ignore[union-attr]
    assert (alice["cohort"], alice["roadmap"]) == ("Spring", "python-europe")
    assert (alice["checkpoints_done"], alice["checkpoints_total"], alice["percent"]) == ("2", "13", "15.4")
    assert alice["joined_at_utc"] == "2026-01-01T00:00:00Z"
    assert alice["last_activity_at_utc"] == "2026-01-01T01:00:00Z"
    assert (alice["current_phase"], alice["pace"]) == ("Foundations", "ahead")
    bob = by_id[str(world.bob.id)]
    assert (bob["checkpoints_done"], bob["last_activity_at_utc"], bob["pace"]) == ("0", "", "on track")


async def test_moderator_downloads_checkpoints_as_json(world: World) -> None:
    result = await world.moderator.slash(world.channel, "export checkpoints", cohort="spring", format="json")

    name, payload = await download(result)
    assert name == "waypoint-study-hall-spring-checkpoints-2026-01-01.json"
    document = json.loads(payload)
    assert (document["schema_version"], document["kind"], document["cohort"]) == (2, "checkpoints", "Spring")
    assert document["columns"] == list(CHECKPOINT_COLUMNS)
    assert len(document["rows"]) == 2 * 13
    done = [
        (row["member_id"], row["checkpoint_key"], row["completed_at_utc"], row["evidence_url"])
        for row in document["rows"]
        if row["status"] == "done"
    ]
    assert done == [
        (str(world.alice.id), "python-oop-async", "2026-01-01T00:00:00Z", "https://github.com/alice/oop"),
        (str(world.alice.id), "crud-api", "2026-01-01T01:00:00Z", None),
    ]
    assert {row["member_id"] for row in document["rows"] if row["status"] == "open"} == {
        str(world.alice.id),
        str(world.bob.id),
    }


async def test_moderator_downloads_reviews_as_xlsx(world: World) -> None:
    result = await world.moderator.slash(world.channel, "export reviews", format="xlsx")

    name, payload = await download(result)
    assert name == "waypoint-study-hall-all-cohorts-reviews-2026-01-01.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == list(REVIEW_COLUMNS)
    assert sheet.max_row == 1  # no review rounds yet


async def test_progress_as_xlsx_has_typed_cells(world: World) -> None:
    _, payload = await download(await world.moderator.slash(world.channel, "export progress", format="xlsx"))

    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    rows = {
        row[0]: dict(zip(PROGRESS_COLUMNS, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    alice = rows[str(world.alice.id)]
    assert alice["checkpoints_done"] == 2
    assert alice["percent"] == 15.4


async def test_non_moderators_are_denied(world: World) -> None:
    for command in ("export progress", "export checkpoints", "export reviews", "export audit", "stats"):
        result = await world.alice.slash(world.channel, command)
        assert result.ephemeral, command
        assert "Only moderators" in result.response.content, command
        assert not result.response.attachments, command
    # Nothing was exported, so nothing was logged.
    audit = await world.moderator.slash(world.channel, "export audit")
    assert "Nothing has been exported or erased yet" in audit.response.content


async def test_the_moderator_role_may_export(world: World) -> None:
    helpers = world.guild.create_role("Helpers")
    helper = world.guild.add_member(world.env.create_user("helper"), roles=[helpers])
    await world.moderator.slash(world.channel, "config moderator-role", role=helpers)

    _, payload = await download(await helper.slash(world.channel, "export progress", format="csv"))

    assert len(parse_csv(payload)) == 2


async def test_unknown_cohort_is_explained(world: World) -> None:
    result = await world.moderator.slash(world.channel, "export progress", cohort="Sprung")

    assert result.ephemeral
    assert "no cohort called **Sprung**" in result.response.content
    assert "Did you mean `Spring`" in result.response.content
    assert not result.response.attachments


async def test_an_export_never_contains_another_servers_rows(simcord_env: simcord.Env) -> None:
    first, second = build_world(simcord_env, "First"), build_world(simcord_env, "Second")
    for world in (first, second):
        await world.create_cohort(name="Shared")
        await world.alice.slash(world.channel, "cohort join", cohort="Shared")
        await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    await second.bob.slash(second.channel, "cohort join", cohort="Shared")

    for kind in ("progress", "checkpoints"):
        _, payload = await download(
            await second.moderator.slash(second.channel, f"export {kind}", format="csv")
        )
        ids = {row["member_id"] for row in parse_csv(payload)}
        assert ids == {str(second.alice.id), str(second.bob.id)}, kind
    _, payload = await download(await first.moderator.slash(first.channel, "export progress", format="csv"))
    assert [row["member_id"] for row in parse_csv(payload)] == [str(first.alice.id)]


async def test_hostile_display_names_cannot_inject_formulas(world: World) -> None:
    mallory = world.guild.add_member(world.env.create_user("mallory"), nick=HOSTILE)
    await mallory.slash(world.channel, "cohort join", cohort="Spring")

    _, payload = await download(await world.moderator.slash(world.channel, "export progress", format="csv"))
    rows = {row["member_id"]: row for row in parse_csv(payload)}
    assert rows[str(mallory.id)]["display_name"] == "'" + HOSTILE

    _, workbook = await download(
        await world.moderator.slash(world.channel, "export checkpoints", format="xlsx")
    )
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    names = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == str(mallory.id)]
    assert len(names) == 13
    assert all(cell.value == HOSTILE and cell.data_type == "s" and cell.quotePrefix for cell in names)


async def test_a_file_over_the_upload_limit_is_zipped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _, full = await download(await world.moderator.slash(world.channel, "export checkpoints", format="csv"))
    monkeypatch.setattr(loaded_cog_module(), "upload_limit", lambda _interaction: len(full) - 1)

    result = await world.moderator.slash(world.channel, "export checkpoints", format="csv")

    name, payload = await download(result)
    assert name == "waypoint-study-hall-all-cohorts-checkpoints-2026-01-01.csv.zip"
    assert "zipped" in result.response.content
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert archive.read("waypoint-study-hall-all-cohorts-checkpoints-2026-01-01.csv") == full


async def test_a_file_that_cannot_fit_says_what_to_narrow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaded_cog_module(), "upload_limit", lambda _interaction: 200)

    result = await world.moderator.slash(world.channel, "export checkpoints", format="xlsx")

    assert result.ephemeral
    assert not result.response.attachments
    assert "does not fit" in result.response.content
    assert "narrow it with the `cohort` option" in result.response.content


async def test_exports_are_listed_in_the_audit_log(world: World) -> None:
    await world.moderator.slash(world.channel, "export progress")
    await world.moderator.slash(world.channel, "export checkpoints", cohort="Spring", format="json")

    audit = await world.moderator.slash(world.channel, "export audit")

    assert audit.ephemeral
    text = text_of(audit)
    assert text.index("`export.checkpoints`") < text.index("`export.progress`")  # newest first
    assert f"<@{world.moderator.id}>" in text
    assert "checkpoints export of Spring as json: 26 rows" in text


async def test_stats_sends_a_chart_and_a_summary(world: World) -> None:
    await world.env.advance_time(15 * 24 * 3600)
    await world.bob.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")

    result = await world.moderator.slash(world.channel, "stats", cohort="Spring")

    name, png = await download(result)
    assert name == "waypoint-stats-2026-01-16.png"
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (1200, 700)
    text = result.response.content
    assert "**Spring · Python Backend Developer (Europe)**" in text
    # Alice's last completion was 15 days ago: stalled. Bob's was today.
    assert "2 active members; 1 stalled" in text
    assert "3 checkpoints completed in the last 8 weeks, 1 of them this week." in text
    assert "Most members are at **Foundations** (2)." in text


async def test_stats_of_a_server_without_members(simcord_env: simcord.Env) -> None:
    world = build_world(simcord_env)

    result = await world.moderator.slash(world.channel, "stats")

    name, png = await download(result)
    assert name.endswith(".png")
    assert png.startswith(b"\x89PNG")
    assert "no members or completions yet" in result.response.content
