"""Secret masking: the last step before rendering, applied to every format alike.

Deploy scripts print secrets by accident.  Built-in patterns catch the common token shapes; the
operator adds regular expressions and exact secrets (one per line in a file).  A match becomes
``***``.  Masking is a safety net, not a guarantee: a secret in an unknown shape is shown.

What is masked is exactly what is shown.  A field is first bounded, then sanitised
(:func:`journal_proxy.terminal.ansi.sanitize`, the same function the renderers apply), then masked, then
cut to ``max_chars``; the renderers' own sanitising is then a no-op.  Patterns run on two views
of the text, each mapped back to the shown characters:

- the *plain* view (the shown text without colour codes), so ``ghp_abc\x1b[31mdef``, an OSC or
  a cursor movement, or a NUL, BEL, CR, DEL, U+0085 or U+009B in the middle of a token (all
  removed by sanitising) does not split it;
- the *other* view (every control character deleted, each CSI reduced to its final byte, other
  escape sequences to their printable bytes), because sanitising removes a sequence with the
  character that ends it: a bare ESC before a token's letter (``g\x1bhp_...`` shows as
  ``gp_...``) or an unfinished CSI (``gh\x1b[p_...``) would take a letter of its shape.  In this
  view the token is whole, and every shown character that came from it is masked.

Bounded work per field, whatever it holds (``bench/mask_worst.py``: about 10 ms for the worst
line found, 0.5-3 ms for ordinary 64 Ki lines):

- at most ``max_chars + LOOKAHEAD`` characters are looked at (a 4 MiB line costs what an 80 Ki
  one does); the look-ahead past the cut lets a secret that straddles the cut be recognised and
  masked whole rather than shown in part;
- every built-in pattern is linear: each starts at a literal (``ghp_``, ``eyJ``, ``://``,
  ``PRIVATE KEY``...), where starts could overlap only one per run of token characters is tried
  (JWT), and repeats are bounded, possessive and never nested;
- Python work per match or per escape sequence is capped: a field with more than MAX_SPANS
  matches is hidden whole; one with more than MAX_SEQUENCES escape sequences is shown without
  any of them (colours too), matched and shown as that one text (only the other view is lost).

Operator patterns are checked at start-up (:mod:`journal_proxy.patterns`): they must compile
and must not nest unbounded repetition (``(a+)+``), the shape behind catastrophic backtracking.

Private keys printed one line per journal entry (``cat key.pem`` in a deploy script) are masked
by a :class:`MaskSession`, which carries state from one entry to the next: see its docstring.

Here: the masker and its bounds.  The built-in shapes and the first look are in
:mod:`journal_proxy.mask.shapes`, a private key's body in :mod:`journal_proxy.mask.keys`, the
views and the maps back to the shown text in :mod:`journal_proxy.mask.views`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from journal_proxy.journal.entry import Entry
from journal_proxy.mask.keys import IN_HEADERS, continue_key, key_spans
from journal_proxy.mask.shapes import (
    BUILTINS,
    MAX_SPANS,
    PRIVATE_KEY,
    TooManySpans,
    add_spans,
    could_hold_builtin,
)
from journal_proxy.mask.views import (
    LOOKAHEAD,
    MASK,
    MAX_SEQUENCES,
    Field,
    Segment,
    bounded,
    colours_at_most,
    cut,
    map_escapes,
    merge_spans,
    other_view,
    redrawn,
    render,
)
from journal_proxy.patterns import compile_pattern
from journal_proxy.terminal.ansi import sanitize
from journal_proxy.terminal.styles import strip_sgr

__all__ = ["HIDDEN", "LOOKAHEAD", "MASK", "MAX_SEQUENCES", "MAX_SPANS", "MaskSession", "Masker"]


HIDDEN = f"{MASK} [hidden: too many possible secrets or control sequences to mask in time]"


class _Compiled(NamedTuple):
    rx: re.Pattern[str]
    needles: tuple[str, ...]
    lower: bool
    is_key: bool


@dataclass(frozen=True, slots=True)
class Masker:
    """Masks secrets and truncates very long messages."""

    #: The built-in shapes in use (none when the operator turned them off), with the substrings
    #: that let most lines skip each one.
    builtin: tuple[_Compiled, ...]
    custom: tuple[re.Pattern[str], ...]
    literals: tuple[str, ...]
    max_chars: int

    @classmethod
    def build(
        cls,
        *,
        builtin: bool = True,
        patterns: Sequence[tuple[str, str]] = (),
        literals: Sequence[str] = (),
        max_chars: int = 64 * 1024,
    ) -> Masker:
        compiled = tuple(
            _Compiled(re.compile(b.pattern, re.ASCII), b.needles, b.lower, b.name == PRIVATE_KEY)
            for b in BUILTINS
        )
        return cls(
            builtin=compiled if builtin else (),
            custom=tuple(compile_pattern(f"mask.patterns.{n}", p) for n, p in patterns),
            literals=tuple(sorted({s for s in literals if s}, key=len, reverse=True)),
            max_chars=max_chars,
        )

    def session(self) -> MaskSession:
        """A masker for one invocation's log, read in order (history, or a live hub)."""
        return MaskSession(self)

    # -- matching -------------------------------------------------------------------------------

    def _spans(self, text: str) -> tuple[list[tuple[int, int]], bool]:
        """Spans to mask in ``text``, and whether a private key is still open at its end."""
        spans: list[tuple[int, int]] = []
        key_open = False
        lowered: str | None = None
        for c in self.builtin if could_hold_builtin(text) else ():
            if c.lower:
                if lowered is None:
                    lowered = text.lower()
                haystack = lowered
            else:
                haystack = text
            for needle in c.needles:
                if needle in haystack:
                    break
            else:
                continue
            if c.is_key:
                key_open = key_spans(text, spans)
            else:
                add_spans(c.rx, text, spans)
        for rx in self.custom:
            add_spans(rx, text, spans)
        for secret in self.literals:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                if len(spans) > MAX_SPANS:
                    raise TooManySpans
                start = text.find(secret, start + len(secret))
        return spans, key_open

    # -- one field ------------------------------------------------------------------------------

    def _mask(self, raw: str, key: int) -> tuple[str, int]:
        """``raw`` bounded, sanitised and masked; and the private-key state after it.

        ``key`` is the state before (0: no key open).  The text shown is
        ``sanitize(raw)`` cut to ``max_chars`` characters, with masked ranges replaced by
        ``***`` (keeping the colour codes inside them, so colours stay balanced).
        """
        if "\r" in raw:
            raw = raw[: self.max_chars + LOOKAHEAD]
            glued = raw.replace("\r", "")
            # Many redraws (a progress bar's thousands) are shown glued too: resolving them one
            # by one would cost a Python call each.
            if key or raw.count("\r") > MAX_SEQUENCES or self._holds_secret(glued):
                # A secret (or a private key) among the redrawn states: show them glued, as
                # before redraws were resolved, so every state is masked where it is shown.
                return self._mask(glued, key)
            raw = redrawn(raw)  # the final state, masked below like any line
        if not key and len(raw) <= self.max_chars and colours_at_most(raw):
            # The common case, most lines of a log: nothing to remove but colour codes, so what is
            # shown is ``raw`` itself and matching runs on it without the colours; with nothing
            # to mask, none of the mapping below is needed.
            plain = strip_sgr(raw) if "\x1b" in raw else raw  # most lines: no call
            try:
                spans, key_open = self._spans(plain)
            except TooManySpans:
                return HIDDEN, key
            if not spans and not key_open:
                return raw, 0
        return self._mask_field(bounded(raw, self.max_chars), key)

    def _holds_secret(self, text: str) -> bool:
        """Whether either view the masker matches on (sanitised, or with every control character
        deleted) holds something to mask."""
        try:
            for view in (strip_sgr(sanitize(text)), other_view(text)):
                spans, key_open = self._spans(view)
                if spans or key_open:
                    return True
        except TooManySpans:
            return True
        return False

    def _mask_field(self, f: Field, key: int) -> tuple[str, int]:
        """:meth:`_mask` for a field that holds something to mask, or more than colour codes."""
        try:
            spans, key_open = self._spans(f.plain)
        except TooManySpans:
            return HIDDEN, key
        key_end = 0
        if key:
            key_end, key = continue_key(f.plain, key)
        if key_open:
            key = IN_HEADERS
        dual_spans: list[tuple[int, int]] = []
        if f.has_escape:
            dual = other_view(f.text)
            if dual != f.plain:
                try:
                    dual_spans = self._spans(dual)[0]
                except TooManySpans:
                    return HIDDEN, key
        if key_end:
            spans.append((0, key_end))
        if not spans and not dual_spans:
            return cut(f.shown, f.limit, f.more), key
        if not f.has_escape:
            # Sanitising only removed control characters (or, dense, every sequence): the
            # matched text is the shown text.
            segments = [Segment(0, 0, len(f.shown), None)]
            return render(f.shown, segments, merge_spans(spans), f.limit, f.more), key
        segments, plain_map, dual_map = map_escapes(f.text)
        ranges = [plain_map.span(a, b) for a, b in spans]
        ranges += [dual_map.span(a, b) for a, b in dual_spans]
        return render(f.text, segments, merge_spans(ranges), f.limit, f.more), key


