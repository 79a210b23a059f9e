"""Fixtures: a real gatewayd over real journal files, and the proxy in front of it.

The journal is built once per session from export-format entries (``journal_proxy.local.journal``), so every
test reads the same real files through a real ``systemd-journal-gatewayd``.  A counting relay sits
between the proxy and gatewayd, so tests can assert that a refused request never reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, async_playwright

from journal_proxy.config import settings_from_mapping
from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.service.server import server_options
from journal_proxy.settings import Settings
from journal_proxy.web import make_app

from .helpers import eventually

UNIT = "deploy-website.service"

if not procs.tools_available():  # pragma: no cover - the test command installs them
    pytest.exit("systemd-journal-remote/gatewayd missing: run scripts/test.sh", returncode=3)


@dataclass
class Corpus:
    """The invocations in the session journal, by what they exercise."""

    ok: str = field(default_factory=lj.new_invocation_id)
    failed: str = field(default_factory=lj.new_invocation_id)
    running: str = field(default_factory=lj.new_invocation_id)
    other_unit: str = field(default_factory=lj.new_invocation_id)
    glob_unit: str = field(default_factory=lj.new_invocation_id)
    tricky: str = field(default_factory=lj.new_invocation_id)
    unknown: str = field(default_factory=lj.new_invocation_id)
    ok_lines: list[str] = field(default_factory=list)


SECRET_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
HTML_PAYLOADS = ["<script>window.pwned=1</script>", '<img src=x onerror="window.pwned=2">']


def build_corpus(directory: Path) -> Corpus:
    c = Corpus()
    clock = lj.Clock()
    out = bytearray()
    # A successful deployment, with systemd's lines around it.
    out += lj.starting(clock, UNIT, c.ok)
    c.ok_lines = [f"step {i}" for i in range(1, 6)]
    for line in c.ok_lines:
        out += lj.unit_line(clock, UNIT, c.ok, line)
    # Forgeries aimed at the ok invocation: another unit's process writing the user fields
    # that PID 1 uses, and a journal entry claiming the invocation from another unit.
    out += lj.pid1_line(
        clock,
        UNIT,
        c.ok,
        lj.FAILURE,
        "FORGED failure from pid 999",
        pid=999,
        extra=[("UNIT_RESULT", "exit-code")],
    )
    out += lj.export_entry(
        [
            ("__REALTIME_TIMESTAMP", str(clock.tick())),
            ("__MONOTONIC_TIMESTAMP", "1"),
            ("_BOOT_ID", lj.BOOT_ID),
            ("_PID", "777"),
            ("_SYSTEMD_UNIT", "evil.service"),
            ("_SYSTEMD_INVOCATION_ID", c.ok),
            ("MESSAGE", "FORGED from evil.service"),
        ]
    )
    out += lj.succeeded(clock, UNIT, c.ok)
    # A failed deployment.
    out += lj.starting(clock, UNIT, c.failed)
    out += lj.unit_line(clock, UNIT, c.failed, "running tests")
    out += lj.unit_line(clock, UNIT, c.failed, "\x1b[31merror:\x1b[0m tests failed", priority=3)
    out += lj.failed(clock, UNIT, c.failed, status=1)
    # Still running (no end in the journal).
    out += lj.starting(clock, UNIT, c.running)
    out += lj.unit_line(clock, UNIT, c.running, "still going")
    # A unit that is not pinned.
    out += lj.unit_line(clock, "other.service", c.other_unit, "not yours")
    # A templated unit, reachable only with a glob pin.
    out += lj.unit_line(clock, "deploy@blue.service", c.glob_unit, "blue deploy")
    # Hostile and awkward content, in a deployment that ran and finished.
    out += lj.starting(clock, UNIT, c.tricky)
    tricky: list[str | bytes] = [
        b"multi\nline\nmessage",
        b"bad utf8 \xff\xfe end",
        "title \x1b]0;pwned\x07 cursor \x1b[2J\x1b[H moved \x1b[1;32mgreen\x1b[0m",
        f"token {SECRET_TOKEN} and https://deploy:s3cr3tpass@git.example.com/repo.git",
        *HTML_PAYLOADS,
    ]
    for msg in tricky:
        out += lj.unit_line(clock, UNIT, c.tricky, msg, priority=4)
    out += lj.succeeded(clock, UNIT, c.tricky)
    procs.write_journal(directory, "corpus", bytes(out))
    return c


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Corpus]:
    directory = tmp_path_factory.mktemp("journal")
    return directory, build_corpus(directory)


@pytest.fixture(scope="session")
def corpus(corpus_dir: tuple[Path, Corpus]) -> Corpus:
    return corpus_dir[1]


@pytest.fixture(scope="session")
def gatewayd(corpus_dir: tuple[Path, Corpus]) -> Iterator[procs.Gatewayd]:
    gw = procs.Gatewayd(corpus_dir[0])
    yield gw
    gw.stop()


class CountingRelay:
    """A TCP relay in front of gatewayd that counts connections and request lines."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self.request_lines: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_w]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, record: bool) -> None:
            try:
                while data := await src.read(65536):
                    if record:
                        for line in data.split(b"\r\n"):
                            if line.startswith(b"GET "):
                                self.request_lines.append(line)
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pipe(reader, up_w, True), pipe(up_r, writer, False))

    def cut(self) -> None:
        """Drop every open connection at once, as a network failure would."""
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        if self.server:
            self.server.close()


