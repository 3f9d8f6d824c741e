"""Milestone roles on Discord's side: can the bot give a role, give or take it back, and the words.

``bot.milestones`` decides (give role R to this member, take role R back) and records; this module
checks the role against the bot's permissions and place in the role list, calls
``add_roles``/``remove_roles``, turns Discord's refusals into a ``Refusal`` for the record, and
words every answer. ``/config milestone-role*`` (cogs/config.py), ``/checkpoint`` (cogs/checkpoint.py)
and ``/cohort info`` (cogs/cohort.py) use it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum
from typing import Any

import discord

from bot.milestones.rules import Decision
from bot.milestones.service import MilestoneService
from bot.milestones.views import (
    Cleared,
    CohortTrouble,
    Configured,
    MilestoneRoleView,
    PhaseRef,
    Refusal,
    RoleAction,
    Trouble,
)
from cogs._ui import shown

log = logging.getLogger(__name__)

GRANT_REASON = "Waypoint: finished a roadmap phase (milestone role)"
TAKE_BACK_REASON = "Waypoint: a checkpoint of the phase was unmarked (milestone role)"
UNKNOWN_MEMBER = 10007

# Members earn the role by marking their own checkpoints, so it must not carry a moderator's power.
POWERFUL = (
    "administrator",
    "manage_guild",
    "manage_roles",
    "manage_channels",
    "manage_webhooks",
    "manage_messages",
    "kick_members",
    "ban_members",
    "moderate_members",
    "mention_everyone",
)

REFUSAL_WORDS = {
    Refusal.NO_MANAGE_ROLES: "I don't have the **Manage Roles** permission",
    Refusal.ROLE_TOO_HIGH: "the role is not below my highest role",
    Refusal.ROLE_MANAGED: "the role is managed by an integration",
    Refusal.ROLE_GONE: "the role was deleted",
    Refusal.MEMBER_GONE: "the member left the server",
    Refusal.FORBIDDEN: "Discord refused: a permission is missing",
    Refusal.DISCORD_ERROR: "Discord had an error",
}


class Outcome(Enum):
    GRANTED = "granted"
    GRANT_FAILED = "grant failed"
    REMOVED = "removed"
    REMOVE_FAILED = "remove failed"
    NONE = "none"  # the grant was undone while it was on its way: nothing to tell


def role_problem(role: discord.Role | None, me: discord.Member) -> Refusal | None:
    """Why the bot cannot give (or take back) ``role`` right now, or None when it can."""
    if role is None:
        return Refusal.ROLE_GONE
    if role.managed:
        return Refusal.ROLE_MANAGED
    if not me.guild_permissions.manage_roles:
        return Refusal.NO_MANAGE_ROLES
    if role >= me.top_role:
        return Refusal.ROLE_TOO_HIGH
    return None


def _title(permission: str) -> str:
    return permission.replace("_", " ").title()


def configuration_refusal(
    role: discord.Role, me: discord.Member, caller: discord.Member, moderator_role_id: int | None
) -> str | None:
    """One sentence when ``role`` cannot be a milestone role, else None."""
    name = f"**@{shown(role.name)}**"
    if role.is_default():
        return "@everyone can't be a milestone role: every member has it already."
    if role.managed:
        return f"{name} is managed by an integration (a bot, boosts or a subscription), so I can't give it."
    if not me.guild_permissions.manage_roles:
        return (
            f"I need the **Manage Roles** permission to give {name}:"
            " turn it on for my role in Server Settings → Roles."
        )
    if role >= me.top_role:
        return (
            f"{name} is not below my highest role, so Discord won't let me give it:"
            " drag my role above it in Server Settings → Roles."
        )
    if moderator_role_id == role.id:
        return f"{name} is the server's moderator role: members would make themselves moderators."
    powers = [power for power in POWERFUL if getattr(role.permissions, power)]
    if powers:
        return (
            f"{name} has moderator permissions ({', '.join(_title(power) for power in powers[:3])}),"
            " and members earn milestone roles by marking their own checkpoints: pick a role without them."
        )
    if caller.id != caller.guild.owner_id and role >= caller.top_role:
        return f"{name} is not below your highest role, so you can't hand it out."
    return None


async def carry_out(
    interaction: discord.Interaction[Any], action: RoleAction, milestones: MilestoneService
) -> Outcome:
    """Give or take back the action's role for the member who ran the command, and record it."""
    assert interaction.guild is not None
    member = interaction.user if isinstance(interaction.user, discord.Member) else None
    return await apply(interaction.guild, member, action, milestones)


async def apply(
    guild: discord.Guild, member: discord.Member | None, action: RoleAction, milestones: MilestoneService
) -> Outcome:
    """Give or take back the action's role (``member`` None: they left), and record how it went."""
    role = guild.get_role(action.role_id)
    problem = Refusal.MEMBER_GONE if member is None else role_problem(role, guild.me)
    if member is not None and role is not None and problem is None:
        problem = await _call(member, role, give=action.decision is Decision.GRANT)
    if action.decision is Decision.GRANT:
        if problem is not None:
            await milestones.failed(action, problem)
            return Outcome.GRANT_FAILED
        if await milestones.granted(action):
            return Outcome.GRANTED
        # An undo took the grant while the role was on its way: take the role back again.
        if member is not None and role is not None:
            await _call(member, role, give=False)
        return Outcome.NONE
    if problem is None or problem in (Refusal.ROLE_GONE, Refusal.MEMBER_GONE):
        await milestones.removed(action)  # a deleted role is gone from the member too
        return Outcome.REMOVED
    await milestones.remove_failed(action, problem)
    return Outcome.REMOVE_FAILED


