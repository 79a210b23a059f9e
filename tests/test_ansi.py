from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.renderers.html import LINK_REL, _message_html
from journal_proxy.renderers.urls import to_parts
from journal_proxy.terminal import ansi
from journal_proxy.terminal.ansi import (
    ESCAPES,
    MAX_PARSED_SGR,
    drop_controls,
    filter_sgr,
    sanitize,
    to_spans,
)
from journal_proxy.terminal.styles import (
    PALETTE,
    nearest_palette_index,
    resolve_redraws,
    strip_sgr,
)

_CLASS = r"(?:[bdius]|r[fg]|[fg](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))"
CLASS_RE = re.compile(rf"{_CLASS}(?: {_CLASS})*")


def test_keeps_sgr_removes_everything_else() -> None:
    # (CR is left out: it is a redraw, see resolve_redraws.)
    text = "a\x1b[1;31mred\x1b[0m \x1b]0;title\x07 \x1b]8;;http://x\x1b\\link \x1b[2J\x1b[10;5H\x0bb\x07c\x9bd"
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
        "http://",
        "https://x",
        "javascript:",
        "\r",
        "38;5;",
        "38;2;",
        "7",
        "9",
    ]
)


@given(st.lists(control | st.text(max_size=5), max_size=40).map("".join))
def test_renderer_never_emits_markup_from_log_text(text: str) -> None:
    out = _message_html(text)
    # Only our own span and link tags; everything else is escaped text.
    link = rf'<a class="([^"]*)" href="(https?://[^"<>]*)" rel="{LINK_REL}">'
    stripped = re.sub(rf'<span class="([^"]*)">|</span>|{link}|</a>', "", out)
    for cls in re.findall(r'<span class="([^"]*)">', out):
        assert CLASS_RE.fullmatch(cls), cls
    for cls, _href in re.findall(link, out):
        assert cls == "" or CLASS_RE.fullmatch(cls), cls
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
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]", out)
    for sgr in re.findall(r"\x1b\[([0-9;]*)m", out):
        assert filter_sgr(f"\x1b[{sgr}m") == f"\x1b[{sgr}m"


# --- 256 colours, 24-bit colours, reverse, dim, italic, strikethrough ------------------------


def test_256_colours_are_classes_by_index() -> None:
    assert to_spans("\x1b[38;5;208mo\x1b[48;5;21mb\x1b[38;5;3mc\x1b[38;5;256md") == [
        ("f208", "o"),
        ("f208 g21", "b"),
        ("f3 g21", "c"),
        ("g21", "d"),  # no colour 256: the foreground is reset, not guessed
    ]


def test_truecolour_is_the_nearest_palette_colour() -> None:
    assert to_spans("\x1b[38;2;255;135;0mx") == [("f208", "x")]  # exactly xterm 208
    assert nearest_palette_index(250, 130, 10) == 208
    assert nearest_palette_index(128, 128, 128) == 244  # a grey stays a grey
    assert to_spans("\x1b[48;2;0;0;0;1mx") == [("b g16", "x")]
    # A component over 255 is no colour; the codes after it are still read.
    assert to_spans("\x1b[38;2;300;0;0;3mx") == [("i", "x")]


def test_reverse_dim_italic_strikethrough() -> None:
    assert to_spans("\x1b[2;3;9ma\x1b[22;23;29mb") == [("d i s", "a"), ("", "b")]
    assert to_spans("\x1b[7mr\x1b[31mx\x1b[42my\x1b[27mz") == [
        ("rf rg", "r"),  # default colours swapped: the page's own, reversed
        ("rf g1", "x"),
        ("f2 g1", "y"),
        ("f1 g2", "z"),
    ]


def test_stylesheet_has_every_palette_colour() -> None:
    """style.css holds one class per index 16-255 with exactly ansi.PALETTE's value."""
    css = (Path(ansi.__file__).parent.parent / "static" / "style.css").read_text()
    for n, (r, g, b) in enumerate(PALETTE, start=16):
        hex_ = f"#{r:02x}{g:02x}{b:02x}"
        assert f".f{n} {{ color: {hex_}; }}" in css, n
        assert f".g{n} {{ background: {hex_}; }}" in css, n
    for cls in ("s", "rf", "rg", "d", "i"):
        assert re.search(rf"(^|\s)\.{cls} \{{", css), cls


