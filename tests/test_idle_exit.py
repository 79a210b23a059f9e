"""Idle exit (``--exit-idle-after``) counts requests in flight, not open connections.

nginx keeps idle keep-alive connections open to the proxy; counting those, the proxy waited for
aiohttp to close them (15 s) before it could idle-exit, and a busy nginx never let it.  A live
follow, or any request in flight, must still keep it running.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from journal_proxy.local import procs

from .conftest import UNIT, Corpus
from .helpers import recv_until

IDLE = 1.0  # --exit-idle-after; the housekeeping looks every IDLE seconds
KEEP_ALIVE = 15.0  # server_options: how long aiohttp keeps an idle connection


def _proxy(gatewayd: procs.Gatewayd) -> procs.ProxyProcess:
    return procs.ProxyProcess(
        UNIT, gatewayd.url, "--exit-idle-after", str(IDLE), stderr=subprocess.PIPE
    )


def _stderr(proxy: procs.ProxyProcess) -> bytes:
    proxy.proc.kill()  # if it is still running, the test has failed already
    return proxy.proc.communicate(timeout=10)[1]


def test_an_idle_keep_alive_connection_does_not_hold_off_idle_exit(
    gatewayd: procs.Gatewayd, corpus: Corpus
) -> None:
    proxy = _proxy(gatewayd)
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as kept:
            kept.sendall(f"GET /logs/{corpus.ok}.txt HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            recv_until(kept, b"step 5")
            began = time.monotonic()
            assert proxy.proc.wait(timeout=KEEP_ALIVE) == 0
            took = time.monotonic() - began
            assert kept.recv(1) == b""  # closed by the exit, not before it
    finally:
        err = _stderr(proxy)
    assert took < KEEP_ALIVE / 2, took  # not after aiohttp closed the idle connection
    assert b"idle for" in err, err[-2000:]


def test_a_live_follow_keeps_the_proxy_running(gatewayd: procs.Gatewayd, corpus: Corpus) -> None:
    proxy = _proxy(gatewayd)
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as follow:
            follow.sendall(
                f"GET /logs/{corpus.running}.txt?follow HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
            recv_until(follow, b"still going")
            with pytest.raises(subprocess.TimeoutExpired):
                proxy.proc.wait(timeout=4 * IDLE)  # in flight all along: no exit
        assert proxy.proc.wait(timeout=KEEP_ALIVE) == 0  # the follow ended: idle again
    finally:
        err = _stderr(proxy)
    assert b"idle for" in err, err[-2000:]
