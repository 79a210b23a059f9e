"""Incremental parser for the Journal Export Format that gatewayd sends.

Format (https://systemd.io/JOURNAL_EXPORT_FORMATS/): an entry is a run of fields ended by an empty
line.  A field is either ``NAME=value\\n`` or, for values that are binary or contain a newline,
``NAME\\n`` followed by a little-endian 64-bit length, the value, and ``\\n``.

The parser is fed whatever chunks the network delivers and never holds more than one entry plus one
chunk, so memory does not grow with the log.  Speed matters (gatewayd, not Python, should set the
pace; see ``bench/``): a run of text fields is cut out with one ``find`` for the next blank line
and one ``split``, and only a binary field (any value with a newline or a control character, such
as a coloured line) is read by offset.  Field names stay ``bytes``: compared, never shown.

The work is linear in the bytes received whatever the entry's shape (issue 26: it was quadratic,
and one entry could hold the event loop for seconds):

* a binary field does not search, copy or split the rest of the entry again: the lines already
  split are walked past its value (each line once), and a value that runs past the blank line
  found is followed by one new search from its end;
* an entry cut by the end of a read is not parsed again from its start: its complete lines are
  taken into the entry at once, and what is left (a part of a line, or a binary field whose value
  is still coming) is held with the number of bytes, or the newline, it waits for; reads that do
  not bring that are only appended, so every byte is copied a bounded number of times.

``bench/export_shapes.py`` times the common case and the bad shapes.
"""

from __future__ import annotations

import re
from collections.abc import Set

from journal_proxy.errors import UpstreamProtocolError

_LENGTH_BYTES = 8
_NONE: frozenset[bytes] = frozenset()
_BLANKS = re.compile(b"\n+")
#: ``_want`` when the held bytes wait for a newline rather than a count.
_NEWLINE = -1
#: What :func:`_text_fields` returns when every line was a text field.
_ALL_TEXT = -1


class RawEntry:
    """One entry as gatewayd sent it.  Nothing in here is public until ``verify`` says so."""

    __slots__ = ("fields", "repeated")

    def __init__(self) -> None:
        self.fields: dict[bytes, bytes] = {}
        #: Names that appeared more than once with different values.  The journal allows it, but
        #: a field we rely on for verification must be unambiguous, so ``verify`` rejects those.
        #: One shared empty set until needed (hardly any entry has a repeated field), then a set
        #: of its own that grows in place: a new set per repeat would be quadratic.
        self.repeated: Set[bytes] = _NONE

    def add(self, name: bytes, value: bytes) -> None:
        old = self.fields.setdefault(name, value)
        if old is not value and old != value:
            repeated = self.repeated
            if isinstance(repeated, set):
                repeated.add(name)
            else:
                self.repeated = {name}


def _text_fields(lines: list[bytes], start: int, entry: RawEntry) -> int:
    """Add the ``NAME=value`` lines from ``lines[start]`` on to ``entry``, up to the first line
    without a "=" (the name of a binary field): that line's index, or ``_ALL_TEXT``."""
    fields = entry.fields
    if not start and not fields:
        # The common case, a fresh entry whose names are all new: no lookup per line, and the
        # count says afterwards whether a name came twice.
        for line in lines:
            name, sep, value = line.partition(b"=")
            if not sep:
                # Every line before this one has a "=", so index() finds this one.
                at = lines.index(line)
                if len(fields) == at:
                    return at
                break
            fields[name] = value
        else:
            if len(fields) == len(lines):
                return _ALL_TEXT
        fields.clear()  # a name came twice: again, keeping the first value and noting the repeat
    for at in range(start, len(lines)):
        name, sep, value = lines[at].partition(b"=")
        if not sep:
            return at
        entry.add(name, value)
    return _ALL_TEXT


