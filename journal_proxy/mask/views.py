"""The views of one field that the masker matches on, and the way back to what is shown.

A field as received (bounded, inert control characters dropped) is *shown* without its escape
sequences but SGR.  Patterns run on two views of it, each mapped back to the received positions
(see :mod:`journal_proxy.mask.masker` for why two):

- the *plain* view: the shown text without colour codes;
- the *other* view: every control character deleted, each CSI reduced to its final byte, other
  escape sequences to their printable bytes.

:func:`map_escapes` builds the shown text's segments and both maps; :func:`render` writes the
shown text with the masked ranges replaced.  Python work per sequence: only for text with at most
``MAX_SEQUENCES`` of them (the masker hides denser fields whole).
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from journal_proxy.terminal.ansi import (
    ESCAPE_SEQUENCE,
    ESCAPES,
    drop_all_controls,
    drop_controls,
    drop_sequences,
    filter_sgr,
    is_sanitized,
    sanitize,
)
from journal_proxy.terminal.styles import resolve_redraws, strip_sgr

MASK = "***"

#: Characters looked at past ``max_chars`` before cutting, so that a secret that begins before the
#: cut is recognised (and masked whole) even though only its start is shown.  Covers every
#: built-in shape (the longest, a JWT, needs up to ~8 Ki characters to be recognised).
LOOKAHEAD = 16 * 1024

#: A field needing its escape sequences mapped one by one (only when it holds a secret and an
#: ESC) with more sequences than this is hidden whole: the map is Python work per sequence.
MAX_SEQUENCES = 1024


_CSI_INTRODUCER = re.compile(r"\x1b\[[0-?]*[ -/]*")
_ALL_SEQUENCES = re.compile(rf"{ESCAPE_SEQUENCE.pattern}|\x07+")
_PARTIAL_ESCAPE_AT_END = re.compile(r"\x1b(?:\[[0-9;]*)?\Z")


class Map:
    """Positions in one view of a field -> positions in the field as received (bounded)."""

    __slots__ = ("raws", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.raws: list[int] = []

    def add(self, start: int, raw: int) -> None:
        self.starts.append(start)
        self.raws.append(raw)

    def span(self, a: int, b: int) -> tuple[int, int]:
        return self._at(a), self._at(b - 1) + 1

    def _at(self, i: int) -> int:
        k = bisect.bisect_right(self.starts, i) - 1
        return self.raws[k] + (i - self.starts[k])


class Segment(NamedTuple):
    """A run of the shown text: plain text copied from ``raw`` onwards, or a kept SGR."""

    shown: int  # where it starts in the shown text
    raw: int  # where it starts in the received text
    length: int
    sgr: str | None


def other_view(text: str) -> str:
    """``text`` with every control character removed, and of each CSI sequence only its final
    byte kept; other escape sequences keep their printable bytes (a bare ESC before ``h`` or
    ``/`` in a token leaves the token whole).

    Sanitising removes an escape sequence with the character that ends it, so a secret right
    after a bare ESC (``g\x1bhp_...``) or an unfinished CSI (``gh\x1b[p_...``) would be shown
    without one character, and no longer have its shape.  In this view it is whole.
    """
    return drop_all_controls(_CSI_INTRODUCER.sub("", text))


def flatten(text: str) -> str:
    """``text`` (after :func:`drop_controls`) without any escape sequence, SGR included."""
    return _ALL_SEQUENCES.sub("", text)


def cut(shown: str, limit: int, more: int) -> str:
    """``shown`` cut to ``limit`` characters, saying how many ``more`` were left out."""
    if more <= 0:
        return shown
    head = shown[:limit]
    if "\x1b" in head[-70:]:
        head = _PARTIAL_ESCAPE_AT_END.sub("", head)
    return f"{head} … [{more} more characters truncated]"


def map_escapes(text: str) -> tuple[list[Segment], Map, Map]:
    """The shown text's segments, and maps from the plain and the other views back to
    ``text``.  Python work per sequence: only for text with at most MAX_SEQUENCES of them."""
    segments: list[Segment] = []
    plain_map = Map()
    dual_map = Map()
    p_starts, p_raws = plain_map.starts, plain_map.raws
    d_starts, d_raws = dual_map.starts, dual_map.raws
    shown_len = plain_len = dual_len = 0
    pos = 0
    for m in ESCAPES.finditer(text):
        a, b = m.span()
        if a > pos:
            n = a - pos
            segments.append(Segment(shown_len, pos, n, None))
            p_starts.append(plain_len)
            p_raws.append(pos)
            d_starts.append(dual_len)
            d_raws.append(pos)
            shown_len += n
            plain_len += n
            dual_len += n
        pos = b
        kept, dual_raw, dual_n = _sequence(m)
        if kept:
            segments.append(Segment(shown_len, a, len(kept), kept))
            shown_len += len(kept)
        if dual_n:
            # Positions inside a removed sequence map roughly into it: none of them is shown.
            d_starts.append(dual_len)
            d_raws.append(dual_raw)
            dual_len += dual_n
    if pos < len(text):
        segments.append(Segment(shown_len, pos, len(text) - pos, None))
        p_starts.append(plain_len)
        p_raws.append(pos)
        d_starts.append(dual_len)
        d_raws.append(pos)
    if not p_starts:
        plain_map.add(0, 0)
    if not d_starts:
        dual_map.add(0, 0)
    return segments, plain_map, dual_map


def _sequence(m: re.Match[str]) -> tuple[str, int, int]:
    """One escape sequence: the SGR it keeps in the shown text (or ``""``), and where and how
    many characters it leaves in the other view (``0`` characters: none)."""
    a, b = m.span()
    body = m.group()
    kind = body[1:2]
    if kind == "[":
        sgr = m.group(1)
        kept = filter_sgr(sgr) if sgr is not None else ""
        # In the other view (see other_view) a CSI is its final byte.
        if b - a > 2 and "@" <= body[-1] <= "~":
            return kept, b - 1, 1
        return kept, 0, 0
    if kind in ("]", "P", "X", "^", "_"):
        printable = b - a - body.count("\x1b") - body.count("\x07")
    elif body[0] == "\x1b":
        printable = b - a - 1  # another ESC sequence: all but the ESC
    else:
        return "", 0, 0  # BEL
    return "", a + 1, printable


def render(
    text: str, segments: list[Segment], ranges: list[tuple[int, int]], limit: int, more: int
) -> str:
    """The shown text up to ``limit`` with every character whose received position is in one of
    ``ranges`` (sorted, disjoint) replaced: one ``***`` per range, colour codes kept."""
    out: list[str] = []
    ri = 0
    masked_range = -1  # the range whose *** was written last
    for seg in segments:
        if seg.shown >= limit:
            break
        if seg.sgr is not None:
            if seg.shown + seg.length <= limit:
                out.append(seg.sgr)
            continue
        r = seg.raw
        end = seg.raw + min(seg.length, limit - seg.shown)
        while r < end:
            while ri < len(ranges) and ranges[ri][1] <= r:
                ri += 1
            if ri < len(ranges) and ranges[ri][0] <= r:
                if masked_range != ri:
                    out.append(MASK)
                    masked_range = ri
                r = min(end, ranges[ri][1])
            else:
                stop = min(end, ranges[ri][0]) if ri < len(ranges) else end
                out.append(text[r:stop])
                r = stop
    if more > 0:
        out.append(f" … [{more} more characters truncated]")
    return "".join(out)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans covering the same characters."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class Field(NamedTuple):
    """One field off the fast path: bounded, sanitised, and where its shown text is cut."""

    text: str  # as received (bounded), inert control characters dropped: positions are in it
    shown: str  # ``text`` without escape sequences but SGR (or, dense, without any)
    plain: str  # the plain view: ``shown`` without colour codes
    limit: int  # characters of ``shown`` that are shown
    more: int  # characters received past the cut
    has_escape: bool  # escape sequences to map one by one


def bounded(raw: str, max_chars: int) -> Field:
    """``raw`` cut to what is looked at, its inert controls dropped, and its views."""
    window = max_chars + LOOKAHEAD
    over = len(raw) > window
    # The text as received (bounded) without inert control characters: every position
    # below is in this text, the shown text is it without escape sequences but SGR.
    text = drop_controls(raw[:window] if over else raw)
    # Dense: too many escape sequences to map one by one.  Then all of them go, colours too,
    # in one substitution, and the text left is both what is shown and what is matched.
    dense = "\x1b" in text and text.count("\x1b") + text.count("\x07") > MAX_SEQUENCES
    shown = flatten(text) if dense else drop_sequences(text)
    if over:
        # Only characters with LOOKAHEAD more received after them are shown.
        head = drop_controls(raw[:max_chars])
        limit = len(flatten(head) if dense else drop_sequences(head))
    else:
        limit = min(max_chars, len(shown))
    more = len(shown) - limit + max(len(raw) - window, 0)
    has_escape = "\x1b" in text and not dense
    plain = strip_sgr(shown) if has_escape else shown
    return Field(text, shown, plain, limit, more, has_escape)


def redrawn(raw: str) -> str:
    """A line that redraws itself with CR (``10%\r50%\r100%``), as a terminal shows it at the
    end: each piece sanitised first, so the columns are those of what is shown, then the redraws
    resolved (``styles.resolve_redraws``); no CR is left.  Masking then runs on exactly what every
    format shows, so no token can be assembled from two states the masker never saw whole, and
    what a redraw covered is shown nowhere (JSON carries the final state too)."""
    return resolve_redraws("\r".join(sanitize(piece) for piece in raw.split("\r")))


#: Whether what is shown is ``raw`` itself (the masker's fast path): no control characters but
#: TAB, LF and SGR sequences without code 8 (``ansi.is_sanitized``).  Most log lines.  The same
#: function rather than one calling it: the masker asks for every line of a log.
colours_at_most = is_sanitized
