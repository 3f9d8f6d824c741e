"""Opt-in direct-message reminders (review, streak, weekly) and the cohort calendar file."""
