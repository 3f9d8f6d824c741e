"""Every review text and embed, from the services' result types: pure, no client or interaction.

Unit-tested without Discord (``tests/unit/test_review_render.py``); the cog and the jobs only send.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.kernel.errors import InvalidInputError
from bot.kernel.text import echo, echo_code
from bot.reviews.rules import MISSED_ROUNDS_LIMIT, validate_link
from bot.reviews.views import (
    AutoSnoozed,
    DoneResult,
    GroupView,
    HistoryView,
    OptIn,
    OptOut,
    Participation,
    RoundView,
    ScheduleView,
    SnoozeResult,
    StatusView,
)
from cogs._ui import BRAND_COLOUR, chunk_lines, paged_embeds, timestamp

MESSAGE_LIMIT = 1900  # under Discord's 2,000 characters, with room for a "more" line
GROUPS_PER_MESSAGE = 40  # keeps each announcement under the 100 users allowed_mentions accepts
THREAD_NAME_LIMIT = 100
NAME_LIMIT = 100  # display names are at most 32 characters and cohort names 50


FORMER_MEMBER = "a former member"  # a partner who has since erased their data


def mention(user_id: int | None) -> str:
    """A member as a mention (replies ping nobody), or "a former member" when they were erased."""
    return FORMER_MEMBER if user_id is None else f"<@{user_id}>"


def safe(text: str) -> str:
    """Member-written text (a cohort or display name) shown as itself: no markup, no mentions."""
    return echo(text, limit=NAME_LIMIT)


def seats(group: GroupView) -> list[int | None]:
    """The group's members, None for each who has since erased their data."""
    return [*group.member_ids, *([None] * group.former)]


def members_text(group: GroupView, *, leave_out: int | None = None) -> str:
    return join_names(
        [mention(user_id) for user_id in seats(group) if user_id is None or user_id != leave_out]
    )


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a & b``, ``a, b & c``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} & {names[-1]}"


def due_text(view: RoundView) -> str:
    return f"{timestamp(view.due_at, 'F')} ({timestamp(view.due_at, 'R')})"


def group_line(group: GroupView) -> str:
    names = members_text(group)
    return f"• {names} (trio)" if group.size == 3 else f"• {names}"


def lone_line(user_id: int) -> str:
    return (
        f"{mention(user_id)}: you were the only one available this week, so there's no partner for you"
        " this round."
    )


# --- posts in the cohort's channel and threads ---------------------------------------------------


def announcement_messages(view: RoundView) -> list[tuple[str, tuple[int, ...]]]:
    """The round's announcement as (text, members to ping) messages under Discord's limits."""
    groups = view.paired_groups
    header = (
        f"**Code review round · week {view.week} · {safe(view.cohort_name)}**\n"
        f"Review each other's code by {due_text(view)}. Every group has a thread below with what to do;"
        " record your review with `/review done`."
    )
    messages: list[tuple[str, tuple[int, ...]]] = []
    batches = [
        groups[start : start + GROUPS_PER_MESSAGE] for start in range(0, len(groups), GROUPS_PER_MESSAGE)
    ]
    for number, batch in enumerate(batches or [()]):
        lines = [header] if number == 0 else []
        lines += [group_line(group) for group in batch]
        for page in chunk_lines(lines, MESSAGE_LIMIT):
            pinged = tuple(
                user_id for group in batch for user_id in group.member_ids if mention(user_id) in page
            )
            messages.append((page, pinged))
    if view.lone_member_ids:
        lone_text = "\n".join(lone_line(user_id) for user_id in view.lone_member_ids)
        text, pinged = messages[-1]
        if len(text) + len(lone_text) + 1 <= MESSAGE_LIMIT:
            messages[-1] = (f"{text}\n{lone_text}", pinged)
        else:
            messages.append((lone_text, ()))
    return messages


def thread_name(view: RoundView, display_names: Sequence[str]) -> str:
    return f"Week {view.week} review · {join_names(display_names)}"[:THREAD_NAME_LIMIT]


def thread_intro(view: RoundView, group: GroupView) -> str:
    partners = "partners" if group.size == 2 else "a review trio"
    return (
        f"{' '.join(mention(user_id) for user_id in group.member_ids)}: you're {partners} for week"
        f" {view.week} of **{safe(view.cohort_name)}**.\n"
        "**What to do**\n"
        "1. Share the code you'd like reviewed here: a pull request, a repository or a gist.\n"
        "2. Review each other's code: leave comments, ask questions, suggest one improvement.\n"
        "3. Record each review with `/review done partner:@name link:<link to your review>`.\n"
        f"**Due** {due_text(view)}."
    )


