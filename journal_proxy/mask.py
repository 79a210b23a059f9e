"""Secret masking: the last step before rendering, applied to every format alike.

Deploy scripts print secrets by accident.  Built-in patterns catch the common token shapes; the
operator adds regular expressions and exact secrets (one per line in a file).  A match becomes
``***``.  Masking is a safety net, not a guarantee: a secret in an unknown shape is shown.

What is masked is exactly what is shown.  A field is first bounded, then sanitised
(:func:`journal_proxy.ansi.sanitize`, the same function the renderers apply), then masked, then
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

Operator patterns are checked at start-up: they must compile and must not nest unbounded
repetition (``(a+)+``), the shape behind catastrophic backtracking.

Private keys printed one line per journal entry (``cat key.pem`` in a deploy script) are masked
by a :class:`MaskSession`, which carries state from one entry to the next: see its docstring.
"""

from __future__ import annotations

import bisect
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .ansi import (
    ESCAPE_SEQUENCE,
    ESCAPES,
    drop_all_controls,
    drop_controls,
    drop_sequences,
    filter_sgr,
)
from .entry import Entry
from .errors import ConfigError

MASK = "***"

# The fast path: text whose only control characters are TAB, LF and complete SGR sequences.
_CONTROL_BUT_ESC = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")
_ESC_NOT_SGR = re.compile(r"\x1b(?!\[[0-9;]{0,64}m)")
_SGR_ONLY = re.compile(r"\x1b\[[0-9;]{0,64}m")

#: Characters looked at past ``max_chars`` before cutting, so that a secret that begins before the
#: cut is recognised (and masked whole) even though only its start is shown.  Covers every
#: built-in shape (the longest, a JWT, needs up to ~8 Ki characters to be recognised).
LOOKAHEAD = 16 * 1024

#: A field needing its escape sequences mapped one by one (only when it holds a secret and an
#: ESC) with more sequences than this is hidden whole: the map is Python work per sequence.
MAX_SEQUENCES = 1024

#: A field with more matches than this is hidden whole: each match is Python work, and a line
#: with hundreds of secrets in it is an attack on the masker, not a deploy's accident.
MAX_SPANS = 256

HIDDEN = f"{MASK} [hidden: too many possible secrets or control sequences to mask in time]"

# Python 3.11+ keeps the regex parser in private modules; the shape check needs the parse tree.
_sre_constants: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

# Pieces of the built-in patterns.  Each shape also matches URL-encoded (``%3D``, ``%20``, ``+``
# for a space, ``%2F``), since secrets end up in logged URLs and form bodies.
_SP = r"(?:[ \t]|%20|\+)"  # a space
_QUOTE = r"(?:[\"'`]|%2[27]|\\[\"'])?"  # an optional quote, also URL-encoded or escaped
_SEP = r"(?:=>|[:=]|%3[AaDd])"  # name/value separator
_VALUE = r"(?P<s>[^\s\"'`,;&<>\\]{1,4096}+)"  # a header or setting's value, up to a delimiter
_DASH = r"(?:-|%2[Dd])"
_HEADER_TAIL = rf"PRIVATE{_SP}KEY(?:{_SP}BLOCK)?(?:{_DASH}|[ ]){{0,8}}"
_KEY_VALUE = rf"{_QUOTE}{_SP}{{0,8}}{_SEP}{_SP}{{0,8}}{_QUOTE}"


