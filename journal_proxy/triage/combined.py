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

Cost: an ordinary line costs a set lookup, a few string comparisons, the recognizers' dispatch on
its first character (:mod:`journal_proxy.triage.recognizers`) and two attribute stores, and gets a shared
:class:`LineInfo` (nothing is built); ``bench/triage_cost.py`` measures it.

**The cause.**  A failure has a *failure point*: systemd's first failure line for the run, or a
runner's own "the job failed here" line (``Process completed with exit code 1``, Jenkins' ``marked
build as failure``), whichever comes first.  At that point the errors seen so far are ranked
(:func:`rank`): the cause is the last error before it graded a cause (a compiler error, an
exception, ``fatal: ...``), else the last one that only echoes a failure (``make: *** Error 1``),
else the runner's line itself.  systemd's lines are never the cause (the page says the run failed
already).  :attr:`Summary.cause` and :attr:`Summary.shown` are what every format names: the page's
"why it failed" box (the cause's own lines first, then the other errors just before it, at most
:data:`MAX_SHOWN` lines), the text output's last line and the JSON Lines last object.

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
* a later line of a multi-line error (a stack trace's ``at ...``): the extra class ``ec``;
* an error or warning: the extra class ``e`` or ``w`` (the ``p0``-``p7`` class stays); for a
  workflow command (``annotation.message`` set) the content is ``<span class="al">{location}</span>``
  (when :attr:`Annotation.location` is not empty), ``<span class="at">{title param}</span>`` (when
  there is one), then the message, never the raw ``::error ...::`` text;
* after the last line, outside the line blocks, the index from :meth:`Triage.summary`:
  ``<nav id="triage" aria-label="Steps and problems" data-errors data-warnings data-failed-step
  data-error-lines="9 10 12" data-warning-lines="..." data-cause="10" data-cause-last="14"
  data-shown="10 11 12 9">`` (the cause's first and last line and the summary's lines,
  :attr:`Summary.shown`), holding ``<ol class="steps">`` with one
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
from journal_proxy.triage.problems import (
    NO_MATCHERS,
    Annotation,
    Level,
    ProblemMatchers,
    annotate,
    recognized,
)
from journal_proxy.triage.recognizers import CAUSE, ECHO, END, Scanner
from journal_proxy.triage.steps import GroupSpan, StepInfo, StepSpan, StepTracker

#: The summary lists the line numbers of at most this many errors and of as many warnings.
MAX_LISTED = 100
#: The errors ranked at the failure point are the last this many before it.
KEEP_BLOCKS = 64
#: The "why it failed" summary shows at most this many lines: the cause's, then others'.
MAX_SHOWN = 10
#: Of the cause's own lines, at most this many from its start (then its key lines).
CAUSE_HEAD = 5
#: A cause's text is kept this long for the text and JSON summaries (log text, masked).
CAUSE_TEXT = 300


class ErrorBlock:
    """One error and its lines (``first`` to ``last``), as ranking sees it.  ``keys``: later
    lines worth showing (``Caused by:``); ``text``: the first line's message, bounded."""

    __slots__ = ("first", "grade", "keys", "last", "name", "runner", "text")

    def __init__(self, line: int, annotation: Annotation, text: str) -> None:
        self.first = self.last = line
        self.grade = annotation.grade
        self.name = annotation.matcher or annotation.reason
        self.text = text[:CAUSE_TEXT]
        self.keys: list[int] = []
        self.runner = annotation.reason != "systemd"

    def key(self, line: int, message: str) -> None:
        """A later line worth showing (``Caused by:``, a traceback's exception): it makes the error
        a cause, and the last one joins the first line's text, which alone says little
        (``Traceback (most recent call last):``)."""
        self.keys = [*self.keys[-1:], line]
        self.grade = max(self.grade, CAUSE)
        head = self.text.split(" … ", 1)[0]
        self.text = f"{head} … {message}"[:CAUSE_TEXT]

    def shown(self) -> list[int]:
        """The lines of this error a summary shows: its first few, then its key lines."""
        lines = list(range(self.first, min(self.last, self.first + CAUSE_HEAD - 1) + 1))
        lines += [k for k in self.keys if k not in lines]
        return lines


def rank(blocks: list[ErrorBlock]) -> tuple[ErrorBlock | None, list[ErrorBlock]]:
    """The cause among the errors before a failure point, and the other causes before it
    (closest first): the last error graded a cause, else the last echo, else a runner's line."""
    for grade in (CAUSE, ECHO, END):
        for i in range(len(blocks) - 1, -1, -1):
            block = blocks[i]
            if block.grade == grade and block.runner:
                others = [b for b in reversed(blocks[:i]) if b.grade == CAUSE]
                return block, others
    return None, []


class Cause(NamedTuple):
    """The most likely cause of a failure: its lines, its first line's text (masked log text,
    still to be escaped), and the recognizer (or reason) that found it."""

    first: int
    last: int
    text: str
    name: str


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
    #: The most likely cause, once a failure point was seen; None before (or without errors).
    cause: Cause | None = None
    #: The lines the "why it failed" summary shows, the cause's first (at most MAX_SHOWN).
    shown: tuple[int, ...] = ()

    def describe_cause(self) -> str:
        """``cause: line 12: ERROR: ...`` (log text: the caller escapes it), or ""."""
        if self.cause is None:
            return ""
        return f"cause: line {self.cause.first}: {self.cause.text}"

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
        "_blocks",
        "_error_lines",
        "_failed",
        "_matchers",
        "_open",
        "_plain",
        "_plain_step",
        "_ranked",
        "_scanner",
        "_steps",
        "_warning_lines",
        "errors",
        "warnings",
    )

    def __init__(self, matchers: ProblemMatchers = NO_MATCHERS) -> None:
        self._matchers = matchers
        self._scanner = Scanner()
        #: The last errors (bounded), ranked at the failure point; the one still taking lines.
        self._blocks: list[ErrorBlock] = []
        self._open: ErrorBlock | None = None
        self._ranked: tuple[ErrorBlock | None, list[ErrorBlock]] | None = None
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
        """Where ``line`` (a masked entry, the next one in order) sits, and what it is.

        The recognizers read every output line, so their scan is called here directly: a
        method in between cost a call per line (about 0.1 us of a first read's 15 per line)."""
        message = entry.message
        command = None
        lifecycle = entry.lifecycle
        if message and message[0] in FIRST_CHARACTERS and lifecycle is None:
            command = parse_command(message)
        step = self._steps.observe(
            line, entry, command if isinstance(command, GroupCommand) else None
        )
        found = None
        if lifecycle is None:  # systemd's lines are not output: the recognizers never see them
            if command is not None or step.start:
                self._scanner.close()  # a marker or another command's first line ends an error
            if command is None:
                scanned = self._scanner.scan(message)
                if scanned is not None:
                    found = recognized(*scanned)
        if (
            found is None
            and command is None
            and entry.priority > 4
            and lifecycle is None
            and not self._matchers.patterns
        ):
            annotation = None  # the common case, without a call
        else:
            annotation = annotate(
                entry,
                command if isinstance(command, AnnotationCommand) else None,
                self._matchers,
                found,
            )
        if annotation is None or annotation.level != "error":
            self._open = None
        if annotation is None:
            if step is self._plain_step:
                return self._plain
            info = LineInfo(*step, None)
            if not step.start and step.marker is None:
                self._plain_step, self._plain = step, info
            return info
        return self._annotated(line, step, annotation, message)

    def _annotated(
        self, line: int, step: StepInfo, annotation: Annotation, message: str
    ) -> LineInfo:
        """An error's or a warning's line: a later line of the open error, or one counted."""
        if annotation.part and annotation.level == "error" and self._open is not None:
            self._open.last = line
            if annotation.key:
                self._open.key(line, message)
            return LineInfo(*step, annotation)
        self._count(line, step, annotation, message)
        return LineInfo(*step, annotation)

    def _track(self, line: int, annotation: Annotation, message: str) -> None:
        """Keep the error for ranking; rank at the first failure point."""
        if annotation.grade == END and self._ranked is None:
            self._ranked = rank(self._blocks)
        if annotation.reason == "systemd":
            self._open = None
            return
        block = ErrorBlock(line, annotation, message)
        self._open = block
        if self._ranked is None:
            self._blocks.append(block)
            if len(self._blocks) > KEEP_BLOCKS:
                del self._blocks[0]

    def _count(self, line: int, step: StepInfo, annotation: Annotation, message: str) -> None:
        is_error = annotation.level == "error"
        if is_error:
            self._track(line, annotation, message)
            self.errors += 1
            if annotation.reason == "systemd" and self._failed is None:
                self._failed = (step.step, step.name)
        else:
            self.warnings += 1
        listed = self._error_lines if is_error else self._warning_lines
        if len(listed) < MAX_LISTED:
            listed.append(line)
        for span in (self._steps.current_step, self._steps.current_group):
            if span is None:
                continue
            if is_error:
                span.errors += 1
            else:
                span.warnings += 1

    def _cause(self) -> tuple[Cause | None, tuple[int, ...]]:
        """The ranked cause and the lines the summary shows (nothing before a failure point)."""
        block, others = self._ranked or (None, [])
        if block is None:
            return None, ()
        shown = block.shown()
        room = max(0, MAX_SHOWN - len(shown))
        shown += sorted(other.first for other in others[:room])  # the closest, in log order
        cause = Cause(block.first, block.last, block.text, block.name)
        return cause, tuple(shown[:MAX_SHOWN])

    def summary(self) -> Summary:
        steps, groups = self._steps.spans()
        failed = self._failed if self._failed is not None and self._failed[0] else None
        cause, shown = self._cause()
        return Summary(
            errors=self.errors,
            warnings=self.warnings,
            error_lines=tuple(self._error_lines),
            warning_lines=tuple(self._warning_lines),
            failed_step=failed[0] if failed else None,
            failed_step_name=failed[1] if failed else "",
            steps=tuple(steps),
            groups=tuple(groups),
            cause=cause,
            shown=shown,
        )
