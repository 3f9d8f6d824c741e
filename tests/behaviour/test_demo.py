"""`waypoint demo` shows every feature a newcomer should see, on the real bot."""

from __future__ import annotations

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
