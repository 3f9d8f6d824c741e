"""Member text in, bot text out: hidden characters refused, echoes short and inert, links plain."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.errors import InvalidInputError
from bot.kernel.links import validate_web_link
from bot.kernel.text import INVISIBLE, clean_name, clean_text, echo, echo_code, is_hidden, lookalike_key

HIDDEN_SAMPLES = [*sorted(INVISIBLE), "\x00", "\x07", "\x1b", "\u202e", "\x7f"]


@pytest.mark.parametrize("hidden", HIDDEN_SAMPLES)
def test_names_with_hidden_characters_are_refused(hidden: str) -> None:
    with pytest.raises(InvalidInputError, match="invisible or control"):
        clean_name(f"Spring{hidden}", field="A cohort name", max_length=50)


@pytest.mark.parametrize("hidden", HIDDEN_SAMPLES)
def test_texts_made_only_of_hidden_characters_are_refused(hidden: str) -> None:
    with pytest.raises(InvalidInputError):
        clean_text(hidden * 5, field="The text", max_length=100)


def test_names_are_nfc_and_single_spaced() -> None:
    assert clean_name("  Cafe\u0301   club ", field="Name", max_length=50) == "Caf\u00e9 club"


def test_lines_are_kept_in_texts_but_not_in_names() -> None:
    assert clean_text("first\n  second  ", field="Text", max_length=50) == "first\nsecond"
    with pytest.raises(InvalidInputError):
        clean_name("first\nsecond", field="Name", max_length=50)


def test_too_long_values_are_refused_with_their_length_not_their_text() -> None:
    with pytest.raises(InvalidInputError) as refused:
        clean_name("x" * 6000, field="A cohort name", max_length=50)
    assert "6000" in refused.value.message and "xxxx" not in refused.value.message


def test_lookalike_names_share_a_key() -> None:
    assert lookalike_key("Spring") == lookalike_key("SPRING") == lookalike_key("\uff33pring")


@given(st.text(max_size=6000))
def test_an_echo_is_short_visible_and_cannot_start_markup(value: str) -> None:
    shown = echo(value)
    assert len(shown) <= 2 * 60
    assert not any(is_hidden(ch) for ch in shown)
    for mark in "*_~|`>#[]()<@":
        assert mark not in shown.replace(f"\\{mark}", "")


@given(st.text(max_size=6000))
def test_a_code_echo_never_closes_its_code_span(value: str) -> None:
    shown = echo_code(value)
    assert "`" not in shown and 0 < len(shown) <= 60


@pytest.mark.parametrize(
    "link",
    [
        "https://ok.example/>)**[Verify-your-account](https://evil.example)**",
        "https://ok.example/a b",
        "https://ok.example/<script>",
        "https://ok.example/\u200b",
        "https://ok.example/`x`",
        'https://ok.example/"x"',
    ],
)
def test_links_that_could_render_as_markup_are_refused(link: str) -> None:
    with pytest.raises(InvalidInputError, match="single web address"):
        validate_web_link(link, label="Evidence", max_length=500)


@pytest.mark.parametrize(
    "link",
    [
        "https://github.com/alice/project/pull/3",
        "http://example.org/path?q=1&r=two#frag",
        "https://de.wikipedia.org/wiki/%C3%9Cbung_%28Sport%29",
    ],
)
def test_plain_links_are_accepted(link: str) -> None:
    assert validate_web_link(f"  {link} ", label="Evidence", max_length=500) == link


def test_a_joiner_inside_an_emoji_is_kept_but_not_elsewhere() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    technologist = "\U0001f9d1\ufe0f\u200d\U0001f4bb"
    assert clean_text(f"Study group {family} {technologist}", field="Text", max_length=100).endswith(
        technologist
    )
    for joined_wrongly in ("a\u200db", f"{family}\u200d", "\u200d\U0001f4bb", "\u200d"):
        with pytest.raises(InvalidInputError):
            clean_text(joined_wrongly, field="Text", max_length=100)
