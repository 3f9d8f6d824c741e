"""The roadmap model: what a study path is made of.

Content files in ``data/roadmaps`` are parsed into these frozen models. Every roadmap, phase and
checkpoint has a stable ``key``; the database stores keys only, so rewording a title never loses
anyone's progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.kernel.text import has_hidden

KEY_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_KEY_RE = re.compile(KEY_PATTERN)

# Limits that hold for shipped files and a server's own uploads alike (one validator for both).
KEY_MIN, KEY_MAX = 2, 48
MAX_PHASES = 24
MAX_CHECKPOINTS_PER_PHASE = 80
MAX_DAYS = 3660  # ten years: any offset beyond is a typo
MAX_TOPIC = 100
MAX_TOPICS = 40
MAX_PROMPTS = 60
MAX_SKILLS = 100
MAX_NOTE_GROUPS = 12
MAX_NOTE_ITEMS = 40
MAX_NOTE_ITEM = 300
MAX_RENAMES = 10

Key = Field(pattern=KEY_PATTERN, min_length=KEY_MIN, max_length=KEY_MAX)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _visible_only(cls, value: object) -> object:
        """Invisible and control characters are refused in every text, as in members' own input."""
        texts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(text, str) and has_hidden(text) for text in texts):
            raise ValueError("contains invisible or control characters")
        return value


class CheckpointKind(StrEnum):
    """What marking a checkpoint done means: a topic studied, a project built, a milestone met."""

    TOPIC = "topic"
    PROJECT = "project"
    MILESTONE = "milestone"


class Checkpoint(_Frozen):
    key: str = Key
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=300)
    kind: CheckpointKind = CheckpointKind.TOPIC
    # Day offset from the cohort start when this is expected; defaults to the end of its phase.
    due_day: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    # Keys this checkpoint had in an earlier version: their completions carry over to it.
    renamed_from: tuple[str, ...] = Field(default=(), max_length=MAX_RENAMES)

    @field_validator("renamed_from")
    @classmethod
    def _renamed_keys(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for key in keys:
            if not (KEY_MIN <= len(key) <= KEY_MAX and is_key(key)):
                raise ValueError(f"{key!r} is not a checkpoint key (lowercase letters, digits and hyphens)")
        return keys


class Phase(_Frozen):
    key: str = Key
    title: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=400)
    # Phases may overlap (the junior-to-senior path does); both are day offsets from the start.
    start_day: int = Field(ge=0, le=MAX_DAYS)
    duration_days: int = Field(gt=0, le=MAX_DAYS)
    topics: tuple[str, ...] = Field(min_length=1, max_length=MAX_TOPICS)
    checkpoints: tuple[Checkpoint, ...] = Field(min_length=1, max_length=MAX_CHECKPOINTS_PER_PHASE)
    prompts: tuple[str, ...] = Field(min_length=1, max_length=MAX_PROMPTS)

    @field_validator("topics")
    @classmethod
    def _topic_length(cls, topics: tuple[str, ...]) -> tuple[str, ...]:
        for topic in topics:
            if not 1 <= len(topic) <= MAX_TOPIC:
                raise ValueError(f"each topic must be between 1 and {MAX_TOPIC} characters")
        return topics

    @field_validator("prompts")
    @classmethod
    def _prompt_length(cls, prompts: tuple[str, ...]) -> tuple[str, ...]:
        for prompt in prompts:
            if not 20 <= len(prompt) <= 1000:
                raise ValueError("each weekly prompt must be between 20 and 1000 characters")
        return prompts

    @property
    def end_day(self) -> int:
        """First day after the phase (exclusive bound)."""
        return self.start_day + self.duration_days

    def due_day_of(self, checkpoint: Checkpoint) -> int:
        return checkpoint.due_day if checkpoint.due_day is not None else self.end_day - 1


class SkillPriority(StrEnum):
    MUST = "must"
    NICE = "nice"
    COMMON = "common"
    NICHE = "niche"


