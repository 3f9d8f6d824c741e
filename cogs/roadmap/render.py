"""What `/roadmap` says: pure wording of roadmaps and of the roadmap service's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.content import too_large_problem
from bot.kernel.roadmap import CheckpointKind, Phase, Roadmap, describe_duration
from bot.roadmaps.diff import Kind, Level
from bot.roadmaps.rules import MAX_SHOWN_PROBLEMS
from bot.roadmaps.views import CountedChange, Imported, Proposal, Refused, Removed, Unchanged
from cogs._ui import PAGE_BUDGET, shown

KIND_HEADINGS = {
    CheckpointKind.TOPIC: "Checkpoints",
    CheckpointKind.MILESTONE: "Milestones",
    CheckpointKind.PROJECT: "Projects",
}
MAX_PROBLEM: Final = 300
NOT_IMPORTER: Final = "Only the moderator who uploaded this file can confirm it."
CANCELLED: Final = "Cancelled: the roadmap was not changed."
TIMED_OUT: Final = (
    "No answer within a minute, so the roadmap was not changed. Run `/roadmap import` again to retry."
)
SERVER_MARK: Final = "this server's"


def phase_window(phase: Phase) -> str:
    first, last = phase.start_day + 1, phase.end_day
    if first % 30 == 1 and last % 30 == 0:
        return f"months {first // 30 + 1}–{last // 30}"
    if phase.duration_days % 7 == 0 and phase.start_day % 7 == 0:
        return f"weeks {phase.start_day // 7 + 1}–{phase.end_day // 7}"
    return f"days {first}–{last}"


def overview_lines(roadmap: Roadmap, version: int | None = None) -> list[str]:
    lines = [roadmap.summary, ""]
    if version is not None:
        lines += [f"**{SERVER_MARK.capitalize()} roadmap**, version {version}.", ""]
    lines += [f"**Duration:** {describe_duration(roadmap.duration_days)}", ""]
    for number, phase in enumerate(roadmap.phases, start=1):
        lines.append(
            f"**{number}. {phase.title}** · {phase_window(phase)} · {len(phase.checkpoints)} checkpoints"
        )
        lines.append(f"> {phase.summary}")
    if roadmap.skills:
        lines += ["", "**Skills**"]
        for priority in dict.fromkeys(skill.priority for skill in roadmap.skills):
            titles = ", ".join(skill.title for skill in roadmap.skills if skill.priority == priority)
            lines.append(f"*{priority.value}:* {titles}")
    for heading, groups in (
        ("Responsibilities", roadmap.responsibilities),
        ("Project ideas", roadmap.project_ideas),
    ):
        if groups:
            lines += ["", f"**{heading}**"]
            lines += [f"*{group.level}:* " + "; ".join(group.items) for group in groups]
    lines += ["", "Use `/roadmap show` with `phase:` for a phase's topics and checkpoint keys."]
    return lines


def phase_lines(roadmap: Roadmap, phase: Phase) -> list[str]:
    lines = [phase.summary, "", f"**When:** {phase_window(phase)}", "", "**Topics**"]
    lines += [f"• {topic}" for topic in phase.topics]
    for kind, heading in KIND_HEADINGS.items():
        items = [checkpoint for checkpoint in phase.checkpoints if checkpoint.kind == kind]
        if items:
            lines += ["", f"**{heading}**"]
            lines += [f"`{item.key}` **{item.title}**: {item.description}" for item in items]
    lines += ["", "Mark one done with `/checkpoint done checkpoint:<key>`."]
    return lines


def list_value(roadmap: Roadmap, version: int | None = None) -> str:
    mark = f" · {SERVER_MARK} · version {version}" if version is not None else ""
    return (
        f"`{roadmap.key}`{mark} · {len(roadmap.phases)} phases · "
        f"{describe_duration(roadmap.duration_days)} · {roadmap.checkpoint_count} checkpoints"
    )


# --- import ------------------------------------------------------------------------------------


def too_large(filename: str, size: int) -> Refused:
    """Refused before the file is even downloaded."""
    return Refused((too_large_problem(filename, size),))


def problems_text(refused: Refused) -> str:
    """Up to ten problems, one per line, then how many more; the file is refused as a whole."""
    shown_problems = refused.problems[:MAX_SHOWN_PROBLEMS]
    lines = [f"• {_problem(problem)}" for problem in shown_problems]
    hidden = len(refused.problems) - len(shown_problems)
    if hidden:
        lines.append(f"…and {hidden} more.")
    count = len(refused.problems)
    head = (
        f"The file was refused: {count} problem{'s' if count != 1 else ''}. Nothing was changed."
        " Fix the file and import it again (`waypoint content check <file>` finds the same problems)."
    )
    return head + "\n" + "\n".join(lines)


def _problem(problem: str) -> str:
    text = " ".join(problem.split())
    if len(text) > MAX_PROBLEM:
        text = text[: MAX_PROBLEM - 1] + "…"
    return shown(text)


def imported_text(result: Imported) -> str:
    roadmap = result.roadmap
    if result.diff is None:
        return (
            f"Imported **{roadmap.title}** (`{roadmap.key}`) as {SERVER_MARK} roadmap,"
            f" version {result.version}: {len(roadmap.phases)} phases,"
            f" {roadmap.checkpoint_count} checkpoints."
            f" Open a cohort on it with `/cohort create roadmap:{roadmap.key}`."
        )
    followers = ", ".join(f"**{shown(name)}**" for name in result.cohorts[:20]) or "no cohort yet"
    moved = result.renamed_completions
    carried = (
        f" {moved} completion{'s' if moved != 1 else ''} carried over to renamed checkpoints."
        if moved
        else ""
    )
    return (
        f"**{roadmap.title}** (`{roadmap.key}`) is now version {result.version}. Following it from now on:"
        f" {followers}.{carried} Completions of removed checkpoints are kept as history (retired)."
    )


def unchanged_text(result: Unchanged) -> str:
    return f"This file is the same as version {result.version} of `{result.roadmap.key}`: nothing to change."


_SYMBOL = {Kind.ADDED: "➕", Kind.REMOVED: "➖", Kind.CHANGED: "✏️", Kind.RENAMED: "🔁"}


def change_line(counted: CountedChange) -> str:
    change = counted.change
    members = counted.members
    who = f"{members} member's" if members == 1 else f"{members} members'"
    if change.level is Level.ROADMAP:
        return f"{_SYMBOL[change.kind]} title, summary or notes changed"
    name = f"{change.level.value} `{change.key}` **{change.title}**"
    if change.kind is Kind.ADDED:
        return f"{_SYMBOL[change.kind]} added {name}"
    if change.kind is Kind.RENAMED:
        olds = ", ".join(f"`{key}`" for key in change.old_keys)
        return f"{_SYMBOL[change.kind]} renamed {olds} → {name} · {who} completions carry over"
    if change.kind is Kind.REMOVED:
        kept = "kept as history (retired)" if change.level is Level.CHECKPOINT else "touched"
        return f"{_SYMBOL[change.kind]} removed {name} · {who} completions {kept}"
    return f"{_SYMBOL[change.kind]} changed {name} · {who} completions touched (they stay done)"


def proposal_lines(proposal: Proposal) -> list[str]:
    roadmap = proposal.roadmap
    followers = ", ".join(f"**{shown(name)}**" for name in proposal.cohorts[:20]) or "no cohort yet"
    head = [
        f"`{roadmap.key}` is already {SERVER_MARK} roadmap (version {proposal.base_version}). This file"
        f" would become version {proposal.base_version + 1}, followed by {followers}.",
        "",
    ]
    changes = [change_line(counted) for counted in proposal.changes]
    body: list[str] = []
    budget = PAGE_BUDGET - sum(len(line) + 1 for line in head) - 200
    for index, line in enumerate(changes):
        if budget - len(line) - 1 < 0:
            body.append(f"…and {len(changes) - index} more changes.")
            break
        body.append(line)
        budget -= len(line) + 1
    tail = [
        "",
        "Kept keys stay done; renamed ones carry over; removed ones stay as history and stop counting."
        " **Confirm** within a minute to switch, or nothing changes.",
    ]
    return head + body + tail


def proposal_title(proposal: Proposal) -> str:
    return f"New version of {proposal.roadmap.title}?"


def removed_text(result: Removed) -> str:
    return (
        f"Removed **{result.title}** (`{result.key}`), version {result.version}. Every version stays stored;"
        " import the file again to bring it back."
    )


def server_roadmaps_footer(versions: Sequence[int]) -> str:
    if not versions:
        return "Details: /roadmap show roadmap:<key> · add your own with /roadmap import"
    return "Details: /roadmap show roadmap:<key> · this server's own are marked with their version"
