"""The /stats chart: a PNG of the right size and weight, for full, partial and empty cohorts."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from bot.stats.chart import CARD, HEIGHT_PX, WIDTH_PX, StatsSnapshot, _shorten, render_stats_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

BUSY = StatsSnapshot(
    cohort_label="Spring 2026 · Backend",
    members_per_phase=[("Foundations", 12), ("Databases and SQL", 30), ("APIs", 7), ("Deploy", 0)],
    weekly_completions=[(f"W{week}", (week * 7) % 23) for week in range(1, 53)],
    stalled_members=5,
    active_members=44,
)
EMPTY = StatsSnapshot(
    cohort_label="New cohort",
    members_per_phase=[],
    weekly_completions=[],
    stalled_members=0,
    active_members=0,
)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def hex_colour(pixel: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*pixel[:3])


@pytest.mark.parametrize("snapshot", [BUSY, EMPTY], ids=["busy", "empty"])
def test_chart_is_a_modest_png_of_the_expected_size(snapshot: StatsSnapshot) -> None:
    png = render_stats_png(snapshot)

    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 200_000
    image = decode(png)
    assert image.format == "PNG"
    assert image.size == (WIDTH_PX, HEIGHT_PX) == (1200, 700)


def test_chart_sits_on_its_own_opaque_card() -> None:
    image = decode(render_stats_png(BUSY)).convert("RGBA")

    corner = image.getpixel((2, 2))
    assert isinstance(corner, tuple)
    assert corner[3] == 255
    assert hex_colour(corner) == CARD


def test_empty_snapshot_is_recognised_and_drawn_differently() -> None:
    zero_counts = StatsSnapshot("Zeros", [("Phase 1", 0)], [("W1", 0)], 0, 0)
    someone = StatsSnapshot("One", [("Phase 1", 1)], [("W1", 0)], 0, 1)

    assert EMPTY.is_empty
    assert zero_counts.is_empty
    assert not someone.is_empty
    assert not BUSY.is_empty
    # The "no data" card has no bars, so it is far plainer than a chart.
    empty_colours = decode(render_stats_png(EMPTY)).convert("RGB").getcolors(maxcolors=1_000_000)
    busy_colours = decode(render_stats_png(BUSY)).convert("RGB").getcolors(maxcolors=1_000_000)
    assert empty_colours is not None
    assert busy_colours is not None
    assert len(empty_colours) < len(busy_colours)


def test_members_without_completions_still_render() -> None:
    png = render_stats_png(StatsSnapshot("Week one", [("Phase 1", 3)], [("W1", 0)], 0, 3))

    assert decode(png).size == (1200, 700)


def test_rendering_is_deterministic() -> None:
    assert render_stats_png(BUSY) == render_stats_png(BUSY)


def test_emoji_in_labels_do_not_draw_missing_glyph_boxes() -> None:
    snapshot = StatsSnapshot("🚀 Rocket cohort", [("🔥", 2), ("APIs ✅", 1)], [("W1 🎉", 1)], 1, 2)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns about every glyph it cannot draw
        png = render_stats_png(snapshot)

    assert png.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("label", "limit", "expected"),
    [
        ("Databases", 26, "Databases"),
        ("🚀  Rocket   cohort", 26, "Rocket cohort"),
        ("🔥", 26, "?"),
        ("Authentication and authorisation", 12, "Authenticat…"),
    ],
)
def test_labels_are_cleaned_and_shortened(label: str, limit: int, expected: str) -> None:
    assert _shorten(label, limit) == expected