class Builtin(NamedTuple):
    """A built-in shape.  ``needles``: strings of which every match contains at least one
    (lowercased first when ``lower``), the cheap pre-filter; ``tests/test_mask_property.py``
    checks against generated matches that the pre-filter can never disagree with the pattern.
    When a pattern has a group named ``s``, only that group is masked."""

    name: str
    pattern: str
    needles: tuple[str, ...]
    lower: bool = False


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "github-token", r"gh[pousr]_[A-Za-z0-9]{20,255}+", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    ),
    Builtin("github-pat", r"github_pat_[A-Za-z0-9_]{20,255}+", ("github_pat_",)),
    Builtin("aws-access-key", r"(?:AKIA|ASIA)[A-Z0-9]{16}", ("AKIA", "ASIA")),
    Builtin(
        "aws-secret-key",
        rf"(?i:secret[_-]?access[_-]?key){_KEY_VALUE}{_VALUE}",
        ("secret",),
        lower=True,
    ),
    Builtin(
        "slack-token",
        r"x(?:ox[abposre]|app|oxe\.xox[abposr])-[A-Za-z0-9-]{10,255}+",
        ("xox", "xapp"),
    ),
    Builtin(
        "slack-webhook",
        r"hooks\.slack\.com(?:/|%2[Ff])(?:services|workflows|triggers)(?:/|%2[Ff])"
        r"(?P<s>[A-Za-z0-9_%/-]{8,512}+)",
        ("hooks.slack.com",),
    ),
    # One start per run of base64url characters (the look-behind): ``-eyJ-eyJ...`` would
    # otherwise start a 4096-character scan at every ``eyJ``.  ``%3DeyJ`` (URL-encoded) starts too.
    Builtin(
        "jwt",
        r"eyJ(?:(?<![A-Za-z0-9_-]eyJ)|(?<=%[0-9A-Fa-f]{2}eyJ))"
        r"[A-Za-z0-9_-]{4,4096}+\.[A-Za-z0-9_-]{4,4096}+\.[A-Za-z0-9_-]{0,4096}+",
        ("eyJ",),
    ),
    Builtin(
        "authorization-header",
        rf"(?i:authorization){_KEY_VALUE}(?:(?i:bearer|basic|token|digest){_SP}{{1,8}})?{_VALUE}",
        ("authorization",),
        lower=True,
    ),
    Builtin("url-password", r"://[^\s:/@]{0,256}+:(?P<s>[^\s@/]{1,256}+)@", ("://",)),
    Builtin(
        "url-password-encoded",
        r"%3[Aa]%2[Ff]%2[Ff](?:[^\s:/@%]|%(?!3[Aa]|40|2[Ff])[0-9A-Fa-f]{2}){0,256}+%3[Aa]"
        r"(?P<s>(?:[^\s@/%]|%(?!40|2[Ff])[0-9A-Fa-f]{2}){1,256}+)%40",
        ("%3a%2f%2f",),
        lower=True,
    ),
    # The header only (which stays readable): what is masked is from its end to the END line,
    # or to the end of the text, and then the key goes on in the next entries (MaskSession).
    Builtin("private-key", rf"BEGIN[A-Z0-9 +%]{{0,40}}?{_HEADER_TAIL}", ("BEGIN",)),
)
_PRIVATE_KEY = "private-key"

_KEY_HEADER_TAIL = re.compile(_HEADER_TAIL, re.ASCII)
_KEY_HEADER_MIDDLE = re.compile(r"[A-Z0-9 +%]{0,40}", re.ASCII)
# A PEM or PGP END line, also URL-encoded (``-----END``, SSH2's ``---- END``).
# Found from the literal END (a fast search even in a line of dashes), checked backwards.
_KEY_END = re.compile(
    r"END(?:(?<=----END)|(?<=---- END)|(?<=%2[Dd]END)|(?<=%2[Dd]%20END))", re.ASCII
)
# Key material in the entries after a BEGIN line (see MaskSession).
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]+", re.ASCII)  # base64, and PGP's =XXXX checksum
_KEY_HEADER = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}:(?:[ \t].*)?", re.ASCII)  # Proc-Type: ...
_IN_HEADERS, _IN_BODY = 1, 2

_PARTIAL_ESCAPE_AT_END = re.compile(r"\x1b(?:\[[0-9;]*)?\Z")


