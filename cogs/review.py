"""`/review ...`: weekly peer code-review pairs, their threads, reminders and the weekly job.

The service decides and remembers everything; this cog turns its answers into messages. The
weekly job ``review:{cohort_id}`` runs at the cohort's review slot, and ``review-reminders``
runs hourly to close rounds that are due, run a round whose slot passed while the bot was down,
finish posting a round a crash interrupted, and send the reminder two days before the due date.
Both are safe to run any number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.kernel.errors import InvalidInputError
from bot.reviews.rules import MISSED_ROUNDS_LIMIT
from bot.reviews.service import (
    AutoSnoozed,
    GroupView,
    HistoryView,
    Participation,
    ReminderBatch,
    ReviewService,
    RoundView,
    ScheduleView,
    StatusView,
    describe_groups,
)
from bot.scheduling import weekly_job_id as scheduled_job_id
from cogs import _autocomplete
from cogs._checks import answered, moderator_only
from cogs._ui import BRAND_COLOUR, chunk_lines, paged_embeds, send_pages, subject_of, timestamp

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

REMINDER_JOB_ID = "review-reminders"
REMINDER_INTERVAL = timedelta(hours=1)
MESSAGE_LIMIT = 1900  # under Discord's 2,000 characters, with room for a "more" line
GROUPS_PER_MESSAGE = 40  # keeps each announcement under the 100 users allowed_mentions accepts
THREAD_NAME_LIMIT = 100
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: the thread stays open for the whole round


WEEKLY_JOB_PREFIX = "review"


def weekly_job_id(cohort_id: int) -> str:
    return scheduled_job_id(WEEKLY_JOB_PREFIX, cohort_id)


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a & b``, ``a, b & c``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} & {names[-1]}"


def only_users(user_ids: Iterable[int]) -> discord.AllowedMentions:
    """Ping exactly these members: never roles, never @everyone."""
    return discord.AllowedMentions(
        users=[discord.Object(id=user_id) for user_id in user_ids], roles=False, everyone=False
    )


def due_text(view: RoundView) -> str:
    return f"{timestamp(view.due_at, 'F')} ({timestamp(view.due_at, 'R')})"


def group_line(group: GroupView) -> str:
    names = join_names([mention(user_id) for user_id in group.member_ids])
    return f"• {names} (trio)" if len(group.member_ids) == 3 else f"• {names}"


def lone_line(user_id: int) -> str:
    return (
        f"{mention(user_id)}: you were the only one available this week, so there's no partner for you"
        " this round."
    )


def announcement_messages(view: RoundView) -> list[tuple[str, tuple[int, ...]]]:
    """The round's announcement as (text, members to ping) messages under Discord's limits."""
    groups = view.paired_groups
    header = (
        f"**Code review round · week {view.week} · {view.cohort_name}**\n"
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


def thread_intro(view: RoundView, group: GroupView) -> str:
    partners = "partners" if len(group.member_ids) == 2 else "a review trio"
    return (
        f"{' '.join(mention(user_id) for user_id in group.member_ids)}: you're {partners} for week"
        f" {view.week} of **{view.cohort_name}**.\n"
        "**What to do**\n"
        "1. Share the code you'd like reviewed here: a pull request, a repository or a gist.\n"
        "2. Review each other's code: leave comments, ask questions, suggest one improvement.\n"
        "3. Record each review with `/review done partner:@name link:<link to your review>`.\n"
        f"**Due** {due_text(view)}."
    )


def reminder_text(view: RoundView, pending: Sequence[int]) -> str:
    return (
        f"⏰ {' '.join(mention(user_id) for user_id in pending)}: reviews for week {view.week} of"
        f" **{view.cohort_name}** are due {timestamp(view.due_at, 'R')}. Once you've reviewed your"
        " partner's code, record it with `/review done`."
    )


def round_summary(view: RoundView) -> str:
    pairs, trios = describe_groups(view.paired_groups)
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
        f"Week {view.week}'s review round for **{view.cohort_name}** already ran, so here are its"
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


def status_embed(status: StatusView) -> discord.Embed:
    embed = discord.Embed(title=f"Code review · {status.cohort_name}"[:256], colour=BRAND_COLOUR)
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
    partners = join_names([mention(user_id) for user_id in status.partner_ids])
    where = f"\nThread: <#{group.thread_id}>" if group.thread_id else ""
    embed.add_field(name=title, value=f"Partner: {partners}\nDue {due_text(view)}{where}", inline=False)
    lines = [
        f"{'✅' if (reviewer, reviewee) in view.reviews else '⏳'} {mention(reviewer)} → {mention(reviewee)}"
        for reviewer in group.member_ids
        for reviewee in group.member_ids
        if reviewer != reviewee
    ]
    embed.add_field(name="Who has reviewed whom", value="\n".join(lines)[:1024], inline=False)
    return embed


def participation_text(status: StatusView) -> str:
    details = []
    if status.languages:
        details.append(f"languages: {', '.join(status.languages)}")
    if status.timezone:
        details.append(f"timezone: {status.timezone}")
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
        partners = join_names([mention(user_id) for user_id in entry.partner_ids]) or "no partner"
        gave = ", ".join(_reviewed(user_id, link) for user_id, link in entry.gave) or "—"
        received = ", ".join(_reviewed(user_id, link) for user_id, link in entry.received) or "—"
        state = "" if entry.closed else " · open"
        lines.append(
            f"**Week {entry.week}**{state} · with {partners}\nreviewed: {gave} · reviewed by: {received}"
        )
    return lines


def _reviewed(user_id: int, link: str | None) -> str:
    return f"{mention(user_id)} ([link](<{link}>))" if link else mention(user_id)


def present_in(guild: discord.Guild) -> Callable[[int], bool]:
    """Who can still be paired: members of the server who are not bots."""

    def present(user_id: int) -> bool:
        member = guild.get_member(user_id)
        return member is not None and not member.bot

    return present


class ReviewCog(commands.Cog):
    def __init__(self, bot: WaypointBot, reviews: ReviewService) -> None:
        self._bot = bot
        self._reviews = reviews

    review = app_commands.Group(
        name="review", description="Weekly peer code review in pairs", guild_only=True
    )

    # --- jobs ----------------------------------------------------------------------------------

    async def cog_load(self) -> None:
        for slot in await self._reviews.review_slots():
            self._schedule(slot)
        self._bot.scheduling.every(
            REMINDER_JOB_ID, REMINDER_INTERVAL, self.run_reminders, name="review reminders and round upkeep"
        )

    async def cog_unload(self) -> None:
        self._bot.scheduling.remove(WEEKLY_JOB_PREFIX)
        self._bot.scheduling.remove(REMINDER_JOB_ID)

    def _schedule(self, slot: ScheduleView) -> None:
        """(Re)register a cohort's weekly job at its review slot; a disabled cohort has none."""
        if not slot.enabled:
            self._bot.scheduling.cancel(weekly_job_id(slot.cohort_id))
            return
        self._bot.scheduling.weekly(WEEKLY_JOB_PREFIX, slot.cohort_id, slot.slot, self.run_weekly)

    @commands.Cog.listener("on_waypoint_cohort_created")
    async def on_cohort_created(self, cohort_id: int) -> None:
        slot = await self._reviews.slot_of(cohort_id)
        if slot is not None:
            self._schedule(slot)

    @commands.Cog.listener("on_waypoint_cohort_schedule_changed")
    async def on_cohort_schedule_changed(self, cohort_id: int) -> None:
        """A moved prompt slot (or zone) moves a review round that follows it."""
        slot = await self._reviews.slot_of(cohort_id)
        if slot is not None:
            self._schedule(slot)

    async def run_weekly(self, cohort_id: int) -> None:
        """The weekly job: pair this week's round once, then post whatever is not posted yet."""
        try:
            slot = await self._reviews.slot_of(cohort_id)
            if slot is None:
                return
            guild = self._bot.get_guild(slot.guild_id)
            if guild is None:
                log.warning(
                    "review round skipped: guild=%s cohort=%s is not reachable", slot.guild_id, cohort_id
                )
                return
            outcome = await self._reviews.run_scheduled_round(cohort_id, present_in(guild))
            if outcome is None:
                return
            await self._publish(guild, outcome.round, first_time=outcome.created)
            await self._tell_auto_snoozed(outcome.auto_snoozed)
        except Exception:  # one cohort's failure must not stop the scheduler or other cohorts
            log.exception("weekly review round failed for cohort=%s", cohort_id)

    async def run_reminders(self) -> None:
        """The hourly job: close due rounds, run rounds missed while down, finish posts, remind."""
        try:
            await self._tell_auto_snoozed(await self._reviews.close_due_rounds())
        except Exception:
            log.exception("closing due review rounds failed")
        try:
            for cohort_id in await self._reviews.cohorts_missing_their_round(self._bot.settings.prompt_grace):
                await self.run_weekly(cohort_id)
        except Exception:
            log.exception("catching up missed review rounds failed")
        try:
            for view in await self._reviews.unpublished_rounds():
                guild = self._bot.get_guild(view.guild_id)
                if guild is not None:
                    await self._publish(guild, view, first_time=view.announcement_message_id is None)
        except Exception:
            log.exception("finishing review round posts failed")
        try:
            for batch in await self._reviews.claim_due_reminders():
                await self._remind(batch)
        except Exception:
            log.exception("sending review reminders failed")

    # --- posting -------------------------------------------------------------------------------

    async def _publish(self, guild: discord.Guild, view: RoundView, *, first_time: bool) -> bool:
        """Post the announcement and one thread per group if not done yet; True once all is posted."""
        channel = guild.get_channel(view.channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning(
                "guild=%s cohort=%s review channel %s is gone", guild.id, view.cohort_id, view.channel_id
            )
            return False
        complete = True
        if view.announcement_message_id is None:
            try:
                first_message_id: int | None = None
                for text, pinged in announcement_messages(view):
                    message = await channel.send(text, allowed_mentions=only_users(pinged))
                    first_message_id = first_message_id or message.id
                assert first_message_id is not None
                await self._reviews.mark_announced(view.id, first_message_id)
            except discord.HTTPException:
                log.warning("guild=%s could not announce review round %s", guild.id, view.id, exc_info=True)
                complete = False
            else:
                if first_time:
                    await self._tell_lone(guild, view)
        for group in view.paired_groups:
            if group.thread_id is None:
                complete = await self._open_thread(guild, channel, view, group) and complete
        return complete

    async def _open_thread(
        self, guild: discord.Guild, channel: discord.TextChannel, view: RoundView, group: GroupView
    ) -> bool:
        names = [
            member.display_name if (member := guild.get_member(uid)) else "member" for uid in group.member_ids
        ]
        name = f"Week {view.week} review · {join_names(names)}"[:THREAD_NAME_LIMIT]
        try:
            thread = await channel.create_thread(
                name=name,
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException:
            log.warning("guild=%s could not open a review thread in %s", guild.id, channel.id, exc_info=True)
            return False
        # Recorded before the first message, so a failure below never opens a second thread.
        await self._reviews.set_thread(group.id, thread.id)
        try:
            await thread.send(thread_intro(view, group), allowed_mentions=only_users(group.member_ids))
        except discord.HTTPException:
            log.warning("guild=%s could not post in review thread %s", guild.id, thread.id, exc_info=True)
        return True

    async def _tell_lone(self, guild: discord.Guild, view: RoundView) -> None:
        for user_id in view.lone_member_ids:
            member = guild.get_member(user_id)
            if member is None:
                continue
            try:
                await member.send(
                    f"You were the only one available for review pairing in **{view.cohort_name}** this"
                    " week, so there's no partner for you this round."
                )
            except discord.HTTPException:
                log.info("guild=%s user=%s has DMs closed; the announcement tells them", guild.id, user_id)

    async def _remind(self, batch: ReminderBatch) -> None:
        guild = self._bot.get_guild(batch.round.guild_id)
        if guild is None:
            return
        for group, pending in batch.pending:
            target = await self._thread_or_channel(guild, group.thread_id, batch.round.channel_id)
            if target is None:
                continue
            try:
                await target.send(reminder_text(batch.round, pending), allowed_mentions=only_users(pending))
            except discord.HTTPException:
                log.warning("guild=%s could not send a review reminder", guild.id, exc_info=True)

    async def _thread_or_channel(
        self, guild: discord.Guild, thread_id: int | None, channel_id: int
    ) -> discord.abc.Messageable | None:
        if thread_id is not None:
            thread = guild.get_thread(thread_id)
            if thread is not None:
                return thread
            try:
                fetched = await self._bot.fetch_channel(thread_id)  # archived threads are not cached
            except discord.HTTPException:
                fetched = None
            if isinstance(fetched, discord.Thread):
                return fetched
        channel = guild.get_channel(channel_id)
        return channel if isinstance(channel, discord.TextChannel) else None

    async def _tell_auto_snoozed(self, snoozed: Sequence[AutoSnoozed]) -> None:
        """One line by DM; if DMs are closed it waits for the member's next ``/review`` command."""
        for item in snoozed:
            guild = self._bot.get_guild(item.guild_id)
            member = guild.get_member(item.user_id) if guild else None
            if member is None:
                continue
            try:
                await member.send(item.notice)
            except discord.HTTPException:
                continue
            await self._reviews.mark_notice_told(item.cohort_id, item.user_id)

    async def _pending_notices(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        notices = await self._reviews.take_notices(interaction.guild_id, interaction.user.id)
        if notices:
            await interaction.followup.send("\n".join(notices), ephemeral=True)

    # --- commands ------------------------------------------------------------------------------

    @review.command(name="join", description="Opt in to weekly code-review pairs, or update your preferences")
    @app_commands.describe(
        cohort="The cohort whose members you'll review with",
        languages="Languages you can review, comma-separated, e.g. python, go",
        timezone="Your IANA timezone, e.g. Europe/Berlin, to be paired with people awake when you are",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names, timezone=_autocomplete.timezones)
    @answered
    async def join(
        self,
        interaction: discord.Interaction[Any],
        cohort: str,
        languages: str | None = None,
        timezone: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        opt_in = await self._reviews.join(
            interaction.guild_id, interaction.user.id, cohort, languages=languages, timezone=timezone
        )
        if opt_in.first_time:
            head = f"You're in review pairing for **{opt_in.cohort_name}**: you'll get a partner next round."
        elif opt_in.came_back:
            head = f"Welcome back to review pairing in **{opt_in.cohort_name}**: you'll be paired next round."
        else:
            head = f"Your review preferences for **{opt_in.cohort_name}** are saved."
        languages_text = ", ".join(opt_in.languages) or "any"
        details = f"Languages: {languages_text} · Timezone: {opt_in.timezone or 'not set'}"
        await interaction.response.send_message(f"{head}\n{details}", ephemeral=True)

    @review.command(name="leave", description="Opt out of code-review pairs (your history is kept)")
    @app_commands.describe(cohort="The cohort to stop review pairing in")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def leave(self, interaction: discord.Interaction[Any], cohort: str) -> None:
        assert interaction.guild_id is not None
        change = await self._reviews.leave(interaction.guild_id, interaction.user.id, cohort)
        message = (
            f"You've left review pairing in **{change.cohort_name}**; your past rounds and reviews are kept."
            if change.changed
            else f"You weren't opted in to review pairing in **{change.cohort_name}**, so nothing changed."
        )
        await interaction.response.send_message(message, ephemeral=True)
        await self._pending_notices(interaction)

    @review.command(name="snooze", description="Skip the next review rounds")
    @app_commands.describe(
        cohort="The cohort to snooze review pairing in", weeks="How many rounds to skip (1-8)"
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def snooze(
        self, interaction: discord.Interaction[Any], cohort: str, weeks: app_commands.Range[int, 1, 8]
    ) -> None:
        assert interaction.guild_id is not None
        result = await self._reviews.snooze(interaction.guild_id, interaction.user.id, cohort, weeks)
        rounds = "round" if result.weeks == 1 else f"{result.weeks} rounds"
        await interaction.response.send_message(
            f"Snoozed: you'll skip the next {rounds} in **{result.cohort_name}** and be paired again from"
            f" week {result.back_in_week}.",
            ephemeral=True,
        )
        await self._pending_notices(interaction)

    @review.command(name="pair", description="Run this week's review round now (moderators)")
    @app_commands.describe(cohort="The cohort to pair")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def pair(self, interaction: discord.Interaction[Any], cohort: str) -> None:
        guild = interaction.guild
        assert guild is not None
        outcome = await self._reviews.run_round(guild.id, cohort, present_in(guild))
        view = outcome.round
        # Threads take a moment each; defer so a big cohort never misses the 3-second window.
        await interaction.response.defer(ephemeral=outcome.created, thinking=True)
        published = await self._publish(guild, view, first_time=outcome.created)
        await self._tell_auto_snoozed(outcome.auto_snoozed)
        if outcome.created:
            text = (
                f"Week {view.week}'s review round for **{view.cohort_name}** is out in <#{view.channel_id}>:"
                f" {round_summary(view)}, due {timestamp(view.due_at, 'F')}."
            )
        else:
            text = repost_text(view)
        if not published:
            text += f"\nI couldn't post everything in <#{view.channel_id}>; I'll retry within the hour."
        await interaction.edit_original_response(
            content=text, allowed_mentions=discord.AllowedMentions.none()
        )
        await self._pending_notices(interaction)

    @review.command(name="schedule", description="When the automatic weekly review round runs (moderators)")
    @app_commands.describe(
        cohort="The cohort to schedule",
        weekday="Weekday of the round (default: the cohort's prompt day)",
        time="Local time of the round, HH:MM (default: the cohort's prompt time)",
        enabled="Turn the automatic weekly round on or off",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names, weekday=_autocomplete.weekdays)
    @moderator_only
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        cohort: str,
        weekday: str | None = None,
        time: str | None = None,
        enabled: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if weekday is None and time is None and enabled is None:
            slot = await self._reviews.schedule_of(interaction.guild_id, cohort)
            head = "Review rounds"
        else:
            slot = await self._reviews.set_schedule(
                interaction.guild_id, cohort, weekday=weekday, at=time, enabled=enabled
            )
            self._schedule(slot)
            head = "Saved. Review rounds"
        if slot.enabled:
            origin = " (with the prompt slot)" if slot.follows_prompt_slot else ""
            text = (
                f"{head} for **{slot.cohort_name}** run {slot.slot.describe()}{origin}; next:"
                f" {timestamp(slot.next_run, 'F')}."
            )
        else:
            text = (
                f"Automatic review rounds for **{slot.cohort_name}** are off; `/review pair` still runs one"
                " by hand."
            )
        await interaction.response.send_message(text, ephemeral=True)
        await self._pending_notices(interaction)

    @review.command(name="done", description="Record that you reviewed your partner's code this round")
    @app_commands.describe(
        partner="The partner whose code you reviewed",
        link="A link to your review (pull request comments, a gist...)",
        cohort="Needed if you review in more than one cohort",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def done(
        self,
        interaction: discord.Interaction[Any],
        partner: discord.Member,
        link: str | None = None,
        cohort: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if partner.bot:
            raise InvalidInputError(
                "Bots don't take part in reviews: pick the member whose code you reviewed."
            )
        result = await self._reviews.record_done(
            interaction.guild_id, interaction.user.id, partner.id, link=link, cohort_name=cohort
        )
        if result.changed:
            text = (
                f"✅ Recorded: you reviewed {partner.mention}'s code for week {result.week}"
                f" of **{result.cohort_name}**."
            )
        else:
            updated = " (link updated)" if result.link else ""
            text = f"You'd already recorded reviewing {partner.mention} this round{updated}."
        if result.still_to_review:
            text += (
                f"\nStill to review: {join_names([mention(user_id) for user_id in result.still_to_review])}."
            )
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
        await self._pending_notices(interaction)

    @review.command(name="status", description="Your review partner, due date and who has reviewed whom")
    @app_commands.describe(cohort="Needed if you review in more than one cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def status(self, interaction: discord.Interaction[Any], cohort: str | None = None) -> None:
        assert interaction.guild_id is not None
        status = await self._reviews.status(interaction.guild_id, interaction.user.id, cohort)
        await interaction.response.send_message(embed=status_embed(status), ephemeral=True)
        await self._pending_notices(interaction)

    @review.command(name="history", description="Past review partners and completed reviews")
    @app_commands.describe(
        member="Whose history (default: yours)", cohort="Needed if in more than one cohort"
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def history(
        self,
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        cohort: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        subject, who = subject_of(interaction, member)
        history = await self._reviews.history(interaction.guild_id, subject.id, cohort, who=who)
        if not history.entries:
            verb = "haven't" if who == "You" else "hasn't"
            await interaction.response.send_message(
                f"{who} {verb} been in a review round in **{history.cohort_name}** yet.", ephemeral=True
            )
        else:
            embeds = paged_embeds(
                f"Review history · {subject.display_name} · {history.cohort_name}", history_lines(history)
            )
            for embed in embeds:
                embed.add_field(name="Totals", value=f"given {history.given} · received {history.received}")
            await send_pages(interaction, embeds, ephemeral=True)
        await self._pending_notices(interaction)


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(ReviewCog(bot, bot.services.reviews))
