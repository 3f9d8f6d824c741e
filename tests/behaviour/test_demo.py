"""`waypoint demo` shows every feature a newcomer should see, on the real bot."""

from __future__ import annotations

import re
from pathlib import Path

from bot.demo import run_demo


async def test_the_demo_walks_through_every_feature() -> None:
    lines: list[str] = []
    assert await run_demo(lines.append) == 0
    shown = "\n".join(lines)
    for command in (
        "/roadmap list",
        "/cohort create",
        "/checkpoint done",
        "/progress",
        "/prompts post-now",
        "/review pair",
        "/review done",
        "/review history",
        "/export progress",
        "/stats",
        "/privacy my-data",
        "/privacy forget-me",
    ):
        assert f"runs {command}" in shown, command
    assert "now shows the weekly prompt" in shown
    assert ".csv (" in shown and ".png (" in shown and ".json (" in shown
    assert "presses “Delete my data”" in shown
    assert "<@" not in shown  # mentions are shown as names, as a Discord client would


def _normalised(line: str) -> str:
    """File sizes depend on library versions (fonts, compression); everything else must match."""
    return re.sub(r"\(\d[\d,]* bytes\)", "(N bytes)", line.rstrip())


README = Path(__file__).resolve().parents[2] / "README.md"
README_TEXT = README.read_text(encoding="utf-8")


async def test_the_readme_sample_is_what_the_demo_prints() -> None:
    readme = README_TEXT
    section = readme.split("## What it looks like", 1)[1]
    sample = section.split("```", 2)[1]
    lines: list[str] = []
    assert await run_demo(lines.append) == 0
    printed = {_normalised(line) for chunk in lines for line in chunk.splitlines()}
    missing = [line for line in sample.splitlines() if line.strip() and _normalised(line) not in printed]
    assert missing == [], "update the README sample from `make demo`"
