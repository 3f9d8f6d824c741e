"""The /stats picture: members per phase, weekly completions, active and stalled members.

Rendering uses matplotlib's object-oriented API (``Figure`` with an Agg canvas) and never
pyplot: no global figure registry, no backend switching, nothing to close, so a call can run
in a worker thread (``asyncio.to_thread``) while the bot keeps serving.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ticker import MaxNLocator

from bot.stats.rules import StatsSnapshot

__all__ = ["StatsSnapshot", "render_stats_png", "stats_figure"]


# Palette. Discord shows images on #313338 (dark theme) or #ffffff (light theme), and no text
# colour reads well on a transparent background over both: a mid-grey reaches about 3:1
# against each, under the 4.5:1 that small text needs. So the chart carries its own opaque,
# dark slate card: on the dark theme it sits like a native embed, on the light theme it reads
# as a picture, and its contrast never depends on the viewer's theme. Text is near-white
# (about 12:1 on the card); the accents are Okabe-Ito colours, distinguishable with the
# common colour-vision deficiencies and above 3:1 on the card.
CARD: Final = "#2b2d31"
PANEL: Final = "#313338"
TEXT: Final = "#f2f3f5"
MUTED_TEXT: Final = "#b5bac1"
GRID: Final = "#4e5058"
PHASE_ACCENT: Final = "#56b4e9"  # sky blue
WEEKLY_ACCENT: Final = "#009e73"  # bluish green
STALLED_ACCENT: Final = "#e69f00"  # orange

WIDTH_PX: Final = 1200
HEIGHT_PX: Final = 700
DPI: Final = 100
# Discord shows an image attachment at most about 550 pixels wide in the chat, so this picture is
# seen at under half its size: every text is at least MIN_TEXT_PT, 9 pixels tall once shrunk.
DISCORD_INLINE_WIDTH_PX: Final = 550
MIN_TEXT_PT: Final = 15
_MAX_LABEL: Final = 26
_PHASE_LINE: Final = 24  # characters per line of a phase name, two lines at most
_PHASE_LINE_SPACING: Final = 0.9
_MAX_WEEK_TICKS: Final = 8
_PANEL_TOP: Final = 0.76
_MIN_SLOTS: Final = 5  # bar slots reserved on an axis, so one phase or one week is not a slab


def render_stats_png(snapshot: StatsSnapshot) -> bytes:
    """One 1200x700 PNG: bars of members per phase, bars of weekly completions, two counts.

    An empty snapshot (no members, no completions) gives a "No data yet" card instead of empty
    axes, so a new cohort's /stats still explains itself.
    """
    figure = stats_figure(snapshot)
    buffer = io.BytesIO()
    # No "Software" chunk: the same snapshot always renders to the same bytes.
    figure.savefig(buffer, format="png", facecolor=CARD, metadata={"Software": None})
    return buffer.getvalue()


def stats_figure(snapshot: StatsSnapshot) -> Figure:
    """The chart as a matplotlib figure (with its Agg canvas), before it is saved."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=CARD)
    FigureCanvasAgg(figure)
    figure.text(
        0.03, 0.94, _shorten(snapshot.cohort_label, 60), color=TEXT, fontsize=24, weight="bold", va="center"
    )
    if snapshot.is_empty:
        _draw_no_data(figure)
    else:
        # Phases on the left, as tall as the card allows (their names take two lines); weeks on
        # the right, with room underneath for the slanted dates and the axis label.
        phases = figure.add_gridspec(1, 1, left=0.255, right=0.5, top=_PANEL_TOP, bottom=0.1)
        weeks = figure.add_gridspec(1, 1, left=0.6, right=0.98, top=_PANEL_TOP, bottom=0.27)
        _draw_phases(figure.add_subplot(phases[0, 0]), snapshot.members_per_phase)
        _draw_weeks(figure.add_subplot(weeks[0, 0]), snapshot.weekly_completions)
        _draw_counts(figure, snapshot.active_members, snapshot.stalled_members)
    return figure


def _shorten(label: str, limit: int = _MAX_LABEL) -> str:
    """The label without characters the font cannot draw, cut with an ellipsis when too long.

    Cohort and phase names may hold emoji (or scripts the bundled font lacks) that would be
    drawn as empty boxes; they are dropped, and a label left empty becomes "?".
    """
    # matplotlib caches both lookups (the font object per thread), so this stays cheap.
    font = get_font(findfont(FontProperties()))
    kept = "".join(char for char in label if char.isspace() or font.get_char_index(ord(char)) != 0)
    cleaned = " ".join(kept.split()) or "?"
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def _wrapped(label: str, width: int = _PHASE_LINE, lines: int = 2) -> str:
    """A phase name on at most ``lines`` lines of ``width`` characters, cut with an ellipsis after."""
    cleaned = _shorten(label, 10_000)
    if lines == 1:
        return _shorten(cleaned, _MAX_LABEL)
    wrapped = textwrap.wrap(cleaned, width, break_long_words=True) or ["?"]
    if len(wrapped) > lines:
        last = " ".join(wrapped[lines - 1 :])
        wrapped = [*wrapped[: lines - 1], last[: width - 1].rstrip() + "…"]
    return "\n".join(wrapped)


