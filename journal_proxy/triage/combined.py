"""Triage: what a reader of a failed deploy needs first, found line by line.

One :class:`Triage` follows one invocation's log in order (masked entries, numbered from line 1)
and says for every line where it sits and whether it is an error or a warning
(:class:`LineInfo`), and at any point how the log adds up (:class:`Summary`: counts, the failed
step, the index of steps and groups).  It combines :mod:`journal_proxy.triage.steps` (steps from the
trusted stream, groups from markers), :mod:`journal_proxy.triage.markers` (the markers) and
:mod:`journal_proxy.triage.problems` (errors and warnings).

Renderers hold one each.  It is deterministic: the same lines in the same order give the same
answers, so a step number is the same whether a line is read in a page, in JSON Lines or in a live
follow, as long as the triage has observed every line from line 1 (:meth:`Triage.seen`-style
callers feed it the lines a resuming reader already has; :meth:`Triage.copy` hands the state on).

Cost: an ordinary line costs a set lookup, a string comparison and two attribute stores, and gets
a shared :class:`LineInfo` (nothing is built); ``bench/triage_cost.py`` measures it.

What the page (``renderers/html.py``) emits from it, so ``app.js`` can fold and navigate without
ever seeing a trusted field (all text escaped as any log text; class names from this fixed list):

* before a line with ``step_start``: ``<div class="sh" id="S{step}" data-step="{step}"
  data-first="{line}">{step_name}</div>``, a step header that is not a line (no ``data-n``);
* a group start marker is its own header and stays a line (its number and ``#L`` anchor keep
  working): the line's usual element with the extra classes ``gh`` and ``gx`` (style
  ``expanded``) or ``gq`` (``quiet``), ``data-group="{group}"``, and as content the title
  (:meth:`LineInfo.shown`), never the raw ``::group::``/``---`` text;
* an end or reopen marker: the line's element with class ``gm`` and ``data-group="{group}"``
  (0 for a stray end), and no content;
* an error or warning: the extra class ``e`` or ``w`` (the ``p0``-``p7`` class stays); for a
  workflow command (``annotation.message`` set) the content is ``<span class="al">{location}</span>``
  (when :attr:`Annotation.location` is not empty), ``<span class="at">{title param}</span>`` (when
  there is one), then the message, never the raw ``::error ...::`` text;
* after the last line, outside the line blocks, the index from :meth:`Triage.summary`:
  ``<nav id="triage" aria-label="Steps and problems" data-errors data-warnings data-failed-step
  data-error-lines="9 10 12" data-warning-lines="...">`` holding ``<ol class="steps">`` with one
  ``<li data-step data-first data-last data-start data-end data-errors data-warnings>name</li>``
  per step and ``<ol class="groups">`` with one ``<li data-group data-step data-first data-last
  data-start data-end data-style data-expanded data-errors data-warnings>title</li>`` per group
  (times ISO 8601 like ``data-t``; a span lasts from its first line to the first line after it).
  Folded by default: every step and group except one holding an error, the last step of a failed
  run, an expanded (``+++``) or reopened (``^^^ +++``) group, and the one a ``#L`` link points
  into.  Live lines arrive over SSE with the same facts (``step_name``, ``group``, ``marker``,
  ``level``, ``annotation``; see ``renderers/sse.py``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import NamedTuple

from journal_proxy.journal.entry import Entry
from journal_proxy.triage.markers import (
    FIRST_CHARACTERS,
    AnnotationCommand,
    GroupCommand,
    parse_command,
)
from journal_proxy.triage.problems import NO_MATCHERS, Annotation, Level, ProblemMatchers, annotate
from journal_proxy.triage.steps import GroupSpan, StepInfo, StepSpan, StepTracker

#: The summary lists the line numbers of at most this many errors and of as many warnings.
MAX_LISTED = 100


class LineInfo(NamedTuple):
    """Where one line sits and what it is; read by renderers, never the trusted fields behind it.

    ``step``: 0 before the first command wrote anything, then 1, 2, ...; ``step_name``: the step's
    first line's identifier (log text); ``step_start``: the first line of its step (a header goes
    before it); ``group``: 0 or the number of the group the line is in; ``marker``: the group
    marker this line is (its raw text is not shown: see :meth:`shown`); ``annotation``: why the
    line is an error or a warning, or None.
    """

    step: int
    step_name: str
    step_start: bool
    group: int
    marker: GroupCommand | None
    annotation: Annotation | None

    @property
    def level(self) -> Level | None:
        return None if self.annotation is None else self.annotation.level

    def shown(self, message: str) -> str:
        """The text a viewer shows for the line: a group's title for its start marker, nothing
        for an end or reopen marker, an annotation command's message without its marker, else
        the message itself.  Log text: still to be escaped for where it goes."""
        if self.marker is not None:
            return self.marker.title
        annotation = self.annotation
        if annotation is not None and annotation.message is not None:
            return annotation.message
        return message


@dataclass(frozen=True, slots=True)
class Summary:
    """How the log adds up so far.  ``failed_step``: the step of systemd's first failure line
    (the command that failed), None when there is none or it came before any step."""

    errors: int
    warnings: int
    error_lines: tuple[int, ...]
    warning_lines: tuple[int, ...]
    failed_step: int | None
    failed_step_name: str
    steps: tuple[StepSpan, ...]
    groups: tuple[GroupSpan, ...]

    def describe(self) -> str:
        """``2 errors, 1 warning; failed step 2: deploy.sh``.  The step name is log text: the
        caller escapes it for its format."""
        e, w = self.errors, self.warnings
        words = f"{e} error{'' if e == 1 else 's'}"
        if w:
            words += f", {w} warning{'' if w == 1 else 's'}"
        if self.failed_step is not None:
            words += f"; failed step {self.failed_step}: {self.failed_step_name}"
        return words


class Triage:
    """Follows one log in order; see the module docstring."""

    __slots__ = (
        "_error_lines",
        "_failed",
        "_matchers",
        "_plain",
        "_plain_step",
        "_steps",
        "_warning_lines",
        "errors",
        "warnings",
    )

    def __init__(self, matchers: ProblemMatchers = NO_MATCHERS) -> None:
        self._matchers = matchers
        self._steps = StepTracker()
        self._plain_step: StepInfo | None = None
        self._plain = LineInfo(0, "", False, 0, None, None)
        self._error_lines: list[int] = []
        self._warning_lines: list[int] = []
        self._failed: tuple[int, str] | None = None
        self.errors = 0
        self.warnings = 0

    def copy(self) -> Triage:
        """The state at this line, to carry on from elsewhere (a live viewer joining a hub)."""
        return copy.deepcopy(self)

    def observe(self, line: int, entry: Entry) -> LineInfo:
        """Where ``line`` (a masked entry, the next one in order) sits, and what it is."""
        message = entry.message
        command = None
        if message and message[0] in FIRST_CHARACTERS and entry.lifecycle is None:
            command = parse_command(message)
        step = self._steps.observe(
            line, entry, command if isinstance(command, GroupCommand) else None
        )
        if (
            command is None
            and entry.priority > 4
            and entry.lifecycle is None
            and not self._matchers.patterns
        ):
            annotation = None  # the common case, without a call
        else:
            annotation = annotate(
                entry,
                command if isinstance(command, AnnotationCommand) else None,
                self._matchers,
            )
        if annotation is None:
            if step is self._plain_step:
                return self._plain
            info = LineInfo(*step, None)
            if not step.start and step.marker is None:
                self._plain_step, self._plain = step, info
            return info
        self._count(line, step, annotation)
        return LineInfo(*step, annotation)

    def _count(self, line: int, step: StepInfo, annotation: Annotation) -> None:
        spans = (self._steps.current_step, self._steps.current_group)
        if annotation.level == "error":
            self.errors += 1
            if len(self._error_lines) < MAX_LISTED:
                self._error_lines.append(line)
            for span in spans:
                if span is not None:
                    span.errors += 1
            if annotation.reason == "systemd" and self._failed is None:
                self._failed = (step.step, step.name)
        else:
            self.warnings += 1
            if len(self._warning_lines) < MAX_LISTED:
                self._warning_lines.append(line)
            for span in spans:
                if span is not None:
                    span.warnings += 1

    def summary(self) -> Summary:
        steps, groups = self._steps.spans()
        failed = self._failed if self._failed is not None and self._failed[0] else None
        return Summary(
            errors=self.errors,
            warnings=self.warnings,
            error_lines=tuple(self._error_lines),
            warning_lines=tuple(self._warning_lines),
            failed_step=failed[0] if failed else None,
            failed_step_name=failed[1] if failed else "",
            steps=tuple(steps),
            groups=tuple(groups),
        )
