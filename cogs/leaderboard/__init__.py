"""`/leaderboard`: the cog is in ``cog``, its wording in ``render``."""

from __future__ import annotations

from cogs.leaderboard.cog import LeaderboardCog, setup

__all__ = ["LeaderboardCog", "setup"]
