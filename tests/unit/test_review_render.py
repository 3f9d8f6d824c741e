"""Review texts and embeds from result types alone: no client, no interaction, no database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from bot.kernel.slots import WeeklySlot
from bot.reviews.views import (
    AutoSnoozed,
    DoneResult,
    GroupView,
    HistoryEntry,
    HistoryView,
    OptIn,
    OptOut,
    Participation,
    RoundView,
    ScheduleView,
    SnoozeResult,
    StatusView,
)
from cogs.review import render

CREATED = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
ALICE, BOB, CAROL = 11, 12, 13


def round_view(
    groups: tuple[GroupView, ...], *, reviews: frozenset[tuple[int, int]] = frozenset()
) -> RoundView:
    return RoundView(
        id=1,
        guild_id=1001,
        cohort_id=7,
        cohort_name="Spring",
        channel_id=555,
        week=2,
        created_at=CREATED,
        due_at=CREATED + timedelta(days=6),
        announcement_message_id=None,
        reminder_sent_at=None,
        closed_at=None,
        groups=groups,
        reviews=reviews,
    )


def pairs(count: int, first_id: int = 1000) -> tuple[GroupView, ...]:
    return tuple(
        GroupView(number, (first_id + 2 * number, first_id + 2 * number + 1), None) for number in range(count)
    )


def status(participation: Participation, view: RoundView | None = None, **changes: object) -> StatusView:
    values: dict[str, object] = {
        "user_id": ALICE,
        "cohort_name": "Spring",
        "week": 2,
        "participation": participation,
        "snoozed_until_week": None,
        "languages": (),
        "timezone": None,
        "round": view,
        "round_this_week": view is not None,
    }
    values.update(changes)
    return StatusView(**values)  # type: ignore[arg-type]


# --- helpers and round posts ---------------------------------------------------------------------


def test_names_are_joined_like_a_sentence() -> None:
    assert render.join_names([]) == ""
    assert render.join_names(["a"]) == "a"
    assert render.join_names(["a", "b"]) == "a & b"
    assert render.join_names(["a", "b", "c"]) == "a, b & c"


def test_announcement_pings_the_paired_members_and_tells_the_lone_one() -> None:
    view = round_view((GroupView(1, (ALICE, BOB), None), GroupView(2, (CAROL,), None)))
    ((text, pinged),) = render.announcement_messages(view)
    assert text.startswith("**Code review round · week 2 · Spring**")
    assert "• <@11> & <@12>" in text and "/review done" in text and "<t:" in text
    assert "<@13>: you were the only one available this week" in text
    assert pinged == (ALICE, BOB)


def test_a_big_announcement_is_split_under_the_limits() -> None:
    view = round_view(pairs(100))
    messages = render.announcement_messages(view)
    assert len(messages) >= 3
    assert all(len(text) <= render.MESSAGE_LIMIT for text, _ in messages)
    assert all(len(pinged) <= 2 * render.GROUPS_PER_MESSAGE for _, pinged in messages)
    everyone = [user_id for _, pinged in messages for user_id in pinged]
    assert sorted(everyone) == sorted(user for group in view.groups for user in group.member_ids)


def test_thread_intro_name_and_reminder() -> None:
    view = round_view((GroupView(1, (ALICE, BOB, CAROL), None),))
    intro = render.thread_intro(view, view.groups[0])
    assert intro.startswith("<@11> <@12> <@13>: you're a review trio for week 2 of **Spring**")
    assert "What to do" in intro and "/review done partner:@name" in intro
    assert re.search(r"<t:\d+:F>", intro)
    assert render.thread_name(view, ["alice", "bob"]) == "Week 2 review · alice & bob"
    assert len(render.thread_name(view, ["x" * 80, "y" * 80])) == render.THREAD_NAME_LIMIT
    reminder = render.reminder_text(view, [BOB])
    assert reminder.startswith("⏰ <@12>: reviews for week 2 of **Spring** are due <t:")
    assert "/review done" in reminder


def test_lone_dm_and_auto_snooze_notice() -> None:
    view = round_view((GroupView(1, (ALICE,), None),))
    assert "no partner for you this round" in render.lone_dm(view)
    notice = render.auto_snooze_notice(AutoSnoozed(1001, 7, "Spring", BOB))
    assert "3 rounds in a row in **Spring**" in notice
    assert "/review join cohort:Spring" in notice


# --- moderator replies ---------------------------------------------------------------------------


def test_pair_reply_summarises_or_repeats_the_round() -> None:
    view = round_view((GroupView(1, (1, 2), None), GroupView(2, (3, 4), None), GroupView(3, (5, 6, 7), None)))
    created = render.pair_reply(view, created=True, published=True)
    assert created.startswith("Week 2's review round for **Spring** is out in <#555>: 2 pairs and 1 trio")
    assert render.round_summary(round_view((GroupView(1, (ALICE,), None),))) == "1 member with no partner"
    assert render.round_summary(round_view(())) == "no groups"
    repeat = render.pair_reply(view, created=False, published=False)
    assert "already ran, so here are its groups again" in repeat
    assert "• <@5>, <@6> & <@7> (trio)" in repeat
    assert repeat.endswith("I'll retry within the hour.")


def test_a_long_repost_is_cut_with_a_count() -> None:
    text = render.repost_text(round_view(pairs(200)))
    assert len(text) <= render.MESSAGE_LIMIT
    assert re.search(r"…and \d+ more in the announcement\.$", text)


def test_schedule_reply() -> None:
    slot = ScheduleView(7, 1001, "Spring", WeeklySlot(0, time(18, 0), "Europe/Berlin"), True, True, CREATED)
    shown = render.schedule_reply(slot, saved=False)
    assert shown.startswith(
        "Review rounds for **Spring** run Mondays at 18:00 (Europe/Berlin) (with the prompt"
    )
    assert render.schedule_reply(slot, saved=True).startswith("Saved. Review rounds")
    off = ScheduleView(7, 1001, "Spring", slot.slot, False, False, CREATED)
    assert "are off; `/review pair` still runs one" in render.schedule_reply(off, saved=True)


# --- member replies ------------------------------------------------------------------------------


def test_join_leave_and_snooze_replies() -> None:
    first = render.join_reply(OptIn("Spring", True, False, ("python", "go"), "Europe/Berlin"))
    assert first == (
        "You're in review pairing for **Spring**: you'll get a partner next round.\n"
        "Languages: python, go · Timezone: Europe/Berlin"
    )
    back = render.join_reply(OptIn("Spring", False, True, (), None))
    assert back.startswith("Welcome back") and back.endswith("Languages: any · Timezone: not set")
    assert "are saved" in render.join_reply(OptIn("Spring", False, False, (), None))
    assert "your past rounds and reviews are kept" in render.leave_reply(OptOut("Spring", True))
    assert "weren't opted in" in render.leave_reply(OptOut("Spring", False))
    assert "skip the next round in" in render.snooze_reply(SnoozeResult("Spring", 1, 2, 3))
    assert "skip the next 2 rounds in **Spring**" in render.snooze_reply(SnoozeResult("Spring", 2, 2, 4))


def test_done_reply() -> None:
    recorded = render.done_reply(DoneResult("Spring", 2, BOB, True, None, (CAROL,)))
    assert (
        recorded
        == "✅ Recorded: you reviewed <@12>'s code for week 2 of **Spring**.\nStill to review: <@13>."
    )
    again = render.done_reply(DoneResult("Spring", 2, BOB, False, "https://example.org", ()))
    assert again == "You'd already recorded reviewing <@12> this round (link updated)."


def test_status_embed_shows_partner_and_who_reviewed_whom() -> None:
    view = round_view((GroupView(1, (ALICE, BOB), 900),), reviews=frozenset({(ALICE, BOB)}))
    embed = render.status_embed(status(Participation.ACTIVE, view, languages=("go",)))
    fields = {field.name: field.value for field in embed.fields}
    assert fields["You"] == "Opted in · languages: go"
    assert "Partner: <@12>" in fields["Week 2 round"] and "Thread: <#900>" in fields["Week 2 round"]
    assert fields["Who has reviewed whom"] == "✅ <@11> → <@12>\n⏳ <@12> → <@11>"


def test_status_embed_without_a_group() -> None:
    none_yet = render.status_embed(status(Participation.NOT_OPTED_IN))
    assert [field.value for field in none_yet.fields] == [
        "Not opted in: `/review join` opts you in.",
        "No review round yet this week; it runs at the cohort's weekly review slot.",
    ]
    lone = round_view((GroupView(1, (ALICE,), None),))
    fields = render.status_embed(status(Participation.ACTIVE, lone)).fields
    assert fields[1].value is not None and "only one available this round" in fields[1].value


def test_participation_texts() -> None:
    snoozed = status(Participation.SNOOZED, snoozed_until_week=3)
    assert render.participation_text(snoozed) == "Snoozed: back in the pairing from week 4"
    assert "Snoozed after missing 3 rounds" in render.participation_text(status(Participation.AUTO_SNOOZED))
    assert render.participation_text(status(Participation.LEFT)).startswith("Opted out")


def test_history_lines_embeds_and_empty_history() -> None:
    entry = HistoryEntry(1, (BOB,), ((BOB, "https://github.com/a/pr/1"),), (), False)
    history = HistoryView("Spring", ALICE, (entry,))
    (line,) = render.history_lines(history)
    assert line == (
        "**Week 1** · open · with <@12>\n"
        "reviewed: <@12> ([link](<https://github.com/a/pr/1>)) · reviewed by: —"
    )
    (embed,) = render.history_embeds("alice", history)
    assert embed.title == "Review history · alice · Spring"
    assert embed.fields[0].value == "given 1 · received 0"
    empty = HistoryView("Spring", ALICE, ())
    assert render.no_history_text("You", empty) == "You haven't been in a review round in **Spring** yet."
    assert render.no_history_text("bob", empty) == "bob hasn't been in a review round in **Spring** yet."
