"""Writing one demo run: entries at believable times, through each command's own stream.

What the runs print is in :mod:`journal_proxy.demo.steps`; the three runs in
:mod:`journal_proxy.demo.runs`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from journal_proxy.local import journal as lj

UNIT = "deploy-website.service"
#: SGR sequences, as the tools in a real deploy print them.
BOLD, DIM, RED, GREEN, YELLOW, CYAN, X = (
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[36m",
    "\x1b[0m",
)
#: A line to write: the message, or the message and its syslog priority.
Line = str | tuple[str, int]


@dataclass
class Run:
    """One invocation being written, entry by entry, at believable times.

    Time only moves forward, by the gap each line says it took, so the page's times and the
    status's duration read like a real deploy rather than entries a millisecond apart.
    """

    invocation_id: str
    start_usec: int
    rng: random.Random
    clock: lj.Clock = field(init=False)
    identifier: str = "deploy.sh"
    pid: int = 0
    stream_id: str = lj.DEFAULT_STREAM
    out: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.clock = lj.Clock(self.start_usec)

    def wait(self, seconds: float) -> None:
        self.clock.usec += int(seconds * 1e6)

    def process(self, identifier: str, pid: int, *, after: float = 0.05) -> None:
        """A new ``Exec*=`` process: its own identifier, pid and stdout stream, as systemd
        starts each command (the proxy's triage tells steps apart by the stream)."""
        self.wait(after)
        self.identifier, self.pid, self.stream_id = identifier, pid, lj.new_stream_id()

    def line(self, message: str, priority: int = 6, *, after: float = 0.0) -> None:
        """One line of the current process's output, ``after`` seconds after the previous."""
        realtime = self.clock.tick(max(40, int(after * 1e6)))
        self.out += self._entry(message, priority, realtime)

    def line_now(self, message: str, priority: int = 6) -> bytes:
        """A live line, stamped with the wall clock (never before the previous line)."""
        realtime = self.clock.tick(max(40, lj.now_usec() - self.clock.usec))
        return self._entry(message, priority, realtime)

    def _entry(self, message: str, priority: int, realtime: int) -> bytes:
        return lj.unit_line(
            self.clock,
            UNIT,
            self.invocation_id,
            message,
            priority=priority,
            identifier=self.identifier,
            pid=self.pid,
            realtime=realtime,
            stream_id=self.stream_id,
        )

    def spread(self, lines: Sequence[Line], seconds: float) -> None:
        """Write ``lines`` over ``seconds``: uneven gaps (bursts and pauses), as output comes."""
        weights = [self.rng.expovariate(1.0) for _ in lines]
        total = sum(weights) or 1.0
        for item, weight in zip(lines, weights, strict=True):
            message, priority = (item, 6) if isinstance(item, str) else item
            self.line(message, priority, after=seconds * weight / total)

    def systemd(self, entries: bytes) -> None:
        """PID 1's lines (made by ``lj.starting``/``failed``/... on this run's clock)."""
        self.out += entries

    def take(self) -> bytes:
        data, self.out = bytes(self.out), bytearray()
        return data


def finished_ok(clock: lj.Clock, inv: str, cpu: str) -> bytes:
    """``lj.succeeded`` with the CPU time this run would really have consumed."""
    return (
        lj.pid1_line(clock, UNIT, inv, lj.SUCCESS, f"{UNIT}: Deactivated successfully.")
        + lj.pid1_line(
            clock,
            UNIT,
            inv,
            lj.STARTED,
            f"Finished {UNIT} - Deploy the website.",
            extra=[("JOB_TYPE", "start"), ("JOB_RESULT", "done")],
        )
        + consumed(clock, inv, cpu)
    )


def consumed(clock: lj.Clock, inv: str, cpu: str) -> bytes:
    return lj.pid1_line(clock, UNIT, inv, lj.RESOURCES, f"{UNIT}: Consumed {cpu} CPU time.")


def as_pair(line: Line) -> tuple[str, int]:
    return (line, 6) if isinstance(line, str) else line
