"""Text members type: normalised on the way in, made harmless on the way back out.

Names and texts are NFC-normalised; control characters, bidirectional overrides and characters
that render as nothing (zero-width space, joiners, word joiner, BOM, soft hyphen, Hangul fillers)
are refused, so "Spring" and "Spring" plus a zero-width space cannot be two cohorts that look the
same. Values echoed back in a refusal are shortened and stripped of markup, so a 6,000-character
option or a masked link can never break a reply or become a link in the bot's voice.
"""

from __future__ import annotations

import re
import unicodedata

from bot.kernel.errors import InvalidInputError

# Characters that show nothing (or reorder what is shown) but are not Unicode control characters.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
)
ECHO_LIMIT = 60
_MARKUP = re.compile(r"([\\*_~|`>#\[\]()<@])")
_SPACES = re.compile(r"[^\S\n]+")


def is_hidden(character: str) -> bool:
    """True for a character a reader cannot see or that changes how the rest is shown."""
    if character in INVISIBLE:
        return True
    category = unicodedata.category(character)
    # Cc: control characters; Cf: format characters (bidi marks, joiners); Co/Cn: private or unassigned.
    return category in {"Cc", "Cf", "Co", "Cn"} and character not in "\n\t"


def has_hidden(text: str) -> bool:
    """Whether ``text`` holds a character a reader cannot see (an emoji's own joiner is fine)."""
    return any(is_hidden(ch) and not _joins_emoji(text, index) for index, ch in enumerate(text))


def clean_name(raw: str, *, field: str, max_length: int) -> str:
    """A one-line name: NFC, single spaces, nothing hidden, not empty, at most ``max_length``."""
    text = _normalised(raw, field=field, multiline=False)
    return _within(text, field, max_length, empty=f"{field} needs at least one visible character.")


def clean_text(raw: str, *, field: str, max_length: int) -> str:
    """Free text (lines allowed): NFC, trimmed, nothing hidden, not empty, at most ``max_length``."""
    text = _normalised(raw, field=field, multiline=True)
    return _within(text, field, max_length, empty=f"{field} needs some visible text.")


def _within(text: str, field: str, max_length: int, *, empty: str) -> str:
    if not text:
        raise InvalidInputError(empty)
    if len(text) > max_length:
        raise InvalidInputError(f"{field} can be at most {max_length} characters (yours has {len(text)}).")
    return text


def lookalike_key(text: str) -> str:
    """What two names that look the same share: compatibility-normalised and case-folded."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch for ch in folded if not is_hidden(ch)).split())


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """A value repeated back to a member: visible characters only, shortened, markup escaped."""
    return _MARKUP.sub(r"\\\1", _visible(value, limit, dropped="\n\t"))


def echo_code(value: str, limit: int = ECHO_LIMIT) -> str:
    """A value shown inside a `code span`: no backticks, nothing hidden, shortened."""
    return _visible(value, limit, dropped="\n\t`") or " "


def _visible(value: str, limit: int, *, dropped: str) -> str:
    """``value`` without hidden characters or ``dropped``, single-spaced, cut to ``limit``."""
    visible = " ".join("".join(ch for ch in value if not is_hidden(ch) and ch not in dropped).split())
    if len(visible) > limit:
        visible = visible[: limit - 1].rstrip() + "…"
    return visible


_ZWJ = "\u200d"
_VARIATION_SELECTOR = "\ufe0f"


def _is_pictograph(character: str) -> bool:
    return unicodedata.category(character) == "So" or 0x1F000 <= ord(character) <= 0x1FAFF


def _joins_emoji(text: str, index: int) -> bool:
    """A zero-width joiner between two pictographs builds one emoji (a family, a profession): keep it."""
    if text[index] != _ZWJ:
        return False
    before = text[:index].rstrip(_VARIATION_SELECTOR)
    after = text[index + 1 :]
    return bool(before) and bool(after) and _is_pictograph(before[-1]) and _is_pictograph(after[0])


def _normalised(raw: str, *, field: str, multiline: bool) -> str:
    text = unicodedata.normalize("NFC", raw)
    if has_hidden(text) or (not multiline and "\n" in text.strip()):
        raise InvalidInputError(
            f"{field} contains invisible or control characters; please type it again with visible ones only."
        )
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\t", " ").split("\n")]
        return "\n".join(lines).strip()
    return " ".join(text.split())
