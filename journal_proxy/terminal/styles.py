"""SGR state as the page shows it: classes from a fixed vocabulary, and terminal redraws.

Text here is already sanitised (:func:`journal_proxy.terminal.ansi.sanitize`): plain text, TAB, LF and SGR
sequences (and, once the masker keeps it, CR).  The page's Content-Security-Policy allows no
inline style, so every colour is a class: the 16 theme colours (light and dark values in
style.css), the 240 fixed xterm colours 16-255 (one class each, a generated section of style.css
held equal to :data:`PALETTE` by a test), and 24-bit colours quantised to the nearest of those.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

#: An SGR sequence, its parameters captured (the sanitised form: digits and ``;`` only).
SGR = re.compile(r"\x1b\[([0-9;]{0,64})m")
#: SGR codes whose next parameters are a colour, not codes: ``38;5;N`` and ``38;2;R;G;B``.
COLOUR_INTRODUCERS = frozenset((38, 48, 58))


class _Style(NamedTuple):
    """What the SGR codes so far have switched on.  Immutable, so transitions can be cached.

    Colours are palette indices 0-255: 0-15 are the theme's colours (the page's stylesheet gives
    them light and dark values), 16-255 the xterm palette; 24-bit colours are quantised to the
    nearest of 16-255 (see :func:`nearest_palette_index`).
    """

    fg: int | None = None
    bg: int | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    reverse: bool = False


_PLAIN = _Style()


def _xterm_palette() -> tuple[tuple[int, int, int], ...]:
    """RGB of xterm's colours 16-255: a 6x6x6 cube (levels 0, 95, 135, 175, 215, 255), then 24
    greys from 8 to 238.  Index 16 is at position 0."""
    levels = (0, 95, 135, 175, 215, 255)
    cube = [(r, g, b) for r in levels for g in levels for b in levels]
    greys = [(v, v, v) for v in range(8, 239, 10)]
    return tuple(cube + greys)


#: xterm's colours 16-255, in order (``PALETTE[n - 16]`` is colour n).  style.css has one class
#: per index, ``.f16``-``.f255`` and ``.g16``-``.g255``, with exactly these values (a test holds
#: them equal).
PALETTE = _xterm_palette()


@functools.lru_cache(maxsize=4096)
def nearest_palette_index(r: int, g: int, b: int) -> int:
    """The palette index (16-255) nearest to a 24-bit colour.

    The Content-Security-Policy allows no inline styles, so a colour must be a class from a fixed
    list; 240 fixed colours keep a gradient or a brand colour recognisable (the largest error is
    about 20 per channel).  0-15 are left out: their shade depends on the theme.  Distance is
    weighted like the eye (red 2, green 4, blue 3), which picks greys for near-greys.
    """
    best, best_d = 16, 1 << 30
    for i, (pr, pg, pb) in enumerate(PALETTE):
        d = 2 * (pr - r) ** 2 + 4 * (pg - g) ** 2 + 3 * (pb - b) ** 2
        if d < best_d:
            best, best_d = i + 16, d
    return best


def _extended_colour(codes: list[int], i: int) -> tuple[int | None, int]:
    """The colour after an extended-colour code at ``codes[i]`` (38, 48 or 58) and how many
    parameters it took: ``5;n`` (n in 0-255) or ``2;r;g;b`` (each 0-255); anything else is no
    colour, and only the code itself is taken."""
    if i + 2 < len(codes) and codes[i + 1] == 5:
        n = codes[i + 2]
        return (n if n <= 255 else None), 3
    if i + 4 < len(codes) and codes[i + 1] == 2:
        r, g, b = codes[i + 2 : i + 5]
        if max(r, g, b) <= 255:
            return nearest_palette_index(r, g, b), 5
        return None, 5
    return None, 1


#: SGR codes that switch attributes on or off: code -> the fields it sets.
_ATTRIBUTES: dict[int, dict[str, bool]] = {
    1: {"bold": True},
    2: {"dim": True},
    3: {"italic": True},
    4: {"underline": True},
    7: {"reverse": True},
    9: {"strike": True},
    22: {"bold": False, "dim": False},
    23: {"italic": False},
    24: {"underline": False},
    27: {"reverse": False},
    29: {"strike": False},
}


def _basic_colour(code: int) -> tuple[str, int | None] | None:
    """The field and colour a basic colour code sets (``30``-``37``, ``90``-``97``, ``39`` and
    the backgrounds), or None for any other code."""
    for base, bright, reset, name in ((30, 90, 39, "fg"), (40, 100, 49, "bg")):
        if base <= code <= base + 7:
            return name, code - base
        if bright <= code <= bright + 7:
            return name, code - bright + 8
        if code == reset:
            return name, None
    return None


@functools.lru_cache(maxsize=4096)
def _apply(style: _Style, params: str) -> _Style:
    """The style after one SGR sequence.  Cached: a log repeats a handful of colour changes, and
    the cache is bounded, so varied codes from a hostile log only cost the uncached path."""
    fields = style._asdict()
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        i += 1
        if c == 0:
            fields = _PLAIN._asdict()
        elif c in _ATTRIBUTES:
            fields.update(_ATTRIBUTES[c])
        elif c in COLOUR_INTRODUCERS:
            colour, taken = _extended_colour(codes, i - 1)
            if c != 58:  # 58: underline colour, not shown
                fields["fg" if c == 38 else "bg"] = colour
            i += taken - 1
        elif (basic := _basic_colour(c)) is not None:
            fields[basic[0]] = basic[1]
    return _Style(**fields)


@functools.lru_cache(maxsize=1024)
def _classes(style: _Style) -> str:
    """The page's classes for a style.  Reverse video swaps the colours; a default colour
    swapped in is ``rf`` (text in the page's background colour) or ``rg`` (background in the
    page's text colour), so reverse video reads in light and dark themes alike."""
    flags = (style.bold, style.dim, style.italic, style.underline, style.strike)
    out = [name for name, on in zip("bdius", flags, strict=True) if on]
    fg, bg = (style.bg, style.fg) if style.reverse else (style.fg, style.bg)
    if fg is not None:
        out.append(f"f{fg}")
    elif style.reverse:
        out.append("rf")
    if bg is not None:
        out.append(f"g{bg}")
    elif style.reverse:
        out.append("rg")
    return " ".join(out)


def _sgr(style: _Style) -> str:
    """One SGR sequence that sets ``style`` from any state (a reset first)."""
    codes = ["0"]
    codes += [c for c, on in zip("12349", style[2:7], strict=True) if on]
    if style.reverse:
        codes.append("7")
    for base, colour in ((30, style.fg), (40, style.bg)):
        if colour is None:
            continue
        if colour < 8:
            codes.append(str(base + colour))
        elif colour < 16:
            codes.append(str(base + 60 + colour - 8))
        else:
            codes.append(f"{base + 8};5;{colour}")
    return f"\x1b[{';'.join(codes)}m"


def resolve_redraws(text: str) -> str:
    """What a terminal shows at the end of each line of sanitised ``text`` with carriage returns.

    A progress line written as ``10%\r50%\r100%`` is shown as ``100%``: each CR goes back to
    the start of the line and what follows overwrites it, character by character, colours
    included; a longer earlier state keeps its tail (``abcdef\rXY`` is ``XYcdef``), as on a
    terminal.  A CR before LF (Windows line ends) changes nothing.  The result has no CR, so it
    can go to a ``curl`` user's terminal without moving its cursor over our timestamp.

    Linear in the length of the line: one pass, one cell per character.
    """
    if "\r" not in text:
        return text
    return "\n".join(_resolve_line(line) if "\r" in line else line for line in text.split("\n"))


def _resolve_line(line: str) -> str:
    if "\x1b" not in line:
        cells: list[str] = []
        for part in line.split("\r"):
            cells[: len(part)] = part
        return "".join(cells)
    styled: list[tuple[_Style, str]] = []
    style = _PLAIN
    for part in line.split("\r"):
        col = 0
        pieces = SGR.split(part)
        for k, piece in enumerate(pieces):
            if k % 2:
                style = _apply(style, piece)
                continue
            for ch in piece:
                if col < len(styled):
                    styled[col] = (style, ch)
                else:
                    styled.append((style, ch))
                col += 1
    out: list[str] = []
    current = _PLAIN
    for cell_style, ch in styled:
        if cell_style != current:
            out.append(_sgr(cell_style))
            current = cell_style
        out.append(ch)
    if current != _PLAIN:
        out.append("\x1b[0m")
    return "".join(out)


def spans(text: str) -> list[tuple[str, str]]:
    """Sanitised ``text`` without CR as ``(css classes, plain text)`` runs."""
    if "\x1b" not in text:
        return [("", text)] if text else []
    # split() alternates text and the captured SGR parameters: text, params, text, ...
    parts = SGR.split(text)
    runs = [("", parts[0])] if parts[0] else []
    style = _PLAIN
    for i in range(1, len(parts), 2):
        style = _apply(style, parts[i])
        if parts[i + 1]:
            runs.append((_classes(style), parts[i + 1]))
    return runs


def strip_sgr(text: str) -> str:
    """Sanitised text without its colour codes: plain text, for ``grep``."""
    return SGR.sub("", text) if "\x1b" in text else text
