"""Terminal escape sequences in log text: keep colours, remove everything else.

A deploy script's output goes to three places: a ``curl`` user's terminal, JSON consumers and the
page.  Only SGR (colour and weight, ``ESC [ ... m``) is kept; cursor movement, OSC (window titles,
hyperlinks, clipboard), DCS and bare control characters are removed so log text can never drive the
reader's terminal.  Every pattern here is a plain alternation of character classes: linear time.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

_SEQUENCES = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI (SGR included)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences
)
#: Any terminal escape sequence, colours included (the masker matches secrets around them).
ESCAPE_SEQUENCE = re.compile(_SEQUENCES)
_SGR_PATTERN = r"\x1b\[[0-9;]{0,64}m"
_ESCAPES = re.compile(
    rf"({_SGR_PATTERN})"  # 1: SGR, kept
    rf"|{_SEQUENCES}"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 (but TAB and LF), DEL, C1
)
#: Anything ``_ESCAPES`` would remove: a control character other than TAB, LF and the ESC of
#: an SGR sequence.  Most lines, coloured or not, have none, and are returned as they are.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?!\[[0-9;]{0,64}m)")
_SGR = re.compile(r"\x1b\[([0-9;]{0,64})m")


def _keep_sgr(match: re.Match[str]) -> str:
    return match.group(1) or ""


def sanitize(text: str) -> str:
    """Remove every control sequence except SGR colour codes; keep TAB and newline."""
    if _UNSAFE.search(text) is None:
        return text
    return _ESCAPES.sub(_keep_sgr, text)


class _Style(NamedTuple):
    """What the SGR codes so far have switched on.  Immutable, so transitions can be cached."""

    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False


_PLAIN = _Style()


@functools.lru_cache(maxsize=4096)
def _apply(style: _Style, params: str) -> _Style:
    """The style after one SGR sequence.  Cached: a log repeats a handful of colour changes, and
    the cache is bounded, so varied codes from a hostile log only cost the uncached path."""
    fg, bg, bold, dim, italic, underline = style
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            fg, bg, bold, dim, italic, underline = _PLAIN
        elif c == 1:
            bold = True
        elif c == 2:
            dim = True
        elif c == 3:
            italic = True
        elif c == 4:
            underline = True
        elif c == 22:
            bold = dim = False
        elif c == 23:
            italic = False
        elif c == 24:
            underline = False
        elif 30 <= c <= 37:
            fg = c - 30
        elif 90 <= c <= 97:
            fg = c - 90 + 8
        elif c == 39:
            fg = None
        elif 40 <= c <= 47:
            bg = c - 40
        elif 100 <= c <= 107:
            bg = c - 100 + 8
        elif c == 49:
            bg = None
        elif c in (38, 48):
            # 38;5;n (256 colours: the first 16 map to our palette) or 38;2;r;g;b (dropped).
            if i + 2 < len(codes) and codes[i + 1] == 5:
                n = codes[i + 2]
                colour = n if n < 16 else None
                if c == 38:
                    fg = colour
                else:
                    bg = colour
                i += 2
            elif i + 1 < len(codes) and codes[i + 1] == 2:
                i += 4
        i += 1
    return _Style(fg, bg, bold, dim, italic, underline)


@functools.lru_cache(maxsize=1024)
def _classes(style: _Style) -> str:
    out = [name for name, on in zip("bdiu", style[2:], strict=True) if on]
    if style.fg is not None:
        out.append(f"f{style.fg}")
    if style.bg is not None:
        out.append(f"g{style.bg}")
    return " ".join(out)


def to_spans(text: str) -> list[tuple[str, str]]:
    """Split sanitised text into ``(css classes, plain text)`` runs; the text holds no escapes.

    The classes come from a fixed vocabulary (``b d i u f0..f15 g0..g15``), never from log text.
    """
    text = sanitize(text)
    if "\x1b" not in text:
        return [("", text)] if text else []
    # split() alternates text and the captured SGR parameters: text, params, text, ...
    parts = _SGR.split(text)
    spans = [("", parts[0])] if parts[0] else []
    style = _PLAIN
    for i in range(1, len(parts), 2):
        style = _apply(style, parts[i])
        if parts[i + 1]:
            spans.append((_classes(style), parts[i + 1]))
    return spans
