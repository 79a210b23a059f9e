"""Server-Sent Events: ``id:`` is the entry's line position, so ``Last-Event-ID`` resumes exactly.

Data is one line of JSON (which escapes CR and LF), so log text can never break the framing.

An entry's data is the JSON Lines object (:func:`.jsonl.entry_object`: ``step``, ``level``,
``annotation`` included) plus what the live page needs to draw the line as the page would have:

* ``spans``: the text to show, as ``[classes, text]`` pairs: the message, or for a group marker
  its title (empty for an end or reopen marker), for an annotation command its message without
  the marker;
* ``system``: true for systemd's own lines;
* ``step_name``: on the first line of a step only (a step header goes before it);
* ``group``: the group number, for a line inside a group;
* ``marker``: ``{"kind": "start"|"end"|"reopen", "title", "style": "collapsed"|"expanded"|"quiet"}``
  on a group marker line.

The ``end`` event carries the status and the triage summary of the lines this stream sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.items import EndReason, Source
from journal_proxy.journal.lifecycle import Status
from journal_proxy.renderers import compact_json, status_dict, summary_dict
from journal_proxy.renderers.jsonl import entry_object
from journal_proxy.terminal.ansi import sanitize, to_spans
from journal_proxy.triage.combined import Triage
from journal_proxy.triage.problems import NO_MATCHERS, ProblemMatchers


class SseRenderer:
    content_type = "text/event-stream; charset=utf-8"
    #: nginx must pass every event on at once, not buffer the stream.
    headers: Mapping[str, str] = {"X-Accel-Buffering": "no"}
    resumes = True

    def __init__(self, matchers: ProblemMatchers = NO_MATCHERS) -> None:
        #: Step numbers are right only if this has seen every line from line 1: a resumed stream
        #: must pass the lines the reader already has to :meth:`seen` (or set ``triage`` to a
        #: copy made at the resume line).
        self.triage = Triage(matchers)

    def start(self, status: Status, source: Source) -> bytes:
        # A comment line opens the stream at once, and retry tells EventSource how soon to return.
        return b": journal-proxy\nretry: 2000\n\n" + self.status(status)

    def seen(self, line: int, entry: Entry) -> None:
        """A line the reader already has (before ``Last-Event-ID``): not sent, but counted, so
        the steps and groups of the lines that follow are numbered as everywhere else."""
        self.triage.observe(line, entry)

    def entry(self, line: int, entry: Entry) -> bytes:
        info = self.triage.observe(line, entry)
        obj = entry_object(line, entry, info)
        obj["spans"] = to_spans(info.shown(entry.message))
        if entry.lifecycle is not None:
            obj["system"] = True
        if info.step_start:
            obj["step_name"] = sanitize(info.step_name)
        if info.group:
            obj["group"] = info.group
        marker = info.marker
        if marker is not None:
            obj["marker"] = {
                "kind": marker.kind,
                "title": sanitize(marker.title),
                "style": marker.style,
            }
        return f"id: {line}\ndata: {compact_json(obj)}\n\n".encode()

    def status(self, status: Status) -> bytes:
        return f"event: status\ndata: {compact_json(status_dict(status))}\n\n".encode()

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        data = {
            "reason": reason or "finished",
            "status": status_dict(status),
            "summary": summary_dict(self.triage.summary()),
        }
        return f"event: end\ndata: {compact_json(data)}\n\n".encode()

    def keepalive(self) -> bytes:
        return b": keep-alive\n\n"
