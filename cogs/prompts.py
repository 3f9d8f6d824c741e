"""`/prompts ...` and the weekly prompt job: each cohort's study prompt, posted once a week.

One scheduler job per cohort (``prompt:{cohort_id}``) calls ``PromptsCog.fire(cohort_id)`` at the
cohort's local slot; calling the job's function by hand does exactly the same. The database
decides what is due and guards each (cohort, week) with a unique key, so repeated fires, a
second process or a restart never post a week twice. After the bot is ready, a start-up catch-up
posts a recently missed week once and skips older ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.prompts.rules import PromptContent
from bot.prompts.service import OutgoingPost, PostedBefore, PromptPreview, PromptService
from bot.scheduling import PROMPT_JOB_PREFIX, PostPacer
from cogs import _autocomplete
from cogs._checks import answered, moderator_only
from cogs._ui import BRAND_COLOUR, timestamp

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

# Seconds between attempts when Discord answers 5xx or times out: three retries, then 'missed'.
RETRY_DELAYS: tuple[float, ...] = (2.0, 4.0, 8.0)


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
    embed.add_field(name="How the cohort is doing", value=content.activity[:1024], inline=False)
    embed.add_field(name="Mark a checkpoint", value=content.how_to_mark[:1024], inline=False)
    embed.set_footer(text=f"{content.roadmap_title} · week {content.week} of {content.total_weeks}"[:2048])
    return embed


def role_mentions(role_id: int | None) -> discord.AllowedMentions:
    """Only the chosen role may be pinged: never @everyone, @here or members."""
    roles: list[discord.Object] | bool = [discord.Object(id=role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def preview_text(preview: PromptPreview) -> str:
    """The sentence above a preview: when it goes out (or went out), and anything blocking it."""
    what = "closing message" if preview.content.is_closing else f"week {preview.week} prompt"
    head = f"**Preview · {preview.cohort_name}, {what}**"
    if preview.status in {"sent", "claimed"}:
        when = f" on {timestamp(preview.sent_at)}" if preview.sent_at else ""
        link = (
            f": {message_link(preview.guild_id, preview.channel_id, preview.message_id)}"
            if preview.message_id
            else "."
        )
        lines = [f"{head}\nAlready posted{when}{link}"]
    elif preview.status is not None:
        lines = [
            f"{head}\nIts slot ({timestamp(preview.due_at)}) passed without a post ({preview.status}). "
            "A moderator can post the current week with `/prompts post-now`."
        ]
    elif preview.due_at <= preview.now:
        lines = [
            f"{head}\nIts slot ({timestamp(preview.due_at)}) has passed and it wasn't posted. "
            "A moderator can post the current week with `/prompts post-now`."
        ]
    else:
        mention = f", mentioning <@&{preview.role_id}>" if preview.role_id else ""
        lines = [
            f"{head}\nWould be posted {timestamp(preview.due_at)} ({timestamp(preview.due_at, 'R')}) "
            f"in <#{preview.channel_id}>{mention}."
        ]
    if preview.paused:
        lines.append("⏸️ Prompts are paused: nothing is posted until a moderator runs `/prompts resume`.")
    if preview.finished and not preview.content.is_closing:
        lines.append("This cohort has finished its roadmap: no more weekly prompts are posted.")
    if preview.attention_reason:
        lines.append(f"⚠️ Needs attention: {preview.attention_reason}")
    return "\n".join(lines)


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


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one post ended: 'sent' with its message, or 'failed' / 'missed' with a reason."""

    status: str
    message_id: int | None = None
    reason: str | None = None