def _nested_repeat(parsed: Iterable[tuple[Any, Any]], inside_repeat: bool = False) -> bool:
    """True if an unbounded repeat contains another repeat (star height above one)."""
    for op, av in parsed:
        if op in (
            _sre_constants.MAX_REPEAT,
            _sre_constants.MIN_REPEAT,
            getattr(_sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            _lo, hi, body = av
            unbounded = hi is _sre_constants.MAXREPEAT or hi > 64
            if inside_repeat and unbounded:
                return True
            if _nested_repeat(body, inside_repeat or unbounded):
                return True
            if inside_repeat and _has_repeat(body):
                return True
        elif op is _sre_constants.SUBPATTERN:
            if _nested_repeat(av[-1], inside_repeat):
                return True
        elif op is _sre_constants.BRANCH:
            if any(_nested_repeat(b, inside_repeat) for b in av[1]):
                return True
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT) and _nested_repeat(
            av[1],
            inside_repeat,
        ):
            return True
    return False


def _has_repeat(parsed: Iterable[tuple[Any, Any]]) -> bool:
    for op, av in parsed:
        if op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT):
            return True
        if op is _sre_constants.SUBPATTERN and _has_repeat(av[-1]):
            return True
        if op is _sre_constants.BRANCH and any(_has_repeat(b) for b in av[1]):
            return True
    return False


def compile_pattern(name: str, pattern: str) -> re.Pattern[str]:
    """Compile an operator's pattern, refusing ones that can backtrack catastrophically."""
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        raise ConfigError(f"mask pattern {name!r}: invalid regular expression: {exc}") from exc
    if _nested_repeat(parsed):
        raise ConfigError(
            f"mask pattern {name!r}: nested repetition such as (a+)+ can make matching slow"
        )
    if compiled.search("") is not None:
        raise ConfigError(f"mask pattern {name!r}: matches the empty string")
    return compiled


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans covering the same characters."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class _Compiled(NamedTuple):
    rx: re.Pattern[str]
    needles: tuple[str, ...]
    lower: bool
    is_key: bool


def could_hold_builtin(text: str) -> bool:
    """The first look, for all built-ins at once: False only if no needle of any built-in is in
    ``text`` (tests check it against every needle).  Most log lines hold none, and a chain of
    substring tests is several times cheaper than a loop over the needles or one regex."""
    if (
        "gh" in text
        or "github_pat_" in text
        or "AKIA" in text
        or "ASIA" in text
        or "xox" in text
        or "xapp" in text
        or "hooks.slack.com" in text
        or "eyJ" in text
        or "://" in text
        or "BEGIN" in text
    ):
        return True
    lowered = text.lower()
    return "secret" in lowered or "authorization" in lowered or "%3a%2f%2f" in lowered


def might_match(builtin: Builtin, text: str) -> bool:
    """The pre-filter for one built-in: False only if the pattern cannot match ``text``."""
    haystack = text.lower() if builtin.lower else text
    return any(n in haystack for n in builtin.needles)


class _Map:
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


class _Segment(NamedTuple):
    """A run of the shown text: plain text copied from ``raw`` onwards, or a kept SGR."""

    shown: int  # where it starts in the shown text
    raw: int  # where it starts in the received text
    length: int
    sgr: str | None


