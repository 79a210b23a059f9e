"""Behind real nginx with the shipped deploy/nginx files, the proxy on a unix socket.

Per-client limits must hold for every shipped shape (``--listen unix:`` and socket activation):
nginx connects over a unix socket, so the proxy tells clients apart only by the
``X-Forwarded-For`` nginx sets.  And no nginx log may hold a whole invocation ID.
"""

from __future__ import annotations

import re
import socket
import time
import zlib
from pathlib import Path

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT, Corpus
from .helpers import wait_until
from .helpers_nginx import (
    NGINX_DIR,
    SHAPES,
    Nginx,
    SilentUnixServer,
    UnixProxy,
    connect,
    get,
    open_stream,
)

CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"
# A location outside the shipped snippet, proxied to the same upstream with nginx's default
# logging: the control that shows the test's conditions do make nginx log a request line.
CONTROL = "location /control/ { proxy_pass http://journal_proxy; }"


def _proxy_config(tmp_path: Path, upstream: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'unit = ["{UNIT}"]\nupstream = "{upstream}"\n[limits]\nmax_streams_per_client = 2\n'
    )
    return config


def test_shipped_snippet_forwards_the_client_address_from_every_location() -> None:
    snippet = (NGINX_DIR / "journal-proxy.conf").read_text()
    locations = re.findall(r"location\s+(\S+)\s*\{(.*?)\n\}", snippet, re.S)
    proxied = [(name, body) for name, body in locations if "proxy_pass" in body]
    assert [name for name, _ in proxied] == ["/logs/", "/static/"]
    for name, body in proxied:
        # $remote_addr replaces what the client sent; $proxy_add_x_forwarded_for would append
        # to it, and the proxy reads the last hop, so either is safe, but only this is shipped.
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in body, name
        assert "error_log /dev/null;" in body, name
        assert "access_log off" not in body and " journal_proxy;" in body, name


@pytest.mark.parametrize("shape", SHAPES)
def test_stream_limit_is_per_client_behind_nginx(
    shape: str, gatewayd: procs.Gatewayd, corpus: Corpus, tmp_path: Path
) -> None:
    sock_path = tmp_path / "proxy.sock"
    proxy = UnixProxy(shape, sock_path, _proxy_config(tmp_path, gatewayd.url))
    streams: list[socket.socket] = []
    try:
        with Nginx(tmp_path / "nginx", sock_path) as nginx:
            follow = f"/logs/{corpus.running}.txt?follow"
            for _ in range(2):  # max_streams_per_client
                status, sock = open_stream(nginx.port, follow, CLIENT_A)
                streams.append(sock)
                assert status == 200
            status, sock = open_stream(nginx.port, follow, CLIENT_A)
            streams.append(sock)
            assert status == 429  # A is at its limit...
            for _ in range(2):  # ...and B has its own
                status, sock = open_stream(nginx.port, follow, CLIENT_B)
                streams.append(sock)
                assert status == 200
            status, sock = open_stream(nginx.port, follow, CLIENT_B)
            streams.append(sock)
            assert status == 429
    finally:
        for s in streams:
            s.close()
        err = proxy.stop()
    assert b"Traceback" not in err, err[-2000:]


@pytest.mark.parametrize("shape", SHAPES)
def test_one_clients_refusals_do_not_throttle_another_behind_nginx(
    shape: str, gatewayd: procs.Gatewayd, corpus: Corpus, tmp_path: Path
) -> None:
    sock_path = tmp_path / "proxy.sock"
    proxy = UnixProxy(shape, sock_path, _proxy_config(tmp_path, gatewayd.url))
    try:
        with Nginx(tmp_path / "nginx", sock_path) as nginx:
            codes = [get(nginx.port, f"/logs/{i:032x}x", CLIENT_A)[0] for i in range(100)]
            assert codes[0] == 404 and 429 in codes, codes
            assert get(nginx.port, "/logs/not-a-link", CLIENT_A)[0] == 429
            assert get(nginx.port, "/static/not-an-asset", CLIENT_A)[0] == 429
            # B mistypes a link, and asks for a real one: neither is throttled by A's scanning.
            assert get(nginx.port, "/logs/not-a-link", CLIENT_B)[0] == 404
            assert get(nginx.port, "/static/not-an-asset", CLIENT_B)[0] == 404
            status, body = get(nginx.port, f"/logs/{corpus.ok}.txt", CLIENT_B)
            assert status == 200 and b"step 1" in body
    finally:
        err = proxy.stop()
    assert b"Traceback" not in err, err[-2000:]


def _no_capability_in_logs(nginx: Nginx, capability: str, control: str) -> None:
    logs = nginx.logs()
    # The control request went through the same nginx at the same level and was logged whole,
    # so the level and the failure were the kind that logs request lines.
    assert any(control in text for text in logs.values()), logs
    leaks = {name: text for name, text in logs.items() if capability in text}
    assert not leaks, leaks


