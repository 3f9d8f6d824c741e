"""Review texts when a partner erased their data, and member-written text shown back safely."""

from __future__ import annotations

from bot.reviews.rules import members_without_review
from bot.reviews.views import GroupView, HistoryEntry, HistoryView, Participation
from cogs.review import render
from tests.unit.test_review_render import ALICE, BOB, round_view, status

EVIL = "https://ok.example/>)**[Verify-your-account](https://evil.example)**"


def test_a_pair_whose_partner_was_erased_is_not_a_lone_member() -> None:
    group = GroupView(1, (BOB,), 900, former=1)
    assert not group.is_lone and group.size == 2
    view = round_view((group,), reviews=frozenset({(BOB, None)}))
    assert view.lone_member_ids == () and view.paired_groups == (group,)
    assert render.round_summary(view) == "1 pair"
    assert render.group_line(group) == f"• <@{BOB}> & a former member"


def test_status_names_the_erased_partner_as_a_former_member() -> None:
    view = round_view((GroupView(1, (BOB,), 900, former=1),), reviews=frozenset({(BOB, None)}))
    embed = render.status_embed(status(Participation.ACTIVE, view, user_id=BOB))
    text = "\n".join(f"{field.name}\n{field.value}" for field in embed.fields)
    assert "only one available" not in text
    assert "Partner: a former member" in text
    assert f"✅ <@{BOB}> → a former member" in text and f"⏳ a former member → <@{BOB}>" in text


def test_history_counts_and_words_reviews_with_a_former_member() -> None:
    entry = HistoryEntry(
        week=1,
        partner_ids=(),
        gave=((None, "https://b.example/2"),),
        received=((None, "https://a.example/1"),),
        closed=True,
        former_partners=1,
    )
    history = HistoryView("Spring", BOB, (entry,))
    (line,) = render.history_lines(history)
    assert "with a former member" in line and "no partner" not in line
    assert "reviewed: a former member ([link](<https://b.example/2>))" in line
    assert "reviewed by: a former member" in line and "a.example" not in line
    assert (history.given, history.received) == (1, 1)


def test_a_stored_link_that_is_not_a_plain_address_is_never_shown_as_a_link() -> None:
    entry = HistoryEntry(1, (ALICE,), ((ALICE, EVIL),), (), False)
    (line,) = render.history_lines(HistoryView("Spring", BOB, (entry,)))
    assert "evil.example" not in line and "Verify" not in line


def test_names_are_shown_without_markup_or_mentions() -> None:
    title = render.history_embeds(
        "[Free Nitro](https://evil.example) @everyone", HistoryView("Spring", 1, ())
    )
    shown = title[0].title or ""
    assert "\\[Free Nitro\\]\\(" in shown and "\\@everyone" in shown
    assert render.no_history_text("**bob** <@1>", HistoryView("Spring", 1, ())).startswith(
        "\\*\\*bob\\*\\* \\<\\@1\\> hasn't"
    )


def test_a_review_of_a_former_member_still_counts_for_its_author() -> None:
    assert members_without_review((BOB,), {(BOB, None)}, former=1) == ()
    assert members_without_review((BOB,), {(None, BOB)}, former=1) == (BOB,)
    assert members_without_review((ALICE, BOB), {(ALICE, None)}) == (ALICE, BOB)