@dataclass(frozen=True, slots=True)
class Masker:
    """Masks secrets and truncates very long messages."""

    builtin: tuple[re.Pattern[str], ...]
    custom: tuple[re.Pattern[str], ...]
    literals: tuple[str, ...]
    max_chars: int
    _compiled: tuple[_Compiled, ...] = ()

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
            _Compiled(re.compile(b.pattern, re.ASCII), b.needles, b.lower, b.name == _PRIVATE_KEY)
            for b in BUILTINS
        )
        return cls(
            builtin=tuple(c.rx for c in compiled) if builtin else (),
            custom=tuple(compile_pattern(n, p) for n, p in patterns),
            literals=tuple(sorted({s for s in literals if s}, key=len, reverse=True)),
            max_chars=max_chars,
            _compiled=compiled if builtin else (),
        )

    def session(self) -> MaskSession:
        """A masker for one invocation's log, read in order (history, or a live hub)."""
        return MaskSession(self)

    def apply(self, entry: Entry) -> Entry:
        """One entry masked on its own: no private key state carried from earlier entries."""
        return MaskSession(self).apply(entry)

    def mask_text(self, text: str) -> str:
        """One text bounded, sanitised and masked, on its own (no state)."""
        return self._mask(text, 0)[0]

    # -- matching -------------------------------------------------------------------------------

    def _spans(self, text: str) -> tuple[list[tuple[int, int]], bool]:
        """Spans to mask in ``text``, and whether a private key is still open at its end."""
        spans: list[tuple[int, int]] = []
        key_open = False
        lowered: str | None = None
        for c in self._compiled if could_hold_builtin(text) else ():
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
                key_open = _key_spans(text, spans)
            else:
                _add_spans(c.rx, text, spans)
        for rx in self.custom:
            _add_spans(rx, text, spans)
        for secret in self.literals:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                if len(spans) > MAX_SPANS:
                    raise _TooMany
                start = text.find(secret, start + len(secret))
        return spans, key_open

    # -- one field ------------------------------------------------------------------------------

    def _mask(self, raw: str, key: int) -> tuple[str, int]:
        """``raw`` bounded, sanitised and masked; and the private-key state after it.

        ``key`` is the state before (0: no key open).  The text shown is
        ``sanitize(raw)`` cut to ``max_chars`` characters, with masked ranges replaced by
        ``***`` (keeping the colour codes inside them, so colours stay balanced).
        """
        if (
            not key
            and len(raw) <= self.max_chars
            and _CONTROL_BUT_ESC.search(raw) is None
            and ("\x1b" not in raw or _ESC_NOT_SGR.search(raw) is None)
        ):
            # The common case, most lines of a log: nothing to remove but colour codes, so what is
            # shown is ``raw`` itself and matching runs on it without the colours; with nothing
            # to mask, none of the mapping below is needed.
            plain = _SGR_ONLY.sub("", raw) if "\x1b" in raw else raw
            try:
                spans, key_open = self._spans(plain)
            except _TooMany:
                return HIDDEN, key
            if not spans and not key_open:
                return raw, 0
        window = self.max_chars + LOOKAHEAD
        cut = len(raw) > window
        # The text as received (bounded) without inert control characters: every position
        # below is in this text, the shown text is it without escape sequences but SGR.
        text = drop_controls(raw[:window] if cut else raw)
        # Dense: too many escape sequences to map one by one.  Then all of them go, colours too,
        # in one substitution, and the text left is both what is shown and what is matched.
        dense = "\x1b" in text and text.count("\x1b") + text.count("\x07") > MAX_SEQUENCES
        shown = _flatten(text) if dense else drop_sequences(text)
        if cut:
            # Only characters with LOOKAHEAD more received after them are shown.
            head = drop_controls(raw[: self.max_chars])
            limit = len(_flatten(head) if dense else drop_sequences(head))
        else:
            limit = min(self.max_chars, len(shown))
        more = len(shown) - limit + max(len(raw) - window, 0)
        has_escape = "\x1b" in text and not dense
        plain = _strip_sgr(shown) if has_escape and "\x1b" in shown else shown
        try:
            spans, key_open = self._spans(plain)
        except _TooMany:
            return HIDDEN, key
        key_end = 0
        if key:
            key_end, key = _continue_key(plain, key)
        if key_open:
            key = _IN_HEADERS
        dual_spans: list[tuple[int, int]] = []
        if has_escape:
            dual = _other_view(text)
            if dual != plain:
                try:
                    dual_spans = self._spans(dual)[0]
                except _TooMany:
                    return HIDDEN, key
        if key_end:
            spans.append((0, key_end))
        if not spans and not dual_spans:
            return _cut(shown, limit, more), key
        if not has_escape:
            # Sanitising only removed control characters (or, dense, every sequence): the
            # matched text is the shown text.
            segments = [_Segment(0, 0, len(shown), None)]
            return _render(shown, segments, _merge(spans), limit, more), key
        segments, plain_map, dual_map = _map_escapes(text)
        ranges = [plain_map.span(a, b) for a, b in spans]
        ranges += [dual_map.span(a, b) for a, b in dual_spans]
        return _render(text, segments, _merge(ranges), limit, more), key


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
        identifier = self._identifier(entry.identifier)
        extra = entry.extra
        if extra:
            extra = tuple((name, masker._mask(value, 0)[0]) for name, value in extra)
        if message == entry.message and identifier is entry.identifier and extra == entry.extra:
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


