"""Lists that grow with member data, shown within a budget: the rest become "and N more"."""

from __future__ import annotations

from collections.abc import Sequence


def capped(items: Sequence[str], *, budget: int, separator: str = ", ", empty: str = "") -> str:
    """Join ``items`` within ``budget`` characters; the rest become "and N more"."""
    if not items:
        return empty
    shown: list[str] = []
    used = 0
    for index, item in enumerate(items):
        remaining = len(items) - index - 1
        tail = len(f"{separator}and {remaining} more") if remaining else 0
        cost = len(item) + (len(separator) if shown else 0)
        if used + cost + tail > budget:
            hidden = len(items) - index
            more = f"and {hidden} more"
            return separator.join(shown) + (separator if shown else "") + more if shown else more
        shown.append(item)
        used += cost
    return separator.join(shown)
