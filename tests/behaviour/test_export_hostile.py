"""`/export` and `/stats` used carelessly or with intent (issue: hostile use).

Every string option gets long, invisible, control, markup and mention values: each is answered
(never an endless "thinking…"), ephemerally, within Discord's limits, changes nothing, and never
reaches the tree's on_error. Exports are read back as a moderator's spreadsheet would read them.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest
import simcord
from simcord import OptionError

from bot.app import WaypointBot
from bot.exports.formats import CHECKPOINT_COLUMNS, PROGRESS_COLUMNS, REVIEW_COLUMNS
from tests.behaviour.world import World, build_world

HOSTILE = {
    "long": "S" * 100,  # the longest value Discord lets through (max_length)
    "invisible": "Spr\u200bi\u200dn\u2060g\ufeff\u00ad\u3164",
    "control": "Spring\u202e\x07",
    "markup": "[Free Nitro](https://evil.example) **bold** `code`",
    "mentions": "<@123> @everyone @here <@&456>",
}
LOOKALIKES = {"invisible", "control"}
COMMANDS = ["export progress", "export checkpoints", "export reviews", "stats"]


@pytest.fixture
async def world(simcord_env: simcord.Env) -> World:
    world = build_world(simcord_env)
    await world.create_cohort()
    for member in (world.alice, world.bob):
        await member.slash(world.channel, "cohort join", cohort="Spring")
    await world.alice.slash(world.channel, "checkpoint done", checkpoint="python-oop-async")
    return world


def bot_of(world: World) -> WaypointBot:
    bot = world.env.bot
    assert isinstance(bot, WaypointBot)
    return bot


async def audit_count(world: World) -> int:
    return len(await bot_of(world).services.exports.recent_audit(world.guild.id))


async def attachment(result: Any) -> tuple[str, bytes]:
    assert result.ephemeral
    (file,) = result.response.attachments
    return file.filename, await file.read()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_cohort_values_are_answered_briefly_and_change_nothing(
    world: World, command: str, kind: str
) -> None:
    before = await audit_count(world)

    result = await world.moderator.slash(world.channel, command, cohort=HOSTILE[kind])

    assert result.response is not None, "no answer: the member would see an endless 'thinking…'"
    assert result.ephemeral
    content = result.response.content
    assert len(content) <= 400
    assert "](https://evil.example)" not in content and "<@123>" not in content
    if kind in LOOKALIKES:
        # Lookups ignore what cannot be seen: the member meant Spring, and gets Spring.
        assert "**Spring" in content and len(result.response.attachments) == 1
    else:
        assert "no cohort called" in content
        assert not result.response.attachments
        assert await audit_count(world) == before
    assert world.env.errors == []


@pytest.mark.parametrize("command", COMMANDS)
async def test_a_6000_character_cohort_is_stopped_by_discord_itself(world: World, command: str) -> None:
    with pytest.raises(OptionError, match="at most 100 characters"):
        await world.moderator.slash(world.channel, command, cohort="x" * 6000)


async def test_a_refusal_after_the_export_was_deferred_is_delivered(world: World) -> None:
    """/export defers before building the file; its refusals arrive as the followup."""
    result = await world.moderator.slash(world.channel, "export progress", cohort="Sprung")

    assert result.ephemeral and "Did you mean `Spring`" in result.response.content
    assert "thinking" not in result.response.content.lower()


# ------------------------------------------------------------------- the file a moderator opens


async def test_the_default_export_is_a_spreadsheet_that_keeps_every_digit_of_an_id(world: World) -> None:
    result = await world.moderator.slash(world.channel, "export progress")

    name, payload = await attachment(result)
    assert name.endswith("-progress-2026-01-01.xlsx")
    assert "as XLSX" in result.response.content
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header == list(PROGRESS_COLUMNS)
    ids = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert {cell.value for cell in ids} == {str(world.alice.id), str(world.bob.id)}
    assert all(cell.data_type == "s" for cell in ids)  # text: a number would lose the last digits
    joined = sheet.cell(row=2, column=header.index("joined_at_utc") + 1)
    assert joined.value == datetime(2026, 1, 1, 0, 0)
    assert joined.is_date


@pytest.mark.parametrize(
    ("columns", "command"),
    [
        (PROGRESS_COLUMNS, "export progress"),
        (CHECKPOINT_COLUMNS, "export checkpoints"),
        (REVIEW_COLUMNS, "export reviews"),
    ],
)
async def test_every_timestamp_column_says_it_is_utc(
    world: World, columns: tuple[str, ...], command: str
) -> None:
    _, payload = await attachment(await world.moderator.slash(world.channel, command))
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]

    assert header == list(columns)
    stamps = [name for name in header if "_at" in str(name)]
    assert stamps and all(str(name).endswith("_at_utc") for name in stamps)


@pytest.mark.parametrize(
    "nick", ["\u00a0=1+1", '\u3000=HYPERLINK("http://evil.example","x")', "\u2003@SUM(A1)"]
)
async def test_a_formula_behind_blanks_in_a_display_name_stays_text(world: World, nick: str) -> None:
    mallory = world.guild.add_member(world.env.create_user("mallory"), nick=nick)
    await mallory.slash(world.channel, "cohort join", cohort="Spring")

    _, raw_csv = await attachment(await world.moderator.slash(world.channel, "export progress", format="csv"))
    rows = {
        row["member_id"]: row for row in csv.DictReader(io.StringIO(raw_csv.decode("utf-8-sig"), newline=""))
    }
    stored = rows[str(mallory.id)]["display_name"]
    assert stored.startswith("'")  # a "Trim spaces" import keeps the apostrophe in front

    _, workbook = await attachment(await world.moderator.slash(world.channel, "export progress"))
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    (cell,) = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == str(mallory.id)]
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value == stored[1:]
