"""``cogs/prompts/render.py``: every word the weekly post and ``/prompts`` show, without Discord."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.kernel.slots import WeeklySlot
from bot.prompts.rules import DueCheckpoint, PromptContent, PromptKind
from bot.prompts.views import (
    CustomPromptChange,
    OutgoingPost,
    PauseChange,
    PostedBefore,
    PromptPreview,
    ResumeChange,
    ScheduleChange,
)
from cogs.prompts import render
from cogs.prompts.delivery import Delivery

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SLOT_AT = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
SLOT_STAMP = f"<t:{int(SLOT_AT.timestamp())}:F>"
SLOT = WeeklySlot(weekday=0, at=time(18), timezone="Europe/Berlin")
LINK = "https://discord.com/channels/1/2/3"


def content(
    *, kind: PromptKind = PromptKind.WEEKLY, custom: bool = False, title: str = "Spring · week 1"
) -> PromptContent:
    due = DueCheckpoint(key="py-basics", title="Python basics", due_date=date(2026, 1, 7), due_week=1)
    return PromptContent(
        kind=kind,
        cohort_name="Spring",
        roadmap_title="Python Europe",
        week=1,
        total_weeks=12,
        title=title,
        phase_line=None if kind is PromptKind.CLOSING else "Phase 1 of 3: Basics",
        focus="Write a loop.",
        custom=custom,
        checkpoints_heading="Checkpoints due this week",
        checkpoints=() if kind is PromptKind.CLOSING else (due,),
        activity="Week one: 3 members starting together. Good luck!",
        how_to_mark="Finished one? Run `/checkpoint done`.",
    )


def preview(**changes: object) -> PromptPreview:
    values: dict[str, object] = {
        "cohort_name": "Spring",
        "guild_id": 1,
        "channel_id": 2,
        "role_id": None,
        "slot": SLOT,
        "week": 1,
        "due_at": SLOT_AT,
        "content": content(),
        "status": None,
        "message_id": None,
        "sent_at": None,
        "paused": False,
        "finished": False,
        "attention_reason": None,
        "now": NOW,
    }
    values.update(changes)
    return PromptPreview(**values)  # type: ignore[arg-type]


def outgoing(kind: PromptKind = PromptKind.WEEKLY) -> OutgoingPost:
    return OutgoingPost(
        cohort_id=7,
        guild_id=1,
        cohort_name="Spring",
        channel_id=2,
        role_id=None,
        week=1,
        due_at=SLOT_AT,
        content=content(kind=kind),
    )


# --- the post ----------------------------------------------------------------------------------------


def test_weekly_post_shows_focus_phase_checkpoints_activity_and_footer() -> None:
    embed = render.prompt_embed(content())
    assert embed.title == "Spring · week 1"
    assert embed.description == "**This week's focus**\nWrite a loop."
    assert [field.name for field in embed.fields] == [
        "Phase",
        "Checkpoints due this week",
        "How the cohort is doing",
        "Mark a checkpoint",
    ]
    assert embed.fields[1].value == "• **Python basics** (`py-basics`), due Wed 07 Jan (week 1)"
    assert embed.footer.text == "Python Europe · week 1 of 12"


def test_custom_focus_says_it_comes_from_the_moderators() -> None:
    embed = render.prompt_embed(content(custom=True))
    assert embed.description == "**This week's focus** (from your moderators)\nWrite a loop."


def test_closing_message_is_the_focus_alone_without_phase_or_checkpoints() -> None:
    embed = render.prompt_embed(content(kind=PromptKind.CLOSING))
    assert embed.description == "Write a loop."
    assert [field.name for field in embed.fields] == ["How the cohort is doing", "Mark a checkpoint"]


def test_post_fits_discord_limits() -> None:
    assert len(render.prompt_embed(content(title="x" * 300)).title or "") == 256


def test_post_mentions_only_a_chosen_role() -> None:
    assert render.post_mention(None) is None
    assert render.post_mention(5) == "<@&5>"


# --- preview -----------------------------------------------------------------------------------------


def test_preview_of_a_coming_week_says_when_and_where() -> None:
    text = render.preview_text(preview(role_id=9))
    assert text.startswith("**Preview · Spring, week 1 prompt**\nWould be posted ")
    assert f"{SLOT_STAMP} (<t:{int(SLOT_AT.timestamp())}:R>) in <#2>, mentioning <@&9>." in text


def test_preview_of_a_posted_week_links_the_message() -> None:
    text = render.preview_text(preview(status="sent", message_id=3, sent_at=SLOT_AT))
    assert text.endswith(f"Already posted on {SLOT_STAMP}: {LINK}")
    assert render.preview_text(preview(status="claimed")).endswith("Already posted.")


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        ("missed", NOW, f"Its slot ({SLOT_STAMP}) passed without a post (missed). "),
        (
            None,
            datetime(2026, 1, 6, tzinfo=UTC),
            f"Its slot ({SLOT_STAMP}) has passed and it wasn't posted. ",
        ),
    ],
)
def test_preview_of_a_passed_week_points_to_post_now(
    status: str | None, now: datetime, expected: str
) -> None:
    text = render.preview_text(preview(status=status, now=now))
    assert expected + "A moderator can post the current week with `/prompts post-now`." in text


def test_preview_notes_pause_finish_and_attention() -> None:
    text = render.preview_text(preview(paused=True, finished=True, attention_reason="Channel gone."))
    assert text.splitlines()[2:] == [
        "⏸️ Prompts are paused: nothing is posted until a moderator runs `/prompts resume`.",
        "This cohort has finished its roadmap: no more weekly prompts are posted.",
        "⚠️ Needs attention: Channel gone.",
    ]
    closing = render.preview_text(preview(finished=True, content=content(kind=PromptKind.CLOSING)))
    assert closing.startswith("**Preview · Spring, closing message**")
    assert "finished its roadmap" not in closing


# --- post-now ----------------------------------------------------------------------------------------


def test_posted_before_links_the_message_or_says_it_is_going_out() -> None:
    sent = PostedBefore("Spring", 2, 1, 2, 3, SLOT_AT)
    assert render.posted_before_text(sent) == (
        f"Week 2 of **Spring** was already posted: {LINK}. I won't post it twice."
    )
    going = PostedBefore("Spring", 2, 1, 2, None, None)
    assert render.posted_before_text(going) == (
        "Week 2 of **Spring** is being posted in <#2> right now. I won't post it twice."
    )


def test_post_now_answers_each_outcome() -> None:
    assert render.post_now_text(outgoing(), Delivery("sent", message_id=3)) == (
        f"Posted the week 1 prompt for **Spring**: {LINK}"
    )
    assert render.post_now_text(outgoing(PromptKind.CLOSING), Delivery("missed", reason="HTTP 503")) == (
        "Discord kept failing, so the closing message for **Spring** wasn't posted. Try again later."
    )
    assert render.post_now_text(outgoing(), Delivery("failed", reason="no access")) == (
        "I couldn't post the week 1 prompt for **Spring**: no access"
    )


def test_refusal_reasons_name_the_channel_and_the_fix() -> None:
    assert render.forbidden_reason(2).startswith("I can't post in <#2>: I need View Channel")
    assert render.missing_channel_reason(2).endswith("Pick a new one with `/prompts schedule`.")
    assert render.cannot_post_in("<#2>") == (
        "I can't post in <#2>: give me View Channel, Send Messages and Embed Links there."
    )


# --- pause, resume, add, schedule -------------------------------------------------------------------------


def test_pause_and_resume_answers() -> None:
    assert render.pause_text(PauseChange("Spring", False)) == "Prompts for **Spring** are already paused."
    assert render.pause_text(PauseChange("Spring", True)).endswith("runs `/prompts resume cohort:Spring`.")
    assert render.resume_text(ResumeChange("Spring", False, (), None, None)) == (
        "Prompts for **Spring** aren't paused."
    )
    assert render.resume_text(ResumeChange("Spring", True, (2, 3), 4, SLOT_AT)) == (
        f"▶️ Resumed weekly prompts for **Spring**. Next: week 4, {SLOT_STAMP}. "
        "Missed while paused and skipped (not posted late): week 2, 3."
    )


def test_custom_prompt_answer_depends_on_whether_the_week_went_out() -> None:
    saved = CustomPromptChange("Spring", 2, replaced=False, already_posted=False, due_at=SLOT_AT, length=12)
    assert render.custom_prompt_text(saved) == (
        f"Saved a custom prompt for week 2 of **Spring** (12 characters); its slot is {SLOT_STAMP}. "
        "Check it with `/prompts preview cohort:Spring week:2`."
    )
    late = CustomPromptChange("Spring", 2, replaced=True, already_posted=True, due_at=SLOT_AT, length=12)
    assert render.custom_prompt_text(late).startswith("Replaced the custom prompt")
    assert render.custom_prompt_text(late).endswith("so the new text only shows in previews.")


def test_schedule_answer_shows_slot_channel_role_and_next_post() -> None:
    change = ScheduleChange(7, "Spring", SLOT, 2, 9, 3, SLOT_AT, ("slot",))
    assert render.schedule_text(change) == (
        "🗓️ Weekly prompts for **Spring**: Mondays at 18:00 (Europe/Berlin) in <#2>. "
        f"Each prompt mentions <@&9>. Next: week 3, {SLOT_STAMP}."
    )


# --- hostile use ----------------------------------------------------------------------------------

MARKED = "[Free Nitro](https://evil.example) **x** @everyone `y`"


@pytest.mark.parametrize(("number", "expected"), [(0, "0 cohorts"), (1, "1 cohort"), (2, "2 cohorts")])
def test_counts_agree_with_their_noun(number: int, expected: str) -> None:
    assert render.count(number, "cohort") == expected


def test_cohort_names_with_markup_are_shown_inert_everywhere() -> None:
    posted = OutgoingPost(1, 1, MARKED, 2, None, 1, SLOT_AT, content())
    answers = [
        render.pause_text(PauseChange(MARKED, True)),
        render.pause_text(PauseChange(MARKED, False)),
        render.resume_text(ResumeChange(MARKED, True, (), 2, SLOT_AT)),
        render.resume_text(ResumeChange(MARKED, False, (), None, None)),
        render.custom_prompt_text(CustomPromptChange(MARKED, 1, False, False, SLOT_AT, 5)),
        render.schedule_text(ScheduleChange(1, MARKED, SLOT, 2, None, 2, SLOT_AT, ())),
        render.posted_before_text(PostedBefore(MARKED, 1, 1, 2, 3, SLOT_AT)),
        render.post_now_text(posted, Delivery("sent", message_id=3)),
        render.preview_text(preview(cohort_name=MARKED)),
    ]
    for answer in answers:
        shown = answer.split("`/prompts")[0]  # code-span examples render nothing
        assert "\\[Free Nitro](" in shown and "\\*\\*x\\*\\*" in shown, answer
        assert "@everyone" not in shown and "\\`y\\`" in shown, answer


def test_cohort_names_in_command_examples_cannot_break_the_code_span() -> None:
    answer = render.pause_text(PauseChange("Sp`ring\u200b", True))
    assert "`/prompts resume cohort:Spring`" in answer


def test_a_start_outside_the_calendar_is_explained_after_resume_and_schedule() -> None:
    start = date(9999, 12, 31)
    resumed = render.resume_text(ResumeChange("Old", True, (), None, None, unschedulable_start=start))
    moved = render.schedule_text(ScheduleChange(1, "Old", SLOT, 2, None, None, None, ("slot",), start))
    for answer in (resumed, moved):
        assert "No weekly prompts can be posted for it: it starts on 9999-12-31" in answer
        assert "Next:" not in answer
