"""Which reminder DMs are due now, each claimed once inside the caller's session.

A claim is a ``reminder_sends`` row, unique per (cohort, member, kind, week or round), committed by
the service before anything is sent: a second process, a re-run job or a restart finds the row and
sends nothing. Members are only considered while they are in the cohort, in the server
(``present``) and have that kind of reminder on; a member who erased their data has no settings.
``owns(guild_id)`` keeps a sharded process to the guilds its shards look after, as the other
scheduled jobs do (``bot.scheduling.owns``): the other guilds' DMs are claimed by their own process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.content import RoadmapCatalog
from bot.db.models import Cohort, PromptPost
from bot.kernel import slots
from bot.momentum import rules as momentum
from bot.momentum import tally
from bot.reminders import rules
from bot.reminders.repository import ReminderRepository
from bot.reminders.rules import Kind
from bot.reminders.views import OutgoingReminder

Present = Callable[[int, int], bool]
Owns = Callable[[int], bool]


def every_guild(_guild_id: int) -> bool:
    return True


async def due_reviews(
    repository: ReminderRepository, now: datetime, present: Present, owns: Owns = every_guild
) -> list[OutgoingReminder]:
    opted = await repository.opted_in(Kind.REVIEW)
    if not opted:
        return []
    found: list[OutgoingReminder] = []
    for review_round in await repository.open_rounds_due_between(now, now + rules.REVIEW_LEAD):
        if not rules.review_reminder_due(review_round.due_at, now):
            continue
        cohort = await repository.cohort(review_round.cohort_id)
        if cohort is None or not owns(cohort.guild_id):
            continue
        members = set(await repository.active_members(cohort.id))
        for user_id in await repository.members_without_review(review_round.id):
            key = (cohort.guild_id, user_id)
            if key not in opted or user_id not in members or not present(*key):
                continue
            send_id = await repository.claim(
                cohort.guild_id, cohort.id, user_id, Kind.REVIEW, review_round.week, now
            )
            if send_id is not None:
                found.append(
                    OutgoingReminder(
                        send_id,
                        Kind.REVIEW,
                        cohort.guild_id,
                        user_id,
                        cohort.id,
                        cohort.name,
                        review_round.week,
                        deadline=review_round.due_at,
                    )
                )
    return found


async def due_streaks(
    repository: ReminderRepository,
    catalog: RoadmapCatalog,
    now: datetime,
    present: Present,
    owns: Owns = every_guild,
) -> list[OutgoingReminder]:
    opted = await repository.opted_in(Kind.STREAK)
    if not opted:
        return []
    found: list[OutgoingReminder] = []
    guilds = {guild_id for guild_id, _ in opted if owns(guild_id)}
    for cohort in await repository.running_cohorts():
        if cohort.guild_id in guilds:
            found += await _streaks_in(repository, catalog, cohort, now, opted, present)
    return found


async def _streaks_in(
    repository: ReminderRepository,
    catalog: RoadmapCatalog,
    cohort: Cohort,
    now: datetime,
    opted: set[tuple[int, int]],
    present: Present,
) -> list[OutgoingReminder]:
    roadmap = catalog.get(cohort.roadmap_key, cohort.guild_id)
    week = slots.cohort_week(cohort.start_date, now, cohort.timezone)
    if roadmap is None or not 2 <= week <= roadmap.duration_weeks:
        return []
    ends_at = momentum.week_end(cohort.start_date, week, cohort.timezone)
    if not now < ends_at <= now + momentum.STREAK_LEAD:
        return []
    members = [
        user_id
        for user_id in await repository.active_members(cohort.id)
        if (cohort.guild_id, user_id) in opted and present(cohort.guild_id, user_id)
    ]
    weeks = await tally.active_weeks(repository.session, cohort.id, members)
    at_risk = [user_id for user_id in members if momentum.streak_at_risk(weeks[user_id], week, ends_at, now)]
    found = []
    for user_id, done in (await repository.completions(cohort.id, at_risk)).items():
        active = weeks[user_id]
        left = rules.next_checkpoints(roadmap, cohort.start_date, done.keys())
        if not left:
            continue
        send_id = await repository.claim(cohort.guild_id, cohort.id, user_id, Kind.STREAK, week, now)
        if send_id is not None:
            found.append(
                OutgoingReminder(
                    send_id,
                    Kind.STREAK,
                    cohort.guild_id,
                    user_id,
                    cohort.id,
                    cohort.name,
                    week,
                    deadline=ends_at,
                    streak=momentum.streak_before(active, week),
                    checkpoints=left,
                )
            )
    return found


async def due_weekly(
    repository: ReminderRepository,
    catalog: RoadmapCatalog,
    post: PromptPost,
    now: datetime,
    present: Present,
    message_url: str | None = None,
) -> list[OutgoingReminder]:
    """The weekly DMs for one sent prompt; only while the post is fresh (see ``WEEKLY_LATE_LIMIT``)."""
    cohort = await repository.cohort(post.cohort_id)
    if cohort is None or post.message_id is None or not rules.weekly_is_fresh(post.sent_at, now):
        return []
    roadmap = catalog.get(cohort.roadmap_key, cohort.guild_id)
    phase = rules.week_focus(roadmap, post.week) if roadmap is not None else None
    if roadmap is None or phase is None:
        return []  # the closing message: nothing left to focus on
    opted = await repository.opted_in(Kind.WEEKLY)
    done_before = await repository.claimed(cohort.id, Kind.WEEKLY, post.week)
    members = [
        user_id
        for user_id in await repository.active_members(cohort.id)
        if (cohort.guild_id, user_id) in opted
        and user_id not in done_before
        and present(cohort.guild_id, user_id)
    ]
    url = message_url or rules.message_link(cohort.guild_id, cohort.channel_id, post.message_id)
    found = []
    for user_id, done in (await repository.completions(cohort.id, members)).items():
        send_id = await repository.claim(cohort.guild_id, cohort.id, user_id, Kind.WEEKLY, post.week, now)
        if send_id is not None:
            found.append(
                OutgoingReminder(
                    send_id,
                    Kind.WEEKLY,
                    cohort.guild_id,
                    user_id,
                    cohort.id,
                    cohort.name,
                    post.week,
                    phase=phase,
                    checkpoints=rules.next_checkpoints(roadmap, cohort.start_date, done.keys()),
                    message_url=url,
                )
            )
    return found