async def _call(member: discord.Member, role: discord.Role, *, give: bool) -> Refusal | None:
    try:
        if give:
            await member.add_roles(role, reason=GRANT_REASON)
        else:
            await member.remove_roles(role, reason=TAKE_BACK_REASON)
    except discord.NotFound as error:
        return Refusal.MEMBER_GONE if error.code == UNKNOWN_MEMBER else Refusal.ROLE_GONE
    except discord.Forbidden:
        return Refusal.FORBIDDEN
    except discord.HTTPException as error:
        log.warning("guild=%s user=%s role %s: HTTP %s", member.guild.id, member.id, role.id, error.status)
        return Refusal.DISCORD_ERROR
    return None


# --- words ---------------------------------------------------------------------------------------


def mention(role_id: int) -> str:
    return f"<@&{role_id}>"


def phase_words(phase: PhaseRef) -> str:
    return f"phase {phase.number} of **{phase.roadmap_title}** ({shown(phase.title)})"


def checkpoint_line(action: RoleAction, outcome: Outcome) -> str | None:
    """The line ``/checkpoint done|undo`` adds about the milestone role, if anything happened."""
    role = mention(action.role_id)
    if outcome is Outcome.GRANTED:
        return f"🏅 You finished {phase_words(action.phase)} and earned the {role} role!"
    if outcome is Outcome.GRANT_FAILED:
        return (
            f"🏅 You finished {phase_words(action.phase)}. I couldn't give you its {role} role;"
            " your progress is saved and the moderators can see why."
        )
    if outcome is Outcome.REMOVED:
        return f"Phase {action.phase.number} isn't complete any more, so I took back the {role} role."
    if outcome is Outcome.REMOVE_FAILED:
        return (
            f"Phase {action.phase.number} isn't complete any more, but I couldn't take back the {role} role;"
            " the moderators can see why."
        )
    return None


def configured_message(result: Configured) -> str:
    target, role = phase_words(result.phase), mention(result.role_id)
    if not result.changed:
        return f"Members who finish {target} already get {role}; nothing changed."
    message = f"Members who finish {target} now get {role}."
    if result.previous_role_id is not None:
        message += f" It replaces {mention(result.previous_role_id)}, which members who have it keep."
    return (
        message
        + " Members who finished the phase earlier get it the next time they mark one of its checkpoints."
    )


def retried_message(outcomes: Sequence[Outcome], remaining: int) -> str:
    """What setting the role again did for the members who were waiting for it."""
    given = sum(1 for outcome in outcomes if outcome is Outcome.GRANTED)
    still = len(outcomes) - given + remaining
    parts = []
    if given:
        parts.append(f"I gave it to {given} waiting member{'s' if given != 1 else ''}.")
    if still:
        verb = "still waits" if still == 1 else "still wait"
        parts.append(f"{_members(still).capitalize()} {verb}; see `/config milestone-roles` for why.")
    return " ".join(parts)


def _members(count: int) -> str:
    return "1 member" if count == 1 else f"{count} members"


def cleared_message(result: Cleared) -> str:
    target = phase_words(result.phase)
    if result.role_id is None:
        return f"No role is given for {target}, so nothing changed."
    return (
        f"Members who finish {target} no longer get {mention(result.role_id)}. Members who have it keep it."
    )


def trouble_lines(trouble: Trouble | CohortTrouble) -> list[str]:
    why = REFUSAL_WORDS[trouble.latest]
    lines = []
    if trouble.waiting:
        who = "1 member" if trouble.waiting == 1 else f"{trouble.waiting} members"
        lines.append(
            f"⚠️ {who} finished the phase without getting the role ({why})."
            " Once fixed, set the role again with `/config milestone-role` to give it to them."
        )
    if trouble.unremoved:
        who = "1 member" if trouble.unremoved == 1 else f"{trouble.unremoved} members"
        lines.append(f"⚠️ {who} kept the role after unmarking a checkpoint ({why}).")
    return lines


def overview_lines(views: Sequence[MilestoneRoleView], problems: dict[int, Refusal | None]) -> list[str]:
    """``/config milestone-roles``: one entry per phase, then what needs a moderator."""
    lines = []
    for view in views:
        roadmap = (
            f"**{view.roadmap_title}**"
            if view.roadmap_title
            else f"`{view.roadmap_key}` (no longer available)"
        )
        phase = (
            f"phase {view.number} ({shown(view.phase_title or '')})"
            if view.number is not None
            else f"phase `{view.phase_key}` (no longer in the roadmap)"
        )
        if view.role_id is not None:
            given = f"given to {view.granted}" if view.granted else "not given yet"
            lines.append(f"{roadmap} {phase} → {mention(view.role_id)} · {given}")
            problem = problems.get(view.role_id)
            if problem is not None:
                lines.append(f"⚠️ I can't give it now: {REFUSAL_WORDS[problem]}.")
        else:
            lines.append(f"{roadmap} {phase} · no role any more")
        if view.trouble is not None:
            lines.extend(trouble_lines(view.trouble))
    return lines


def cohort_trouble_text(trouble: CohortTrouble) -> str:
    """The ``/cohort info`` field: counts only, no names (the reply is public)."""
    return "\n".join([*trouble_lines(trouble), "Moderators: see `/config milestone-roles`."])
