"""The review jobs and what they post: rounds, threads, reminders and auto-snooze notices.

The weekly job ``review:<cohort id>`` runs at the cohort's review slot; ``review-reminders`` runs
hourly to close rounds that are due, run a round whose slot passed while the bot was down, finish
posting a round a crash interrupted, and send the reminder two days before the due date. The
round missed while down is also looked for once at start-up. All are safe to run any number of
times: the database says what is already done.

Under sharding each process registers and runs these only for the guilds its shards own
(``bot.scheduling.owns``). Every request goes through the bot's pacer: the announcement and each
thread's creation in the review channel's bucket, each thread's first message in the thread's,
DMs in the global budget only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import commands

from bot.replies import post
from bot.reviews.rounds import ReviewRounds
from bot.reviews.schedule import ReviewSchedule
from bot.reviews.service import ReviewService
from bot.reviews.views import AutoSnoozed, GroupView, ReminderBatch, RoundView, ScheduleView
from bot.scheduling import weekly_job_id
from cogs.review import render

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

WEEKLY_JOB_PREFIX = "review"
REMINDER_JOB_ID = "review-reminders"
REMINDER_INTERVAL = timedelta(hours=1)
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: the thread stays open for the whole round


def only_users(user_ids: Iterable[int]) -> discord.AllowedMentions:
    """Ping exactly these members: never roles, never @everyone."""
    return discord.AllowedMentions(
        users=[discord.Object(id=user_id) for user_id in user_ids], roles=False, everyone=False
    )


def present_in(guild: discord.Guild) -> Callable[[int], bool]:
    """Who can still be paired: members of the server who are not bots."""

    def present(user_id: int) -> bool:
        member = guild.get_member(user_id)
        return member is not None and not member.bot

    return present


class ReviewJobs(commands.Cog):
    """Registers the review jobs and posts what the round services decide."""

    def __init__(
        self, bot: WaypointBot, reviews: ReviewService, rounds: ReviewRounds, schedule: ReviewSchedule
    ) -> None:
        self._bot = bot
        self._reviews = reviews
        self._rounds = rounds
        self._schedule = schedule

    # --- registration --------------------------------------------------------------------------

    async def cog_load(self) -> None:
        for slot in await self._schedule.review_slots():
            if self._bot.scheduling.owns(slot.guild_id):
                self.schedule(slot)
        self._bot.scheduling.every(
            REMINDER_JOB_ID, REMINDER_INTERVAL, self.run_upkeep, name="review reminders and round upkeep"
        )
        self._bot.scheduling.on_start("review rounds missed while down", self.catch_up_missed_rounds)

    async def cog_unload(self) -> None:
        self._bot.scheduling.remove(WEEKLY_JOB_PREFIX)
        self._bot.scheduling.remove(REMINDER_JOB_ID)

    def schedule(self, slot: ScheduleView) -> None:
        """(Re)register a cohort's weekly job at its review slot; a disabled cohort has none."""
        if not slot.enabled:
            self._bot.scheduling.cancel(weekly_job_id(WEEKLY_JOB_PREFIX, slot.cohort_id))
            return
        self._bot.scheduling.weekly(WEEKLY_JOB_PREFIX, slot.cohort_id, slot.slot, self.run_weekly)

    @commands.Cog.listener("on_waypoint_cohort_created")
    async def on_cohort_created(self, cohort_id: int) -> None:
        await self._reschedule(cohort_id)

    @commands.Cog.listener("on_waypoint_cohort_schedule_changed")
    async def on_cohort_schedule_changed(self, cohort_id: int) -> None:
        """A moved prompt slot (or zone) moves a review round that follows it."""
        await self._reschedule(cohort_id)

    async def _reschedule(self, cohort_id: int) -> None:
        slot = await self._schedule.slot_of(cohort_id)
        if slot is not None and self._bot.scheduling.owns(slot.guild_id):
            self.schedule(slot)

    # --- job bodies ----------------------------------------------------------------------------

    async def run_weekly(self, cohort_id: int) -> None:
        """The weekly job: pair this week's round once, then post whatever is not posted yet."""
        slot = await self._schedule.slot_of(cohort_id)
        if slot is None or not self._bot.scheduling.owns(slot.guild_id):
            return
        guild = self._bot.get_guild(slot.guild_id)
        if guild is None:
            log.warning("review round skipped: guild=%s cohort=%s is not reachable", slot.guild_id, cohort_id)
            return
        outcome = await self._rounds.run_scheduled_round(cohort_id, present_in(guild))
        if outcome is None:
            return
        await self.publish(guild, outcome.round, first_time=outcome.created)
        await self.tell_auto_snoozed(outcome.auto_snoozed)

    async def run_upkeep(self) -> None:
        """The hourly job: close due rounds, run rounds missed while down, finish posts, remind.

        Each step logs its own failure, so one that fails never stops the others.
        """
        steps = (
            self._close_due_rounds,
            self.catch_up_missed_rounds,
            self._finish_posts,
            self._send_reminders,
        )
        for step in steps:
            try:
                await step()
            except Exception:
                log.exception("review upkeep step %s failed", step.__name__)

    async def catch_up_missed_rounds(self) -> None:
        """Run this week's round for cohorts whose slot passed while the bot was down.

        ``run_weekly`` skips the cohorts of guilds another process owns.
        """
        for cohort_id in await self._rounds.cohorts_missing_their_round(self._bot.settings.prompt_grace):
            try:
                async with self._bot.scheduling.gate:
                    await self.run_weekly(cohort_id)
            except Exception:  # one cohort's failure must not stop the others
                log.exception("catching up the review round failed for cohort=%s", cohort_id)

    async def _close_due_rounds(self) -> None:
        await self.tell_auto_snoozed(await self._rounds.close_due_rounds(self._bot.scheduling.owns))

    async def _finish_posts(self) -> None:
        for view in await self._rounds.unpublished_rounds():
            if not self._bot.scheduling.owns(view.guild_id):
                continue
            guild = self._bot.get_guild(view.guild_id)
            if guild is not None:
                await self.publish(guild, view, first_time=view.announcement_message_id is None)

    async def _send_reminders(self) -> None:
        for batch in await self._rounds.claim_due_reminders(self._bot.scheduling.owns):
            await self._remind(batch)

    # --- posting -------------------------------------------------------------------------------

    async def publish(self, guild: discord.Guild, view: RoundView, *, first_time: bool) -> bool:
        """Post the announcement and one thread per group if not done yet; True once all is posted.

        Each post is claimed in the database first, so a second ``/review pair`` or the weekly job
        running at the same moment posts nothing twice (what another is posting counts as done).
        """
        channel = guild.get_channel(view.channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning(
                "guild=%s cohort=%s review channel %s is gone", guild.id, view.cohort_id, view.channel_id
            )
            return False
        complete = True
        if view.announcement_message_id is None and await self._rounds.claim_announcement(view.id):
            complete = await self._announce(channel, view)
            if complete and first_time:
                await self._tell_lone(guild, view)
        for group in view.paired_groups:
            if group.needs_thread and await self._rounds.claim_thread(group.id):
                complete = await self._open_thread(guild, channel, view, group) and complete
        return complete

    async def _announce(self, channel: discord.TextChannel, view: RoundView) -> bool:
        try:
            first_message_id: int | None = None
            for text, pinged in render.announcement_messages(view):
                await self._bot.pacer.wait(channel.id)
                message = await post(channel, text, allowed_mentions=only_users(pinged))
                first_message_id = first_message_id or message.id
            assert first_message_id is not None
            await self._rounds.mark_announced(view.id, first_message_id)
        except discord.HTTPException:
            log.warning(
                "guild=%s could not announce review round %s", channel.guild.id, view.id, exc_info=True
            )
            await self._rounds.release_announcement(view.id)
            return False
        return True

    async def _open_thread(
        self, guild: discord.Guild, channel: discord.TextChannel, view: RoundView, group: GroupView
    ) -> bool:
        names = [
            member.display_name if (member := guild.get_member(uid)) else "member" for uid in group.member_ids
        ]
        try:
            await self._bot.pacer.wait(channel.id)
            thread = await channel.create_thread(
                name=render.thread_name(view, names),
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException:
            log.warning("guild=%s could not open a review thread in %s", guild.id, channel.id, exc_info=True)
            await self._rounds.release_thread(group.id)
            return False
        # Recorded before the first message, so a failure below never opens a second thread.
        await self._rounds.set_thread(group.id, thread.id)
        try:
            await self._bot.pacer.wait(thread.id)
            await post(
                thread, render.thread_intro(view, group), allowed_mentions=only_users(group.member_ids)
            )
        except discord.HTTPException:
            log.warning("guild=%s could not post in review thread %s", guild.id, thread.id, exc_info=True)
        return True

    async def _tell_lone(self, guild: discord.Guild, view: RoundView) -> None:
        for user_id in view.lone_member_ids:
            member = guild.get_member(user_id)
            if member is None:
                continue
            try:
                await self._bot.pacer.wait()
                await post(member, render.lone_dm(view))
            except discord.HTTPException:
                log.info("guild=%s user=%s has DMs closed; the announcement tells them", guild.id, user_id)

    async def _remind(self, batch: ReminderBatch) -> None:
        guild = self._bot.get_guild(batch.round.guild_id)
        for group, pending in batch.pending:
            if guild is not None:
                target = await self._thread_or_channel(guild, group.thread_id, batch.round.channel_id)
            else:
                # This process's guild, not in the cache yet: the REST API reaches it all the same.
                target = self._bot.get_partial_messageable(
                    group.thread_id or batch.round.channel_id, guild_id=batch.round.guild_id
                )
            if target is None:
                continue
            try:
                await self._bot.pacer.wait(getattr(target, "id", None))
                await post(
                    target, render.reminder_text(batch.round, pending), allowed_mentions=only_users(pending)
                )
            except discord.HTTPException:
                log.warning("guild=%s could not send a review reminder", batch.round.guild_id, exc_info=True)

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

    async def tell_auto_snoozed(self, snoozed: Sequence[AutoSnoozed]) -> None:
        """One line by DM; if DMs are closed it waits for the member's next ``/review`` command."""
        for item in snoozed:
            guild = self._bot.get_guild(item.guild_id)
            member = guild.get_member(item.user_id) if guild else None
            if member is None:
                continue
            try:
                await self._bot.pacer.wait()
                await post(member, render.auto_snooze_notice(item))
            except discord.HTTPException:
                continue
            await self._reviews.mark_notice_told(item.cohort_id, item.user_id)