class MaskSession:
    """Masks the entries of one invocation's log, in order, carrying private-key state.

    The rule for keys spread over entries: after an entry with a ``BEGIN ... PRIVATE KEY``
    (or ``PGP PRIVATE KEY BLOCK``, or ``SECRET KEY``) header and no END line after it, the
    following lines are key material, and masked, while each is (after trimming spaces) empty,
    base64 (``[A-Za-z0-9+/=]+``, which includes PGP's ``=XXXX`` checksum), or, before the first
    base64 line, an armor header (``Name: value``, such as ``Proc-Type:``, ``DEK-Info:``,
    ``Version:``, ``Comment:``, or its indented continuation).  The line holding the END marker
    ends the state: what comes before the marker on that line is masked, the marker and the rest
    are shown.  Any other line (a log line with words and spaces) is clearly not key material:
    it ends the state and is shown (masked as usual).  The state covers the lines of a
    multi-line message too, and the message field only.
    """

    __slots__ = ("_identifiers", "_key", "_masker")

    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._key = 0
        # A log has a handful of identifiers, repeated on every line.
        self._identifiers: dict[str, str] = {}

    def apply(self, entry: Entry) -> Entry:
        """The entry with its message, identifier and extra fields sanitised, masked, bounded."""
        masker = self._masker
        message, self._key = masker._mask(entry.message, self._key)
        # A log has a handful of identifiers: most lines find theirs without a call.
        identifier = self._identifiers.get(entry.identifier) or self._identifier(entry.identifier)
        extra = entry.extra
        if extra:
            extra = tuple((name, masker._mask(value, 0)[0]) for name, value in extra)
        if message == entry.message and identifier == entry.identifier and extra == entry.extra:
            return entry
        return entry._replace(message=message, identifier=identifier, extra=extra)

    def _identifier(self, raw: str) -> str:
        """Masked, and on one line: an identifier is a label in front of a line in every
        format, and a line break in it would start a forged line in the text output."""
        known = self._identifiers.get(raw)
        if known is not None:
            return known
        one_line = raw
        if "\n" in raw or "\u2028" in raw or "\u2029" in raw:
            one_line = raw.replace("\n", " ").replace("\u2028", " ").replace("\u2029", " ")
        masked = self._masker._mask(one_line, 0)[0]
        if masked == raw:
            masked = raw
        if len(raw) <= 256 and len(self._identifiers) < 64:
            self._identifiers[raw] = masked
        return masked
