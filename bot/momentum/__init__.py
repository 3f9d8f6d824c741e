"""Momentum: scores per period, leaderboards, weekly streaks (issue 13)."""
