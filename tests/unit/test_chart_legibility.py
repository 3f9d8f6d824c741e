"""The /stats chart read at the size Discord shows it (issue: hostile use, "small things").

Week labels ran together ("Jan 19Jan 26"), long phase names were cut off, the axes had no
labels and tick text was about 5 pixels tall at Discord's inline width. The figure is drawn with
the Agg renderer and its texts are measured.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from bot.stats.chart import DISCORD_INLINE_WIDTH_PX, DPI, WIDTH_PX, StatsSnapshot, stats_figure

MIN_INLINE_PX = 9.0
SPRINT_PHASES = [
    "Days 1-10: pick a language and set up",
    "Days 11-20: first REST API",
    "Days 21-30: SQL, caching and background work",
    "Days 31-40: logging, metrics and limits",
    "Days 41-50: algorithm practice",
    "Days 51-60: containers and cloud",
    "Days 61-70: integration tests",
    "Days 71-80: docs, portfolio and resume",
    "Days 81-90: apply and interview",
    "Finished",
]
WEEKS = ["Dec 29", "Jan 5", "Jan 12", "Jan 19", "Jan 26", "Feb 2", "Feb 9", "Feb 16"]
SNAPSHOTS = {
    "ten long phases": StatsSnapshot(
        "Spring 2026 · Python Backend Developer (Europe)",
        [(name, index * 3) for index, name in enumerate(SPRINT_PHASES)],
        [(week, 5 + index) for index, week in enumerate(WEEKS)],
        5,
        44,
    ),
    "four phases": StatsSnapshot(
        "Spring",
        [("Foundations", 12), ("Databases and SQL", 30), ("APIs", 7), ("Deploy", 0)],
        [(week, 2) for week in WEEKS],
        0,
        49,
    ),
    "a year of weeks": StatsSnapshot(
        "All cohorts", [("Foundations", 1)], [(f"W{week}", week % 5) for week in range(1, 53)], 1, 1
    ),
}


def drawn(snapshot: StatsSnapshot) -> Figure:
    figure = stats_figure(snapshot)
    figure.canvas.draw()
    return figure


def texts(figure: Figure) -> list[Text]:
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]


def box(text: Text, figure: Figure) -> Bbox:
    return text.get_window_extent(figure.canvas.get_renderer())  # type: ignore[attr-defined]


def inline_px(points: float) -> float:
    return points * DPI / 72 * DISCORD_INLINE_WIDTH_PX / WIDTH_PX


@pytest.mark.parametrize("snapshot", SNAPSHOTS.values(), ids=SNAPSHOTS.keys())
def test_every_text_is_legible_at_discords_inline_width(snapshot: StatsSnapshot) -> None:
    figure = drawn(snapshot)

    small = {text.get_text(): inline_px(text.get_fontsize()) for text in texts(figure)}
    assert {text: px for text, px in small.items() if px < MIN_INLINE_PX} == {}


@pytest.mark.parametrize("snapshot", SNAPSHOTS.values(), ids=SNAPSHOTS.keys())
def test_no_two_texts_overlap_and_none_leaves_the_card(snapshot: StatsSnapshot) -> None:
    figure = drawn(snapshot)
    card = figure.bbox
    boxes = [(text.get_text(), box(text, figure)) for text in texts(figure)]

    for label, extent in boxes:
        assert (
            card.x0 <= extent.x0 and extent.x1 <= card.x1 and card.y0 <= extent.y0 and extent.y1 <= card.y1
        ), label
    overlapping = [(a, b) for (a, first), (b, second) in combinations(boxes, 2) if first.overlaps(second)]
    assert overlapping == []


def test_both_charts_say_what_their_axes_count() -> None:
    figure = drawn(SNAPSHOTS["four phases"])
    phases, weeks = (axes for axes in figure.axes if isinstance(axes, Axes))

    assert phases.get_xlabel() == "Members"
    assert weeks.get_ylabel() == "Checkpoints completed"
    assert "Week starting" in weeks.get_xlabel()


def test_long_phase_names_are_wrapped_not_cut() -> None:
    figure = drawn(SNAPSHOTS["ten long phases"])
    phases = figure.axes[0]

    shown = [label.get_text().replace("\n", " ") for label in phases.get_yticklabels()]
    assert shown == SPRINT_PHASES


def test_eight_weeks_are_all_labelled_and_the_latest_always() -> None:
    figure = drawn(SNAPSHOTS["ten long phases"])
    weeks = figure.axes[1]

    assert [label.get_text().replace("\n", " ") for label in weeks.get_xticklabels()] == WEEKS
    year = drawn(SNAPSHOTS["a year of weeks"]).axes[1]
    shown = [label.get_text() for label in year.get_xticklabels()]
    assert shown[-1] == "W52" and len(shown) <= 8


def test_the_counts_agree_with_their_number() -> None:
    shown = {text.get_text() for text in texts(drawn(SNAPSHOTS["a year of weeks"]))}

    assert {"1 active member", "1 stalled member"} <= shown