@pytest.fixture
async def relay(gatewayd: procs.Gatewayd) -> AsyncIterator[CountingRelay]:
    r = CountingRelay(gatewayd.port)
    await r.start()
    yield r
    await r.close()


#: Debian's Chromium, as the probe runs it: no background networking (this machine's network is
#: closed), no sandbox (root), no GPU.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-crash-reporter",  # no crashpad handler left behind after the browser exits
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium for the page tests (one per test: no state shared between tests)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("chromium is not installed: run scripts/test.sh")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        await b.close()


ProxyFactory = Callable[..., Any]


@pytest.fixture
async def make_proxy(aiohttp_client: Any, relay: CountingRelay) -> AsyncIterator[ProxyFactory]:
    """Build the same app the CLI runs, in front of the counting relay (or another upstream)."""

    async def factory(
        upstream: str | list[str] | None = None, **overrides: Any
    ) -> TestClient[Any, Any]:
        raw: dict[str, Any] = {
            "unit": [UNIT],
            "upstream": upstream or f"http://127.0.0.1:{relay.port}",
        }
        raw.update(overrides)
        settings: Settings = settings_from_mapping(raw)
        server = TestServer(make_app(settings), **server_options(settings))
        client: TestClient[Any, Any] = await aiohttp_client(server)
        return client

    yield factory


@pytest.fixture
async def proxy(make_proxy: ProxyFactory) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await make_proxy()
    return client


def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def silent_server() -> tuple[asyncio.Server, int]:
    """Accepts connections and never answers: a gatewayd that hangs."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def app_of(client: TestClient[Any, Any]) -> web.Application:
    server = client.server
    assert isinstance(server, TestServer) and server.app is not None
    return server.app


FAST = {"timeouts": {"finish_grace": 0.5, "follow_idle": 30, "follow_max": 60}}


@dataclass
class Live:
    journal: procs.LiveJournal
    clock: lj.Clock
    relay: CountingRelay
    inv: str

    def line(self, message: str, **kw: Any) -> None:
        self.clock.usec = max(self.clock.usec + 1, lj.now_usec())
        self.journal.write(lj.unit_line(self.clock, UNIT, self.inv, message, **kw))

    def start(self) -> None:
        self.clock.usec = max(self.clock.usec + 1, lj.now_usec())
        self.journal.write(lj.starting(self.clock, UNIT, self.inv))

    def succeed(self) -> None:
        self.clock.usec = max(self.clock.usec + 1, lj.now_usec())
        self.journal.write(lj.succeeded(self.clock, UNIT, self.inv))

    def fail(self) -> None:
        self.clock.usec = max(self.clock.usec + 1, lj.now_usec())
        self.journal.write(lj.failed(self.clock, UNIT, self.inv, status=1))


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    directory = tmp_path / "live"
    journal = procs.LiveJournal(directory)
    gw = procs.Gatewayd(directory)
    relay = CountingRelay(gw.port)
    await relay.start()
    yield Live(journal, lj.Clock(lj.now_usec()), relay, lj.new_invocation_id())
    await relay.close()
    journal.close()
    gw.stop()


async def live_proxy(make_proxy: Any, live: Live, **overrides: Any) -> Any:
    raw = dict(FAST)
    raw.update(overrides)
    return await make_proxy(upstream=f"http://127.0.0.1:{live.relay.port}", **raw)


async def wait_for_log(proxy: Any, inv: str, lines: int) -> None:
    """Wait until the journal file shows ``lines`` entries (journal-remote writes asynchronously)."""

    async def enough() -> bool:
        resp = await proxy.get(f"/logs/{inv}.json")
        return resp.status == 200 and len((await resp.text()).splitlines()) - 1 >= lines

    await eventually(enough, interval=0.02, what=f"a journal of {lines} lines")


# -- every test stops what it starts -------------------------------------------------------------

#: What a fixture must not leave running (``comm`` is at most 15 characters).
_WATCHED = (
    "systemd-journal",
    "systemd-socket-",
    "nginx",
    "chrom",
    "systemd-nspawn",
    "journal-proxy",
)


def _stat(pid: str) -> tuple[str, int, int]:
    """``comm``, parent PID and start time (clock ticks since boot) from ``/proc/PID/stat``."""
    text = Path(f"/proc/{pid}/stat").read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, int(fields[1]), int(fields[19])


def _session_start() -> int:
    return _stat(str(os.getpid()))[2]


_STARTED = _session_start()


def _ours(ppid: int, parents: dict[int, int]) -> bool:
    """Started by this session: orphaned (its parent gone, so PID 1 took it) or still below it."""
    if ppid == 1:
        return True
    for _ in range(64):
        if ppid <= 1:
            return False
        if ppid == os.getpid():
            return True
        ppid = parents.get(ppid, 0)
    return False


def _left_running() -> dict[int, str]:
    """Watched processes started since this session began, below it or orphaned."""
    stats: dict[int, tuple[str, int, int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stats[int(proc.name)] = _stat(proc.name)
    parents = {pid: ppid for pid, (_, ppid, _) in stats.items()}
    return {
        pid: comm
        for pid, (comm, ppid, started) in stats.items()
        if comm.startswith(_WATCHED) and started >= _STARTED and _ours(ppid, parents)
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a gatewayd, nginx, Chromium, container or proxy it started outlived it
    (after a moment for processes that are already exiting), and stop them."""
    deadline = time.monotonic() + 3
    left = _left_running()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _left_running()
    if not left:
        return
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    print(f"\nprocesses started by the tests were still running (killed now): {left}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
