"""The systemd tools as processes, for the demo and the tests: journal files, gatewayd, the proxy.

``systemd-journal-remote`` turns export-format bytes (:mod:`journal_proxy.local.journal`) into
journal files; a live journal is a FIFO that it keeps reading while we keep writing.
``systemd-socket-activate`` lets ``systemd-journal-gatewayd`` serve them on any port or unix
socket.  :class:`ProxyProcess` runs ``journal-proxy serve`` as deployed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

GATEWAYD = "/lib/systemd/systemd-journal-gatewayd"
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
SOCKET_ACTIVATE = "systemd-socket-activate"


def write_journal(directory: Path, name: str, export: bytes) -> Path:
    """Turn export-format bytes into a real journal file with systemd-journal-remote."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".export") as f:
        f.write(export)
        f.flush()
        target = directory / f"{name}.journal"
        subprocess.run(
            [JOURNAL_REMOTE, "-o", str(target), f.name],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return target


class LiveJournal:
    """A journal file that grows while the test or demo writes to it."""

    def __init__(self, directory: Path, name: str = "live") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._fifo = directory.parent / f".{directory.name}-{name}.fifo"
        with contextlib.suppress(FileNotFoundError):
            self._fifo.unlink()
        os.mkfifo(self._fifo)
        self._proc = subprocess.Popen(
            [JOURNAL_REMOTE, "-o", str(directory / f"{name}.journal"), str(self._fifo)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._writer = open(self._fifo, "wb", buffering=0)  # noqa: SIM115 - closed in close()

    def write(self, export: bytes) -> None:
        self._writer.write(export)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._writer.close()
        reap(self._proc, timeout=10)
        with contextlib.suppress(FileNotFoundError):
            self._fifo.unlink()


def reap(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait for ``proc`` to exit; kill it if it takes longer than ``timeout`` seconds, so nothing
    a test or the demo started outlives it."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on the loopback ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def wait_path(path: str, timeout: float = 10.0) -> None:
    """Block until a unix socket (or any file) exists at ``path``."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} never appeared")
        time.sleep(0.02)


class ProxyProcess:
    """``journal-proxy serve`` as its own process, as deployed, on a loopback port.

    ``port``: a given one (a restart reuses the address), else a free one.  ``root``: run the
    ``journal_proxy`` found there (a frozen commit, for paired benchmarks), else this one.
    ``python``: interpreter options before ``-m`` (a profiler).  ``stderr``, ``preexec_fn``: as
    for :class:`subprocess.Popen`.
    """

    def __init__(
        self,
        unit: str,
        upstream: str,
        *extra: str,
        port: int | None = None,
        root: Path | None = None,
        python: Sequence[str] = (),
        stderr: int | None = None,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *python,
                "-m",
                "journal_proxy.cli",
                "serve",
                "--unit",
                unit,
                "--upstream",
                upstream,
                "--listen",
                f"127.0.0.1:{self.port}",
                *extra,
            ],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)} if root else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if stderr is None else stderr,
            preexec_fn=preexec_fn,
        )
        try:
            wait_port(self.port)
        except BaseException:
            self.proc.kill()  # never left running behind a failed test
            self.proc.wait()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gatewayd:
    """A real systemd-journal-gatewayd serving ``directory``, socket-activated on TCP or unix."""

    def __init__(
        self, directory: Path, *, unix_path: str | None = None, tls: Sequence[str] = ()
    ) -> None:
        """``tls``: gatewayd's own ``--cert=``, ``--key=``, ``--trust=`` options, for https."""
        self.directory = directory
        self.port = 0 if unix_path else free_port()
        self.unix_path = unix_path
        self.scheme = "https" if tls else "http"
        listen = unix_path if unix_path else f"127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            [SOCKET_ACTIVATE, "-l", listen, GATEWAYD, "-D", str(directory), *tls],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready()

    @property
    def url(self) -> str:
        if self.unix_path:
            return f"unix:{self.unix_path}"
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError("systemd-journal-gatewayd exited at start")
            if self.unix_path:
                if os.path.exists(self.unix_path):
                    return
            else:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError("systemd-journal-gatewayd did not start listening")

    def stop(self) -> None:
        self._proc.terminate()
        reap(self._proc, timeout=5)


def tools_available() -> bool:
    return (
        all(os.access(p, os.X_OK) for p in (GATEWAYD, JOURNAL_REMOTE))
        and shutil.which(SOCKET_ACTIVATE) is not None
    )