def _lines_per_phase(axes: Axes, phases: int) -> int:
    """Two lines per phase name when each bar's slot is tall enough for them, else one."""
    slot_px = axes.get_position().height * HEIGHT_PX / max(phases, _MIN_SLOTS)
    line_px = MIN_TEXT_PT * DPI / 72 * _PHASE_LINE_SPACING
    return 2 if slot_px >= 2 * line_px + 4 else 1


def _style_axes(axes: Axes, title: str) -> None:
    axes.set_facecolor(PANEL)
    axes.set_title(title, color=TEXT, fontsize=17, loc="left", pad=12)
    axes.tick_params(colors=MUTED_TEXT, labelsize=MIN_TEXT_PT, length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_axisbelow(True)


def _draw_phases(axes: Axes, members_per_phase: Sequence[tuple[str, int]]) -> None:
    _style_axes(axes, "Members by current phase")
    if not members_per_phase:
        _panel_message(axes, "No phases yet")
        return
    labels = [
        _wrapped(label, lines=_lines_per_phase(axes, len(members_per_phase)))
        for label, _ in members_per_phase
    ]
    counts = [count for _, count in members_per_phase]
    positions = range(len(counts))
    bars = axes.barh(positions, counts, color=PHASE_ACCENT, height=0.6)
    axes.set_yticks(list(positions), labels=labels, color=TEXT, linespacing=_PHASE_LINE_SPACING)
    axes.set_xlabel("Members", color=MUTED_TEXT, fontsize=MIN_TEXT_PT)
    # The first phase of the roadmap on top; a few phases keep slim bars rather than slabs.
    axes.set_ylim(max(len(counts), _MIN_SLOTS) - 0.5, -0.5)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axes.grid(axis="x", color=GRID, linewidth=0.8)
    axes.set_xlim(0, max(max(counts), 1) * 1.15)  # room for the labels after the bars
    axes.bar_label(bars, padding=4, color=TEXT, fontsize=MIN_TEXT_PT)


def _draw_weeks(axes: Axes, weekly_completions: Sequence[tuple[str, int]]) -> None:
    _style_axes(axes, "Checkpoints completed per week")
    if not any(count for _, count in weekly_completions):
        _panel_message(axes, "No completions yet")
        return
    # "Jan 19" as "Jan" over "19": eight of them fit side by side, level and legible.
    labels = [_shorten(label, 12).replace(" ", "\n", 1) for label, _ in weekly_completions]
    counts = [count for _, count in weekly_completions]
    positions = list(range(len(counts)))
    axes.bar(positions, counts, color=WEEKLY_ACCENT, width=0.7)
    # At most eight week labels, always the latest week.
    step = max(1, -(-len(labels) // _MAX_WEEK_TICKS))
    shown = positions[::-1][::step][::-1]
    axes.set_xticks(shown, labels=[labels[index] for index in shown], color=TEXT, linespacing=1.0)
    axes.set_xlabel("Week starting (Monday, UTC)", color=MUTED_TEXT, fontsize=MIN_TEXT_PT)
    axes.set_ylabel("Checkpoints completed", color=MUTED_TEXT, fontsize=MIN_TEXT_PT)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_xlim(-0.6, max(len(counts), _MIN_SLOTS) - 0.4)


def _draw_counts(figure: Figure, active_members: int, stalled_members: int) -> None:
    """Two counts under the title; stalled members in the warning colour."""
    for x, number, caption, colour in (
        (0.03, active_members, "active member", TEXT),
        (0.3, stalled_members, "stalled member", STALLED_ACCENT if stalled_members else TEXT),
    ):
        plural = "" if number == 1 else "s"
        figure.text(
            x, 0.865, f"{number:,} {caption}{plural}", color=colour, fontsize=18, weight="bold", va="center"
        )


def _draw_no_data(figure: Figure) -> None:
    figure.text(0.5, 0.52, "No data yet", color=TEXT, fontsize=34, weight="bold", ha="center", va="center")
    figure.text(
        0.5,
        0.4,
        "Stats appear once members join the cohort and complete checkpoints.",
        color=MUTED_TEXT,
        fontsize=MIN_TEXT_PT + 2,
        ha="center",
        va="center",
    )


def _panel_message(axes: Axes, message: str) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(
        0.5,
        0.5,
        message,
        color=MUTED_TEXT,
        fontsize=MIN_TEXT_PT,
        ha="center",
        va="center",
        transform=axes.transAxes,
    )
