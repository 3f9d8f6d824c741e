"""Every word of ``/leaderboard`` and ``/privacy leaderboard``: pure functions of the service's views.

Names are the server's display names, passed in by the cog; each is cut to ``NAME_LIMIT`` visible
characters and escaped, so ten rows of the longest, most hostile names still fit one embed and
ping nobody.
"""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.kernel.text import echo_code
from bot.momentum.rules import PeriodKind
from bot.momentum.views import Board, BoardEntry, Standing, StreakView, VisibilityChange
from cogs._ui import BRAND_COLOUR, shown, timestamp

NAME_LIMIT = 40
TIE_NOTE = (
    "One point per checkpoint done and per review given; on a tie, whoever got there first ranks higher."
)
PERIOD_WORDS = {PeriodKind.WEEK: "this week", PeriodKind.MONTH: "this month", PeriodKind.ALL: "so far"}
WITHIN = {PeriodKind.WEEK: " this week", PeriodKind.MONTH: " this month", PeriodKind.ALL: ""}

Names = Callable[[int, str], str]  # (user id, stored name) -> the name to show


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def member_name(name: str) -> str:
    """A display name as a leaderboard shows it: visible characters, short, no markup or mentions."""
    return shown(echo_code(name, NAME_LIMIT))


def why(checkpoints: int, reviews: int) -> str:
    return f"{counted(checkpoints, 'checkpoint')}, {counted(reviews, 'review')}"


def period_title(board: Board) -> str:
    if board.key.kind is PeriodKind.WEEK:
        return f"week {board.key.period}" if board.started else "this week"
    if board.key.kind is PeriodKind.MONTH and board.month_start is not None:
        return board.month_start.strftime("%B %Y")
    return "all time"


def entry_line(entry: BoardEntry, name: str, mine: bool) -> str:
    medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(entry.rank, f"`{entry.rank:>2}.`")
    who = f"**{name}** (you)" if mine else name
    return f"{medal} {who} · **{counted(entry.points, 'point')}** ({why(entry.checkpoints, entry.reviews)})"


def standing_line(board: Board) -> str | None:
    """The caller's own place on the public board; None when it is theirs to hear privately or not at all."""
    me = board.me
    if not me.in_cohort or me.hidden or not board.started:
        return None
    if me.rank is None:
        return f"You have no points{WITHIN[board.key.kind]} yet: mark a checkpoint done or record a review."
    return (
        f"You're **#{me.rank}** of {board.listed} with {counted(me.points, 'point')}"
        f" ({why(me.checkpoints, me.reviews)})."
    )


def board_embed(board: Board, user_id: int, names: Names) -> discord.Embed:
    title = f"🏆 {shown(echo_code(board.cohort_name, 60))} · {period_title(board)}"
    if not board.started:
        description = "The cohort hasn't started yet: the first week's board opens on its first day."
    elif not board.entries:
        description = (
            f"Nobody has points{WITHIN[board.key.kind]} yet. Mark a checkpoint done or record a review"
            " to be the first."
        )
    else:
        description = "\n".join(
            entry_line(entry, member_name(names(entry.user_id, entry.name)), entry.user_id == user_id)
            for entry in board.entries
        )
    embed = discord.Embed(title=title, description=description, colour=BRAND_COLOUR)
    standing = standing_line(board)
    if standing is not None:
        embed.add_field(name="Your place", value=standing, inline=False)
    embed.set_footer(text=TIE_NOTE)
    return embed


def hidden_note(board: Board) -> str | None:
    """Told only to a hidden caller, privately: their own score, which the public board leaves out."""
    me: Standing = board.me
    if not me.hidden or not me.in_cohort:
        return None
    when = PERIOD_WORDS[board.key.kind].capitalize()
    return (
        f"You're hidden from leaderboards, so the board leaves you out. {when}"
        f" you have {counted(me.points, 'point')} ({why(me.checkpoints, me.reviews)})."
        " `/privacy leaderboard choice:show` puts you back on."
    )


def visibility_text(change: VisibilityChange) -> str:
    if change.hidden:
        head = "You're now hidden" if change.changed else "You're already hidden"
        return (
            f"{head} from leaderboards and from the streak highlights in the weekly prompt."
            " Your progress still counts; `/progress` and `/leaderboard` still show you your own score."
        )
    head = "You're now shown" if change.changed else "You're already shown"
    return f"{head} on leaderboards and in the weekly prompt's streak highlights."


def streak_text(view: StreakView) -> str:
    """The streak line of ``/progress``."""
    streak = view.streak
    if view.week < 1:
        return "Streaks start with the cohort's first week."
    if streak.current == 0:
        line = "No streak yet: a checkpoint or a review this week starts one."
    else:
        this_week = " (this week counts)" if streak.week_active else ""
        line = f"🔥 {counted(streak.current, 'week')} in a row{this_week}"
    line += f" · best {counted(streak.best, 'week')}"
    if streak.at_risk and streak.ends_at is not None:
        line += (
            f"\n⚠️ At risk: nothing done this week yet, and the week ends {timestamp(streak.ends_at, 'R')}."
            " A checkpoint or a review keeps it going."
        )
    return line