def _other_view(text: str) -> str:
    """``text`` with every control character removed, and of each CSI sequence only its final
    byte kept; other escape sequences keep their printable bytes (a bare ESC before ``h`` or
    ``/`` in a token leaves the token whole).

    Sanitising removes an escape sequence with the character that ends it, so a secret right
    after a bare ESC (``g\x1bhp_...``) or an unfinished CSI (``gh\x1b[p_...``) would be shown
    without one character, and no longer have its shape.  In this view it is whole.
    """
    return drop_all_controls(_CSI_INTRODUCER.sub("", text))


_CSI_INTRODUCER = re.compile(r"\x1b\[[0-?]*[ -/]*")


class _TooMany(Exception):
    """More than MAX_SPANS matches (or private-key candidates) in one field."""


def _add_spans(rx: re.Pattern[str], text: str, spans: list[tuple[int, int]]) -> None:
    """Append the spans to mask that ``rx`` finds (group ``s`` if it has one)."""
    group = "s" if "s" in rx.groupindex else 0
    for m in rx.finditer(text):
        a, b = m.span(group)
        if b > a:
            spans.append((a, b))
            if len(spans) > MAX_SPANS:
                raise _TooMany


def _key_spans(text: str, spans: list[tuple[int, int]]) -> bool:
    """Append each private key's body (from its header to its END line, or to the end of
    ``text``); True if the last key has no END line (it goes on in the next entries).

    Same headers as the ``private-key`` pattern, found from their ``PRIVATE KEY`` (a literal
    search, fast) rather than from ``BEGIN`` (a line of ``BEGIN BEGIN ...`` would try the
    40-character middle at every one).  The search for the next header starts after the
    previous key's END, so a line of headers without END lines is one scan, not one per header.
    """
    pos = 0
    candidates = 0
    while True:
        m = _KEY_HEADER_TAIL.search(text, pos)
        if m is None:
            return False
        candidates += 1
        if candidates > MAX_SPANS:
            raise _TooMany
        start = m.start()
        begin = text.rfind("BEGIN", max(0, start - 45), start)
        if begin == -1 or _KEY_HEADER_MIDDLE.fullmatch(text, begin + 5, start) is None:
            pos = m.end()
            continue
        end = _KEY_END.search(text, m.end())
        stop = len(text) if end is None else _before_dashes(text, end.start(), m.end())
        if stop > m.end():
            spans.append((m.end(), stop))
            if len(spans) > MAX_SPANS:
                raise _TooMany
        if end is None:
            return True
        pos = end.end()


def _before_dashes(text: str, i: int, lo: int) -> int:
    """Where the dashes (``-----``, ``%2D%2D...``, ``---- ``) before an END at ``i`` start."""
    for _ in range(8):
        if i - 1 >= lo and text[i - 1] in "- ":
            i -= 1
        elif i - 3 >= lo and text[i - 3 : i] in ("%2D", "%2d", "%20"):
            i -= 3
        else:
            break
    return i


def _flatten(text: str) -> str:
    """``text`` (after :func:`drop_controls`) without any escape sequence, SGR included."""
    return _ALL_SEQUENCES.sub("", text)


