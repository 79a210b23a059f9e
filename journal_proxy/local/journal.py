"""A run's journal entries as journald and PID 1 would write them, without a running systemd.

Used by ``journal-proxy demo`` and by the tests.  Entries are written in the Journal Export Format,
as journald would have stored them (trusted fields included) and as PID 1 logs a run's start and
end; :mod:`journal_proxy.local.procs` turns them into journal files and runs gatewayd (and the
proxy) as processes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from journal_proxy.journal.lifecycle import Event

Field = tuple[str, str | bytes]

MACHINE_ID = "a5e1c7e7a5e1c7e7a5e1c7e7a5e1c7e7"
BOOT_ID = "b007b007b007b007b007b007b007b007"
HOSTNAME = "web-1.internal.example"


def now_usec() -> int:
    return int(time.time() * 1e6)


def new_invocation_id() -> str:
    return secrets.token_hex(16)


#: The stdout stream :func:`unit_line` writes through unless told otherwise.
DEFAULT_STREAM = "0123456789abcdef0123456789abcdef"


def new_stream_id() -> str:
    """A ``_STREAM_ID`` for another command of the same run (``ExecStartPre=`` and ``ExecStart=``
    each get their own stdout stream from systemd)."""
    return secrets.token_hex(16)


def export_entry(fields: Iterable[Field]) -> bytes:
    """One entry in the export format; values with a newline or non-text use the binary form."""
    out = bytearray()
    for name, value in fields:
        raw = value.encode() if isinstance(value, str) else value
        if b"\n" in raw or not _printable(raw):
            out += name.encode() + b"\n" + len(raw).to_bytes(8, "little") + raw + b"\n"
        else:
            out += name.encode() + b"=" + raw + b"\n"
    return bytes(out) + b"\n"


def _printable(raw: bytes) -> bool:
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return False
    return all(c >= " " or c == "\t" for c in text)


@dataclass
class Clock:
    """Monotonic fake time for entries, so tests control ordering exactly."""

    usec: int = field(default_factory=lambda: int(time.time() * 1e6) - 3600 * 10**6)

    def tick(self, usec: int = 1000) -> int:
        self.usec += usec
        return self.usec


def _common(clock: Clock, realtime: int | None) -> list[Field]:
    ts = clock.tick() if realtime is None else realtime
    return [
        ("__REALTIME_TIMESTAMP", str(ts)),
        ("__MONOTONIC_TIMESTAMP", str(ts % 10**11)),
        ("_BOOT_ID", BOOT_ID),
        ("_MACHINE_ID", MACHINE_ID),
        ("_HOSTNAME", HOSTNAME),
    ]


def unit_line(
    clock: Clock,
    unit: str,
    invocation_id: str | None,
    message: str | bytes,
    *,
    priority: int = 6,
    identifier: str = "deploy.sh",
    pid: int = 4242,
    extra: Sequence[Field] = (),
    realtime: int | None = None,
    stream_id: str | None = DEFAULT_STREAM,
) -> bytes:
    """A line written by the unit's own process (stdout), with the trusted fields journald adds.

    Each command systemd runs for the unit writes through its own stream: give the lines of an
    ``ExecStartPre=`` another ``stream_id`` (:func:`new_stream_id`), ``pid`` and ``identifier``
    than those of ``ExecStart=``.  ``stream_id=None`` writes a line without a stream, as
    ``logger`` or ``sd_journal_print`` do (``_TRANSPORT=syslog``).  ``invocation_id=None``
    writes one as journald (systemd 252) does when the unit's run ended before it read the line:
    without ``_SYSTEMD_INVOCATION_ID`` (:mod:`journal_proxy.journal.unlabelled`).
    """
    stream: list[Field] = [("_TRANSPORT", "syslog")]
    if stream_id is not None:
        stream = [("_TRANSPORT", "stdout"), ("_STREAM_ID", stream_id)]
    return export_entry(
        [
            *_common(clock, realtime),
            ("PRIORITY", str(priority)),
            ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", identifier),
            ("_PID", str(pid)),
            ("_UID", "0"),
            ("_GID", "0"),
            ("_COMM", "deploy.sh"),
            ("_EXE", "/usr/bin/bash"),
            ("_CMDLINE", "/bin/bash /opt/deploy.sh --token=hunter2-cmdline-secret"),
            ("_SYSTEMD_CGROUP", f"/system.slice/{unit}"),
            ("_SYSTEMD_UNIT", unit),
            ("_SYSTEMD_SLICE", "system.slice"),
            *([] if invocation_id is None else [("_SYSTEMD_INVOCATION_ID", invocation_id)]),
            *stream,
            *extra,
            ("MESSAGE", message),
        ]
    )


def pid1_line(
    clock: Clock,
    unit: str,
    invocation_id: str,
    message_id: str,
    message: str,
    *,
    pid: int = 1,
    extra: Sequence[Field] = (),
    priority: int = 6,
) -> bytes:
    """A lifecycle line as PID 1 logs it: user fields ``UNIT=``/``INVOCATION_ID=``, ``_PID=1``."""
    return export_entry(
        [
            *_common(clock, None),
            ("PRIORITY", str(priority)),
            ("SYSLOG_FACILITY", "3"),
            ("SYSLOG_IDENTIFIER", "systemd"),
            ("CODE_FILE", "src/core/job.c"),
            ("MESSAGE_ID", message_id),
            ("UNIT", unit),
            ("INVOCATION_ID", invocation_id),
            *extra,
            ("_PID", str(pid)),
            ("_UID", "0"),
            ("_COMM", "systemd"),
            ("_EXE", "/usr/lib/systemd/systemd"),
            ("_CMDLINE", "/sbin/init"),
            ("_SYSTEMD_CGROUP", "/init.scope"),
            ("_SYSTEMD_UNIT", "init.scope"),
            ("_TRANSPORT", "journal"),
            ("MESSAGE", message),
        ]
    )


# systemd's MESSAGE_IDs, named as the helpers below use them (one list: ``lifecycle.Event``).
STARTING = Event.UNIT_STARTING.value
STARTED = Event.UNIT_STARTED.value
SUCCESS = Event.UNIT_SUCCESS.value
PROCESS_EXIT = Event.UNIT_PROCESS_EXIT.value
FAILURE = Event.UNIT_FAILURE_RESULT.value
JOB_FAILED = Event.UNIT_FAILED_JOB.value
RESOURCES = Event.UNIT_RESOURCES.value


def starting(clock: Clock, unit: str, inv: str) -> bytes:
    return pid1_line(clock, unit, inv, STARTING, f"Starting {unit} - Deploy the website...")


def succeeded(clock: Clock, unit: str, inv: str) -> bytes:
    return (
        pid1_line(clock, unit, inv, SUCCESS, f"{unit}: Deactivated successfully.")
        + pid1_line(
            clock,
            unit,
            inv,
            STARTED,
            f"Finished {unit} - Deploy the website.",
            extra=[("JOB_TYPE", "start"), ("JOB_RESULT", "done")],
        )
        + pid1_line(clock, unit, inv, RESOURCES, f"{unit}: Consumed 1.234s CPU time.")
    )


class Process(TypedDict, total=False):
    """Which of the run's processes exited: ``control`` for an ``ExecStartPre=`` or other control
    process (default: the main process), ``command`` naming which (default ``start``)."""

    control: bool
    command: str


def process_exited(
    clock: Clock, unit: str, inv: str, status: int = 1, **process: Unpack[Process]
) -> bytes:
    """PID 1's line about a process of the run that exited with ``status``, as systemd 252 writes
    it: "Main process exited" for ``ExecStart=``, "Control process exited" for the others
    (``command``: ``start-pre``, ``start-post``, ``stop-post``, ...).  A success is logged at debug
    level (priority 7), a failure at notice (priority 5)."""
    kind = "Control process" if process.get("control") else "Main process"
    words = "SUCCESS" if status == 0 else "FAILURE"
    return pid1_line(
        clock,
        unit,
        inv,
        PROCESS_EXIT,
        f"{unit}: {kind} exited, code=exited, status={status}/{words}"
        + (" (success)" if status == 0 else ""),
        extra=[
            ("EXIT_CODE", "exited"),
            ("EXIT_STATUS", str(status)),
            ("COMMAND", process.get("command", "start")),
        ],
        priority=7 if status == 0 else 5,
    )


def failed(clock: Clock, unit: str, inv: str, status: int = 1, **process: Unpack[Process]) -> bytes:
    """systemd's lines for a run whose process (``control``: an ``ExecStartPre=`` or other
    control process, ``command`` naming which) exited with ``status``: exited, failed result,
    failed job."""
    return (
        process_exited(clock, unit, inv, status, **process)
        + pid1_line(
            clock,
            unit,
            inv,
            FAILURE,
            f"{unit}: Failed with result 'exit-code'.",
            extra=[("UNIT_RESULT", "exit-code")],
            priority=4,
        )
        + pid1_line(
            clock,
            unit,
            inv,
            JOB_FAILED,
            f"Failed to start {unit} - Deploy the website.",
            extra=[("JOB_TYPE", "start"), ("JOB_RESULT", "failed")],
            priority=3,
        )
    )
