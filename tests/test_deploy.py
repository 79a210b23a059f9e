"""Running as deployed: socket activation, sd_notify, shutdown, unix sockets, nginx, unit files."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.service.activation import Notifier, listen_sockets

from .conftest import UNIT, Corpus
from .helpers import get_blocking, recv_until, wait_until

ROOT = Path(__file__).resolve().parent.parent
PROXY = [sys.executable, "-m", "journal_proxy.cli"]


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    yield s, path
    s.close()


def _messages(sock: socket.socket, until: str, timeout: float = 10) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            seen += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            break
        if any(m.startswith(until) for m in seen):
            return seen
    raise AssertionError(f"no {until} in {seen}")


def test_listen_sockets_checks_pid_and_clears_variables() -> None:
    env = {"LISTEN_PID": "1", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"}
    assert listen_sockets(env) == []  # not for us
    assert env == {}
    n = Notifier({"NOTIFY_SOCKET": "relative/path"})
    assert not n.enabled


def test_tcp_socket_activation_serves_and_notifies(
    gatewayd: procs.Gatewayd, corpus: Corpus, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    port = procs.free_port()
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    proc = subprocess.Popen(
        [
            "systemd-socket-activate",
            "-l",
            f"127.0.0.1:{port}",
            "-E",
            "NOTIFY_SOCKET",
            "-E",
            "WATCHDOG_USEC",
            *PROXY,
            "serve",
            "--unit",
            UNIT,
            "--upstream",
            gatewayd.url,
            "--listen",
            "127.0.0.1:1",
        ],  # --listen is ignored when sockets are passed
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        # systemd-socket-activate starts the program on the first connection, as systemd does.
        procs.wait_port(port)
        status, body = get_blocking(f"/logs/{corpus.ok}.txt", port=port)
        assert status == 200 and b"step 1" in body
        seen = _messages(sock, "READY=1")
        seen += _messages(sock, "WATCHDOG=1")
        assert any(m.startswith("STATUS=serving") for m in seen)
        proc.send_signal(signal.SIGTERM)
        seen += _messages(sock, "STOPPING=1")
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err
    assert corpus.ok not in err  # the access log shows only a prefix of the capability
    assert corpus.ok[:8] + "…" in err
    ours = err.split("Execing", 1)[1].splitlines()[1:]  # after systemd-socket-activate's own lines
    assert ours and all(re.match(r"<[0-7]>journal_proxy", line) for line in ours), err


def test_unix_socket_activation_and_unix_upstream(
    corpus_dir: tuple[Path, Corpus], tmp_path: Path
) -> None:
    directory, corpus = corpus_dir
    upstream_sock = str(tmp_path / "gatewayd.sock")
    gw = procs.Gatewayd(directory, unix_path=upstream_sock)
    listen_sock = str(tmp_path / "proxy.sock")
    proc = subprocess.Popen(
        [
            "systemd-socket-activate",
            "-l",
            listen_sock,
            *PROXY,
            "serve",
            "--unit",
            UNIT,
            "--upstream",
            f"unix:{upstream_sock}",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        procs.wait_path(listen_sock)
        status, body = get_blocking(f"/logs/{corpus.failed}.txt", unix=listen_sock)
        assert status == 200
        assert b"failed: exit-code, status 1" in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        gw.stop()


def test_listen_on_unix_path_with_mode(
    gatewayd: procs.Gatewayd, corpus: Corpus, tmp_path: Path
) -> None:
    path = str(tmp_path / "listen.sock")
    proc = subprocess.Popen(
        [
            *PROXY,
            "serve",
            "--unit",
            UNIT,
            "--upstream",
            gatewayd.url,
            "--listen",
            f"unix:{path}",
            "--listen-mode",
            "640",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        procs.wait_path(path)
        # The socket appears owner-only (0600, the umask while it is made), then gets its mode:
        # 640 is neither that nor the default 660, so the flag is what this sees.
        wait_until(lambda: os.stat(path).st_mode & 0o777 == 0o640, what="the socket's mode 640")
        assert get_blocking(f"/logs/{corpus.ok}.json", unix=path)[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_exit_idle_after(gatewayd: procs.Gatewayd) -> None:
    port = procs.free_port()
    proc = subprocess.Popen(
        [
            "systemd-socket-activate",
            "-l",
            f"127.0.0.1:{port}",
            *PROXY,
            "serve",
            "--unit",
            UNIT,
            "--upstream",
            gatewayd.url,
            "--exit-idle-after",
            "1",
        ],
        stderr=subprocess.PIPE,
    )
    try:
        procs.wait_port(port)
        assert get_blocking("/healthz", port=port)[0] == 200  # starts it, as systemd would
        started = time.monotonic()
        assert proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 8
    finally:
        proc.kill()
    assert b"idle for" in (proc.stderr.read() if proc.stderr else b"")


def test_sigterm_ends_follow_streams_with_a_closing_line(tmp_path: Path) -> None:
    directory = tmp_path / "live"
    journal = procs.LiveJournal(directory)
    gw = procs.Gatewayd(directory)
    inv = lj.new_invocation_id()
    clock = lj.Clock(lj.now_usec())
    journal.write(lj.starting(clock, UNIT, inv))
    proxy = procs.ProxyProcess(UNIT, gw.url, stderr=subprocess.PIPE)
    proc, port = proxy.proc, proxy.port
    try:
        wait_until(
            lambda: get_blocking(f"/logs/{inv}.txt", port=port)[0] == 200,
            what="the live journal served",
        )
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(f"GET /logs/{inv}.txt?follow HTTP/1.0\r\n\r\n".encode())
        conn.settimeout(10)
        got = recv_until(conn, b"Starting")  # past its history: the follow is live
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = got
        while chunk := conn.recv(65536):
            rest += chunk
        assert b"# end of stream: the server is shutting down" in rest
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 6
    finally:
        proc.kill()
        journal.close()
        gw.stop()
    assert b"Traceback" not in (proc.stderr.read() if proc.stderr else b"")


def _nginx_conf(tmp: Path, proxy_port: int, nginx_port: int) -> Path:
    snippet = (
        (ROOT / "deploy/nginx/journal-proxy.conf").read_text().replace("/var/log/nginx/", f"{tmp}/")
    )
    upstream = (
        (ROOT / "deploy/nginx/upstream.conf")
        .read_text()
        .replace("server unix:/run/journal-proxy.sock;", f"server 127.0.0.1:{proxy_port};")
    )
    (tmp / "snippet.conf").write_text(snippet)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
    {upstream}
    server {{
        listen 127.0.0.1:{nginx_port};
        include {tmp}/snippet.conf;
        location / {{ return 404; }}
    }}
}}
""")
    return conf


