"""JSON Lines for programs: one object per entry with exactly the public fields."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..ansi import sanitize
from ..entry import Entry
from ..lifecycle import Status
from ..types import EndReason, Source
from . import iso_time, status_dict

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_object(line: int, entry: Entry) -> dict[str, object]:
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
    return obj


class JsonLinesRenderer:
    content_type = "application/x-ndjson; charset=utf-8"
    headers: Mapping[str, str] = {}
    resumes = False

    def __init__(self) -> None:
        self._source = Source()

    def start(self, status: Status, source: Source) -> bytes:
        self._source = source
        return b""

    def entry(self, line: int, entry: Entry) -> bytes:
        return (_dumps(entry_object(line, entry)) + "\n").encode()

    def status(self, status: Status) -> bytes:
        return (_dumps({"status": status_dict(status)}) + "\n").encode()

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        obj: dict[str, object] = {"status": status_dict(status)}
        if reason is not None:
            obj["end"] = reason
        if self._source.host:
            obj["host"] = self._source.host
        if self._source.unreachable:
            obj["unreachable"] = list(self._source.unreachable)
        return (_dumps(obj) + "\n").encode()

    def keepalive(self) -> bytes:
        return b""
