"""Checkpoints and progress: marking work done and reporting where a member stands."""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import MemberRepository
from bot.cohorts.resolve import cohort_named, member_cohort, roadmap_of
from bot.content import RoadmapCatalog
from bot.kernel import calendar, slots
from bot.kernel.errors import InvalidInputError, NotFoundError, did_you_mean
from bot.kernel.links import validate_web_link
from bot.kernel.roadmap import Checkpoint, Phase, Roadmap
from bot.kernel.text import clean_text
from bot.momentum import tally
from bot.progress.repository import CompletionRepository
from bot.progress.rules import ProgressReport, compute_progress, count_done

log = logging.getLogger(__name__)

MAX_NOTE = 300
MAX_URL = 500


@dataclass(frozen=True, slots=True)
class CheckpointChange:
    cohort_name: str
    phase: Phase
    checkpoint: Checkpoint
    changed: bool
    done: int
    total: int
    cohort_id: int = 0  # which cohort's progress changed (milestone roles look at it)


@dataclass(frozen=True, slots=True)
class ProgressView:
    cohort_name: str
    roadmap: Roadmap
    position: calendar.CalendarPosition
    current_phase: Phase | None
    report: ProgressReport


def validate_evidence(url: str | None) -> str | None:
    return validate_web_link(url, label="Evidence", max_length=MAX_URL)


def validate_note(note: str | None) -> str | None:
    """A member's own words: visible text only, and short enough to show beside a checkpoint."""
    if note is None or not note.strip():
        return None
    cleaned = clean_text(note, field="A note", max_length=MAX_NOTE)
    if len(cleaned) > MAX_NOTE:
        raise InvalidInputError(f"Notes can be at most {MAX_NOTE} characters (yours has {len(cleaned)}).")
    return cleaned


class ProgressService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    def _checkpoint(self, roadmap: Roadmap, key: str) -> tuple[Phase, Checkpoint]:
        found = roadmap.find_checkpoint(key.strip().lower())
        if found is None:
            keys = [checkpoint.key for _, checkpoint in roadmap.checkpoints()]
            matches = difflib.get_close_matches(key.strip().lower(), keys, n=1, cutoff=0.5)
            raise NotFoundError(
                f"The roadmap **{roadmap.title}** has no checkpoint `{key}`."
                f"{did_you_mean(matches[0] if matches else None)}"
            )
        return found

    async def complete(
        self,
        guild_id: int,
        user_id: int,
        checkpoint_key: str,
        *,
        evidence: str | None = None,
        note: str | None = None,
        cohort_name: str | None = None,
    ) -> CheckpointChange:
        evidence_url = validate_evidence(evidence)
        clean_note = validate_note(note)
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await member_cohort(session, guild_id, user_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            phase, checkpoint = self._checkpoint(roadmap, checkpoint_key)
            completions = CompletionRepository(session)
            changed = await completions.add_if_new(
                {
                    "guild_id": guild_id,
                    "cohort_id": cohort.id,
                    "user_id": user_id,
                    "checkpoint_key": checkpoint.key,
                    "evidence_url": evidence_url,
                    "note": clean_note,
                    "completed_at": now,
                }
            )
            if changed:  # its point, in the same transaction
                await tally.refresh(session, cohort, user_id, [now])
            else:  # already done: keep it, but take a newly given evidence link or note
                await completions.amend(
                    cohort.id, user_id, checkpoint.key, evidence_url=evidence_url, note=clean_note
                )
            done = count_done(roadmap, await completions.completed_keys(cohort.id, user_id))
        return CheckpointChange(
            cohort.name, phase, checkpoint, changed, done, roadmap.checkpoint_count, cohort.id
        )

    async def undo(
        self, guild_id: int, user_id: int, checkpoint_key: str, *, cohort_name: str | None = None
    ) -> CheckpointChange:
        async with self._sessions.begin() as session:
            cohort = await member_cohort(session, guild_id, user_id, cohort_name)
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            phase, checkpoint = self._checkpoint(roadmap, checkpoint_key)
            completions = CompletionRepository(session)
            completed_at = await completions.remove(cohort.id, user_id, checkpoint.key)
            if completed_at is not None:
                await tally.refresh(session, cohort, user_id, [completed_at])  # its point goes
            done = count_done(roadmap, await completions.completed_keys(cohort.id, user_id))
        return CheckpointChange(
            cohort.name,
            phase,
            checkpoint,
            completed_at is not None,
            done,
            roadmap.checkpoint_count,
            cohort.id,
        )

    async def report(self, guild_id: int, user_id: int, cohort_name: str | None = None) -> ProgressView:
        async with self._sessions() as session:
            cohort = await member_cohort(session, guild_id, user_id, cohort_name)
            completed = await CompletionRepository(session).completed_keys(cohort.id, user_id)
        roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
        today = slots.local_date(self._clock(), cohort.timezone)
        where = calendar.position(cohort.start_date, today, roadmap)
        report = compute_progress(roadmap, completed, where.day if where.started else None)
        phase = calendar.phase_for_day(roadmap, where.day) if where.started else None
        return ProgressView(cohort.name, roadmap, where, phase, report)

    async def checkpoint_choices(
        self, guild_id: int, user_id: int, cohort_name: str | None, text: str, limit: int = 25
    ) -> list[tuple[str, str]]:
        """(title, key) pairs for autocomplete, from the roadmaps of the member's cohorts."""
        async with self._sessions() as session:
            if cohort_name:
                try:
                    cohorts = [await cohort_named(session, guild_id, cohort_name)]
                except NotFoundError:
                    cohorts = []
            else:
                cohorts = list(await MemberRepository(session).active_cohorts_of(guild_id, user_id))
        needle = text.casefold().strip()
        seen: set[str] = set()
        choices: list[tuple[str, str]] = []
        for cohort in cohorts:
            roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
            for _, checkpoint in roadmap.checkpoints():
                if checkpoint.key in seen:
                    continue
                if needle in checkpoint.key or needle in checkpoint.title.casefold():
                    seen.add(checkpoint.key)
                    choices.append((checkpoint.title, checkpoint.key))
        return choices[:limit]
