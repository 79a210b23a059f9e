"""Incremental parser for the Journal Export Format that gatewayd sends.

Format (https://systemd.io/JOURNAL_EXPORT_FORMATS/): an entry is a run of fields ended by an empty
line.  A field is either ``NAME=value\\n`` or, for values that are binary or contain a newline,
``NAME\\n`` followed by a little-endian 64-bit length, the value, and ``\\n``.

The parser is fed whatever chunks the network delivers and never holds more than one entry plus one
chunk, so memory does not grow with the log.  It is written with ``bytes.find`` and slicing because
gatewayd, not Python, should set the pace (see ``bench/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UpstreamProtocolError

_LENGTH_BYTES = 8


@dataclass(slots=True)
class RawEntry:
    """One entry as gatewayd sent it.  Nothing in here is public until ``verify`` says so."""

    fields: dict[str, bytes] = field(default_factory=dict)
    #: Names that appeared more than once with different values.  The journal allows it, but a
    #: field we rely on for verification must be unambiguous, so ``verify`` rejects those.
    repeated: set[str] = field(default_factory=set)

    def add(self, name: str, value: bytes) -> None:
        old = self.fields.get(name)
        if old is None:
            self.fields[name] = value
        elif old != value:
            self.repeated.add(name)


class ExportParser:
    """Turns a stream of byte chunks into :class:`RawEntry` objects, one entry at a time."""

    def __init__(self, max_entry_bytes: int = 4 << 20) -> None:
        self._max_entry_bytes = max_entry_bytes
        self._rest = b""
        self._entry = RawEntry()
        self._entry_bytes = 0

    def feed(self, chunk: bytes) -> list[RawEntry]:
        """Consume ``chunk`` and return the entries it completed (possibly none)."""
        data = self._rest + chunk if self._rest else chunk
        entries: list[RawEntry] = []
        pos = 0
        end = len(data)
        entry = self._entry
        find = data.find
        while pos < end:
            nl = find(b"\n", pos)
            if nl == -1:
                break
            if nl == pos:  # empty line: end of entry
                if entry.fields:
                    entries.append(entry)
                    entry = RawEntry()
                    self._entry_bytes = 0
                pos = nl + 1
                continue
            eq = find(b"=", pos, nl)
            if eq != -1:
                entry.add(data[pos:eq].decode("ascii", "replace"), data[eq + 1 : nl])
                self._count(nl + 1 - pos)
                pos = nl + 1
                continue
            # Binary field: NAME\n, 8-byte length, data, \n
            size_at = nl + 1
            if end - size_at < _LENGTH_BYTES:
                break
            size = int.from_bytes(data[size_at : size_at + _LENGTH_BYTES], "little")
            self._check_size(size + nl - pos)
            value_at = size_at + _LENGTH_BYTES
            value_end = value_at + size
            if end - value_end < 1:
                break
            if data[value_end : value_end + 1] != b"\n":
                raise UpstreamProtocolError("binary field not followed by a newline")
            entry.add(data[pos:nl].decode("ascii", "replace"), data[value_at:value_end])
            self._count(value_end + 1 - pos)
            pos = value_end + 1
        self._entry = entry
        self._rest = data[pos:]
        self._check_size(self._entry_bytes + len(self._rest))
        return entries

    def finish(self) -> None:
        """Call at end of stream: a half-written entry means the upstream stream was cut."""
        if self._rest or self._entry.fields:
            raise UpstreamProtocolError("stream ended in the middle of an entry")

    def _count(self, n: int) -> None:
        self._entry_bytes += n
        self._check_size(self._entry_bytes)

    def _check_size(self, n: int) -> None:
        if n > self._max_entry_bytes:
            raise UpstreamProtocolError(f"entry larger than {self._max_entry_bytes} bytes")