class PromptsCog(commands.Cog):
    def __init__(
        self,
        bot: WaypointBot,
        prompts: PromptService,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        pacer: PostPacer | None = None,
    ) -> None:
        self._bot = bot
        self._prompts = prompts
        self.retry_delays = tuple(retry_delays)
        self.sleep = sleep
        # One pacer for the whole bot: every post, scheduled or by hand, takes its turn.
        self.pacer = pacer or PostPacer()

    prompts = app_commands.Group(name="prompts", description="Weekly study prompts", guild_only=True)

    # --- jobs ----------------------------------------------------------------------------------

    async def cog_load(self) -> None:
        count = 0
        for cohort_id, slot in await self._prompts.job_slots():
            self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, cohort_id, slot, self.fire)
            count += 1
        self._bot.scheduling.on_start("prompts", self.catch_up)
        log.info("scheduled weekly prompts for %d cohorts", count)

    async def cog_unload(self) -> None:
        self._bot.scheduling.remove(PROMPT_JOB_PREFIX)

    @commands.Cog.listener("on_waypoint_cohort_created")
    async def on_cohort_created(self, cohort_id: int) -> None:
        await self._reschedule(cohort_id)

    async def _reschedule(self, cohort_id: int) -> None:
        for found_id, slot in await self._prompts.job_slots([cohort_id]):
            self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, found_id, slot, self.fire)

    async def fire(self, cohort_id: int) -> None:
        """The weekly job. Never raises: one cohort's trouble must not touch the others."""
        try:
            post = await self._prompts.claim_scheduled(cohort_id)
            if post is not None:
                await self.deliver(post)
        except Exception:
            log.exception("weekly prompt failed for cohort=%s", cohort_id)

    async def catch_up(self) -> None:
        """Post each recently missed week once; report (never post) the older ones."""
        try:
            plans = await self._prompts.catch_up()
        except Exception:
            log.exception("prompt catch-up failed")
            return
        tasks = []
        for plan in plans:
            if plan.skipped_weeks:
                log.warning(
                    "guild=%s cohort=%s (%s): weeks %s passed while the bot was down; skipped, not posted",
                    plan.guild_id,
                    plan.cohort_id,
                    plan.cohort_name,
                    ", ".join(map(str, plan.skipped_weeks)),
                )
            if plan.week is not None:
                tasks.append(self._catch_up_one(plan.cohort_id, plan.week))
        if tasks:
            log.info("catching up %d missed prompts", len(tasks))
            await asyncio.gather(*tasks)

    async def _catch_up_one(self, cohort_id: int, week: int) -> None:
        try:
            post = await self._prompts.claim_week(cohort_id, week)
            if post is not None:
                await self.deliver(post)
        except Exception:
            log.exception("catch-up prompt failed for cohort=%s week=%s", cohort_id, week)

    async def deliver(self, post: OutgoingPost) -> Delivery:
        """Send a claimed post and record the outcome; retries only what can get better by waiting."""
        channel = self._bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        embed = prompt_embed(post.content)
        content = f"<@&{post.role_id}>" if post.role_id else None
        attempt = 0
        while True:
            await self.pacer.wait()
            try:
                message = await channel.send(
                    content=content, embed=embed, allowed_mentions=role_mentions(post.role_id)
                )
            except discord.Forbidden as error:
                return await self._refused(post, forbidden_reason(post.channel_id), error)
            except discord.NotFound as error:
                return await self._refused(post, missing_channel_reason(post.channel_id), error)
            except discord.HTTPException as error:
                if error.status < 500 and error.status != 429:
                    log.error(
                        "guild=%s cohort=%s week=%s: Discord rejected the prompt (%s)",
                        post.guild_id,
                        post.cohort_id,
                        post.week,
                        error,
                    )
                    await self._prompts.mark_failed(
                        post, f"HTTP {error.status}: {error.text}", attention=None
                    )
                    return Delivery("failed", reason=str(error))
                problem = f"HTTP {error.status}"
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                problem = f"{type(error).__name__}: {error}"
            except Exception as error:  # a bug: record it so the week isn't left 'claimed'
                log.exception(
                    "guild=%s cohort=%s week=%s: sending failed", post.guild_id, post.cohort_id, post.week
                )
                await self._prompts.mark_failed(post, f"{type(error).__name__}: {error}", attention=None)
                return Delivery("failed", reason="something went wrong on our side; the error was logged")
            else:
                await self._prompts.mark_sent(post, message.id)
                log.info(
                    "guild=%s cohort=%s posted week %s (message %s)",
                    post.guild_id,
                    post.cohort_id,
                    post.week,
                    message.id,
                )
                return Delivery("sent", message_id=message.id)
            if attempt >= len(self.retry_delays):
                log.warning(
                    "guild=%s cohort=%s week=%s missed after %d attempts: %s",
                    post.guild_id,
                    post.cohort_id,
                    post.week,
                    attempt + 1,
                    problem,
                )
                await self._prompts.mark_missed(post, problem)
                return Delivery("missed", reason=problem)
            await self.sleep(self.retry_delays[attempt])
            attempt += 1

    async def _refused(self, post: OutgoingPost, reason: str, error: discord.HTTPException) -> Delivery:
        log.warning(
            "guild=%s cohort=%s (%s) needs attention, week %s not posted: %s (%s)",
            post.guild_id,
            post.cohort_id,
            post.cohort_name,
            post.week,
            reason,
            error,
        )
        await self._prompts.mark_failed(post, f"HTTP {error.status}: {error.text}", attention=reason)
        return Delivery("failed", reason=reason)

    # --- commands ------------------------------------------------------------------------------

    @prompts.command(name="preview", description="See exactly what a week's prompt will say, and when")
    @app_commands.describe(cohort="The cohort", week="Which week (default: the next one to be posted)")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def preview(
        self,
        interaction: discord.Interaction[Any],
        cohort: str,
        week: int | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        preview = await self._prompts.preview(interaction.guild_id, cohort, week)
        await interaction.response.send_message(
            preview_text(preview),
            embed=prompt_embed(preview.content),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @prompts.command(name="post-now", description="Post this week's prompt right away (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def post_now(self, interaction: discord.Interaction[Any], cohort: str) -> None:
        assert interaction.guild_id is not None
        claimed = await self._prompts.claim_current(interaction.guild_id, cohort)
        if isinstance(claimed, PostedBefore):
            if claimed.message_id:
                link = message_link(claimed.guild_id, claimed.channel_id, claimed.message_id)
                answer = f"Week {claimed.week} of **{claimed.cohort_name}** was already posted: {link}"
            else:
                answer = (
                    f"Week {claimed.week} of **{claimed.cohort_name}** is being posted in "
                    f"<#{claimed.channel_id}> right now"
                )
            await interaction.response.send_message(f"{answer}. I won't post it twice.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            delivery = await self.deliver(claimed)
        except Exception:
            log.exception("post-now failed guild=%s cohort=%s", claimed.guild_id, claimed.cohort_id)
            delivery = Delivery("failed", reason="something went wrong on our side; the error was logged")
        what = "closing message" if claimed.content.is_closing else f"week {claimed.week} prompt"
        if delivery.status == "sent" and delivery.message_id is not None:
            text = (
                f"Posted the {what} for **{claimed.cohort_name}**: "
                f"{message_link(claimed.guild_id, claimed.channel_id, delivery.message_id)}"
            )
        elif delivery.status == "missed":
            text = (
                f"Discord kept failing, so the {what} for **{claimed.cohort_name}** wasn't posted. "
                "Try again later."
            )
        else:
            text = f"I couldn't post the {what} for **{claimed.cohort_name}**: {delivery.reason}"
        await interaction.edit_original_response(content=text)

    @prompts.command(name="pause", description="Stop posting weekly prompts for a cohort (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def pause(self, interaction: discord.Interaction[Any], cohort: str) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.pause(interaction.guild_id, cohort)
        if not change.changed:
            await interaction.response.send_message(
                f"Prompts for **{change.cohort_name}** are already paused.", ephemeral=True
            )
            return
        await interaction.response.send_message(
            f"⏸️ Paused weekly prompts for **{change.cohort_name}**. "
            f"Nothing is posted until a moderator runs `/prompts resume cohort:{change.cohort_name}`."
        )

    @prompts.command(name="resume", description="Start posting weekly prompts again (moderators)")
    @app_commands.describe(cohort="The cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def resume(self, interaction: discord.Interaction[Any], cohort: str) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.resume(interaction.guild_id, cohort)
        if not change.changed:
            await interaction.response.send_message(
                f"Prompts for **{change.cohort_name}** aren't paused.", ephemeral=True
            )
            return
        parts = [f"▶️ Resumed weekly prompts for **{change.cohort_name}**."]
        if change.next_at is not None:
            parts.append(f"Next: week {change.next_week}, {timestamp(change.next_at)}.")
        if change.skipped_weeks:
            weeks = ", ".join(map(str, change.skipped_weeks))
            parts.append(f"Missed while paused and skipped (not posted late): week {weeks}.")
        await interaction.response.send_message(" ".join(parts))

    @prompts.command(name="add", description="Use your own text as one week's prompt (moderators)")
    @app_commands.describe(
        cohort="The cohort",
        week="The week it replaces (1 = the first week)",
        text="The prompt text, up to 1500 characters",
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def add(
        self,
        interaction: discord.Interaction[Any],
        cohort: str,
        week: int,
        text: str,
    ) -> None:
        assert interaction.guild_id is not None
        change = await self._prompts.add_custom(interaction.guild_id, cohort, week, text, interaction.user.id)
        verb = "Replaced the custom prompt" if change.replaced else "Saved a custom prompt"
        message = (
            f"{verb} for week {change.week} of **{change.cohort_name}** ({change.length} characters); "
            f"its slot is {timestamp(change.due_at)}."
        )
        if change.already_posted:
            message += " That week was already posted, so the new text only shows in previews."
        else:
            message += f" Check it with `/prompts preview cohort:{change.cohort_name} week:{change.week}`."
        await interaction.response.send_message(message, ephemeral=True)

    @prompts.command(
        name="schedule", description="Change a cohort's prompt slot, channel or mentioned role (moderators)"
    )
    @app_commands.describe(
        cohort="The cohort",
        weekday="New weekday (mon..sun)",
        time="New local time, HH:MM on a 24-hour clock",
        timezone="New IANA timezone, e.g. Europe/Berlin",
        channel="New channel for the prompts",
        role="A role to mention in each prompt (never @everyone)",
    )
    @app_commands.autocomplete(
        cohort=_autocomplete.cohort_names, weekday=_autocomplete.weekdays, timezone=_autocomplete.timezones
    )
    @moderator_only
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        cohort: str,
        weekday: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
    ) -> None:
        assert interaction.guild is not None
        if role is not None and role.is_default():
            await interaction.response.send_message(
                "I never mention @everyone: pick a specific role, or none.", ephemeral=True
            )
            return
        if channel is not None:
            permissions = channel.permissions_for(interaction.guild.me)
            if not (permissions.view_channel and permissions.send_messages and permissions.embed_links):
                await interaction.response.send_message(
                    f"I can't post in {channel.mention}: give me View Channel, Send Messages "
                    "and Embed Links there.",
                    ephemeral=True,
                )
                return
        change = await self._prompts.change_schedule(
            interaction.guild.id,
            cohort,
            weekday=weekday,
            at=time,
            timezone=timezone,
            channel_id=channel.id if channel else None,
            role_id=role.id if role else None,
        )
        # The database changed first; now the job follows, so the next run moves at once.
        self._bot.scheduling.weekly(PROMPT_JOB_PREFIX, change.cohort_id, change.slot, self.fire)
        self._bot.dispatch("waypoint_cohort_schedule_changed", change.cohort_id)
        lines = [
            f"🗓️ Weekly prompts for **{change.cohort_name}**: {change.slot.describe()} "
            f"in <#{change.channel_id}>."
        ]
        if change.role_id:
            lines.append(f"Each prompt mentions <@&{change.role_id}>.")
        if change.next_at is not None:
            lines.append(f"Next: week {change.next_week}, {timestamp(change.next_at)}.")
        await interaction.response.send_message(
            " ".join(lines), allowed_mentions=discord.AllowedMentions.none()
        )


async def setup(bot: WaypointBot) -> None:
    await bot.add_cog(PromptsCog(bot, bot.services.prompts))
