"""The wording of `/leaderboard`, `/privacy leaderboard` and the streak line, without Discord."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.momentum.rules import PeriodKey, PeriodKind, Streak
from bot.momentum.views import Board, BoardEntry, Standing, StreakView, VisibilityChange
from bot.replies import EMBED_TOTAL_LIMIT
from cogs.leaderboard import render
from cogs.prompts.render import cohort_doing
from tests.unit.test_prompt_render import content as prompt_content

WEEK_3 = PeriodKey(PeriodKind.WEEK, 3)


def _board(entries: int, me: Standing, *, key: PeriodKey = WEEK_3) -> Board:
    rows = tuple(
        BoardEntry(rank, 100 + rank, f"member {rank}", rank, 1, rank + 1) for rank in range(1, entries + 1)
    )
    return Board("Spring", key, True, date(2026, 1, 1), rows, max(entries, me.rank or 0), me)


def stored(_user_id: int, name: str) -> str:
    return name


def test_rows_show_the_counts_behind_each_score_and_mark_the_caller() -> None:
    board = _board(3, Standing(True, False, 2, 2, 1, 3))
    embed = render.board_embed(board, 102, stored)
    lines = (embed.description or "").splitlines()
    assert lines[0].startswith("🥇 member 1 · **2 points** (1 checkpoint, 1 review)")
    assert "**member 2** (you)" in lines[1]
    assert embed.title == "🏆 Spring · week 3"
    assert [field.value for field in embed.fields] == [
        "You're **#2** of 3 with 3 points (2 checkpoints, 1 review)."
    ]


def test_a_hidden_caller_is_not_on_the_public_board_but_told_privately() -> None:
    board = _board(2, Standing(True, True, None, 4, 0, 4), key=PeriodKey(PeriodKind.ALL, 0))
    assert render.board_embed(board, 1, stored).fields == []
    note = render.hidden_note(board)
    assert note is not None and "So far you have 4 points (4 checkpoints, 0 reviews)" in note
    assert render.hidden_note(_board(2, Standing(True, False, 1, 1, 0, 1))) is None


def test_visibility_answers_say_what_changed() -> None:
    assert render.visibility_text(VisibilityChange(True, True)).startswith("You're now hidden")
    assert render.visibility_text(VisibilityChange(True, False)).startswith("You're already hidden")
    assert render.visibility_text(VisibilityChange(False, True)).startswith("You're now shown")


def test_the_streak_line_warns_when_the_streak_is_at_risk() -> None:
    ends = datetime(2026, 1, 14, 23, tzinfo=UTC)
    risky = render.streak_text(StreakView("Spring", 2, Streak(1, 4, True, False, ends)))
    assert risky.startswith("🔥 1 week in a row · best 4 weeks") and "At risk" in risky and "<t:" in risky
    calm = render.streak_text(StreakView("Spring", 2, Streak(2, 2, False, True, ends)))
    assert calm == "🔥 2 weeks in a row (this week counts) · best 2 weeks"
    assert render.streak_text(StreakView("Spring", 0, Streak(0, 0, False, False, None))).startswith(
        "Streaks start"
    )


names = st.text(min_size=1, max_size=100)


@given(st.lists(names, min_size=10, max_size=10), names)
def test_ten_rows_of_any_names_fit_one_embed_and_ping_nobody(shown_names: list[str], cohort: str) -> None:
    board = _board(10, Standing(True, False, 9_999, 1, 0, 1))
    board = Board(cohort, board.key, True, None, board.entries, 10_000, board.me)
    embed = render.board_embed(board, 1, lambda user_id, _: shown_names[user_id - 101])
    assert len(embed) <= EMBED_TOTAL_LIMIT and len(embed.description or "") <= 4096
    text = f"{embed.title}\n{embed.description}"
    assert "@everyone" not in text and "<@1" not in text


def test_the_weekly_prompt_names_streaks_escaped() -> None:
    base = prompt_content()
    assert cohort_doing(base) == base.activity
    with_streaks = replace(base, streaks=(("**Ana** @everyone", 5), ("Ben", 3)))
    text = cohort_doing(with_streaks)
    assert "On a streak: \\*\\*Ana\\*\\* @\u200beveryone (5 weeks), Ben (3 weeks)" in text
