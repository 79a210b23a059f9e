"""JSON Lines for programs: one object per entry with exactly the public fields.

Each entry is ``{"line", "time", "priority", "identifier", "message"}`` (plus ``"fields"`` when the
operator publishes user fields), and, as optional fields only:

* ``"step"``: the number of the step the line belongs to (1, 2, ... in log order; absent before
  the first command wrote anything).  A step is one command systemd ran (:mod:`journal_proxy.triage.steps`); it is
  told apart by trusted fields that never leave the proxy, so only its number is shown here;
* ``"level"``: ``"error"`` or ``"warning"`` when the line is one (:mod:`journal_proxy.triage.problems`);
* ``"part": true``: a later line of a multi-line error (a traceback's, a stack trace's), which
  has ``"level": "error"`` too but is not counted again;
* ``"annotation"``: a workflow command's properties as an object (``{"file": "a.py", "line":
  "3"}``), only when it has some.  Values are strings as written.

For a finished log the first line is ``{"status": {...}}``, so a program can stop reading there;
the last line is always ``{"status": {...}, "summary": {"errors", "warnings", "failed_step"}}``
(the summary counts the lines sent), with ``"end"`` when a follow stopped early, and ``"cause":
{"line", "last", "message", "recognizer"}`` once the run failed: the error most likely to have
caused it, the one the page's summary shows first (:mod:`journal_proxy.triage.combined`).
"""

from __future__ import annotations

from collections.abc import Mapping

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.items import EndReason, Source
from journal_proxy.journal.lifecycle import Status
from journal_proxy.renderers import compact_json, iso_time, status_dict, summary_dict
from journal_proxy.terminal.ansi import sanitize
from journal_proxy.triage.combined import Cause, LineInfo, Triage
from journal_proxy.triage.problems import NO_MATCHERS, ProblemMatchers


def entry_object(line: int, entry: Entry, info: LineInfo | None = None) -> dict[str, object]:
    """The public view of an entry, shared by JSON Lines and SSE."""
    obj: dict[str, object] = {
        "line": line,
        "time": iso_time(entry.realtime_usec),
        "priority": entry.priority,
        "identifier": sanitize(entry.identifier),
        "message": sanitize(entry.message),
    }
    if entry.extra:
        obj["fields"] = {name: sanitize(value) for name, value in entry.extra}
    if info is not None:
        if info.step:
            obj["step"] = info.step
        annotation = info.annotation
        if annotation is not None:
            obj["level"] = annotation.level
            if annotation.part:
                obj["part"] = True
            if annotation.params:
                obj["annotation"] = {sanitize(k): sanitize(v) for k, v in annotation.params}
    return obj


def cause_dict(cause: Cause) -> dict[str, object]:
    """The cause as JSON: its first and last line, its first line's text, what found it."""
    return {
        "line": cause.first,
        "last": cause.last,
        "message": sanitize(cause.text),
        "recognizer": cause.name,
    }


class JsonLinesRenderer:
    content_type = "application/x-ndjson; charset=utf-8"
    headers: Mapping[str, str] = {}
    resumes = False

    def __init__(self, matchers: ProblemMatchers = NO_MATCHERS) -> None:
        self._source = Source()
        #: Sees every line from line 1 (JSON Lines never resumes), so its steps are exact.
        self.triage = Triage(matchers)

    def start(self, status: Status, source: Source) -> bytes:
        self._source = source
        if status.finished:
            return self.status(status)
        return b""

    def entry(self, line: int, entry: Entry) -> bytes:
        info = self.triage.observe(line, entry)
        return (compact_json(entry_object(line, entry, info)) + "\n").encode()

    def seen(self, line: int, entry: Entry) -> None:
        """Never called: JSON Lines does not resume (``resumes`` is False)."""

    def status(self, status: Status) -> bytes:
        return (compact_json({"status": status_dict(status)}) + "\n").encode()

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        summary = self.triage.summary()
        obj: dict[str, object] = {
            "status": status_dict(status),
            "summary": summary_dict(summary),
        }
        if summary.cause is not None:
            obj["cause"] = cause_dict(summary.cause)
        if reason is not None:
            obj["end"] = reason
        if self._source.host:
            obj["host"] = self._source.host
        if self._source.unreachable:
            obj["unreachable"] = list(self._source.unreachable)
        return (compact_json(obj) + "\n").encode()

    def keepalive(self) -> bytes:
        return b""
