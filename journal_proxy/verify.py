"""Decides, for every entry gatewayd sends, whether it really belongs to the requested link.

gatewayd already filters by our matches, but the proxy does not rely on that: every entry is
checked again here against the invocation ID and the pinned units, using trusted (``_``-prefixed)
fields that only journald can write.  Anything else is dropped and counted by the caller.
"""

from __future__ import annotations

from .entry import Entry
from .export_format import RawEntry
from .ids import InvocationId
from .lifecycle import parse_event
from .settings import UnitPins

_PRIORITIES = {str(n).encode(): n for n in range(8)}


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


#: Stream IDs seen lately, as one shared string each: a log has a handful of streams and every
#: line of one holds a reference, not its own 32-character copy.  A dictionary lookup is about
#: half the cost of decoding and ``sys.intern``.  Bounded: cleared when full.
_STREAMS: dict[bytes, str] = {}
_MAX_STREAMS = 4096


def _stream(value: bytes | None) -> str:
    if value is None:
        return ""
    known = _STREAMS.get(value)
    if known is None:
        if len(_STREAMS) >= _MAX_STREAMS:
            _STREAMS.clear()
        known = _STREAMS[value] = value.decode("ascii", "replace")
    return known


def _build(
    raw: RawEntry, unit: str, lifecycle_source: bool, public_fields: tuple[str, ...]
) -> Entry:
    f = raw.fields
    try:
        realtime = int(f.get(b"__REALTIME_TIMESTAMP", b"0"))
    except ValueError:
        realtime = 0
    return Entry(
        realtime_usec=realtime,
        priority=_PRIORITIES.get(f.get(b"PRIORITY", b""), 6),
        identifier=_text(f.get(b"SYSLOG_IDENTIFIER")) or ("systemd" if lifecycle_source else unit),
        message=_text(f.get(b"MESSAGE")),
        unit=unit,
        extra=tuple((n, _text(f[n.encode()])) for n in public_fields if n.encode() in f)
        if public_fields
        else (),
        lifecycle=parse_event(f.get(b"MESSAGE_ID"), f, unit) if lifecycle_source else None,
        cursor=_text(f.get(b"__CURSOR")),
        stream="" if lifecycle_source else _stream(f.get(b"_STREAM_ID")),
    )


def verify_unit_entry(
    raw: RawEntry, invocation_id: InvocationId, pins: UnitPins, public_fields: tuple[str, ...]
) -> Entry | None:
    """An entry written by the unit's own processes: trusted invocation ID and unit must match."""
    if raw.repeated and raw.repeated & {b"_SYSTEMD_INVOCATION_ID", b"_SYSTEMD_UNIT"}:
        return None
    if raw.fields.get(b"_SYSTEMD_INVOCATION_ID") != invocation_id.encode():
        return None
    unit = _text(raw.fields.get(b"_SYSTEMD_UNIT"))
    if not pins.matches(unit):
        return None
    return _build(raw, unit, False, public_fields)


def verify_lifecycle_entry(
    raw: RawEntry, invocation_id: InvocationId, pins: UnitPins, public_fields: tuple[str, ...]
) -> Entry | None:
    """A line systemd (PID 1) wrote about the unit.  ``UNIT=``/``INVOCATION_ID=`` are user fields
    any process can write, so only the trusted ``_PID=1`` makes such a line systemd's."""
    if raw.repeated and raw.repeated & {b"_PID", b"INVOCATION_ID", b"UNIT"}:
        return None
    if raw.fields.get(b"_PID") != b"1":
        return None
    if raw.fields.get(b"INVOCATION_ID") != invocation_id.encode():
        return None
    unit = _text(raw.fields.get(b"UNIT"))
    if not pins.matches(unit):
        return None
    return _build(raw, unit, True, public_fields)
