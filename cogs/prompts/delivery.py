"""Sending weekly prompts: the scheduled job, the start-up catch-up and one claimed post's delivery.

Posts are paced by the bot's one ``PostPacer`` (global and per-channel limits). A 5xx answer, a
timeout or a dropped connection is retried after ``retry_delays``, then the week is recorded as
'missed'. 403 and 404
mean the channel is closed to the bot or gone: the week fails and the cohort needs attention.
Each claim comes from the service, so a week is never sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.pacing import PostPacer
from bot.prompts.service import PromptService
from bot.prompts.views import OutgoingPost
from bot.replies import post as post_to
from bot.scheduling import retry_transient
from cogs.prompts import render

if TYPE_CHECKING:
    from bot.app import WaypointBot

log = logging.getLogger(__name__)

# Seconds between attempts when Discord answers 5xx or times out: three retries, then 'missed'.
RETRY_DELAYS: tuple[float, ...] = (2.0, 4.0, 8.0)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one post ended: 'sent' with its message, or 'failed' / 'missed' with a reason."""

    status: str
    message_id: int | None = None
    reason: str | None = None


def role_mentions(role_id: int | None) -> discord.AllowedMentions:
    """Only the chosen role may be pinged: never @everyone, @here or members."""
    roles: list[discord.Object] | bool = [discord.Object(id=role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


class PromptDelivery:
    """Claims a week through the service, sends it, and reports how it went."""

    def __init__(self, bot: WaypointBot, prompts: PromptService) -> None:
        self._bot = bot
        self._prompts = prompts
        self.retry_delays: Sequence[float] = RETRY_DELAYS
        # Replaceable, so tests never really wait.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    @property
    def pacer(self) -> PostPacer:
        """The bot's one pacer: every post, scheduled or by hand, takes its turn."""
        return self._bot.pacer

    @pacer.setter
    def pacer(self, pacer: PostPacer) -> None:
        self._bot.pacer = pacer

    async def fire(self, cohort_id: int) -> None:
        """The weekly job; the scheduling facility logs its errors, so one cohort never stops others."""
        post = await self._prompts.claim_scheduled(cohort_id)
        if post is not None:
            await self.deliver(post)

    async def catch_up(self) -> None:
        """Post each recently missed week once; report (never post) the older ones."""
        plans = await self._prompts.catch_up(owns=self._bot.scheduling.owns)
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
        # Logged here, not raised: the other cohorts' catch-up posts run in the same gather.
        # The gate keeps a thousand catch-ups from asking the database pool for a thousand connections.
        try:
            async with self._bot.scheduling.gate:
                post = await self._prompts.claim_week(cohort_id, week)
                if post is not None:
                    await self.deliver(post)
        except Exception:
            log.exception("catch-up prompt failed for cohort=%s week=%s", cohort_id, week)

    async def deliver(self, post: OutgoingPost) -> Delivery:
        """Send a claimed post and record the outcome; retries only what can get better by waiting."""
        attempt = 0
        while True:
            await self.pacer.wait(post.channel_id)
            outcome = await self._attempt(post)
            if isinstance(outcome, Delivery):
                return outcome
            if attempt >= len(self.retry_delays):
                log.warning(
                    "guild=%s cohort=%s week=%s missed after %d attempts: %s",
                    post.guild_id,
                    post.cohort_id,
                    post.week,
                    attempt + 1,
                    outcome,
                )
                await self._prompts.mark_missed(post, outcome)
                return Delivery("missed", reason=outcome)
            await self.sleep(self.retry_delays[attempt])
            attempt += 1

    async def _attempt(self, post: OutgoingPost) -> Delivery | str:
        """One send: how it ended for good, or the passing problem (a string) worth a retry."""
        channel = self._bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        try:
            message = await post_to(
                channel,
                render.post_mention(post.role_id),
                embed=render.prompt_embed(post.content),
                allowed_mentions=role_mentions(post.role_id),
            )
        except discord.Forbidden as error:
            return await self._refused(post, render.forbidden_reason(post.channel_id), error)
        except discord.NotFound as error:
            return await self._refused(post, render.missing_channel_reason(post.channel_id), error)
        except discord.HTTPException as error:
            if error.status >= 500 or error.status == 429:
                return f"HTTP {error.status}"
            log.error(
                "guild=%s cohort=%s week=%s: Discord rejected the prompt (%s)",
                post.guild_id,
                post.cohort_id,
                post.week,
                error,
            )
            await self._prompts.mark_failed(post, f"HTTP {error.status}: {error.text}", attention=None)
            return Delivery("failed", reason=str(error))
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            return f"{type(error).__name__}: {error}"
        except Exception as error:  # a bug: record it so the week isn't left 'claimed'
            log.exception(
                "guild=%s cohort=%s week=%s: sending failed", post.guild_id, post.cohort_id, post.week
            )
            await self._prompts.mark_failed(post, f"{type(error).__name__}: {error}", attention=None)
            return Delivery("failed", reason=render.OUR_SIDE)
        # The message is out: recording it rides out a locked database rather than leave it 'claimed'.
        await retry_transient(lambda: self._prompts.mark_sent(post, message.id), sleep=self.sleep)
        self._bot.dispatch("waypoint_prompt_posted", post.cohort_id, post.week, message.jump_url)
        log.info(
            "guild=%s cohort=%s posted week %s (message %s)",
            post.guild_id,
            post.cohort_id,
            post.week,
            message.id,
        )
        return Delivery("sent", message_id=message.id)

    async def _refused(self, post: OutgoingPost, reason: str, error: discord.HTTPException) -> Delivery:
        """403/404: the week fails and the cohort shows ``reason`` to moderators until it is fixed."""
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
