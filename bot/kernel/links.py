"""Links members attach as evidence or to a review: only web addresses are accepted."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.kernel.errors import InvalidInputError


def validate_web_link(url: str | None, *, label: str, max_length: int) -> str | None:
    """Return the trimmed http(s) link, None for no link, or refuse anything else in one sentence.

    Other schemes (``javascript:``, ``file:``) would be clickable in an export or embed.
    """
    if url is None or not url.strip():
        return None
    cleaned = url.strip()
    if len(cleaned) > max_length:
        raise InvalidInputError(f"{label} can be at most {max_length} characters.")
    parts = urlsplit(cleaned)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(ch.isspace() for ch in cleaned):
        raise InvalidInputError(f"{label} must be a web link starting with http:// or https://.")
    return cleaned
