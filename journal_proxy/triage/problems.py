"""Errors and warnings: which lines are one, and why.

A line is an **error** or a **warning** for one of five reasons, the first that applies:

1. ``command``: it is a workflow command (``::error file=a.py,line=3::message``, ``##[error]``,
   ``::warning ...::``, ``##[warning]``); the annotation carries the message after the marker and
   the properties, so a renderer shows them readably instead of the raw marker;
2. ``systemd``: it is systemd's own failure line about the run (trusted: ``_PID=1``): a process
   that did not exit successfully (``Main process exited, code=exited, status=1/FAILURE``,
   ``Control process exited ...``, killed by a signal), ``Failed with result '...'``, ``Failed
   to start ...``.  systemd logs a successful exit at debug level (priority 7) and a failed one at
   notice or warning, so that is how a success is told from a failure, as systemd itself does;
3. ``matcher``: one of the operator's patterns (GitHub's "problem matchers") matches;
4. ``priority``: its journal ``PRIORITY`` is 0-3 (error) or 4 (warning);
5. ``recognizer``: its text is what a build or deploy tool prints when it fails
   (:mod:`journal_proxy.triage.recognizers`: ``Traceback ...``, ``[ERROR] ...``, ``--- FAIL: ...``,
   ``fatal: ...``); the recognizer's name is in ``matcher``.  systemd writes a service's output at
   info whatever it says, so on a real log this is what finds the error.

Between 3, 4 and 5 the more severe wins (an operator's pattern, then the priority, on a tie).  A
multi-line error (a traceback, a stack trace) is one error: its later lines are annotated with
``part=True`` and are not counted again.  ``grade`` ranks an error as the cause of a failure
(:data:`~journal_proxy.triage.recognizers.CAUSE`, :data:`~journal_proxy.triage.recognizers.ECHO`,
:data:`~journal_proxy.triage.recognizers.END`; see :mod:`journal_proxy.triage.combined`).  Operator patterns are checked at start-up like the masking
patterns (:func:`journal_proxy.patterns.compile_pattern`: no catastrophic backtracking).  Everything
here reads masked text only (renderers call it after masking), so a secret in a ``file=`` property
is shown as ``***`` like anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

from journal_proxy.errors import ConfigError
from journal_proxy.journal.entry import Entry
from journal_proxy.journal.lifecycle import Event, LifecycleEvent
from journal_proxy.patterns import compile_pattern
from journal_proxy.triage.markers import AnnotationCommand
from journal_proxy.triage.recognizers import CAUSE, END, Rule

Level = Literal["error", "warning"]
Reason = Literal["command", "systemd", "matcher", "priority", "recognizer"]

#: Operator patterns look at most this many characters of a message: the work per line is bounded.
MATCH_CHARS = 8192


class Annotation(NamedTuple):
    """Why a line is an error or a warning.

    ``message`` is set for workflow commands only: the text after the marker, which a renderer
    shows instead of the raw line.  ``params`` are the command's properties as written (names and
    values are log text).  ``matcher`` names the operator pattern or the recognizer that matched.
    ``grade``: how likely the line is the cause of a failure (recognizers' grades; everything
    else is a cause, systemd's failure line is where the run failed).  ``part``: a later line of
    a multi-line error (not counted again); ``key``: such a line worth showing in a summary.
    """

    level: Level
    reason: Reason
    message: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    matcher: str = ""
    grade: int = CAUSE
    part: bool = False
    key: bool = False

    def param(self, name: str) -> str:
        """A property's value ("" when absent); the last one wins if written twice."""
        found = ""
        for key, value in self.params:
            if key == name:
                found = value
        return found

    @property
    def location(self) -> str:
        """Where the annotation points, as GitHub shows it: ``src/app.py:12:5`` from ``file``,
        ``line`` and ``col`` (``""`` without ``file``).  Log text: escape it where it goes."""
        where = self.param("file")
        if not where:
            return ""
        for name in ("line", "col"):
            value = self.param(name)
            if not value:
                break
            where += f":{value}"
        return where


PRIORITY_ERROR = Annotation("error", "priority")
PRIORITY_WARNING = Annotation("warning", "priority")
SYSTEMD_FAILURE = Annotation("error", "systemd", grade=END)

_BY_PRIORITY: tuple[Annotation | None, ...] = (
    *(PRIORITY_ERROR,) * 4,
    PRIORITY_WARNING,
    None,
    None,
    None,
)
_SEVERITY = {"error": 2, "warning": 1}


def is_failure(event: LifecycleEvent, priority: int) -> bool:
    """systemd's line says the run (or one of its processes) failed."""
    match event.event:
        case Event.UNIT_FAILURE_RESULT | Event.UNIT_FAILED_JOB:
            return True
        case Event.UNIT_PROCESS_EXIT:
            succeeded = event.exit_code == "exited" and event.exit_status == "0"
            return priority < 7 and not succeeded
        case _:
            return False


@dataclass(frozen=True, slots=True)
class ProblemMatchers:
    """The operator's patterns, compiled and checked: ``(name, level, regex)``, errors first."""

    patterns: tuple[tuple[str, Level, re.Pattern[str]], ...] = ()

    def match(self, message: str) -> Annotation | None:
        text = message[:MATCH_CHARS]
        for name, level, rx in self.patterns:
            if rx.search(text) is not None:
                return Annotation(level, "matcher", matcher=name)
        return None


NO_MATCHERS = ProblemMatchers()


#: Named patterns as plain data (name, regex), for settings: ``(errors, warnings)``.
PatternTable = tuple[tuple[str, str], ...]


def problem_patterns(raw: Mapping[str, object]) -> tuple[PatternTable, PatternTable]:
    """Check the ``[problems]`` settings section and return it as plain data.

    ``errors`` and ``warnings`` are each a table of ``name = "regex"``.  Every regex is compiled
    and checked now (:func:`~journal_proxy.patterns.compile_pattern`), so a bad one stops the
    start; the error names the setting: ``problems.errors.NAME: nested repetition ...``.
    """
    for key in raw:
        if key not in ("errors", "warnings"):
            raise ConfigError(f"problems.{key}: unknown setting")
    tables: list[PatternTable] = []
    for key in ("errors", "warnings"):
        table = raw.get(key, {})
        if not isinstance(table, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise ConfigError(f'problems.{key}: expected a table of name = "regex"')
        named = tuple((str(k), str(v)) for k, v in table.items())
        for name, pattern in named:
            compile_pattern(f"problems.{key}.{name}", pattern)
        tables.append(named)
    return tables[0], tables[1]


def build_matchers(errors: PatternTable = (), warnings: PatternTable = ()) -> ProblemMatchers:
    """The matchers for checked plain data (:func:`problem_patterns`), built where they are used."""
    levels: tuple[tuple[PatternTable, Level, str], ...] = (
        (errors, "error", "errors"),
        (warnings, "warning", "warnings"),
    )
    return ProblemMatchers(
        tuple(
            (name, level, compile_pattern(f"problems.{key}.{name}", pattern))
            for table, level, key in levels
            for name, pattern in table
        )
    )


_RECOGNIZED: dict[tuple[str, bool, bool], Annotation] = {}


def recognized(rule: Rule, part: bool = False, key: bool = False) -> Annotation:
    """The (shared) annotation of a line a recognizer found: one per rule and kind of line."""
    found = _RECOGNIZED.get((rule.name, part, key))
    if found is None:
        found = Annotation(rule.level, "recognizer", None, (), rule.name, rule.grade, part, key)
        _RECOGNIZED[(rule.name, part, key)] = found
    return found


def _worse(found: Annotation | None, other: Annotation | None) -> Annotation | None:
    """The more severe of two annotations; ``found`` on a tie."""
    if other is None:
        return found
    if found is None or _SEVERITY[other.level] > _SEVERITY[found.level]:
        return other
    return found


def annotate(
    entry: Entry,
    command: AnnotationCommand | None = None,
    matchers: ProblemMatchers = NO_MATCHERS,
    recognizer: Annotation | None = None,
) -> Annotation | None:
    """Why ``entry`` is an error or a warning, or None.  ``command`` is the workflow command its
    (masked) message starts with, if it is an annotation command; ``recognizer`` what a
    recognizer found in its text (:class:`journal_proxy.triage.recognizers.Scanner`)."""
    if command is not None:
        return Annotation(command.level, "command", command.message, command.params)
    lifecycle = entry.lifecycle
    if lifecycle is not None and is_failure(lifecycle, entry.priority):
        return SYSTEMD_FAILURE
    priority = entry.priority
    found = _BY_PRIORITY[priority] if 0 <= priority < 8 else None
    if matchers.patterns and lifecycle is None:
        matched = matchers.match(entry.message)
        if matched is not None and (
            found is None or _SEVERITY[matched.level] >= _SEVERITY[found.level]
        ):
            found = matched
    if recognizer is not None and recognizer.part and recognizer.level == "error":
        # A later line of an error that started above: it stays part of that one error.
        return recognizer if found is None or found.level != "error" else found
    return _worse(found, recognizer)