# --- carriage-return redraws -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("progress 10%\rprogress 50%\rprogress 100%", "progress 100%"),
        ("abcdef\rXY", "XYcdef"),  # the longer earlier state keeps its tail, as on a terminal
        ("windows line\r\nnext\r", "windows line\nnext"),
        ("a\rb\nc\rd", "b\nd"),  # per line
        ("\r\r\r", ""),
        ("no redraw", "no redraw"),
    ],
)
def test_a_redrawn_line_shows_its_final_state(text: str, shown: str) -> None:
    assert resolve_redraws(text) == shown


def test_redraws_keep_each_characters_colour() -> None:
    out = resolve_redraws("\x1b[31mred 10%\x1b[0m\r\x1b[32m50\x1b[0m")
    assert to_spans(out) == [("f2", "50"), ("f1", "d 10%")]
    assert to_spans(resolve_redraws("\x1b[31mxx\rA")) == [("f1", "Ax")]  # colour carries over
    assert sanitize(out) == out  # what is shown is still sanitised text


@given(st.lists(st.sampled_from(["a", "bc", "\r", "\n", "\x1b[31m", "\x1b[0m", "é"])).map("".join))
def test_redraws_leave_no_cr_and_never_add_text(text: str) -> None:
    out = resolve_redraws(text)
    assert "\r" not in out
    shown = strip_sgr(out)
    assert out.count("\n") == text.count("\n")
    assert set(shown) <= set(strip_sgr(text))


# --- links ---------------------------------------------------------------------------------


def test_only_http_and_https_urls_become_links() -> None:
    text = (
        "see https://example.com/a_(b)?q=1&x=<2>, (http://x.y/z). "
        "javascript:alert(1) data:text/html,<b>x</b> file:///etc/passwd ftp://h/ "
        "HTTPS://UP.example/"
    )
    links = [(t, h) for _, t, h in to_parts(text) if h is not None]
    assert links == [
        ("https://example.com/a_(b)?q=1&x=", "https://example.com/a_(b)?q=1&x="),
        ("http://x.y/z", "http://x.y/z"),
        ("HTTPS://UP.example/", "HTTPS://UP.example/"),
    ]


def test_a_url_inside_hostile_text_is_only_the_url() -> None:
    html = _message_html('javascript:alert(1)//https://ok.example/"onmouseover="x" <script>')
    assert html.count("<a ") == 1
    assert 'href="https://ok.example/"' in html
    assert "onmouseover=&quot;x&quot;" in html and "&lt;script&gt;" in html


def test_osc_8_targets_never_become_links() -> None:
    """An OSC 8 hyperlink is removed by sanitising, target and all; its visible text stays
    (a link only if that text is itself an http(s) URL)."""
    osc = "\x1b]8;;javascript:alert(1)\x1b\\click me\x1b]8;;\x1b\\ and \x1b]8;;https://a.example/\x07label\x1b]8;;\x07"
    assert to_parts(osc) == [("", "click me and label", None)]
    assert "javascript" not in _message_html(osc) and "a.example" not in _message_html(osc)


def test_a_url_across_a_colour_change_is_one_target() -> None:
    assert to_parts("\x1b[31mhttps://red\x1b[0m.example/p.") == [
        ("f1", "https://red", "https://red.example/p"),
        ("", ".example/p", "https://red.example/p"),
        ("", ".", None),
    ]
    assert _message_html("go https://a.example/?x=1&y=2") == (
        f'go <a class="" href="https://a.example/?x=1&amp;y=2" rel="{LINK_REL}">'
        "https://a.example/?x=1&amp;y=2</a>"
    )


def test_underline_colour_arguments_are_not_read_as_codes() -> None:
    """``58;5;1`` is an underline colour (not shown): its 1 is not bold, nor ``58;2;..;3;..``
    italic."""
    assert to_spans("\x1b[58;5;1;4mx\x1b[58;2;9;3;9;31my") == [("u", "x"), ("u f1", "y")]
