"""Every word ``/prompts`` and the weekly post show: pure functions of the prompts' result types.

Nothing here needs a client, a guild or a channel, so each function is unit-tested on its own.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import discord

from bot.kernel.text import echo_code
from bot.prompts.rules import PromptContent
from bot.prompts.views import (
    CustomPromptChange,
    OutgoingPost,
    PauseChange,
    PostedBefore,
    PromptPreview,
    ResumeChange,
    ScheduleChange,
)
from cogs._ui import BRAND_COLOUR, shown, timestamp
from cogs.leaderboard.render import member_name

if TYPE_CHECKING:
    from cogs.prompts.delivery import Delivery

NEVER_EVERYONE = "I never mention @everyone: pick a specific role, or none."
OUR_SIDE = "something went wrong on our side; the error was logged"
RETRY_LATER_STEP = "A moderator can post the current week with `/prompts post-now`."


def count(number: int, noun: str) -> str:
    """``1 cohort``, ``2 cohorts``: the noun agrees with the number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def in_command(name: str) -> str:
    """A cohort name inside a `code span` example: no backticks, nothing hidden."""
    return echo_code(name, 100)


def unschedulable(start: date) -> str:
    """Why no prompt will be posted for a cohort whose start date the calendar can't hold."""
    return (
        f"No weekly prompts can be posted for it: it starts on {start.isoformat()}, a date I can't "
        "schedule around. Create a new cohort with a real start date."
    )


def message_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def prompt_embed(content: PromptContent) -> discord.Embed:
    """The weekly post (or the closing message) as members see it."""
    if content.is_closing:
        description = content.focus
    else:
        label = "**This week's focus** (from your moderators)" if content.custom else "**This week's focus**"
        description = f"{label}\n{content.focus}"
    embed = discord.Embed(title=content.title[:256], description=description[:4096], colour=BRAND_COLOUR)
    if content.phase_line:
        embed.add_field(name="Phase", value=content.phase_line[:1024], inline=False)
    if content.checkpoints:
        lines = [
            f"• **{item.title}** (`{item.key}`), due {item.due_date:%a %d %b} (week {item.due_week})"
            for item in content.checkpoints
        ]
        embed.add_field(name=content.checkpoints_heading, value="\n".join(lines)[:1024], inline=False)
    embed.add_field(name="How the cohort is doing", value=cohort_doing(content)[:1024], inline=False)
    embed.add_field(name="Mark a checkpoint", value=content.how_to_mark[:1024], inline=False)
    embed.set_footer(text=f"{content.roadmap_title} · week {content.week} of {content.total_weeks}"[:2048])
    return embed


def cohort_doing(content: PromptContent) -> str:
    """The activity line, and the members on a notable streak by name (names never ping in an embed)."""
    if not content.streaks:
        return content.activity
    named = ", ".join(f"{member_name(name)} ({weeks} weeks)" for name, weeks in content.streaks)
    return f"{content.activity}\n🔥 On a streak: {named}. Keep it going!"


def post_mention(role_id: int | None) -> str | None:
    """The message text above a post: the chosen role's mention, or nothing."""
    return f"<@&{role_id}>" if role_id else None


def what_is_posted(content: PromptContent, week: int) -> str:
    return "closing message" if content.is_closing else f"week {week} prompt"


def preview_text(preview: PromptPreview) -> str:
    """The sentence above a preview: when it goes out (or went out), and anything blocking it."""
    head = f"**Preview · {shown(preview.cohort_name)}, {what_is_posted(preview.content, preview.week)}**"
    lines = [f"{head}\n{_preview_when(preview)}"]
    if preview.paused:
        lines.append("⏸️ Prompts are paused: nothing is posted until a moderator runs `/prompts resume`.")
    if preview.finished and not preview.content.is_closing:
        lines.append("This cohort has finished its roadmap: no more weekly prompts are posted.")
    if preview.attention_reason:
        lines.append(f"⚠️ Needs attention: {preview.attention_reason}")
    return "\n".join(lines)


def _preview_when(preview: PromptPreview) -> str:
    if preview.status in {"sent", "claimed"}:
        when = f" on {timestamp(preview.sent_at)}" if preview.sent_at else ""
        link = (
            f": {message_link(preview.guild_id, preview.channel_id, preview.message_id)}"
            if preview.message_id
            else "."
        )
        return f"Already posted{when}{link}"
    if preview.status is not None:
        return (
            f"Its slot ({timestamp(preview.due_at)}) passed without a post ({preview.status}). "
            + RETRY_LATER_STEP
        )
    if preview.due_at <= preview.now:
        return f"Its slot ({timestamp(preview.due_at)}) has passed and it wasn't posted. " + RETRY_LATER_STEP
    mention = f", mentioning <@&{preview.role_id}>" if preview.role_id else ""
    return (
        f"Would be posted {timestamp(preview.due_at)} ({timestamp(preview.due_at, 'R')}) "
        f"in <#{preview.channel_id}>{mention}."
    )