def test_behind_real_nginx_with_the_shipped_snippet_including_live_follow(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    directory = tmp_path / "live"
    journal = procs.LiveJournal(directory)
    gw = procs.Gatewayd(directory)
    inv = lj.new_invocation_id()
    clock = lj.Clock(lj.now_usec())
    journal.write(lj.starting(clock, UNIT, inv) + lj.unit_line(clock, UNIT, inv, "hello via nginx"))
    proxy = procs.ProxyProcess(UNIT, gw.url)
    nginx_port = procs.free_port()
    ngx = subprocess.Popen(
        [nginx, "-c", str(_nginx_conf(tmp_path, proxy.port, nginx_port))], stderr=subprocess.DEVNULL
    )
    try:
        procs.wait_port(nginx_port)
        wait_until(
            lambda: b"hello via nginx" in get_blocking(f"/logs/{inv}.txt", port=nginx_port)[1],
            what="the live journal served through nginx",
        )
        status, body = get_blocking(f"/logs/{inv}.txt", port=nginx_port)
        assert status == 200 and b"hello via nginx" in body
        assert get_blocking("/entries", port=nginx_port)[0] == 404
        assert get_blocking(f"/logs/{inv.upper()}", port=nginx_port)[0] == 404
        conn = socket.create_connection(("127.0.0.1", nginx_port))
        conn.sendall(f"GET /logs/{inv}.txt?follow HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        conn.settimeout(10)
        got = recv_until(conn, b"hello via nginx")
        journal.write(lj.unit_line(clock, UNIT, inv, "live through nginx"))
        started = time.monotonic()
        got = recv_until(conn, b"live through nginx", got)
        assert time.monotonic() - started < 2  # not held back by proxy buffering
        journal.write(lj.succeeded(clock, UNIT, inv))
        recv_until(conn, b"end of stream", got)
        conn.close()
        for log in tmp_path.glob("*.log"):
            assert inv not in log.read_text(), log
    finally:
        ngx.terminate()
        ngx.wait(timeout=10)
        proxy.stop()
        journal.close()
        gw.stop()


def test_shipped_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    exe = shutil.which("journal-proxy", path=str(Path(sys.executable).parent)) or "/bin/true"
    units = [
        ROOT / "deploy/journal-proxy.socket",
        ROOT / "deploy/journal-proxy.service",
        *sorted((ROOT / "deploy/examples").iterdir()),
    ]
    for unit in units:
        text = unit.read_text().replace("/usr/local/bin/journal-proxy", exe)
        text = text.replace("/opt/website/deploy.sh", "/bin/true")
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *[str(tmp_path / u.name) for u in units]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    security = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            "--threshold=20",
            str(tmp_path / "journal-proxy.service"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert security.returncode == 0, security.stdout[-2000:]
    score = re.search(
        r"Overall exposure level for journal-proxy.service: ([0-9.]+)", security.stdout
    )
    assert score and float(score.group(1)) <= 2.0, security.stdout[-500:]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def test_https_upstream_with_client_certificate(
    corpus_dir: tuple[Path, Corpus], tmp_path: Path
) -> None:
    directory, corpus = corpus_dir
    d = tmp_path
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        f"{d}/ca.key",
        "-out",
        f"{d}/ca.pem",
    )
    for name, cn in (("server", "127.0.0.1"), ("client", "journal-proxy")):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={cn}",
            "-keyout",
            f"{d}/{name}.key",
            "-out",
            f"{d}/{name}.csr",
        )
        (d / f"{name}.ext").write_text(
            "subjectAltName=IP:127.0.0.1\n" if name == "server" else "extendedKeyUsage=clientAuth\n"
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{d}/{name}.csr",
            "-CA",
            f"{d}/ca.pem",
            "-CAkey",
            f"{d}/ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            f"{d}/{name}.ext",
            "-out",
            f"{d}/{name}.pem",
        )
    # Debian 12's gatewayd has no --trust ("Option --trust= is not available"), so it cannot demand
    # the client certificate; the proxy still presents it, and verifies gatewayd against the CA.
    gw = procs.Gatewayd(directory, tls=[f"--cert={d}/server.pem", f"--key={d}/server.key"])
    trust = ("--upstream-trust", f"{d}/ca.pem")
    cert = ("--upstream-cert", f"{d}/client.pem", "--upstream-key", f"{d}/client.key")
    try:
        with_cert = procs.ProxyProcess(UNIT, gw.url, *trust, *cert)
        try:
            status, body = get_blocking(f"/logs/{corpus.ok}.txt", port=with_cert.port)
            assert status == 200 and b"step 1" in body
        finally:
            with_cert.stop()
        without = procs.ProxyProcess(UNIT, gw.url)
        try:  # gatewayd refuses us
            assert get_blocking(f"/logs/{corpus.ok}.txt", port=without.port)[0] == 502
        finally:
            without.stop()
    finally:
        gw.stop()
