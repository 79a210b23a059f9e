"""Server-Sent Events: ``id:`` is the entry's line position, so ``Last-Event-ID`` resumes exactly.

Data is one line of JSON (which escapes CR and LF), so log text can never break the framing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..ansi import to_spans
from ..entry import Entry
from ..lifecycle import Status
from ..types import EndReason, Source
from . import status_dict
from .jsonl import entry_object

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class SseRenderer:
    content_type = "text/event-stream; charset=utf-8"
    #: nginx must pass every event on at once, not buffer the stream.
    headers: Mapping[str, str] = {"X-Accel-Buffering": "no"}
    resumes = True

    def start(self, status: Status, source: Source) -> bytes:
        # A comment line opens the stream at once, and retry tells EventSource how soon to return.
        return b": journal-proxy\nretry: 2000\n\n" + self.status(status)

    def entry(self, line: int, entry: Entry) -> bytes:
        obj = entry_object(line, entry)
        obj["spans"] = to_spans(entry.message)
        if entry.lifecycle is not None:
            obj["system"] = True
        return f"id: {line}\ndata: {_dumps(obj)}\n\n".encode()

    def status(self, status: Status) -> bytes:
        return f"event: status\ndata: {_dumps(status_dict(status))}\n\n".encode()

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        data = {"reason": reason or "finished", "status": status_dict(status)}
        return f"event: end\ndata: {_dumps(data)}\n\n".encode()

    def keepalive(self) -> bytes:
        return b": keep-alive\n\n"
