"""Terminal escape sequences in log text: keep colours, remove everything else.

A deploy script's output goes to three places: a ``curl`` user's terminal, JSON consumers and the
page.  Only SGR (colour and weight, ``ESC [ ... m``) is kept; cursor movement, OSC (window titles,
hyperlinks, clipboard), DCS and bare control characters are removed so log text can never drive the
reader's terminal.  Every pattern here is a plain alternation of character classes: linear time.
"""

from __future__ import annotations

import re

_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SEQUENCES = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI (SGR included)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences
)
#: Any terminal escape sequence, colours included (the masker matches secrets around them).
ESCAPE_SEQUENCE = re.compile(_SEQUENCES)
_ESCAPES = re.compile(
    r"(\x1b\[[0-9;]{0,64}m)"  # 1: SGR, kept
    rf"|{_SEQUENCES}"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 (but TAB and LF), DEL, C1
)
_SGR = re.compile(r"\x1b\[([0-9;]{0,64})m")


def _keep_sgr(match: re.Match[str]) -> str:
    return match.group(1) or ""


def sanitize(text: str) -> str:
    """Remove every control sequence except SGR colour codes; keep TAB and newline."""
    if _NEEDS_WORK.search(text) is None:
        return text
    return _ESCAPES.sub(_keep_sgr, text)


class _Style:
    __slots__ = ("bg", "bold", "dim", "fg", "italic", "underline")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fg: int | None = None
        self.bg: int | None = None
        self.bold = self.dim = self.italic = self.underline = False

    def apply(self, params: str) -> None:
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif 30 <= c <= 37:
                self.fg = c - 30
            elif 90 <= c <= 97:
                self.fg = c - 90 + 8
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = c - 40
            elif 100 <= c <= 107:
                self.bg = c - 100 + 8
            elif c == 49:
                self.bg = None
            elif c in (38, 48):
                # 38;5;n (256 colours: the first 16 map to our palette) or 38;2;r;g;b (dropped).
                if i + 2 < len(codes) and codes[i + 1] == 5:
                    n = codes[i + 2]
                    colour = n if n < 16 else None
                    if c == 38:
                        self.fg = colour
                    else:
                        self.bg = colour
                    i += 2
                elif i + 1 < len(codes) and codes[i + 1] == 2:
                    i += 4
            i += 1

    def classes(self) -> str:
        out = []
        if self.bold:
            out.append("b")
        if self.dim:
            out.append("d")
        if self.italic:
            out.append("i")
        if self.underline:
            out.append("u")
        if self.fg is not None:
            out.append(f"f{self.fg}")
        if self.bg is not None:
            out.append(f"g{self.bg}")
        return " ".join(out)


def to_spans(text: str) -> list[tuple[str, str]]:
    """Split sanitised text into ``(css classes, plain text)`` runs; the text holds no escapes.

    The classes come from a fixed vocabulary (``b d i u f0..f15 g0..g15``), never from log text.
    """
    text = sanitize(text)
    spans: list[tuple[str, str]] = []
    style = _Style()
    pos = 0
    for m in _SGR.finditer(text):
        if m.start() > pos:
            spans.append((style.classes(), text[pos : m.start()]))
        style.apply(m.group(1))
        pos = m.end()
    if pos < len(text):
        spans.append((style.classes(), text[pos:]))
    return spans