def forbidden_reason(channel_id: int) -> str:
    return (
        f"I can't post in <#{channel_id}>: I need View Channel, Send Messages and Embed Links there. "
        "Fix the permissions or pick another channel with `/prompts schedule`."
    )


def missing_channel_reason(channel_id: int) -> str:
    return (
        f"The prompt channel <#{channel_id}> no longer exists or I can't see it. "
        "Pick a new one with `/prompts schedule`."
    )


def cannot_post_in(channel_mention: str) -> str:
    """``/prompts schedule`` refusing a channel the bot could not post in."""
    return f"I can't post in {channel_mention}: give me View Channel, Send Messages and Embed Links there."


def posted_before_text(before: PostedBefore) -> str:
    """``/prompts post-now`` when the week went out already, or is going out right now."""
    if before.message_id:
        link = message_link(before.guild_id, before.channel_id, before.message_id)
        answer = f"Week {before.week} of **{shown(before.cohort_name)}** was already posted: {link}"
    else:
        answer = (
            f"Week {before.week} of **{shown(before.cohort_name)}** is being posted in "
            f"<#{before.channel_id}> right now"
        )
    return f"{answer}. I won't post it twice."


def post_now_text(post: OutgoingPost, delivery: Delivery) -> str:
    """``/prompts post-now``'s answer once the post was sent, or why it wasn't."""
    what = what_is_posted(post.content, post.week)
    if delivery.status == "sent" and delivery.message_id is not None:
        return (
            f"Posted the {what} for **{shown(post.cohort_name)}**: "
            f"{message_link(post.guild_id, post.channel_id, delivery.message_id)}"
        )
    if delivery.status == "missed":
        return (
            f"Discord kept failing, so the {what} for **{shown(post.cohort_name)}** wasn't posted. "
            "Try again later."
        )
    return f"I couldn't post the {what} for **{shown(post.cohort_name)}**: {delivery.reason}"


def pause_text(change: PauseChange) -> str:
    if not change.changed:
        return f"Prompts for **{shown(change.cohort_name)}** are already paused."
    return (
        f"⏸️ Paused weekly prompts for **{shown(change.cohort_name)}**. "
        f"Nothing is posted until a moderator runs `/prompts resume cohort:{in_command(change.cohort_name)}`."
    )


def resume_text(change: ResumeChange) -> str:
    if not change.changed:
        return f"Prompts for **{shown(change.cohort_name)}** aren't paused."
    parts = [f"▶️ Resumed weekly prompts for **{shown(change.cohort_name)}**."]
    if change.next_at is not None:
        parts.append(f"Next: week {change.next_week}, {timestamp(change.next_at)}.")
    if change.skipped_weeks:
        weeks = ", ".join(map(str, change.skipped_weeks))
        parts.append(f"Missed while paused and skipped (not posted late): week {weeks}.")
    if change.unschedulable_start is not None:
        parts.append(unschedulable(change.unschedulable_start))
    return " ".join(parts)


def custom_prompt_text(change: CustomPromptChange) -> str:
    verb = "Replaced the custom prompt" if change.replaced else "Saved a custom prompt"
    message = (
        f"{verb} for week {change.week} of **{shown(change.cohort_name)}** ({change.length} characters); "
        f"its slot is {timestamp(change.due_at)}."
    )
    if change.already_posted:
        return message + " That week was already posted, so the new text only shows in previews."
    return (
        message
        + f" Check it with `/prompts preview cohort:{in_command(change.cohort_name)} week:{change.week}`."
    )


def schedule_text(change: ScheduleChange) -> str:
    where = f"{change.slot.describe()} in <#{change.channel_id}>"
    lines = [f"🗓️ Weekly prompts for **{shown(change.cohort_name)}**: {where}."]
    if change.role_id:
        lines.append(f"Each prompt mentions <@&{change.role_id}>.")
    if change.next_at is not None:
        lines.append(f"Next: week {change.next_week}, {timestamp(change.next_at)}.")
    if change.unschedulable_start is not None:
        lines.append(unschedulable(change.unschedulable_start))
    return " ".join(lines)
