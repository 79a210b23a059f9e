"""Real export bytes to the numbered, masked entries a renderer sees, without a server.

The same path as a request takes after gatewayd: :class:`ExportParser`, the two verifiers, the one
:class:`Merge` numbering, a :class:`MaskSession`.  Used by the step, annotation and JSON tests.
"""

from __future__ import annotations

from journal_proxy.access.ids import InvocationId
from journal_proxy.journal.entry import NumberedEntry
from journal_proxy.journal.export_format import ExportParser
from journal_proxy.journal.merge import Feed, Merge
from journal_proxy.journal.verify import verify_lifecycle_entry, verify_unit_entry
from journal_proxy.local import journal as lj
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import UnitPins

UNIT = "deploy-website.service"
PINS = UnitPins((UNIT,))
MASKER = Masker.build()


def read_log(export: bytes, invocation_id: str) -> list[NumberedEntry]:
    """The invocation's verified lines in ``export``, merged, numbered from 1 and masked."""
    inv = InvocationId(invocation_id)
    merge = Merge()
    parser = ExportParser()
    for raw in parser.feed(export):
        system = verify_lifecycle_entry(raw, inv, PINS, ())
        if system is not None:
            merge.push(Feed.SYSTEM, system)
            continue
        unit = verify_unit_entry(raw, inv, PINS, ())
        if unit is not None:
            merge.push(Feed.UNIT, unit)
    parser.finish()
    merge.end(Feed.SYSTEM)
    merge.end(Feed.UNIT)
    session = MASKER.session()
    return [(line, session.apply(entry)) for line, entry in merge.release()]


class Run:
    """Builds one invocation's export bytes command by command, as systemd would log them."""

    def __init__(self, invocation_id: str | None = None) -> None:
        self.inv = invocation_id or lj.new_invocation_id()
        self.clock = lj.Clock()
        self.out = bytearray(lj.starting(self.clock, UNIT, self.inv))
        self._stream = lj.new_stream_id()
        self._identifier = "deploy.sh"
        self._pid = 4242

    def command(self, identifier: str, pid: int) -> Run:
        """The next lines come from a new command (a new stdout stream, PID and identifier)."""
        self._stream, self._identifier, self._pid = lj.new_stream_id(), identifier, pid
        return self

    def line(self, message: str | bytes, *, priority: int = 6, stream: bool = True) -> Run:
        self.out += lj.unit_line(
            self.clock,
            UNIT,
            self.inv,
            message,
            priority=priority,
            identifier=self._identifier,
            pid=self._pid,
            stream_id=self._stream if stream else None,
        )
        return self

    def lines(self, *messages: str) -> Run:
        for m in messages:
            self.line(m)
        return self

    def control_failed(self, status: int = 1, command: str = "start-pre") -> Run:
        self.out += lj.failed(self.clock, UNIT, self.inv, status, control=True, command=command)
        return self

    def main_failed(self, status: int = 1) -> Run:
        self.out += lj.failed(self.clock, UNIT, self.inv, status)
        return self

    def succeeded(self) -> Run:
        self.out += lj.succeeded(self.clock, UNIT, self.inv)
        return self

    def read(self) -> list[NumberedEntry]:
        return read_log(bytes(self.out), self.inv)