def reminder_text(view: RoundView, pending: Sequence[int]) -> str:
    return (
        f"⏰ {' '.join(mention(user_id) for user_id in pending)}: reviews for week {view.week} of"
        f" **{safe(view.cohort_name)}** are due {timestamp(view.due_at, 'R')}. Once you've reviewed your"
        " partner's code, record it with `/review done`."
    )


def lone_dm(view: RoundView) -> str:
    return (
        f"You were the only one available for review pairing in **{safe(view.cohort_name)}** this"
        " week, so there's no partner for you this round."
    )


def auto_snooze_notice(snoozed: AutoSnoozed) -> str:
    return (
        f"You didn't record a review in {MISSED_ROUNDS_LIMIT} rounds in a row in"
        f" **{safe(snoozed.cohort_name)}**,"
        " so you're snoozed from review pairing; run"
        f" `/review join cohort:{echo_code(snoozed.cohort_name, limit=100)}` when you're back."
    )


# --- replies to /review pair and /review schedule ------------------------------------------------


def round_summary(view: RoundView) -> str:
    sizes = [group.size for group in view.paired_groups]
    pairs, trios = sizes.count(2), sizes.count(3)
    parts = []
    if pairs:
        parts.append(f"{pairs} pair" + ("s" if pairs != 1 else ""))
    if trios:
        parts.append(f"{trios} trio")
    if view.lone_member_ids:
        parts.append("1 member with no partner")
    return " and ".join(parts) or "no groups"


def repost_text(view: RoundView) -> str:
    """A second ``/review pair`` in the same week shows the existing groups instead of re-pairing."""
    lines = [
        f"Week {view.week}'s review round for **{safe(view.cohort_name)}** already ran, so here are its"
        f" groups again (due {due_text(view)}):"
    ]
    lines += [group_line(group) for group in view.paired_groups]
    lines += [lone_line(user_id) for user_id in view.lone_member_ids]
    text = lines[0]
    for shown, line in enumerate(lines[1:]):
        if len(text) + len(line) + 60 > MESSAGE_LIMIT:
            return f"{text}\n…and {len(lines) - 1 - shown} more in the announcement."
        text = f"{text}\n{line}"
    return text


def pair_reply(view: RoundView, *, created: bool, published: bool) -> str:
    if created:
        text = (
            f"Week {view.week}'s review round for **{safe(view.cohort_name)}** is out in"
            f" <#{view.channel_id}>:"
            f" {round_summary(view)}, due {timestamp(view.due_at, 'F')}."
        )
    else:
        text = repost_text(view)
    if not published:
        text += f"\nI couldn't post everything in <#{view.channel_id}>; I'll retry within the hour."
    return text


def schedule_reply(slot: ScheduleView, *, saved: bool) -> str:
    if not slot.enabled:
        return (
            f"Automatic review rounds for **{safe(slot.cohort_name)}** are off; `/review pair` still runs one"
            " by hand."
        )
    head = "Saved. Review rounds" if saved else "Review rounds"
    origin = " (with the prompt slot)" if slot.follows_prompt_slot else ""
    return (
        f"{head} for **{safe(slot.cohort_name)}** run {slot.slot.describe()}{origin}; next:"
        f" {timestamp(slot.next_run, 'F')}."
    )


# --- replies to a member's own commands ----------------------------------------------------------


def join_reply(opt_in: OptIn) -> str:
    if opt_in.first_time:
        head = (
            f"You're in review pairing for **{safe(opt_in.cohort_name)}**: you'll get a partner next round."
        )
    elif opt_in.came_back:
        head = (
            f"Welcome back to review pairing in **{safe(opt_in.cohort_name)}**: you'll be paired next round."
        )
    else:
        head = f"Your review preferences for **{safe(opt_in.cohort_name)}** are saved."
    languages_text = safe(", ".join(opt_in.languages)) or "any"
    return f"{head}\nLanguages: {languages_text} · Timezone: {safe(opt_in.timezone or 'not set')}"


def leave_reply(change: OptOut) -> str:
    if change.changed:
        return (
            f"You've left review pairing in **{safe(change.cohort_name)}**; your past rounds and"
            " reviews are kept."
        )
    return f"You weren't opted in to review pairing in **{safe(change.cohort_name)}**, so nothing changed."


def snooze_reply(result: SnoozeResult) -> str:
    rounds = "round" if result.weeks == 1 else f"{result.weeks} rounds"
    return (
        f"Snoozed: you'll skip the next {rounds} in **{safe(result.cohort_name)}** and be paired again from"
        f" week {result.back_in_week}."
    )


