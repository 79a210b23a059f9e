"""Decides, for every entry gatewayd sends, whether it really belongs to the requested link.

gatewayd already filters by our matches, but the proxy does not rely on that: every entry is
checked again here against the invocation ID and the pinned units, using trusted (``_``-prefixed)
fields that only journald can write.  Anything else is dropped and counted by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from journal_proxy.access.ids import InvocationId
from journal_proxy.journal.entry import Entry
from journal_proxy.journal.export_format import RawEntry
from journal_proxy.journal.lifecycle import parse_event
from journal_proxy.settings import UnitPins

_PRIORITIES = {str(n).encode(): n for n in range(8)}
_NEW_ENTRY = tuple.__new__
#: The times a journal can hold, as systemd bounds them (``VALID_REALTIME`` in journal-file.h:
#: above 0 and below 2^55 us, the year 3112; systemd-journal-remote refuses anything else as "out
#: of range").  Python's dates end at the year 9999, so a larger value would raise while a
#: response is written (issue 26: 10^20 and 2^64-1 cut bodies after 200 OK).
REALTIME_LIMIT = 1 << 55
_REALTIME_DIGITS = len(str(REALTIME_LIMIT))


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


def realtime_of(value: bytes | None) -> int:
    """``__REALTIME_TIMESTAMP`` as a time every renderer can format: a value that is not plain
    decimal digits a journal can hold (``REALTIME_LIMIT``) is ignored, as systemd ignores it, and
    reads as 0 like a missing one (``int()`` alone would take "-5", " 7" and "1_000" too)."""
    if value is None or len(value) > _REALTIME_DIGITS or not value.isdigit():
        return 0
    usec = int(value)
    return usec if usec < REALTIME_LIMIT else 0


#: Stream IDs and identifiers seen lately, as one shared string each: a log has a handful of
#: streams and names, and every line holds a reference, not its own copy.  A dictionary lookup is
#: about half the cost of decoding.  Bounded: short values only, cleared when full.
_STREAMS: dict[bytes, str] = {}
_IDENTIFIERS: dict[bytes, str] = {}
_MAX_SHARED = 4096
_MAX_SHARED_BYTES = 256


def _shared(value: bytes, table: dict[bytes, str], encoding: str) -> str:
    known = table.get(value)
    if known is None:
        known = value.decode(encoding, "replace")
        if len(value) <= _MAX_SHARED_BYTES:
            if len(table) >= _MAX_SHARED:
                table.clear()
            table[value] = known
    return known


#: The unit names seen lately, decoded and checked against the pins: every line of a log names
#: the same unit, so the glob pattern runs once per log rather than once per line.
_UNITS: dict[tuple[tuple[str, ...], bytes | None], str | None] = {}


def _pinned(pins: UnitPins, value: bytes | None) -> str | None:
    """The unit name if ``pins`` allow it, else None."""
    key = (pins.patterns, value)
    try:
        return _UNITS[key]
    except KeyError:
        pass
    unit = _text(value)
    allowed = unit if pins.matches(unit) else None
    if value is None or len(value) <= _MAX_SHARED_BYTES:
        if len(_UNITS) >= _MAX_SHARED:
            _UNITS.clear()
        _UNITS[key] = allowed
    return allowed


def _stream(value: bytes | None) -> str:
    return "" if value is None else _shared(value, _STREAMS, "ascii")


def _build(
    raw: RawEntry, unit: str, lifecycle_source: bool, public_fields: tuple[str, ...]
) -> Entry:
    f = raw.fields
    realtime = realtime_of(f.get(b"__REALTIME_TIMESTAMP"))
    identifier = f.get(b"SYSLOG_IDENTIFIER")
    message = f.get(b"MESSAGE")
    cursor = f.get(b"__CURSOR")
    stream = None if lifecycle_source else f.get(b"_STREAM_ID")
    # The shared strings looked up here, and _shared called only for a value not seen yet: a
    # call per line and field was a tenth of what verifying a line costs.
    shown = identifier and (
        _IDENTIFIERS.get(identifier) or _shared(identifier, _IDENTIFIERS, "utf-8")
    )
    # All nine fields in Entry's order, through tuple.__new__: the named tuple's own __new__ is
    # a Python function, and one entry is built per log line (0.4 us less each).
    return _NEW_ENTRY(
        Entry,
        (
            realtime,
            _PRIORITIES.get(f.get(b"PRIORITY", b""), 6),
            shown or ("systemd" if lifecycle_source else unit),
            "" if message is None else message.decode("utf-8", "replace"),
            unit,
            tuple((n, _text(f[n.encode()])) for n in public_fields if n.encode() in f)
            if public_fields
            else (),
            parse_event(f.get(b"MESSAGE_ID"), f, unit) if lifecycle_source else None,
            "" if cursor is None else cursor.decode("utf-8", "replace"),
            "" if stream is None else _STREAMS.get(stream) or _shared(stream, _STREAMS, "ascii"),
        ),
    )


def verify_unit_entry(
    raw: RawEntry, invocation_id: InvocationId, pins: UnitPins, public_fields: tuple[str, ...]
) -> Entry | None:
    """An entry written by the unit's own processes: trusted invocation ID and unit must match."""
    if raw.fields.get(b"_SYSTEMD_INVOCATION_ID") != invocation_id.encode():
        return None
    return _admit(raw, pins, _SERVICE, public_fields)


