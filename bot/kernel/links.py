"""Links members attach as evidence or to a review: only plain web addresses are accepted.

A link is shown back by the bot (in `/review history`, exports, progress), so it must be exactly
one URL and nothing that Discord could read as markup: no spaces, no ``<>()[]`` (a masked link
like ``x)**[Verify](https://evil.example)**`` needs them), no quotes or backticks, no hidden
characters. Addresses that really contain such characters work percent-encoded.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.kernel.errors import InvalidInputError

# RFC 3986 unreserved and reserved characters and '%', minus the ones markup is built from.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+")


def validate_web_link(url: str | None, *, label: str, max_length: int) -> str | None:
    """Return the trimmed http(s) link, None for no link, or refuse anything else in one sentence."""
    if url is None or not url.strip():
        return None
    cleaned = url.strip()
    if len(cleaned) > max_length:
        raise InvalidInputError(f"{label} can be at most {max_length} characters.")
    if cleaned.split("://", 1)[0].lower() not in {"http", "https"} or "://" not in cleaned:
        raise InvalidInputError(f"{label} must be a web link starting with http:// or https://.")
    if _URL_CHARACTERS.fullmatch(cleaned) is None:
        raise InvalidInputError(
            f"{label} must be a single web address: no spaces, brackets, quotes or hidden characters"
            " (percent-encode them, as your browser does when you copy the address)."
        )
    if not urlsplit(cleaned).hostname:
        raise InvalidInputError(f"{label} must be a web link starting with http:// or https://.")
    return cleaned
