from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.ansi import (
    ESCAPES,
    MAX_PARSED_SGR,
    drop_controls,
    filter_sgr,
    sanitize,
    to_spans,
)
from journal_proxy.renderers.html import _message_html

CLASS_RE = re.compile(r"(?:[bdiu]|[fg](?:1[0-5]|[0-9]))(?: (?:[bdiu]|[fg](?:1[0-5]|[0-9])))*")


def test_keeps_sgr_removes_everything_else() -> None:
    text = "a\x1b[1;31mred\x1b[0m \x1b]0;title\x07 \x1b]8;;http://x\x1b\\link \x1b[2J\x1b[10;5H\rb\x07c\x9bd"
    assert sanitize(text) == "a\x1b[1;31mred\x1b[0m  link bcd"
    assert "".join(t for _, t in to_spans(text)) == "ared  link bcd"


def test_spans_map_colours_to_a_fixed_vocabulary() -> None:
    assert to_spans("x\x1b[1;32mok\x1b[0m y\x1b[38;5;9mz") == [
        ("", "x"),
        ("b f2", "ok"),
        ("", " y"),
        ("f9", "z"),
    ]


control = st.sampled_from(
    [
        "\x1b[",
        "\x1b]",
        "\x1b",
        "m",
        ";",
        "1",
        "31",
        "\x07",
        "\x9b",
        "<",
        ">",
        "&",
        '"',
        "'",
        "\n",
        "a",
    ]
)


@given(st.lists(control | st.text(max_size=5), max_size=40).map("".join))
def test_renderer_never_emits_markup_from_log_text(text: str) -> None:
    out = _message_html(text)
    # Only our own span tags; everything else is escaped text.
    stripped = re.sub(r'<span class="([^"]*)">|</span>', "", out)
    for cls in re.findall(r'<span class="([^"]*)">', out):
        assert CLASS_RE.fullmatch(cls), cls
    assert "<" not in stripped and ">" not in stripped
    assert "\x1b" not in html.unescape(stripped)


# --- SGR 8 (concealed text) and the two-step sanitize -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[8mhidden", "hidden"),
        ("\x1b[08mhidden", "hidden"),
        ("\x1b[1;8;31mx", "\x1b[1;31mx"),
        ("\x1b[8;1mx", "\x1b[1mx"),
        ("\x1b[8;mx", "\x1b[mx"),  # the empty parameter is 0, a reset: kept
        ("\x1b[38;5;8mx", "\x1b[38;5;8mx"),  # colour index 8, not concealment
        ("\x1b[48;5;8;8mx", "\x1b[48;5;8mx"),
        ("\x1b[38;2;8;8;8;8mx", "\x1b[38;2;8;8;8mx"),
        ("\x1b[58;5;8mx", "\x1b[58;5;8mx"),
        ("\x1b[28mx", "\x1b[28mx"),
        ("\x1b[18;88mx", "\x1b[18;88mx"),
    ],
)
def test_sgr_8_is_dropped_and_nothing_else(text: str, expected: str) -> None:
    assert sanitize(text) == expected
    assert filter_sgr("\x1b[38;5;8m") == "\x1b[38;5;8m"


def test_sgr_8_never_reaches_the_page() -> None:
    assert to_spans("\x1b[8;31mx") == [("f1", "x")]


def test_many_concealing_sequences_are_bounded() -> None:
    text = "\x1b[1;8mx" * (MAX_PARSED_SGR + 10)
    out = sanitize(text)
    assert "8m" not in out.replace("\x1b[1m", "")
    assert out.count("\x1b[1m") == MAX_PARSED_SGR


def _reference(text: str) -> str:
    """sanitize as one pass over the tokens, after the inert control characters."""
    text = drop_controls(text)
    return ESCAPES.sub(lambda m: filter_sgr(m.group(1)) if m.group(1) else "", text)


pieces = st.sampled_from(
    ["\x1b", "\x1b[", "\x1b]", "\x1bP", "m", ";", "8", "1", "31", "\x07", "\x00", "\x9b"]
)
others = st.sampled_from(["\x85", "\\", "a", "é", "\n", "\t", "\r", "\x7f", "(", "B"])


@given(st.lists(pieces | others | st.text(max_size=3), max_size=40).map("".join))
def test_sanitize_is_idempotent_and_leaves_only_sgr(text: str) -> None:
    out = sanitize(text)
    assert sanitize(out) == out
    assert out == _reference(text)
    assert not re.search(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]", out)
    for sgr in re.findall(r"\x1b\[([0-9;]*)m", out):
        assert filter_sgr(f"\x1b[{sgr}m") == f"\x1b[{sgr}m"
