"""`/review ...`: weekly peer code-review pairs, as members and moderators ask for them.

Thin: each command parses its options, calls a review service and sends what ``render`` words.
Rounds are posted by ``ReviewJobs``, the same code the weekly job uses.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.kernel.errors import InvalidInputError
from bot.replies import edit_reply, reply
from bot.reviews.rounds import ReviewRounds
from bot.reviews.schedule import ReviewSchedule
from bot.reviews.service import ReviewService
from cogs import _autocomplete
from cogs._checks import answered, moderator_only
from cogs._ui import send_pages, subject_of
from cogs.review import render
from cogs.review.jobs import ReviewJobs, present_in

# Longest values Discord lets through; longer ones are refused by the bot in a friendly sentence.
CohortOption = app_commands.Range[str, 1, 100]
TimezoneOption = app_commands.Range[str, 1, 100]
NO_PINGS = discord.AllowedMentions.none()


class ReviewCog(commands.Cog):
    def __init__(
        self, reviews: ReviewService, rounds: ReviewRounds, schedule: ReviewSchedule, jobs: ReviewJobs
    ) -> None:
        self._reviews = reviews
        self._rounds = rounds
        self._schedule = schedule
        self._jobs = jobs

    review = app_commands.Group(
        name="review", description="Weekly peer code review in pairs", guild_only=True
    )

    async def _pending_notices(self, interaction: discord.Interaction[Any]) -> None:
        """Auto-snooze notices a closed DM could not deliver, shown after the reply."""
        assert interaction.guild_id is not None
        notices = await self._reviews.take_notices(interaction.guild_id, interaction.user.id)
        if notices:
            text = "\n".join(render.auto_snooze_notice(notice) for notice in notices)
            await reply(interaction, text)

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
        cohort: CohortOption,
        languages: app_commands.Range[str, 1, 400] | None = None,
        timezone: TimezoneOption | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        opt_in = await self._reviews.join(
            interaction.guild_id, interaction.user.id, cohort, languages=languages, timezone=timezone
        )
        await reply(interaction, render.join_reply(opt_in))

    @review.command(name="leave", description="Opt out of code-review pairs (your history is kept)")
    @app_commands.describe(cohort="The cohort to stop review pairing in")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def leave(self, interaction: discord.Interaction[Any], cohort: CohortOption) -> None:
        assert interaction.guild_id is not None
        change = await self._reviews.leave(interaction.guild_id, interaction.user.id, cohort)
        await reply(interaction, render.leave_reply(change))
        await self._pending_notices(interaction)

    @review.command(name="snooze", description="Skip the next review rounds")
    @app_commands.describe(
        cohort="The cohort to snooze review pairing in", weeks="How many rounds to skip (1-8)"
    )
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def snooze(
        self,
        interaction: discord.Interaction[Any],
        cohort: CohortOption,
        weeks: app_commands.Range[int, 1, 8],
    ) -> None:
        assert interaction.guild_id is not None
        result = await self._reviews.snooze(interaction.guild_id, interaction.user.id, cohort, weeks)
        await reply(interaction, render.snooze_reply(result))
        await self._pending_notices(interaction)

    @review.command(name="pair", description="Run this week's review round now (moderators)")
    @app_commands.describe(cohort="The cohort to pair")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @moderator_only
    async def pair(self, interaction: discord.Interaction[Any], cohort: CohortOption) -> None:
        guild = interaction.guild
        assert guild is not None
        outcome = await self._rounds.run_round(guild.id, cohort, present_in(guild))
        # Threads take a moment each; defer so a big cohort never misses the 3-second window.
        await interaction.response.defer(ephemeral=outcome.created, thinking=True)
        published = await self._jobs.publish(guild, outcome.round, first_time=outcome.created)
        await self._jobs.tell_auto_snoozed(outcome.auto_snoozed)
        await edit_reply(
            interaction,
            render.pair_reply(outcome.round, created=outcome.created, published=published),
            allowed_mentions=discord.AllowedMentions.none(),
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
        cohort: CohortOption,
        weekday: app_commands.Range[str, 1, 100] | None = None,
        time: app_commands.Range[str, 1, 100] | None = None,
        enabled: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        saved = not (weekday is None and time is None and enabled is None)
        if saved:
            slot = await self._schedule.set_schedule(
                interaction.guild_id, cohort, weekday=weekday, at=time, enabled=enabled
            )
            self._jobs.schedule(slot)
        else:
            slot = await self._schedule.schedule_of(interaction.guild_id, cohort)
        await reply(interaction, render.schedule_reply(slot, saved=saved))
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
        link: app_commands.Range[str, 1, 600] | None = None,
        cohort: CohortOption | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        if partner.bot:
            raise InvalidInputError(
                "Bots don't take part in reviews: pick the member whose code you reviewed."
            )
        result = await self._reviews.record_done(
            interaction.guild_id, interaction.user.id, partner.id, link=link, cohort_name=cohort
        )
        await reply(interaction, render.done_reply(result), allowed_mentions=discord.AllowedMentions.none())
        await self._pending_notices(interaction)

    @review.command(name="status", description="Your review partner, due date and who has reviewed whom")
    @app_commands.describe(cohort="Needed if you review in more than one cohort")
    @app_commands.autocomplete(cohort=_autocomplete.cohort_names)
    @answered
    async def status(self, interaction: discord.Interaction[Any], cohort: CohortOption | None = None) -> None:
        assert interaction.guild_id is not None
        status = await self._reviews.status(interaction.guild_id, interaction.user.id, cohort)
        await reply(interaction, embed=render.status_embed(status), allowed_mentions=NO_PINGS)
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
        cohort: CohortOption | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        subject, who = subject_of(interaction, member)
        history = await self._reviews.history(interaction.guild_id, subject.id, cohort)
        if not history.entries:
            await reply(interaction, render.no_history_text(who, history), allowed_mentions=NO_PINGS)
        else:
            embeds = render.history_embeds(subject.display_name, history)
            await send_pages(interaction, embeds, ephemeral=True)
        await self._pending_notices(interaction)