class Skill(_Frozen):
    title: str = Field(min_length=1, max_length=100)
    area: str = Field(min_length=1, max_length=60)
    priority: SkillPriority


class LevelNotes(_Frozen):
    """Responsibilities or project ideas grouped by seniority level."""

    level: str = Field(min_length=1, max_length=60)
    items: tuple[str, ...] = Field(min_length=1, max_length=MAX_NOTE_ITEMS)

    @field_validator("items")
    @classmethod
    def _item_length(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        for item in items:
            if not 1 <= len(item) <= MAX_NOTE_ITEM:
                raise ValueError(f"each item must be between 1 and {MAX_NOTE_ITEM} characters")
        return items


class Roadmap(_Frozen):
    key: str = Key
    title: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=500)
    phases: tuple[Phase, ...] = Field(min_length=1, max_length=MAX_PHASES)
    skills: tuple[Skill, ...] = Field(default=(), max_length=MAX_SKILLS)
    responsibilities: tuple[LevelNotes, ...] = Field(default=(), max_length=MAX_NOTE_GROUPS)
    project_ideas: tuple[LevelNotes, ...] = Field(default=(), max_length=MAX_NOTE_GROUPS)

    @model_validator(mode="after")
    def _unique_keys(self) -> Roadmap:
        phase_keys = [phase.key for phase in self.phases]
        if len(set(phase_keys)) != len(phase_keys):
            raise ValueError(f"phase keys must be unique, got {phase_keys}")
        seen: set[str] = set()
        for phase in self.phases:
            for checkpoint in phase.checkpoints:
                if checkpoint.key in seen:
                    raise ValueError(f"checkpoint key {checkpoint.key!r} is used twice")
                seen.add(checkpoint.key)
                if checkpoint.due_day is not None and checkpoint.due_day >= self.duration_days:
                    raise ValueError(f"checkpoint {checkpoint.key!r} is due after the roadmap ends")
        renamed: set[str] = set()
        for _, checkpoint in self.checkpoints():
            for old in checkpoint.renamed_from:
                if old in seen:
                    raise ValueError(
                        f"checkpoint {checkpoint.key!r} is renamed from {old!r}, which is still a key here"
                    )
                if old in renamed:
                    raise ValueError(f"{old!r} appears in renamed_from twice")
                renamed.add(old)
        return self

    @property
    def duration_days(self) -> int:
        return max(phase.end_day for phase in self.phases)

    @property
    def duration_weeks(self) -> int:
        return -(-self.duration_days // 7)

    def checkpoints(self) -> Iterator[tuple[Phase, Checkpoint]]:
        for phase in self.phases:
            for checkpoint in phase.checkpoints:
                yield phase, checkpoint

    @property
    def checkpoint_count(self) -> int:
        return sum(len(phase.checkpoints) for phase in self.phases)

    @property
    def phase_sizes(self) -> tuple[int, ...]:
        """How many checkpoints each phase has, in order."""
        return tuple(len(phase.checkpoints) for phase in self.phases)

    def phase_of_key(self) -> dict[str, int]:
        """Each checkpoint's phase (0-based index), for counting members' checkpoints per phase."""
        return {
            checkpoint.key: index
            for index, phase in enumerate(self.phases)
            for checkpoint in phase.checkpoints
        }

    def find_checkpoint(self, key: str) -> tuple[Phase, Checkpoint] | None:
        for phase, checkpoint in self.checkpoints():
            if checkpoint.key == key:
                return phase, checkpoint
        return None

    def phase_number(self, phase: Phase) -> int:
        """1-based position of a phase, as members see it."""
        return self.phases.index(phase) + 1


def is_key(text: str) -> bool:
    return bool(_KEY_RE.match(text))


def describe_duration(days: int) -> str:
    """Human wording for a span of days: '90 days', '12 weeks', '24 months'."""
    if days % 30 == 0 and days >= 60:
        return f"{days // 30} months"
    if days % 7 == 0 and days >= 14:
        return f"{days // 7} weeks"
    return f"{days} days"
