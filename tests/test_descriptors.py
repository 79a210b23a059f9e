"""Running out of descriptors: one log line per interval, and service again once they are freed."""

from __future__ import annotations

import logging
import resource
import socket
import subprocess
import threading
import time
from asyncio import constants as asyncio_constants

from journal_proxy.local import procs
from journal_proxy.service.log_format import AcceptErrorThrottle

from .conftest import UNIT
from .helpers import wait_until

ACCEPT_ERROR = AcceptErrorThrottle.MESSAGE


def _record(msg: str, name: str = "asyncio") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)


def test_accept_errors_pass_once_per_interval_with_a_count() -> None:
    now = [100.0]
    throttle = AcceptErrorThrottle(interval=60.0, clock=lambda: now[0])
    first = _record(f"{ACCEPT_ERROR}\nsocket: <fd=6>")
    assert throttle.filter(first)
    assert first.getMessage() == f"{ACCEPT_ERROR}\nsocket: <fd=6>"  # nothing to count yet
    for _ in range(59):  # asyncio retries once a second
        now[0] += 1
        assert not throttle.filter(_record(f"{ACCEPT_ERROR}\nsocket: <fd=6>"))
    assert throttle.filter(_record("Unclosed connection"))  # other asyncio errors are untouched
    now[0] += 1
    again = _record(f"{ACCEPT_ERROR}\nsocket: <fd=6>")
    assert throttle.filter(again)
    assert again.getMessage().startswith(f"{ACCEPT_ERROR} (59 more since the last one shown")
    assert again.getMessage().endswith("\nsocket: <fd=6>")
    now[0] += 1
    assert not throttle.filter(_record(ACCEPT_ERROR))


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def test_descriptor_exhaustion_logs_once_and_the_server_recovers(gatewayd: procs.Gatewayd) -> None:
    proxy = procs.ProxyProcess(
        UNIT, gatewayd.url, stderr=subprocess.PIPE, preexec_fn=_low_descriptor_limit
    )
    proc, port = proxy.proc, proxy.port
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.append(raw.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    idle: list[socket.socket] = []
    try:
        procs.wait_port(port)
        # Idle clients until the proxy has no descriptor left to accept with (the kernel still
        # completes connections into the listen backlog, so connecting never fails here).
        for _ in range(100):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        wait_until(
            lambda: any(ACCEPT_ERROR in line for line in lines),
            what="the accept error logged",
            timeout=10.0,
        )
        # The shortage under test lasts this long: asyncio retries the accept every
        # ACCEPT_RETRY_DELAY seconds, so without the throttle this would log four more lines.
        time.sleep(4 * asyncio_constants.ACCEPT_RETRY_DELAY + 0.5)
        assert sum(ACCEPT_ERROR in line for line in lines) == 1, lines
        for s in idle:
            s.close()
        idle.clear()

        def served() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                    return s.recv(64).split(b" ", 2)[1:2] == [b"200"]
            except OSError:
                return False

        wait_until(served, what="a new client served once descriptors are free", timeout=15)
    finally:
        for s in idle:
            s.close()
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=10)
    assert not any("Traceback" in line for line in lines), lines
