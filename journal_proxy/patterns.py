"""Operator input for masking and triage, checked at start-up: regular expressions and secrets.

An operator's regular expression runs on every log line, so one that can backtrack
catastrophically is refused before the proxy starts: it must compile, must not match the empty
string, and must not nest unbounded repetition (``(a+)+``, star height above one), the shape
behind catastrophic backtracking.  Used for the masking patterns (``mask.patterns``) and the
problem matchers (``problems.errors`` / ``problems.warnings``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from journal_proxy.errors import ConfigError

# Python 3.11+ keeps the regex parser in private modules; the shape check needs the parse tree.
_sre_constants: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")


def compile_linear(name: str, pattern: str) -> re.Pattern[str]:
    """Compile a pattern, refusing nested unbounded repetition (the shape behind catastrophic
    backtracking).  ``name`` is what an error names (``mask.patterns.token``,
    ``recognizer maven.start``).  The built-in error recognizers use this directly: some of them
    may match an empty continuation line on purpose."""
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        raise ConfigError(f"{name}: invalid regular expression: {exc}") from exc
    if _nested_repeat(parsed):
        raise ConfigError(f"{name}: nested repetition such as (a+)+ can make matching slow")
    return compiled


def compile_pattern(name: str, pattern: str) -> re.Pattern[str]:
    """Compile an operator's pattern, refusing ones that can backtrack catastrophically."""
    compiled = compile_linear(name, pattern)
    if compiled.search("") is not None:
        raise ConfigError(f"{name}: matches the empty string")
    return compiled


def load_literals(path: str) -> list[str]:
    """Exact secrets, one per line; blank lines and surrounding whitespace are ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"mask_secrets_file: cannot read {path}: {exc.strerror}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


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
