"""Terminal escape sequences in log text: keep colours, remove everything else.

A deploy script's output goes to three places: a ``curl`` user's terminal, JSON consumers and the
page.  Only SGR (colour and weight, ``ESC [ ... m``) is kept, without code 8 (concealed text would
hide log text from the reader); cursor movement, OSC (window titles, hyperlinks, clipboard), DCS
and bare control characters are removed so log text can never drive the reader's terminal.  Every
pattern here is a plain alternation of character classes: linear time.

For the page and the text output this module also turns the kept SGR codes into a fixed
vocabulary of CSS classes (16 theme colours, the 240 fixed xterm colours, 24-bit colours quantised
to those: the page's Content-Security-Policy allows no inline style), resolves carriage-return
redraws to what a terminal shows at the end (:func:`resolve_redraws`) and finds the http(s) URLs
that become links (:func:`find_urls`; no other scheme ever does).
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
#: Any terminal escape sequence, colours included.
ESCAPE_SEQUENCE = re.compile(_SEQUENCES)
_SGR_PATTERN = r"\x1b\[[0-9;]{0,64}m"
#: What the second step of :func:`sanitize` looks at, one token per match: an SGR sequence
#: (group 1, kept without code 8), any other escape sequence, or a run of BEL (removed).  Public
#: for the masker, which walks the same tokens to know where each shown character came from.
ESCAPES = re.compile(rf"({_SGR_PATTERN})|{_SEQUENCES}|\x07+")
#: Everything ``ESCAPES`` matches but SGR: removed by one substitution, no Python call per match.
_REMOVED = re.compile(rf"(?!{_SGR_PATTERN})(?:{_SEQUENCES})|\x07+")
#: Something the second step would remove (or, for an SGR holding an 8, change).
_UNSAFE = re.compile(r"\x07|\x1b(?![\[][0-79;]{0,64}m)")
#: An SGR sequence that may hold code 8 (concealed): only these need their parameters parsed.
_MAYBE_CONCEALED_SGR = re.compile(r"\x1b\[(?=[0-79;]{0,63}8)[0-9;]{0,64}m")
_SGR = re.compile(r"\x1b\[([0-9;]{0,64})m")

_C0 = [*range(0x00, 0x09), *range(0x0B, 0x20)]  # C0 but TAB and LF
_C1 = [*range(0x7F, 0xA0)]  # DEL and C1 (U+0085 NEL, U+009B CSI, ...)
_INERT = [c for c in _C0 if c not in (0x07, 0x1B)]  # C0 without meaning inside a sequence
#: Deletion tables for ``str.translate`` (fast for ASCII text) and ``bytes.translate``.
_DELETE_ALL = dict.fromkeys(_C0 + _C1)
_DELETE_INERT = dict.fromkeys(_INERT + _C1)
_DELETE_ALL_BYTES = bytes([*_C0, 0x7F])
_DELETE_INERT_BYTES = bytes([*_INERT, 0x7F])
_C1_UTF8 = [chr(c).encode() for c in range(0x80, 0xA0)]
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _delete(text: str, table: dict[int, None], table_bytes: bytes) -> str:
    """``text`` without the characters of ``table``; as fast for 80 Ki characters holding 40 Ki
    control characters as for a plain line (a regular expression costs a step per match)."""
    if text.isascii():
        return text.translate(table)
    if _ANY_CONTROL.search(text) is None:
        return text
    data = text.encode("utf-8", "surrogatepass").translate(None, table_bytes)
    if b"\xc2" in data:  # U+0080-U+009F are C2 80 - C2 9F in UTF-8, and C2 always leads
        for c1 in _C1_UTF8:
            data = data.replace(c1, b"")
    return data.decode("utf-8", "surrogatepass")


def drop_controls(text: str) -> str:
    """The first step of :func:`sanitize`: every control character but TAB and LF is deleted,
    except ESC and BEL when the text has an ESC (they start and end escape sequences).

    A control character inside an escape sequence is thus ignored, as a terminal's parser
    ignores NUL there: ``ESC [ 3 NUL 1 m`` is SGR 31.
    """
    if "\x1b" in text:
        return _delete(text, _DELETE_INERT, _DELETE_INERT_BYTES)
    return _delete(text, _DELETE_ALL, _DELETE_ALL_BYTES)


def drop_all_controls(text: str) -> str:
    """Every control character but TAB and LF deleted, ESC and BEL included."""
    return _delete(text, _DELETE_ALL, _DELETE_ALL_BYTES)


def drop_sequences(text: str) -> str:
    """The second step of :func:`sanitize`, on :func:`drop_controls`' output: escape sequences
    other than SGR and BEL removed, and code 8 removed from SGR (see :func:`filter_sgr`)."""
    if "\x1b" not in text or _UNSAFE.search(text) is None:
        return text
    text = _REMOVED.sub("", text)
    if "8" in text and "\x1b" in text:
        text = _drop_concealed(text)
    return text


#: SGR sequences holding an 8 parsed per line; any after these are dropped whole (colours lost
#: on a hostile line, never a concealed one): parsing is Python work per sequence.
MAX_PARSED_SGR = 256


def _drop_concealed(text: str) -> str:
    cut = None
    for count, m in enumerate(_MAYBE_CONCEALED_SGR.finditer(text)):
        if count == MAX_PARSED_SGR:
            cut = m.start()
            break
    if cut is None:
        return _MAYBE_CONCEALED_SGR.sub(_filter_match, text)
    head = _MAYBE_CONCEALED_SGR.sub(_filter_match, text[:cut])
    return head + _MAYBE_CONCEALED_SGR.sub("", text[cut:])


#: SGR codes whose next parameters are a colour, not codes: ``38;5;N`` and ``38;2;R;G;B``.
_COLOUR_INTRODUCERS = frozenset((38, 48, 58))


def filter_sgr(sequence: str) -> str:
    """An SGR sequence without code 8 (concealed text), or ``""`` if nothing else is left.

    Concealed text is invisible on a terminal but present in the bytes: log text must not hide
    from the reader.  Parameters are parsed, so ``38;5;8`` (colour index 8) and ``38;2;8;8;8``
    keep their 8s; ``1;8;31`` becomes ``1;31``; ``8`` alone is dropped, since ``ESC [ m`` would
    mean "reset" instead.
    """
    params = sequence[2:-1]
    if "8" not in params:
        return sequence
    codes = params.split(";")
    kept: list[str] = []
    i = 0
    while i < len(codes):
        code = int(codes[i]) if codes[i] else 0
        if code in _COLOUR_INTRODUCERS and i + 1 < len(codes) and codes[i + 1] in ("5", "2"):
            take = 3 if codes[i + 1] == "5" else 5
            kept += codes[i : i + take]
            i += take
            continue
        if code != 8:
            kept.append(codes[i])
        i += 1
    if not kept:
        return ""
    return f"\x1b[{';'.join(kept)}m"


def _filter_match(match: re.Match[str]) -> str:
    return filter_sgr(match.group())


def sanitize(text: str) -> str:
    """Remove every control sequence except SGR colour codes (without code 8); keep TAB and LF.

    Two steps, :func:`drop_controls` then :func:`drop_sequences`, both without a Python call per
    removed character, so the cost stays near that of a plain line whatever the text holds.
    Idempotent: what it leaves is plain text, TAB, LF and SGR sequences without code 8.
    """
    return drop_sequences(drop_controls(text))


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


@functools.lru_cache(maxsize=4096)
def _apply(style: _Style, params: str) -> _Style:
    """The style after one SGR sequence.  Cached: a log repeats a handful of colour changes, and
    the cache is bounded, so varied codes from a hostile log only cost the uncached path."""
    fg, bg, bold, dim, italic, underline, strike, reverse = style
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            fg, bg, bold, dim, italic, underline, strike, reverse = _PLAIN
        elif c == 1:
            bold = True
        elif c == 2:
            dim = True
        elif c == 3:
            italic = True
        elif c == 4:
            underline = True
        elif c == 7:
            reverse = True
        elif c == 9:
            strike = True
        elif c == 22:
            bold = dim = False
        elif c == 23:
            italic = False
        elif c == 24:
            underline = False
        elif c == 27:
            reverse = False
        elif c == 29:
            strike = False
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
        elif c in _COLOUR_INTRODUCERS:
            colour, taken = _extended_colour(codes, i)
            if c == 38:
                fg = colour
            elif c == 48:
                bg = colour
            i += taken
            continue
        i += 1
    return _Style(fg, bg, bold, dim, italic, underline, strike, reverse)


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
        pieces = _SGR.split(part)
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


#: An http(s) URL in log text: the scheme, ``://``, then a host character, up to a space, a
#: quote, ``<``, ``>`` or a backquote.  Nothing else ever becomes a link.  The same expression is
#: in app.js (``URL_RE``), for lines that arrive live; the whitespace that only one of Python's
#: and JavaScript's ``\s`` knows is named, so both stop at the same characters.
URL_RE = re.compile(r"[hH][tT][tT][pP][sS]?://[A-Za-z0-9\[][^\s\ufeff\x1c-\x1f\x85<>\"'`]*")
#: Punctuation that ends a sentence rather than a URL, trimmed from a match's end.
_URL_TRAILING = ".,;:!?)]}*"
#: Longer "URLs" stay text (a link's target is meant to be read by a person).
MAX_URL = 2048


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis belongs to the URL (Wikipedia links)
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int]]:
    """Where the http(s) URLs are in plain ``text``, as ``(start, end)``."""
    if "://" not in text:
        return []
    found = []
    for m in URL_RE.finditer(text):
        url = _trim_url(m.group())
        if "://" in url and len(url) <= MAX_URL and not url.endswith("://"):
            found.append((m.start(), m.start() + len(url)))
    return found


def to_spans(text: str) -> list[tuple[str, str]]:
    """Split text into ``(css classes, plain text)`` runs; the text holds no escapes.

    The text is sanitised and its carriage-return redraws resolved (:func:`resolve_redraws`).
    The classes come from a fixed vocabulary (``b d i u s rf rg f0..f255 g0..g255``), never
    from log text.
    """
    text = resolve_redraws(sanitize(text))
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


def to_parts(text: str) -> list[tuple[str, str, str | None]]:
    """:func:`to_spans` with links: ``(classes, text, href)``, where ``href`` is the run's own
    text when the run is (part of) an http(s) URL, else None.  A URL that crosses a colour
    change is cut into one link per run, each to the whole URL."""
    spans = to_spans(text)
    plain = "".join(t for _, t in spans)
    urls = find_urls(plain)
    if not urls:
        return [(c, t, None) for c, t in spans]
    parts: list[tuple[str, str, str | None]] = []
    pos = 0
    for classes, run in spans:
        start, end = pos, pos + len(run)
        pos = end
        cut = start
        for a, b in urls:
            if b <= cut or a >= end:
                continue
            if a > cut:
                parts.append((classes, plain[cut:a], None))
            stop = min(b, end)
            parts.append((classes, plain[max(a, cut) : stop], plain[a:b]))
            cut = stop
        if cut < end:
            parts.append((classes, plain[cut:end], None))
    return parts


def strip_sgr(text: str) -> str:
    """Sanitised text without its colour codes: plain text, for ``grep``."""
    return _SGR.sub("", text) if "\x1b" in text else text
