"""Real nginx with the shipped deploy/nginx files in front of the proxy on a unix socket.

The test copies of the shipped files change only what must differ on a test machine: the unix
socket path, the listen port, and the log directory.  Clients choose their source address
(127.0.0.2, 127.0.0.3, ...) so nginx sees distinct ``$remote_addr`` values on loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from journal_proxy.local import procs

from .helpers import exchange_blocking, status_of

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "deploy/nginx"
SHIPPED_SOCKET = "unix:/run/journal-proxy.sock"
SHIPPED_LOG_DIR = "/var/log/nginx/"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY = [sys.executable, "-m", "journal_proxy.cli"]
SHAPES = ("listen", "activated")  # --listen unix:/path, and systemd socket activation


def nginx_config(
    directory: Path, socket_path: Path, port: int, *, error_level: str, extra: str = ""
) -> Path:
    """nginx.conf around the shipped upstream.conf and journal-proxy.conf.

    ``extra`` adds server-level directives (the tests add an unprotected location as a control).
    """
    upstream = (NGINX_DIR / "upstream.conf").read_text()
    snippet = (NGINX_DIR / "journal-proxy.conf").read_text()
    assert SHIPPED_SOCKET in upstream
    upstream = upstream.replace(SHIPPED_SOCKET, f"unix:{socket_path}")
    snippet = snippet.replace(SHIPPED_LOG_DIR, f"{directory}/")
    (directory / "journal-proxy.conf").write_text(snippet)
    user = "user root;" if os.geteuid() == 0 else ""  # workers must reach a socket under /tmp
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off;
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/main-error.log {error_level};
events {{ worker_connections 512; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}; proxy_temp_path {directory};
    fastcgi_temp_path {directory}; uwsgi_temp_path {directory}; scgi_temp_path {directory};
    {upstream}
    server {{
        listen 127.0.0.1:{port};
        error_log {directory}/server-error.log {error_level};
        include {directory}/journal-proxy.conf;
        {extra}
        location / {{ return 404; }}
    }}
}}
""")
    return conf


class Nginx:
    """A real nginx on a free loopback port; every log it writes lands in ``directory``."""

    def __init__(
        self, directory: Path, socket_path: Path, *, error_level: str = "info", extra: str = ""
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = procs.free_port()
        conf = nginx_config(directory, socket_path, self.port, error_level=error_level, extra=extra)
        self.proc = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.DEVNULL)
        procs.wait_port(self.port)

    def logs(self) -> dict[str, str]:
        """Every file nginx wrote in its directory that is a log, by name."""
        return {p.name: p.read_text(errors="replace") for p in sorted(self.directory.glob("*.log"))}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class UnixProxy:
    """journal-proxy on a unix socket, in one of the shipped shapes (see ``SHAPES``)."""

    def __init__(self, shape: str, socket_path: Path, config: Path) -> None:
        serve = [*PROXY, "serve", "--config", str(config)]
        if shape == "listen":
            cmd = [*serve, "--listen", f"unix:{socket_path}", "--listen-mode", "600"]
        elif shape == "activated":
            cmd = ["systemd-socket-activate", "-l", str(socket_path), *serve]
        else:
            raise ValueError(shape)
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        procs.wait_path(str(socket_path))

    def stop(self) -> bytes:
        """Stop it; its stderr, for the caller to check."""
        self.proc.terminate()
        self.proc.wait(timeout=10)
        return self.proc.stderr.read() if self.proc.stderr else b""


def connect(port: int, source: str) -> socket.socket:
    """A connection to nginx from loopback address ``source`` (nginx's ``$remote_addr``)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return sock


def get(port: int, target: str, source: str = "127.0.0.1") -> tuple[int, bytes]:
    """One HTTP/1.0 GET through nginx; the status and the whole answer."""
    raw = f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    data = exchange_blocking(raw, port=port, source=source)
    return status_of(data), data


def open_stream(port: int, target: str, source: str) -> tuple[int, socket.socket]:
    """Start a GET and read up to the end of the answer's head; the socket stays open."""
    sock = connect(port, source)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        if not chunk:
            break
        head += chunk
    return status_of(head), sock


class SilentUnixServer:
    """Accepts on a unix socket, reads what comes, never answers: a proxy that is up but stuck.

    ``requests`` holds what each connection sent; ``closed`` counts connections the peer ended.
    """

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self.requests: list[bytes] = []
        self.closed = 0
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                index = len(self.requests)
                self.requests.append(b"")
            threading.Thread(target=self._read, args=(conn, index), daemon=True).start()

    def _read(self, conn: socket.socket, index: int) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                with self._lock:
                    if not data:
                        self.closed += 1
                        return
                    self.requests[index] += data

    def close(self) -> None:
        self._stop = True
        self.sock.close()
