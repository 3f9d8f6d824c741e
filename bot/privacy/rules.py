"""How an erasure reads in the audit log: the log is a stored record moderators read later.

The counts are named by the ``erased_as`` of each ``member_id`` declaration in
``bot.db.models``; a test checks that every one of them has its wording here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from bot.kernel.roadmap import Roadmap

# How each count reads, in the order shown.
COUNT_WORDING: Final = {
    "memberships": ("cohort membership", "cohort memberships", "deleted"),
    "checkpoint_completions": ("checkpoint completion", "checkpoint completions", "deleted"),
    "review_opt_ins": ("review opt-in", "review opt-ins", "deleted"),
    "departures": ("departure record", "departure records", "deleted"),
    "reminder_settings": ("reminder setting", "reminder settings", "deleted"),
    "reminders_sent": ("reminder sent", "reminders sent", "deleted"),
    "milestone_roles_received": ("milestone role record", "milestone role records", "deleted"),
    "scores": ("leaderboard score", "leaderboard scores", "deleted"),
    "leaderboard_choices": ("leaderboard choice", "leaderboard choices", "deleted"),
    "review_group_seats_anonymised": ("review group seat", "review group seats", "anonymised"),
    "reviews_given_anonymised": ("review given", "reviews given", "anonymised"),
    "reviews_received_anonymised": ("review received", "reviews received", "anonymised"),
    "custom_prompts_anonymised": ("custom prompt", "custom prompts", "anonymised"),
    "cohorts_created_anonymised": ("cohort created", "cohorts created", "anonymised"),
    "milestone_roles_anonymised": ("milestone role set up", "milestone roles set up", "anonymised"),
    "roadmap_versions_anonymised": ("roadmap version imported", "roadmap versions imported", "anonymised"),
    "data_requests_anonymised": (
        "data request in the audit log",
        "data requests in the audit log",
        "anonymised",
    ),
}


def mark_retired(
    sections: Mapping[str, Sequence[dict[str, object]]],
    roadmap_of_cohort: Mapping[str, str],
    roadmap: Callable[[str], Roadmap | None],
) -> None:
    """Mark completions of checkpoints the cohort's roadmap no longer has ``"retired": true``.

    A new version of a server's roadmap may drop a checkpoint: the completion is kept as
    history, shown here, and no longer counts toward progress.
    """
    for record in sections.get("checkpoint_completions", ()):
        found = roadmap(roadmap_of_cohort.get(str(record.get("cohort")), ""))
        if found is not None and found.find_checkpoint(str(record.get("checkpoint_key"))) is None:
            record["retired"] = True


def erasure_phrases(counts: Mapping[str, int]) -> list[str]:
    """One phrase per non-zero count, e.g. ``"5 checkpoint completions deleted"``."""
    phrases = []
    for kind, (singular, plural, verb) in COUNT_WORDING.items():
        count = counts.get(kind, 0)
        if count:
            phrases.append(f"{count} {singular if count == 1 else plural} {verb}")
    return phrases


def _erased(counts: Mapping[str, int]) -> str:
    return "; ".join(erasure_phrases(counts)) or "nothing was stored"


def data_request_detail(records: int) -> str:
    return f"personal data download: {records} records"


def erasure_detail(counts: Mapping[str, int]) -> str:
    return f"a member erased their data: {_erased(counts)}"


def purge_detail(counts: Mapping[str, int], left_at: datetime, grace: timedelta) -> str:
    return (
        f"a member who left on {left_at.date().isoformat()} was purged after {grace.days} days: "
        f"{_erased(counts)}"
    )