class ExportParser:
    """Turns a stream of byte chunks into :class:`RawEntry` objects, one entry at a time."""

    def __init__(self, max_entry_bytes: int = 4 << 20) -> None:
        self._max = max_entry_bytes
        #: Bytes received but not parsed yet, from the start of a field of ``_entry`` on.
        self._held: list[bytes] = []
        self._held_size = 0
        #: What the held bytes wait for: this many bytes in all, or (``_NEWLINE``) a newline.
        self._want = 0
        #: The entry an earlier read began, and how many of its bytes came before the held ones.
        self._entry: RawEntry | None = None
        self._entry_done = 0
        self._error: UpstreamProtocolError | None = None

    def feed(self, chunk: bytes) -> list[RawEntry]:
        """Consume ``chunk`` and return the entries it completed (possibly none).

        A malformed or oversized entry raises :class:`UpstreamProtocolError`, but only after the
        complete entries before it were returned: the reader gets everything that was valid.
        """
        if self._error is not None:
            raise self._error
        entries: list[RawEntry] = []
        if self._held and self._still_waiting(chunk):
            return entries
        try:
            self._feed(chunk, entries)
        except UpstreamProtocolError as exc:
            if not entries:
                raise
            self._error = exc
        return entries

    def _still_waiting(self, chunk: bytes) -> bool:
        """Whether ``chunk`` leaves the held bytes as unparseable as before: then it is only
        kept (no join, no search of what is held), so an entry cut into many small reads costs
        what it would in one."""
        if self._want == _NEWLINE:
            if b"\n" in chunk:
                return False
        elif self._held_size + len(chunk) >= self._want:
            return False
        self._held.append(chunk)
        self._held_size += len(chunk)
        if self._entry_done + self._held_size > self._max:
            self._too_large()
        return True

    def _feed(self, chunk: bytes, entries: list[RawEntry]) -> None:
        held = self._held
        if held:
            held.append(chunk)
            data = b"".join(held)
            held.clear()
            self._held_size = 0
        else:
            data = chunk
        self._want = 0
        entry = self._entry
        begin = -self._entry_done  # where the current entry starts in ``data``
        end = len(data)
        pos = 0  # where the next field, blank line or entry starts
        while pos < end:
            if data[pos] == 0x0A:
                if entry is None:  # stray blank lines between entries, skipped at once
                    blanks = _BLANKS.match(data, pos)
                    pos = blanks.end() if blanks else pos + 1
                else:  # the blank line that ends the entry
                    entries.append(entry)
                    entry, pos = None, pos + 1
                continue
            if entry is None:
                entry, begin = RawEntry(), pos
            stop = data.find(b"\n\n", pos)
            if stop == -1:  # the entry goes on in a later read
                pos = self._whole_lines(data, pos, begin, entry)
                break
            if stop - begin > self._max:
                self._too_large()
            # The common case in line: every field of the entry is text.
            lines = data[pos:stop].split(b"\n")
            name_at = _text_fields(lines, 0, entry)
            if name_at == _ALL_TEXT:
                entries.append(entry)
                entry, pos = None, stop + 2
                continue
            pos = self._binary_fields(data, pos, stop, lines, name_at, begin, entry)
            if self._want:
                break
        self._entry = entry
        self._entry_done = 0 if entry is None else pos - begin
        if pos < end:
            held.append(data[pos:])
            self._held_size = end - pos
            if self._entry_done + self._held_size > self._max:
                self._too_large()

    def _whole_lines(self, data: bytes, pos: int, begin: int, entry: RawEntry) -> int:
        """Add to ``entry``, whose end is in a later read, the fields of its lines that ``data``
        holds whole; where the held bytes start (``_want`` says what they wait for)."""
        if len(data) - begin > self._max:
            self._too_large()
        last = data.rfind(b"\n", pos)
        if last != -1:
            lines = data[pos:last].split(b"\n")
            name_at = _text_fields(lines, 0, entry)
            if name_at == _ALL_TEXT:
                pos = last + 1
            else:
                pos = self._binary_fields(data, pos, last, lines, name_at, begin, entry)
        if not self._want:
            self._want = _NEWLINE  # a part of a line at most: it waits for its end
        return pos

    def _binary_fields(
        self,
        data: bytes,
        pos: int,
        stop: int,
        lines: list[bytes],
        name_at: int,
        begin: int,
        entry: RawEntry,
    ) -> int:
        """Go on with ``lines`` (``data[pos:stop]`` split, a newline at ``stop``) from
        ``lines[name_at]``, the name of a binary field, on: every field of them into ``entry``.
        Where reading stopped: ``stop + 1``, past ``stop`` when a value ran past it, or where a
        binary field starts whose value is still to come (``_want`` set)."""
        at = 0  # lines[at] starts at pos
        while name_at != _ALL_TEXT:
            pos += sum(map(len, lines[at:name_at])) + name_at - at
            name = lines[name_at]
            after = self._binary(data, pos, begin, name, entry)
            if after == pos or after > stop:
                return after  # waiting for the value, or it ran past the lines split
            # The value ends with a newline before ``stop``, so a line of ``lines`` starts right
            # after it: walk to that line (each line is walked past once, whatever the count).
            at, line_at = name_at + 1, pos + len(name) + 1
            while line_at < after:
                line_at += len(lines[at]) + 1
                at += 1
            if line_at != after:
                return after  # cannot happen; a new search from there would still be right
            pos = after
            name_at = _text_fields(lines, at, entry)
        return stop + 1

    def _binary(self, data: bytes, pos: int, begin: int, name: bytes, entry: RawEntry) -> int:
        """Read the binary field at ``pos`` (``name``, newline, 64-bit length, value, newline)
        into ``entry``; where the next field starts, or ``pos`` with ``_want`` set to the bytes
        it needs from there when ``data`` ends before its value does."""
        size_at = pos + len(name) + 1
        value_at = size_at + _LENGTH_BYTES
        if len(data) < value_at:
            self._want = value_at - pos
            return pos
        size = int.from_bytes(data[size_at:value_at], "little")
        after = value_at + size + 1
        if after - 1 - begin > self._max:
            self._too_large()
        if len(data) < after:
            self._want = after - pos
            return pos
        if data[after - 1] != 0x0A:
            raise UpstreamProtocolError("binary field not followed by a newline")
        entry.add(name, data[value_at : after - 1])
        return after

    def finish(self) -> None:
        """Call at end of stream: a half-written entry means the upstream stream was cut."""
        if self._error is not None:
            raise self._error
        if self._entry is not None or self._held:
            raise UpstreamProtocolError("stream ended in the middle of an entry")

    def _too_large(self) -> None:
        raise UpstreamProtocolError(f"entry larger than {self._max} bytes")
