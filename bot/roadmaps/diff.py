"""What a new version of a roadmap changes, and what happens to completions: pure, no database.

``diff_roadmaps(old, new)`` lists phases and checkpoints added, removed, changed and renamed
(a checkpoint's ``renamed_from``), each with the checkpoint keys whose completions it touches, so
the service can count the members concerned. ``carry_over`` decides, for completion rows, which
are renamed to a new key and which are duplicates once renamed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.kernel.roadmap import Checkpoint, Phase, Roadmap


class Level(StrEnum):
    ROADMAP = "roadmap"
    PHASE = "phase"
    CHECKPOINT = "checkpoint"


class Kind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    RENAMED = "renamed"


@dataclass(frozen=True, slots=True)
class Change:
    level: Level
    kind: Kind
    key: str  # the key in the new version (the old one when removed)
    title: str
    old_keys: tuple[str, ...] = ()  # renamed: the keys it had before
    touches: tuple[str, ...] = ()  # checkpoint keys whose completions this change concerns


@dataclass(frozen=True, slots=True)
class RoadmapDiff:
    changes: tuple[Change, ...]
    renames: Mapping[str, str]  # every old key -> the new key it carries over to
    retired: tuple[str, ...]  # checkpoint keys of the old version that no longer count

    @property
    def empty(self) -> bool:
        return not self.changes

    def of(self, level: Level, kind: Kind) -> list[Change]:
        return [change for change in self.changes if change.level is level and change.kind is kind]


def _checkpoint_view(checkpoint: Checkpoint) -> tuple[object, ...]:
    return (checkpoint.title, checkpoint.description, checkpoint.kind, checkpoint.due_day)


def _phase_view(phase: Phase) -> tuple[object, ...]:
    keys = tuple(checkpoint.key for checkpoint in phase.checkpoints)
    return (
        phase.title,
        phase.summary,
        phase.start_day,
        phase.duration_days,
        phase.topics,
        phase.prompts,
        keys,
    )


def diff_roadmaps(old: Roadmap, new: Roadmap) -> RoadmapDiff:
    changes: list[Change] = []
    if (old.title, old.summary, old.skills, old.responsibilities, old.project_ideas) != (
        new.title,
        new.summary,
        new.skills,
        new.responsibilities,
        new.project_ideas,
    ):
        changes.append(Change(Level.ROADMAP, Kind.CHANGED, new.key, new.title))

    old_phases = {phase.key: phase for phase in old.phases}
    new_phases = {phase.key: phase for phase in new.phases}
    for phase in new.phases:
        before = old_phases.get(phase.key)
        keys = tuple(checkpoint.key for checkpoint in phase.checkpoints)
        if before is None:
            changes.append(Change(Level.PHASE, Kind.ADDED, phase.key, phase.title))
        elif _phase_view(before) != _phase_view(phase):
            old_keys = tuple(checkpoint.key for checkpoint in before.checkpoints)
            touched = tuple(dict.fromkeys(old_keys + keys))
            changes.append(Change(Level.PHASE, Kind.CHANGED, phase.key, phase.title, touches=touched))
    for phase in old.phases:
        if phase.key not in new_phases:
            touched = tuple(checkpoint.key for checkpoint in phase.checkpoints)
            changes.append(Change(Level.PHASE, Kind.REMOVED, phase.key, phase.title, touches=touched))

    old_checkpoints = {checkpoint.key: (phase.key, checkpoint) for phase, checkpoint in old.checkpoints()}
    new_keys = {checkpoint.key for _, checkpoint in new.checkpoints()}
    renames: dict[str, str] = {}
    for phase, checkpoint in new.checkpoints():
        for old_key in checkpoint.renamed_from:
            renames[old_key] = checkpoint.key
        carried = tuple(key for key in checkpoint.renamed_from if key in old_checkpoints)
        if carried:
            changes.append(
                Change(
                    Level.CHECKPOINT, Kind.RENAMED, checkpoint.key, checkpoint.title, carried, touches=carried
                )
            )
        earlier = old_checkpoints.get(checkpoint.key)
        if earlier is None:
            if not carried:
                changes.append(Change(Level.CHECKPOINT, Kind.ADDED, checkpoint.key, checkpoint.title))
        elif earlier[0] != phase.key or _checkpoint_view(earlier[1]) != _checkpoint_view(checkpoint):
            changes.append(
                Change(
                    Level.CHECKPOINT,
                    Kind.CHANGED,
                    checkpoint.key,
                    checkpoint.title,
                    touches=(checkpoint.key,),
                )
            )
    retired = tuple(key for key in old_checkpoints if key not in new_keys and key not in renames)
    for key in retired:
        changes.append(
            Change(Level.CHECKPOINT, Kind.REMOVED, key, old_checkpoints[key][1].title, touches=(key,))
        )
    return RoadmapDiff(tuple(changes), renames, retired)


@dataclass(frozen=True, slots=True)
class CarryOver:
    updates: tuple[tuple[int, str], ...]  # (row id, the new key)
    duplicates: tuple[int, ...]  # row ids to delete: the member already has the new key


def carry_over(rows: Iterable[tuple[int, Hashable, str]], renames: Mapping[str, str]) -> CarryOver:
    """For completion rows ``(row id, member, key)``, what a rename does to them.

    A member ends with at most one row per new key: a row already on the new key stays, else the
    earliest renamed row (lowest id) takes the new key, and the member's other renamed rows for
    that key are duplicates. Rows whose key is not renamed are left alone.
    """
    holders: dict[tuple[Hashable, str], list[tuple[int, str]]] = {}
    for row_id, member, key in rows:
        target = renames.get(key, key)
        holders.setdefault((member, target), []).append((row_id, key))
    updates: list[tuple[int, str]] = []
    duplicates: list[int] = []
    for (_member, target), held in holders.items():
        if all(key == target for _, key in held):
            continue
        ordered = sorted(held, key=lambda item: (item[1] != target, item[0]))
        keeper_id, keeper_key = ordered[0]
        if keeper_key != target:
            updates.append((keeper_id, target))
        duplicates += [row_id for row_id, _ in ordered[1:]]
    return CarryOver(tuple(sorted(updates)), tuple(sorted(duplicates)))
