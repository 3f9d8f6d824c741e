"""APScheduler wiring. The database is the source of truth; jobs only say *when* to look."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def create_scheduler() -> AsyncIOScheduler:
    """An unstarted scheduler; ``setup_hook`` starts it and ``close()`` shuts it down.

    Jobs coalesce and allow a late start, because a missed fire is caught up from the database
    anyway; ``max_instances=1`` keeps one cohort's post from overlapping itself.
    """
    return AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )
