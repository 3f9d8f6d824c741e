"""What the roadmap service returns; ``cogs/roadmap.py`` words it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.kernel.roadmap import Roadmap
from bot.roadmaps.diff import Change, RoadmapDiff


@dataclass(frozen=True, slots=True)
class Refused:
    """The file was refused: every problem, in file order. Nothing was stored."""

    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Imported:
    """A version is stored and is now the one this server's cohorts follow."""

    roadmap: Roadmap
    version: int
    cohorts: tuple[str, ...] = ()  # the cohorts that follow it from now on
    renamed_completions: int = 0
    diff: RoadmapDiff | None = None


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The file is the current version already."""

    roadmap: Roadmap
    version: int


@dataclass(frozen=True, slots=True)
class CountedChange:
    change: Change
    members: int  # members whose completions the change touches


@dataclass(frozen=True, slots=True)
class Proposal:
    """A new version waiting for the importer's confirmation; nothing is stored yet."""

    guild_id: int
    actor_id: int
    roadmap: Roadmap
    source: str
    base_version: int
    diff: RoadmapDiff
    changes: tuple[CountedChange, ...]
    cohorts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Removed:
    key: str
    title: str
    version: int


@dataclass(frozen=True, slots=True)
class RoadmapFile:
    filename: str
    content: bytes


ImportOutcome = Refused | Imported | Unchanged | Proposal
