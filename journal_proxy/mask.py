"""Secret masking: the last step before rendering, applied to every format alike.

Deploy scripts print secrets by accident.  Built-in patterns catch the common token shapes; the
operator adds regular expressions and exact secrets (one per line in a file).  A match becomes
``***``.  Matching runs on the text *without* ANSI escapes, so a colour code in the middle of a
token does not hide it, and the escapes inside a masked range are kept so colours stay balanced.

Operator patterns are checked at start-up: they must compile and must not nest unbounded
repetition (``(a+)+``), the shape behind catastrophic backtracking.  Messages are also truncated
to a bounded length, so no pattern ever runs on unbounded input.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ansi import ESCAPE_SEQUENCE
from .entry import Entry
from .errors import ConfigError

MASK = "***"

# Python 3.11+ keeps the regex parser in private modules; the shape check needs the parse tree.
_sre_constants: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")

#: (name, pattern).  When a pattern has a group named ``s``, only that group is masked.
BUILTIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{20,255}"),
    ("github-pat", r"\bgithub_pat_[A-Za-z0-9_]{20,255}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,255}"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{0,4096}"),
    (
        "authorization-header",
        r"(?i:authorization)[\"']?\s{0,8}[:=]\s{0,8}[\"']?(?:(?i:bearer|basic|token|digest)\s{1,8})?(?P<s>[^\s\"',;]{1,4096})",
    ),
    ("url-password", r"\b[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:/@]{0,256}:(?P<s>[^\s@/]{1,256})@"),
    (
        "private-key",
        r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z ]{0,40}PRIVATE KEY-----|[\s\S]*)",
    ),
)


def _might_hold_builtin(text: str) -> bool:
    """A cheap first look: a message without any of these cannot match a built-in pattern.

    Substring tests are several times faster than one regex alternation, and most log lines have
    none; spelled out rather than ``any()`` over a tuple, since a generator costs more than them.
    """
    return (
        "gh" in text
        or "AKIA" in text
        or "ASIA" in text
        or "xox" in text
        or "eyJ" in text
        or "://" in text
        or "PRIVATE KEY" in text
        or "thoriz" in text.lower()
    )


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


@dataclass(frozen=True, slots=True)
class Masker:
    """Masks secrets and truncates very long messages."""

    builtin: tuple[re.Pattern[str], ...]
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
        return cls(
            builtin=tuple(re.compile(p) for _, p in BUILTIN_PATTERNS) if builtin else (),
            custom=tuple(compile_pattern(n, p) for n, p in patterns),
            literals=tuple(sorted({s for s in literals if s}, key=len, reverse=True)),
            max_chars=max_chars,
        )

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        regexes = self.custom
        if self.builtin and _might_hold_builtin(text):
            regexes = regexes + self.builtin
        elif not regexes and not self.literals:
            return spans  # the common case: nothing could match
        for rx in regexes:
            for m in rx.finditer(text):
                if "s" in rx.groupindex and m.group("s") is not None:
                    spans.append(m.span("s"))
                elif m.end() > m.start():
                    spans.append(m.span())
        for secret in self.literals:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + len(secret))
        return _merge(spans)

    def mask_text(self, text: str) -> str:
        if "\x1b" not in text:
            spans = self._spans(text)
            if spans:
                out: list[str] = []
                i = 0
                for s, e in spans:
                    out += (text[i:s], MASK)
                    i = e
                out.append(text[i:])
                text = "".join(out)
        else:
            text = self._mask_around_escapes(text)
        if len(text) > self.max_chars:
            cut = len(text) - self.max_chars
            text = f"{text[: self.max_chars]} … [{cut} more characters truncated]"
        return text

    def _mask_around_escapes(self, text: str) -> str:
        if not self._spans(ESCAPE_SEQUENCE.sub("", text)) and not self._spans(text):
            return text  # the common case: coloured text without secrets
        # Plain text without escapes, and for each plain character its index in ``text``.
        plain_parts: list[str] = []
        index: list[int] = []
        escapes: list[tuple[int, int]] = []
        pos = 0
        for m in ESCAPE_SEQUENCE.finditer(text):
            plain_parts.append(text[pos : m.start()])
            index.extend(range(pos, m.start()))
            escapes.append(m.span())
            pos = m.end()
        plain_parts.append(text[pos:])
        index.extend(range(pos, len(text)))
        # Match on the text without escapes (a colour code inside a token) and on the raw text
        # (an escape whose final byte is the token's first, such as ESC c), then mask both.
        found = [(index[s], index[e - 1] + 1) for s, e in self._spans("".join(plain_parts))]
        spans = _merge(found + self._spans(text))
        if not spans:
            return text
        out: list[str] = []
        i = 0
        for start, end in spans:
            out += (text[i:start], MASK)
            out += [text[a:b] for a, b in escapes if start <= a and b <= end]
            i = end
        out.append(text[i:])
        return "".join(out)

    def apply(self, entry: Entry) -> Entry:
        """The entry with its message (and any operator-allowed fields) masked and bounded."""
        masked = self.mask_text(entry.message)
        extra = entry.extra
        if extra:
            extra = tuple((name, self.mask_text(value)) for name, value in extra)
        if masked is entry.message and extra == entry.extra:
            return entry
        return entry._replace(message=masked, extra=extra)


def load_literals(path: str) -> list[str]:
    """Exact secrets, one per line; blank lines and surrounding whitespace are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"mask_secrets_file: cannot read {path}: {exc.strerror}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]
