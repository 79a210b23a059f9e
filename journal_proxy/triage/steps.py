"""Steps and groups: the structure of one invocation's log, found as the lines go by.

**Steps** need no markup.  systemd starts every command of a unit (``ExecStartPre=``,
``ExecStart=``, ``ExecStartPost=``, ``ExecStopPost=``, ...) with its own stdout stream to journald,
so the lines of one command share the trusted ``_STREAM_ID`` (kept, inside the process only, as
``Entry.stream``).  A line from another stream than the line before starts a new step, named by
that line's identifier (``SYSLOG_IDENTIFIER``: ``prepare.sh``, ``deploy.sh``).  Lines without a
stream (systemd's own lines, a ``logger`` call) stay in the current step, so systemd's "Control
process exited ..." line lands in the step whose command it ended.  Lines before the first stream
line (systemd's "Starting ...") are step 0, which has no header.  Steps do not nest and are
contiguous: a stream that comes back after another one (two commands writing at once, as a
``Type=simple`` service with ``ExecStartPost=`` can) starts a new step with the same name.

**Groups** are the markers people already print (:mod:`journal_proxy.triage.markers`): a group starts at
its marker line and lasts until the next group marker, an end marker, or the end of the step.
Groups do not nest (neither GitHub Actions nor Buildkite nests them).

The tracker is stateful over one log read in order from line 1, and deterministic: the same lines
in the same order give the same numbers, however the reading is split (the history read, then a
live hub; a page, then its SSE follow).  A reader that resumes from line N must have the tracker
observe lines 1..N first (or take a :meth:`StepTracker.copy` made at line N).  Stream IDs and PIDs
are used here only to compare; nothing here writes them anywhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import NamedTuple

from journal_proxy.journal.entry import Entry
from journal_proxy.triage.markers import GroupCommand, GroupStyle

#: At most this many steps and groups are kept in the index a renderer may write at the end; later
#: ones are still numbered, so a log with a marker on every line cannot make the index huge.
MAX_SPANS = 1000


class StepInfo(NamedTuple):
    """Where one line sits.  Consecutive ordinary lines share one object (nothing is built)."""

    step: int  #: 0 before the first command's first line, then 1, 2, ... in log order
    name: str  #: the step's name: its first line's identifier (log text; "" for step 0)
    start: bool  #: this line is the step's first line: a step header goes before it
    group: int  #: 0 outside groups, else the group's number (1, 2, ... over the whole log)
    marker: GroupCommand | None  #: this line is a group marker (start, end or reopen)


@dataclass(slots=True)
class StepSpan:
    """One step, for the index: its lines, its times, what it holds."""

    number: int
    name: str
    first_line: int
    first_usec: int
    last_line: int = 0  #: filled when the step ends (or read from the tracker while open)
    end_usec: int = 0  #: the time of the first line after it (its last line's, at the end)
    errors: int = 0
    warnings: int = 0


@dataclass(slots=True)
class GroupSpan:
    """One group, for the index.  ``expanded``: shown open by default (``+++`` or ``^^^ +++``)."""

    number: int
    step: int
    title: str
    style: GroupStyle
    first_line: int
    first_usec: int
    last_line: int = 0
    end_usec: int = 0
    expanded: bool = False
    errors: int = 0
    warnings: int = 0


_NOWHERE = StepInfo(0, "", False, 0, None)


class StepTracker:
    """Follows one log in order; :meth:`observe` says where each line sits."""

    __slots__ = (
        "_group",
        "_group_span",
        "_last_line",
        "_last_usec",
        "_plain",
        "_step_span",
        "_stream",
        "group_count",
        "groups",
        "step_count",
        "steps",
    )

    def __init__(self) -> None:
        self._stream = ""
        self._plain = _NOWHERE  #: what an ordinary line in the current place gets
        self._group = 0
        self._step_span: StepSpan | None = None
        self._group_span: GroupSpan | None = None
        self._last_line = 0
        self._last_usec = 0
        self.step_count = 0
        self.group_count = 0
        #: The index: every step and group so far (at most :data:`MAX_SPANS` of each).
        self.steps: list[StepSpan] = []
        self.groups: list[GroupSpan] = []

    def copy(self) -> StepTracker:
        """The state at this line, to carry on from elsewhere (a live viewer joining a hub)."""
        return copy.deepcopy(self)

    @property
    def current_step(self) -> StepSpan | None:
        return self._step_span

    @property
    def current_group(self) -> GroupSpan | None:
        return self._group_span

    def observe(self, line: int, entry: Entry, command: GroupCommand | None = None) -> StepInfo:
        """Where ``line`` sits; ``command`` is the group marker the line holds, if any
        (:func:`~journal_proxy.triage.markers.parse_command` of its masked message)."""
        stream = entry.stream
        start = False
        if stream and stream is not self._stream and stream != self._stream:
            self._new_step(line, entry, stream)
            start = True
        if command is not None:
            info = self._marker(line, entry, command, start)
        elif start:
            info = self._plain._replace(start=True)
        else:
            info = self._plain
        self._last_line = line
        self._last_usec = entry.realtime_usec
        return info

    def _new_step(self, line: int, entry: Entry, stream: str) -> None:
        when = entry.realtime_usec
        self._close_group(line - 1, when)
        if self._step_span is not None:
            self._step_span.last_line, self._step_span.end_usec = line - 1, when
        self._stream = stream
        self.step_count += 1
        self._plain = StepInfo(self.step_count, entry.identifier, False, 0, None)
        span = StepSpan(self.step_count, entry.identifier, line, when)
        self._step_span = span
        if len(self.steps) < MAX_SPANS:
            self.steps.append(span)

    def _close_group(self, last_line: int, end_usec: int) -> None:
        if self._group_span is not None:
            self._group_span.last_line, self._group_span.end_usec = last_line, end_usec
        self._group_span = None
        self._group = 0
        if self._plain.group:
            self._plain = self._plain._replace(group=0)

    def _marker(self, line: int, entry: Entry, command: GroupCommand, start: bool) -> StepInfo:
        plain = self._plain
        when = entry.realtime_usec
        if command.kind == "start":
            self._close_group(line - 1, when)
            self.group_count += 1
            self._group = self.group_count
            span = GroupSpan(
                self._group,
                plain.step,
                command.title,
                command.style,
                line,
                when,
                expanded=command.style == "expanded",
            )
            self._group_span = span
            if len(self.groups) < MAX_SPANS:
                self.groups.append(span)
            self._plain = plain._replace(group=self._group)
            return StepInfo(plain.step, plain.name, start, self._group, command)
        group = self._group
        if command.kind == "end":
            self._close_group(line, when)  # the end marker is the group's last line
        elif self._group_span is not None:  # reopen: expand the group the output is in
            self._group_span.expanded = True
        return StepInfo(plain.step, plain.name, start, group, command)

    def spans(self) -> tuple[list[StepSpan], list[GroupSpan]]:
        """The index so far; the open step and group are closed at the last line seen (copies,
        so the tracker can go on)."""
        steps = [copy.copy(s) for s in self.steps]
        groups = [copy.copy(g) for g in self.groups]
        spans: list[StepSpan | GroupSpan] = [*steps, *groups]
        for span in spans:
            if span.last_line == 0:
                span.last_line, span.end_usec = self._last_line, self._last_usec
        return steps, groups