def verify_lifecycle_entry(
    raw: RawEntry, invocation_id: InvocationId, pins: UnitPins, public_fields: tuple[str, ...]
) -> Entry | None:
    """A line systemd (PID 1) wrote about the unit.  ``UNIT=``/``INVOCATION_ID=`` are user fields
    any process can write, so only the trusted ``_PID=1`` makes such a line systemd's."""
    fields = raw.fields
    if fields.get(b"_PID") != b"1" or fields.get(b"INVOCATION_ID") != invocation_id.encode():
        return None
    return _admit(raw, pins, _SYSTEMD, public_fields)


def verify_unlabelled_entry(
    raw: RawEntry, invocation_id: InvocationId, pins: UnitPins, public_fields: tuple[str, ...]
) -> Entry | None:
    """A line of a pinned unit that journald labelled with no invocation ID at all (see
    :mod:`journal_proxy.journal.unlabelled`, which admits it only inside the run's own time window).
    A line labelled with any invocation ID, this one's included, is not one of these."""
    if b"_SYSTEMD_INVOCATION_ID" in raw.fields:
        return None
    return _admit(raw, pins, _SERVICE, public_fields)


@dataclass(frozen=True, slots=True)
class _Writer:
    """Who writes a kind of entry: the trusted fields a verifier decides by (each must appear
    once: with two, which would a reader believe?), and the field that names the unit."""

    decided_by: frozenset[bytes]
    unit_field: bytes
    is_systemd: bool


_SERVICE = _Writer(
    frozenset({b"_SYSTEMD_INVOCATION_ID", b"_SYSTEMD_UNIT"}), b"_SYSTEMD_UNIT", False
)
_SYSTEMD = _Writer(frozenset({b"_PID", b"INVOCATION_ID", b"UNIT"}), b"UNIT", True)


def _admit(raw: RawEntry, pins: UnitPins, writer: _Writer, public: tuple[str, ...]) -> Entry | None:
    """The entry, when none of the fields ``writer`` is decided by is repeated and its unit field
    names a pinned unit; ``None`` otherwise."""
    if raw.repeated and raw.repeated & writer.decided_by:
        return None
    value = raw.fields.get(writer.unit_field)
    try:  # every line of a log names the same unit: decided once, then one lookup a line
        unit = _UNITS[(pins.patterns, value)]
    except KeyError:
        unit = _pinned(pins, value)
    if unit is None:
        return None
    return _build(raw, unit, writer.is_systemd, public)