_ALL_SEQUENCES = re.compile(rf"{ESCAPE_SEQUENCE.pattern}|\x07+")


def _strip_sgr(shown: str) -> str:
    return _SGR_ONLY.sub("", shown)


_SGR_ONLY = re.compile(r"\x1b\[[0-9;]{0,64}m")


def _cut(shown: str, limit: int, more: int) -> str:
    if more <= 0:
        return shown
    head = shown[:limit]
    if "\x1b" in head[-70:]:
        head = _PARTIAL_ESCAPE_AT_END.sub("", head)
    return f"{head} … [{more} more characters truncated]"


def _continue_key(plain: str, state: int) -> tuple[int, int]:
    """How much of ``plain`` (from its start) is key material, and the state after it."""
    pos = 0
    for line in plain.split("\n"):
        end = _KEY_END.search(line)
        if end is not None:
            return pos + _before_dashes(line, end.start(), 0), 0
        bare = line.strip()
        if not bare:
            pass
        elif _KEY_BODY.fullmatch(bare):
            state = _IN_BODY
        elif state == _IN_HEADERS and (_KEY_HEADER.fullmatch(bare) or line[0] in " \t"):
            pass
        else:
            return max(pos - 1, 0), 0  # the line break before a shown line stays shown
        pos += len(line) + 1
    return len(plain), state


def _map_escapes(text: str) -> tuple[list[_Segment], _Map, _Map]:
    """The shown text's segments, and maps from the plain and the other views back to
    ``text``.  Python work per sequence: only for text with at most MAX_SEQUENCES of them."""
    segments: list[_Segment] = []
    plain_map = _Map()
    dual_map = _Map()
    p_starts, p_raws = plain_map.starts, plain_map.raws
    d_starts, d_raws = dual_map.starts, dual_map.raws
    shown_len = plain_len = dual_len = 0
    pos = 0
    for m in ESCAPES.finditer(text):
        a, b = m.span()
        if a > pos:
            n = a - pos
            segments.append(_Segment(shown_len, pos, n, None))
            p_starts.append(plain_len)
            p_raws.append(pos)
            d_starts.append(dual_len)
            d_raws.append(pos)
            shown_len += n
            plain_len += n
            dual_len += n
        pos = b
        body = m.group()
        kind = body[1:2]
        if kind == "[":
            sgr = m.group(1)
            if sgr is not None:
                kept = filter_sgr(sgr)
                if kept:
                    segments.append(_Segment(shown_len, a, len(kept), kept))
                    shown_len += len(kept)
            # In the other view (see _other_view) a CSI is its final byte.
            if b - a > 2 and "@" <= body[-1] <= "~":
                d_starts.append(dual_len)
                d_raws.append(b - 1)
                dual_len += 1
            continue
        if kind in ("]", "P", "X", "^", "_"):
            printable = b - a - body.count("\x1b") - body.count("\x07")
        elif body[0] == "\x1b":
            printable = b - a - 1  # another ESC sequence: all but the ESC
        else:
            continue  # BEL
        if printable:
            # Positions inside a removed sequence map roughly into it: none of them is shown.
            d_starts.append(dual_len)
            d_raws.append(a + 1)
            dual_len += printable
    if pos < len(text):
        segments.append(_Segment(shown_len, pos, len(text) - pos, None))
        p_starts.append(plain_len)
        p_raws.append(pos)
        d_starts.append(dual_len)
        d_raws.append(pos)
    if not p_starts:
        plain_map.add(0, 0)
    if not d_starts:
        dual_map.add(0, 0)
    return segments, plain_map, dual_map


def _render(
    text: str, segments: list[_Segment], ranges: list[tuple[int, int]], limit: int, more: int
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


def load_literals(path: str) -> list[str]:
    """Exact secrets, one per line; blank lines and surrounding whitespace are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"mask_secrets_file: cannot read {path}: {exc.strerror}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]