def done_reply(result: DoneResult) -> str:
    partner = mention(result.partner_id)
    if result.changed:
        text = (
            f"✅ Recorded: you reviewed {partner}'s code for week {result.week} of"
            f" **{safe(result.cohort_name)}**."
        )
    else:
        updated = " (link updated)" if result.link else ""
        text = f"You'd already recorded reviewing {partner} this round{updated}."
    if result.still_to_review:
        text += f"\nStill to review: {join_names([mention(user_id) for user_id in result.still_to_review])}."
    return text


# --- /review status and /review history ----------------------------------------------------------


def status_embed(status: StatusView) -> discord.Embed:
    embed = discord.Embed(title=f"Code review · {safe(status.cohort_name)}", colour=BRAND_COLOUR)
    embed.add_field(name="You", value=participation_text(status), inline=False)
    view = status.round
    group = status.group
    if view is None or group is None:
        embed.add_field(
            name="This week",
            value=(
                "You aren't in this week's round."
                if status.round_this_week
                else "No review round yet this week; it runs at the cohort's weekly review slot."
            ),
            inline=False,
        )
        return embed
    title = f"Week {view.week} round" + (" (closed)" if view.closed_at else "")
    if group.is_lone:
        embed.add_field(
            name=title,
            value="You were the only one available this round, so there's no partner for you.",
            inline=False,
        )
        return embed
    partners = members_text(group, leave_out=status.user_id)
    where = f"\nThread: <#{group.thread_id}>" if group.thread_id else ""
    embed.add_field(name=title, value=f"Partner: {partners}\nDue {due_text(view)}{where}", inline=False)
    lines = [
        f"{'✅' if view.reviewed(reviewer, reviewee) else '⏳'} {mention(reviewer)} → {mention(reviewee)}"
        for reviewer in seats(group)
        for reviewee in seats(group)
        if reviewer != reviewee
    ]
    embed.add_field(name="Who has reviewed whom", value="\n".join(lines), inline=False)
    return embed


def participation_text(status: StatusView) -> str:
    details = []
    if status.languages:
        details.append(f"languages: {safe(', '.join(status.languages))}")
    if status.timezone:
        details.append(f"timezone: {safe(status.timezone)}")
    suffix = f" · {' · '.join(details)}" if details else ""
    if status.participation is Participation.ACTIVE:
        return f"Opted in{suffix}"
    if status.participation is Participation.SNOOZED:
        return f"Snoozed: back in the pairing from week {(status.snoozed_until_week or 0) + 1}{suffix}"
    if status.participation is Participation.AUTO_SNOOZED:
        return f"Snoozed after missing {MISSED_ROUNDS_LIMIT} rounds in a row: `/review join` brings you back."
    if status.participation is Participation.LEFT:
        return "Opted out: `/review join` opts you in again."
    return "Not opted in: `/review join` opts you in."


def history_lines(history: HistoryView) -> list[str]:
    lines = []
    for entry in history.entries:
        partners = join_names(
            [mention(user_id) for user_id in entry.partner_ids] + [FORMER_MEMBER] * entry.former_partners
        )
        # A link is shown only beside a known author: what a former member wrote is not repeated.
        gave = ", ".join(_reviewed(user_id, link) for user_id, link in entry.gave) or "—"
        received = ", ".join(
            _reviewed(user_id, link if user_id else None) for user_id, link in entry.received
        )
        state = "" if entry.closed else " · open"
        lines.append(
            f"**Week {entry.week}**{state} · with {partners or 'no partner'}\n"
            f"reviewed: {gave} · reviewed by: {received or '—'}"
        )
    return lines


def _reviewed(user_id: int | None, link: str | None) -> str:
    shown = safe_link(link)
    return f"{mention(user_id)} ([link](<{shown}>))" if shown else mention(user_id)


def safe_link(link: str | None) -> str | None:
    """A stored link shown as a link only if it is still a plain web address (older rows may not be)."""
    try:
        return validate_link(link)
    except InvalidInputError:
        return None


def no_history_text(who: str, history: HistoryView) -> str:
    """``who`` is "You" for the caller, else the member's display name."""
    verb = "haven't" if who == "You" else "hasn't"
    shown = who if who == "You" else safe(who)
    return f"{shown} {verb} been in a review round in **{safe(history.cohort_name)}** yet."


def history_embeds(subject_name: str, history: HistoryView) -> list[discord.Embed]:
    title = f"Review history · {safe(subject_name)} · {safe(history.cohort_name)}"
    embeds = paged_embeds(title, history_lines(history))
    for embed in embeds:
        embed.add_field(name="Totals", value=f"given {history.given} · received {history.received}")
    return embeds
