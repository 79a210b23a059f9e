"""systemd's own lines about an invocation, and the status they add up to.

PID 1 logs the lifecycle of every unit with ``_PID=1``, ``UNIT=`` and ``INVOCATION_ID=``; the
events are told apart by ``MESSAGE_ID`` (``sd-messages.h``), never by message text, which is
translated and changes between releases.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import Enum
from typing import Literal

#: What a run is doing, as systemd reported it.
State = Literal["running", "succeeded", "failed"]


class Event(Enum):
    """Lifecycle MESSAGE_IDs from systemd's sd-messages.h, checked against its catalog."""

    UNIT_STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5"
    UNIT_STARTED = "39f53479d3a045ac8e11786248231fbf"  # start job finished (JOB_RESULT=done)
    UNIT_FAILED_JOB = "be02cf6855d2428ba40df7e9d022f03d"  # start job failed
    UNIT_SUCCESS = "7ad2d189f7e94e70a38c781354912448"  # "Deactivated successfully"
    UNIT_FAILURE_RESULT = "d9b373ed55a64feb8242e02dbe79a49c"  # "Failed with result ..."
    UNIT_PROCESS_EXIT = "98e322203f7a4ed290d09fe03c09fe15"
    UNIT_RESOURCES = "ae8f7b866b0347b9af31fe1c80b127c0"


_EVENTS = {e.value: e for e in Event}


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """The parts of a PID 1 line that the status needs."""

    event: Event | None
    unit: str
    result: str = ""  # UNIT_RESULT or JOB_RESULT
    exit_code: str = ""  # EXIT_CODE: exited, killed, dumped
    exit_status: str = ""  # EXIT_STATUS: number or signal name


def parse_event(message_id: bytes | None, fields: dict[bytes, bytes], unit: str) -> LifecycleEvent:
    def text(name: bytes) -> str:
        return fields.get(name, b"").decode("utf-8", "replace")[:64]

    event = _EVENTS.get(message_id.decode("ascii", "replace")) if message_id else None
    result = text(b"UNIT_RESULT") if event is Event.UNIT_FAILURE_RESULT else text(b"JOB_RESULT")
    return LifecycleEvent(event, unit, result, text(b"EXIT_CODE"), text(b"EXIT_STATUS"))


@dataclass(frozen=True, slots=True)
class Status:
    """What the invocation is doing, as systemd reported it."""

    state: State = "running"
    result: str = ""  # systemd's result for a failure: exit-code, signal, timeout, ...
    exit_code: str = ""
    exit_status: str = ""
    started_usec: int | None = None
    finished_usec: int | None = None
    unit: str = ""

    @property
    def finished(self) -> bool:
        return self.state != "running"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_usec is None or self.finished_usec is None:
            return None
        return max(0, self.finished_usec - self.started_usec) / 1e6

    def describe(self) -> str:
        """One short human phrase: ``failed: exit-code, status 1``.  The one place a status
        becomes words: the text header, the page, JSON's ``description`` and notify-github."""
        if self.state != "failed":
            return self.state
        parts = [self.result or "failed"]
        if self.exit_status:
            parts.append(f"status {self.status_word}")
        return "failed: " + ", ".join(parts)

    @property
    def status_word(self) -> str:
        """The exit status as systemd words it for a handler (``MONITOR_EXIT_STATUS``) and in its
        own line (``status=15/TERM``): a signal by name, an exit status by number.  The journal's
        ``EXIT_STATUS`` field holds the signal's number, so the page and GitHub would disagree."""
        if self.exit_code in ("killed", "dumped") and self.exit_status.isdigit():
            try:
                return signal.Signals(int(self.exit_status)).name.removeprefix("SIG")
            except ValueError:
                pass
        return self.exit_status


class StatusTracker:
    """Folds entries, in log order, into a :class:`Status`."""

    def __init__(self) -> None:
        self._state: State = "running"
        self._result = ""
        self._exit_code = ""
        self._exit_status = ""
        self._started: int | None = None
        self._first_seen: int | None = None
        self._finished: int | None = None
        self._unit = ""

    def observe(self, realtime_usec: int, unit: str, lifecycle: LifecycleEvent | None) -> bool:
        """Take one entry into account; return True if the status changed."""
        if lifecycle is None and self._first_seen is not None and self._unit:
            return False  # the unit's own lines never change the status: the streaming fast path
        before = self.status
        if self._first_seen is None:
            self._first_seen = realtime_usec
        if not self._unit:
            self._unit = unit
        if lifecycle is not None:
            self._apply(realtime_usec, lifecycle)
        return self.status != before

    def _apply(self, when: int, ev: LifecycleEvent) -> None:
        match ev.event:
            case Event.UNIT_STARTING:
                if self._started is None:
                    self._started = when
            case Event.UNIT_PROCESS_EXIT:
                self._exit_code, self._exit_status = ev.exit_code, ev.exit_status
            case Event.UNIT_SUCCESS if self._state == "running":
                self._state, self._finished = "succeeded", when
            case Event.UNIT_FAILURE_RESULT:
                self._state, self._result = "failed", ev.result or "failed"
                self._finished = self._finished or when
            case Event.UNIT_FAILED_JOB if self._state == "running":
                self._state, self._result, self._finished = "failed", ev.result or "failed", when
            case _:
                pass

    @property
    def status(self) -> Status:
        return Status(
            state=self._state,
            result=self._result,
            exit_code=self._exit_code,
            exit_status=self._exit_status,
            started_usec=self._started if self._started is not None else self._first_seen,
            finished_usec=self._finished,
            unit=self._unit,
        )


def duration_words(seconds: float) -> str:
    """``1m 05.3s`` or ``5.3s``: how long a run took, as the page's header says it.  The one
    Python formatter, so the demo's banner names the same length the page it links to shows."""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m {rest:04.1f}s" if minutes else f"{rest:.1f}s"
