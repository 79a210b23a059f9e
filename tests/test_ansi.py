from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.ansi import sanitize, to_spans
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
