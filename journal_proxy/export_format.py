"""Incremental parser for the Journal Export Format that gatewayd sends.

Format (https://systemd.io/JOURNAL_EXPORT_FORMATS/): an entry is a run of fields ended by an empty
line.  A field is either ``NAME=value\\n`` or, for values that are binary or contain a newline,
``NAME\\n`` followed by a little-endian 64-bit length, the value, and ``\\n``.

The parser is fed whatever chunks the network delivers and never holds more than one entry plus one
chunk, so memory does not grow with the log.  Speed matters (gatewayd, not Python, should set the
pace; see ``bench/``): a run of text fields is cut out with one ``find`` for the next blank line
and one ``split``, and only a binary field (any value with a newline or a control character, such
as a coloured line) is read by offset (``_binary``: one method call per binary field costs nothing
measurable, 20,000 coloured entries parsed in the same CPU time either way).  Field names stay
``bytes``: compared, never shown.
"""

from __future__ import annotations

from .errors import UpstreamProtocolError

_LENGTH_BYTES = 8
_NONE: frozenset[bytes] = frozenset()


class RawEntry:
    """One entry as gatewayd sent it.  Nothing in here is public until ``verify`` says so."""

    __slots__ = ("fields", "repeated")

    def __init__(self) -> None:
        self.fields: dict[bytes, bytes] = {}
        #: Names that appeared more than once with different values.  The journal allows it, but
        #: a field we rely on for verification must be unambiguous, so ``verify`` rejects those.
        #: One shared empty set until needed: hardly any entry has a repeated field.
        self.repeated = _NONE

    def add(self, name: bytes, value: bytes) -> None:
        old = self.fields.setdefault(name, value)
        if old is not value and old != value:
            self.repeated = self.repeated | {name}


def _add_text_fields(lines: list[bytes], entry: RawEntry) -> bytes | None:
    """Add the ``NAME=value`` lines to ``entry`` up to the first line without a "=", the name of
    a binary field, which is returned (None: every line was a text field)."""
    fields = entry.fields
    if not fields:
        # The common case, a fresh entry whose names are all new: no lookup per line, and the
        # count says afterwards whether a name came twice.
        for line in lines:
            name, sep, value = line.partition(b"=")
            if not sep:
                if len(fields) == lines.index(line):
                    return line
                break
            fields[name] = value
        else:
            if len(fields) == len(lines):
                return None
        fields.clear()  # a name came twice: again, keeping the first value and noting the repeat
    for line in lines:
        name, sep, value = line.partition(b"=")
        if not sep:
            return line
        entry.add(name, value)
    return None


class ExportParser:
    """Turns a stream of byte chunks into :class:`RawEntry` objects, one entry at a time."""

    def __init__(self, max_entry_bytes: int = 4 << 20) -> None:
        self._max = max_entry_bytes
        self._rest = b""
        self._error: UpstreamProtocolError | None = None

    def feed(self, chunk: bytes) -> list[RawEntry]:
        """Consume ``chunk`` and return the entries it completed (possibly none).

        A malformed or oversized entry raises :class:`UpstreamProtocolError`, but only after the
        complete entries before it were returned: the reader gets everything that was valid.
        """
        if self._error is not None:
            raise self._error
        entries: list[RawEntry] = []
        try:
            self._feed(chunk, entries)
        except UpstreamProtocolError as exc:
            if not entries:
                raise
            self._error = exc
        return entries

    def _feed(self, chunk: bytes, entries: list[RawEntry]) -> None:
        data = self._rest + chunk if self._rest else chunk
        end = len(data)
        pos = 0  # where the next unparsed field starts
        begin = 0  # where the current entry starts: a partial entry is re-parsed next time
        entry: RawEntry | None = None
        while pos < end:
            if entry is None:
                if data[pos] == 0x0A:  # a stray blank line between entries
                    pos += 1
                    continue
                entry, begin = RawEntry(), pos
            stop = data.find(b"\n\n", pos)
            if stop == -1:
                break
            if stop - begin > self._max:
                self._too_large()
            lines = data[pos:stop].split(b"\n")
            line = _add_text_fields(lines, entry)
            if line is None:
                entries.append(entry)
                entry, pos = None, stop + 2
                continue
            pos = self._binary(data, pos, begin, lines, line, entry)
            if pos < 0:
                break  # the entry is incomplete
            if data[pos] == 0x0A:  # the blank line that ends the entry
                entries.append(entry)
                entry, pos = None, pos + 1
        if entry is not None:
            pos = begin  # parse the unfinished entry again when more data arrives
        self._rest = data[pos:]
        if len(self._rest) > self._max:
            self._too_large()

    def _binary(
        self, data: bytes, pos: int, begin: int, lines: list[bytes], line: bytes, entry: RawEntry
    ) -> int:
        """Read the binary field ``line`` names (NAME, newline, 64-bit length, value, newline)
        into ``entry``; where the next field starts, or -1 if ``data`` ends before it does.

        Its offset is worked out only here; text lines are the common case and cost no
        arithmetic.  (Every line before it holds a "=", so index() finds this one.)
        """
        end = len(data)
        done = lines[: lines.index(line)]
        size_at = pos + sum(map(len, done)) + len(done) + len(line) + 1
        if end - size_at < _LENGTH_BYTES:
            return -1
        size = int.from_bytes(data[size_at : size_at + _LENGTH_BYTES], "little")
        value_at = size_at + _LENGTH_BYTES
        if value_at + size - begin > self._max:
            self._too_large()
        if end - (value_at + size) < 2:
            return -1
        if data[value_at + size] != 0x0A:
            raise UpstreamProtocolError("binary field not followed by a newline")
        entry.add(line, data[value_at : value_at + size])
        return value_at + size + 1

    def finish(self) -> None:
        """Call at end of stream: a half-written entry means the upstream stream was cut."""
        if self._error is not None:
            raise self._error
        if self._rest.strip(b"\n"):
            raise UpstreamProtocolError("stream ended in the middle of an entry")

    def _too_large(self) -> None:
        raise UpstreamProtocolError(f"entry larger than {self._max} bytes")