@pytest.mark.parametrize("down", ["no-socket", "stale-socket"])
def test_no_nginx_log_holds_the_id_when_the_proxy_is_down(down: str, tmp_path: Path) -> None:
    sock_path = tmp_path / "proxy.sock"
    stale = None
    if down == "stale-socket":  # a socket file nobody listens on: connect() is refused
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(str(sock_path))
    capability, control = lj.new_invocation_id(), lj.new_invocation_id()
    try:
        with Nginx(tmp_path / "nginx", sock_path, extra=CONTROL) as nginx:
            for target in (f"/logs/{capability}", f"/logs/{capability}.txt?follow"):
                status, body = get(nginx.port, target)
                assert status == 502 and capability.encode() not in body
            assert get(nginx.port, f"/static/{capability}")[0] == 502
            assert get(nginx.port, f"/control/{control}")[0] == 502
            access = nginx.directory / "journal-proxy.access.log"
            wait_until(
                lambda: access.exists() and access.read_text().count(" 502 ") == 3,
                what="three 502s in the redacted access log",
                timeout=10.0,
            )
            _no_capability_in_logs(nginx, capability, control)
            # The operator still sees which link failed, by its first 8 hex digits.
            text = access.read_text()
            assert f'"GET /logs/{capability[:8]}..." 502 ' in text, text
            assert "upstream=502" in text
    finally:
        if stale is not None:
            stale.close()


def _abandon(nginx: Nginx, stuck: SilentUnixServer, n: int, target: str) -> None:
    """The ``n``-th request to the stuck proxy: sent, waited on, then given up by the reader."""
    sock = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    wait_until(
        lambda: len(stuck.requests) > n and target.encode() in stuck.requests[n],
        what="the request reached the stuck proxy",
        timeout=10.0,
    )
    sock.close()  # nginx logs the abort (info) and drops the upstream connection
    wait_until(lambda: stuck.closed > n, what="nginx closed the upstream connection", timeout=10.0)


def test_no_nginx_log_holds_the_id_when_the_proxy_is_slow(tmp_path: Path) -> None:
    sock_path = tmp_path / "proxy.sock"
    stuck = SilentUnixServer(sock_path)
    capability, control = lj.new_invocation_id(), lj.new_invocation_id()
    try:
        with Nginx(tmp_path / "nginx", sock_path, extra=CONTROL) as nginx:
            _abandon(nginx, stuck, 0, f"/logs/{capability}.txt?follow")
            _abandon(nginx, stuck, 1, f"/control/{control}")
            wait_until(
                lambda: any(control in t for t in nginx.logs().values()),
                what="the control's abort logged",
                timeout=10.0,
            )
            _no_capability_in_logs(nginx, capability, control)
    finally:
        stuck.close()


def test_at_debug_level_only_the_lines_before_a_location_is_chosen_hold_the_id(
    tmp_path: Path,
) -> None:
    """What the snippet documents as unavoidable: debug logging runs before location matching."""
    sock_path = tmp_path / "proxy.sock"
    capability, control = lj.new_invocation_id(), lj.new_invocation_id()
    with Nginx(tmp_path / "nginx", sock_path, error_level="debug", extra=CONTROL) as nginx:
        assert get(nginx.port, f"/logs/{capability}")[0] == 502
        assert get(nginx.port, f"/control/{control}")[0] == 502
        wait_until(
            lambda: any(control in t for t in nginx.logs().values()),
            what="the control logged",
            timeout=10.0,
        )
        lines = [
            line
            for text in nginx.logs().values()
            for line in text.splitlines()
            if capability in line
        ]
    if not any("[debug]" in t for t in nginx.logs().values()):
        pytest.skip("this nginx is built without --with-debug")
    assert lines
    for line in lines:
        assert re.search(r"\[debug\] .* (http request line|http uri): ", line), line


class _GzipChunks:
    """A chunked, gzip-encoded body read as it arrives, decoded as far as it has come."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._unzip = zlib.decompressobj(31)
        self._raw = b""
        self.text = b""
        sock.settimeout(0.2)

    def until(self, marker: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} not received; got {self.text[-300:]!r}")
            try:
                self._raw += self._sock.recv(65536)
            except TimeoutError:
                continue
            while True:  # every complete chunk so far goes to the decompressor
                size_line, sep, rest = self._raw.partition(b"\r\n")
                size = int(size_line, 16) if sep else -1
                if size < 0 or len(rest) < size + 2:
                    break
                self.text += self._unzip.decompress(rest[:size])
                self._raw = rest[size + 2 :]


@pytest.mark.parametrize("shape", ["listen"])
def test_live_lines_arrive_at_once_through_nginx_gzip(shape: str, tmp_path: Path) -> None:
    """The shipped snippet compresses ?follow streams; a live line must still arrive at once."""
    directory = tmp_path / "live"
    journal = procs.LiveJournal(directory)
    gw = procs.Gatewayd(directory)
    clock, inv = lj.Clock(lj.now_usec()), lj.new_invocation_id()
    journal.write(lj.starting(clock, UNIT, inv))
    sock_path = tmp_path / "proxy.sock"
    proxy = UnixProxy(shape, sock_path, _proxy_config(tmp_path, gw.url))
    try:
        with Nginx(tmp_path / "nginx", sock_path) as nginx:
            sock = connect(nginx.port, CLIENT_A)
            sock.sendall(
                f"GET /logs/{inv}.txt?follow HTTP/1.1\r\nHost: x\r\n"
                "Accept-Encoding: gzip\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(1)
            assert b"Content-Encoding: gzip" in head, head
            body = _GzipChunks(sock)
            body.until(b"Starting", timeout=10)
            clock.usec = max(clock.usec + 1, lj.now_usec())
            written = time.monotonic()
            journal.write(lj.unit_line(clock, UNIT, inv, "a live line through gzip"))
            body.until(b"a live line through gzip", timeout=5)
            # Well within the follow's usual delay plus journal-remote's write: not held for a
            # gzip buffer to fill (that would be never, for a quiet deploy).
            assert time.monotonic() - written < 2.0
            sock.close()
    finally:
        proxy.stop()
        journal.close()
        gw.stop()
