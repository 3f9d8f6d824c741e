"""Weekly prompts: the one service the container builds, assembled from its parts.

Each part holds one job and lives in its own module: ``posting`` (claims for the scheduled job,
the catch-up and ``/prompts post-now``, and what the sender reports back), ``catch_up`` (the
start-up decision) and ``moderation`` (preview, pause, resume, custom text, schedule). They share
only their dependencies (``base.PromptUseCases``) and never call another feature's service.
"""

from __future__ import annotations

from bot.prompts.catch_up import PromptCatchUp
from bot.prompts.moderation import PromptModeration
from bot.prompts.posting import PromptPosting


class PromptService(PromptPosting, PromptCatchUp, PromptModeration):
    """Everything weekly prompts do, behind one entry in ``Services``."""
