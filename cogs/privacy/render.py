"""What `/privacy` says: pure wording of the service's results, tested without Discord."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bot.privacy.rules import erasure_phrases

FORGET_ME_WARNING: Final = (
    "This deletes everything Waypoint stores about you on **{guild}**: your cohort memberships and"
    " progress, your checkpoint evidence and notes, your review opt-ins and the review links you"
    " wrote. Review rounds you took part in stay, with your name removed: your partners see a former"
    " member. It cannot be undone, and it only affects this server."
    "\n\nDownload a copy first with `/privacy my-data` if you want one."
)
TIMED_OUT: Final = (
    "No answer within a minute, so nothing was deleted. Run `/privacy forget-me` again if you still want to."
)
TOO_LARGE: Final = (
    "Your data is larger than the upload limit here, even zipped; please ask a moderator"
    " to contact the bot's operator for a copy."
)


def erasure_message(counts: Mapping[str, int]) -> str:
    """The reply to a confirmed erasure: one bullet per kind of row deleted or anonymised."""
    lines = erasure_phrases(counts)
    if not lines:
        return "There was nothing stored about you on this server, so nothing was deleted."
    return "Done. Waypoint no longer holds your data on this server:\n" + "\n".join(
        f"• {line}" for line in lines
    )


def my_data_message(server: str, section_sizes: Mapping[str, int]) -> str:
    """The text sent with the download; ``server`` is already escaped for Markdown."""
    records = sum(section_sizes.values())
    sections = sum(1 for size in section_sizes.values() if size)
    return (
        f"Everything Waypoint stores about you on **{server}**:"
        f" {records} records in {sections} sections (JSON, schema version 1). Other members' ids are"
        " left out. To delete it all, use `/privacy forget-me`."
    )
