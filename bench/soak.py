#!/usr/bin/env python3
"""Soak: an hour of realistic mixed traffic against one proxy process, sampling what it holds.

Why: the proxy is meant to run for weeks (socket activation restarts it only when idle, and a busy
site never is), so every structure that grows with clients, invocations or time must be bounded.
This runs the proxy as deployed (its own process, ``serve --config``, ``metrics = true``) on a
real gatewayd and a live journal, and prints, every few seconds, the proxy's RSS, open files, CPU
and every ``journal_proxy_*`` gauge from ``/metrics`` side by side (new gauges show up without a
change here).  It exits 1 if any valid request failed.

Commands (from the repository root)::

    .venv/bin/python bench/soak.py --smoke                 # ~25 s, CI's smoke step
    .venv/bin/python bench/soak.py --out bench/results/soak.json   # the hour (--seconds 3600)
    .venv/bin/python bench/soak.py --seconds 1500 --traced --frames 0 --quiet-at 300,900,1440
        # full speed, with quiet samples (rows marked q) and gc object counts by type at 5, 15
        # and 24 minutes, compared at the end: the figures to quote for RSS
    .venv/bin/python bench/soak.py --seconds 1500 --traced --frames 25 --quiet-at 300,1440
        # the proxy under tracemalloc (bench/traced_proxy.py), snapshots compared at the end by
        # allocation site; tracing makes the proxy about 10x slower, so not for RSS figures

Add ``--proxy-root DIR`` to run a frozen copy of a commit (``git archive HEAD journal_proxy |
tar -x -C DIR``) while the tree is being edited, and ``--keep`` to keep the proxy's log.
At each ``--quiet-at`` time (by default minutes 10, 30 and 50 of the hour) the clients are
hushed until no stream and no hub is left, so a quiet sample (and a snapshot) holds what the
proxy keeps, not what it is sending: compare those rows, and the last one, for growth.

The traffic, all on loopback, from many source addresses (each client binds its own
``127.x.y.z``; some scanners come through ``127.0.0.1`` as a trusted proxy with
``X-Forwarded-For``):

- finished invocations written into a live journal over time (most 10-600 lines, a few of
  1,500-2,500 that are too big to cache), read as text, JSON (entries numbered 1..N), HTML, HEAD and
  with ``If-None-Match``; recent ones more often, old ones too, so the small cache
  (``--cache-bytes``, 512 KiB by default) fills within minutes and keeps evicting;
- running invocations that write lines for a while and then succeed or fail, with viewers joining
  and leaving: ``.txt?follow``, ``.json?follow``, SSE, and SSE that reconnects with
  ``Last-Event-ID`` (the first event after the reconnect must be the next line);
- slow readers on raw sockets with a 4 KiB receive buffer, reading a follow stream or a big log a
  few hundred bytes at a time;
- unknown invocation IDs (``404``), and scanners: bursts of junk paths from fresh and returning
  addresses (``404``, ``429`` once throttled).

A valid request errs when its status is not the expected one, its connection fails, or its body
is wrong (JSON entry numbers, SSE resume gap), or a follow ends for a reason the soak did not
cause (``shutdown``, ``upstream``).  Messages carry colours (some 256-colour codes at
random), secrets to mask, long lines and now and then a one-off identifier, so the renderers'
caches see variety too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy.local import journal as lj  # noqa: E402
from journal_proxy.local import procs  # noqa: E402

UNIT = "deploy-website.service"
GAUGE_PREFIX = "journal_proxy_"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Profile:
    """How much of each kind of traffic; the hour and the smoke run differ only in scale."""

    seconds: float
    sample_every: float
    initial_finished: int  # finished invocations in the journal before the proxy starts
    finished_every: float  # mean seconds between newly finished invocations
    live_runs: int  # invocations running at once
    live_seconds: tuple[float, float]  # how long one runs
    live_line_every: tuple[float, float]  # seconds between its lines
    readers: int  # workers reading finished logs back to back
    viewers: int  # concurrent follow viewers
    view_seconds: tuple[float, float]
    slow_readers: int
    slow_seconds: tuple[float, float]
    scanners: int
    unknown_per_second: float
    settle: float  # quiet seconds after the load, before the last sample
    quiet_at: str  # default seconds for quiet samples: minute 10 (cache full), 30, 50


HOUR = Profile(
    seconds=3600,
    sample_every=30,
    initial_finished=40,
    finished_every=4.0,
    live_runs=3,
    live_seconds=(60, 600),
    live_line_every=(0.05, 0.5),
    readers=3,
    viewers=24,
    view_seconds=(2, 90),
    slow_readers=3,
    slow_seconds=(20, 120),
    scanners=2,
    unknown_per_second=4,
    settle=8,
    quiet_at="600,1800,3000",
)
SMOKE = Profile(
    seconds=20,
    sample_every=4,
    initial_finished=30,
    finished_every=0.5,
    live_runs=2,
    live_seconds=(3, 8),
    live_line_every=(0.02, 0.2),
    readers=2,
    viewers=8,
    view_seconds=(0.5, 4),
    slow_readers=1,
    slow_seconds=(2, 5),
    scanners=1,
    unknown_per_second=4,
    settle=4,
    quiet_at="",
)

VALID_KINDS = (
    "finished",
    "head",
    "conditional",
    "unknown-id",
    "follow-txt",
    "follow-json",
    "sse",
    "sse-resume",
    "slow-follow",
    "slow-big",
)
SCANNER_PATHS = (
    "/",
    "/entries",
    "/machine",
    "/browse",
    "/fields/_SYSTEMD_INVOCATION_ID",
    "/.env",
    "/wp-login.php",
    "/logs/",
    "/logs/x",
    "/logs/" + "A" * 32,
    "/logs/%30" + "0" * 31,
    "/logs/../../etc/passwd",
    "/static/../app.py",
    "/static/nope.js",
)
# Ends of a follow that nothing in the soak causes (the proxy never shuts down during the load and
# gatewayd never fails): in the JSON/SSE value or the text's words.
BAD_ENDS = ("shutdown", "shutting down", "upstream", "stopped answering", "truncated", "malformed")
IDENTIFIERS = ("deploy.sh", "deploy.sh", "deploy.sh", "rsync", "npm", "git", "nginx", "sudo")


class Tally:
    """Requests and errors by kind, end reasons of follows, and the first few error details."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.ends: Counter[str] = Counter()
        self.examples: list[str] = []

    def done(self, kind: str, status: int, expected: tuple[int, ...]) -> bool:
        self.requests[kind] += 1
        self.statuses[f"{kind} {status}"] += 1
        if status not in expected and kind in VALID_KINDS:
            self.error(kind, f"status {status}, expected {expected}")
            return False
        return True

    def error(self, kind: str, why: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {why}")

    @property
    def valid(self) -> int:
        return sum(n for k, n in self.requests.items() if k in VALID_KINDS)


class World:
    """The journal being written, and what the clients may ask for (only once gatewayd has it)."""

    def __init__(self, live: procs.LiveJournal, rnd: random.Random) -> None:
        self.live = live
        self.rnd = rnd
        self.clock = lj.Clock(lj.now_usec())
        self.finished: list[tuple[str, int]] = []  # (invocation, entries), oldest first
        self.big: list[str] = []
        self.running: list[str] = []

    def _now(self) -> lj.Clock:
        self.clock.usec = max(self.clock.usec, lj.now_usec())
        return self.clock

    def line(self, inv: str, i: int) -> bytes:
        ident, message = _message(self.rnd, i)
        return lj.unit_line(self._now(), UNIT, inv, message, identifier=ident)

    def start(self, inv: str) -> None:
        self.live.write(lj.starting(self._now(), UNIT, inv))

    def finish(self, inv: str) -> None:
        ok = self.rnd.random() < 0.8
        end = lj.succeeded if ok else lj.failed
        self.live.write(end(self._now(), UNIT, inv))


def _message(rnd: random.Random, i: int) -> tuple[str, str]:
    """One log line: mostly plain, some coloured, some with secrets, some long."""
    ident = rnd.choice(IDENTIFIERS)
    if rnd.random() < 0.02:
        ident = f"worker-{rnd.randrange(10**6)}"  # one-off identifiers: the HTML cache's bound
    r = rnd.random()
    word = "".join(rnd.choices(string.ascii_lowercase, k=8))
    if r < 0.5:
        return ident, f"step {i}: copying assets/{word}.js ({rnd.randrange(10**6)} bytes)"
    if r < 0.7:
        colour = rnd.choice((31, 32, 33, 34, 1, 4))
        return ident, f"\x1b[{colour}m{word}\x1b[0m step {i} ok"
    if r < 0.75:
        return ident, f"\x1b[38;5;{rnd.randrange(256)}m{word}\x1b[0m \x1b[{rnd.randrange(30, 48)}mx"
    if r < 0.8:
        token = "".join(rnd.choices(string.ascii_letters + string.digits, k=36))
        return ident, f"git remote set-url origin https://x:ghp_{token}@github.com/o/r"
    if r < 0.83:
        return ident, f"long {i}: " + word * rnd.randrange(50, 400)
    return ident, f"{word} {i} done in {rnd.random():.3f}s"


def _json_lines_wrong(body: bytes, entries: int) -> str | None:
    """JSON Lines of a finished log: its entries numbered 1..N, whatever status lines surround them."""
    numbers = [obj["line"] for obj in map(json.loads, body.splitlines()) if "line" in obj]
    if numbers == list(range(1, entries + 1)):
        return None
    return f"has lines {numbers[:1]}..{numbers[-1:]} ({len(numbers)}), expected 1..{entries}"


def _address(rnd: random.Random) -> str:
    """A loopback source address other than 127.0.0.1 (which plays the trusted nginx)."""
    return f"127.{rnd.randrange(1, 255)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"


def _session(address: str, timeout: aiohttp.ClientTimeout) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=0)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


class Soak:
    def __init__(self, base: str, port: int, world: World, profile: Profile, seed: int) -> None:
        self.base = base
        self.port = port
        self.world = world
        self.p = profile
        self.rnd = random.Random(seed)
        self.tally = Tally()
        self.deadline = time.monotonic() + profile.seconds
        # Quiet moments for snapshots: clients wait on ``go`` before each request, and streams
        # leave early once ``hush`` is set, so a snapshot holds what the proxy keeps, not what
        # it is in the middle of sending.  The journal keeps being written meanwhile.
        self.go = asyncio.Event()
        self.go.set()
        self.hush = asyncio.Event()

    def left(self) -> float:
        return self.deadline - time.monotonic()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, min(seconds, self.left())))

    async def _ready(self) -> None:
        """Wait while the soak is hushed (never past its end)."""
        if not self.go.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.go.wait(), max(0.0, self.left()))

    # --- the journal -----------------------------------------------------------------------

    async def produce_finished(self) -> None:
        """A whole finished invocation every few seconds: the cache's supply."""
        loop = asyncio.get_running_loop()
        w, rnd = self.world, self.rnd
        while self.left() > 0:
            inv = lj.new_invocation_id()
            r = rnd.random()
            n = rnd.randint(1500, 2500) if r < 0.02 else rnd.randint(150, 600) if r < 0.27 else 0
            n = n or rnd.randint(10, 150)
            w.start(inv)
            w.live.write(b"".join(w.line(inv, i) for i in range(n)))
            w.finish(inv)
            entries = n + 4  # Starting, n lines, three lines of systemd's about the end
            loop.call_later(1.0, self._publish_finished, inv, entries, n >= 1500)
            await self._sleep(rnd.expovariate(1 / self.p.finished_every))

    def _publish_finished(self, inv: str, entries: int, big: bool) -> None:
        self.world.finished.append((inv, entries))
        if big:
            self.world.big.append(inv)

    async def live_run(self) -> None:
        """Invocations that run for a while, then succeed or fail; viewers follow them."""
        loop = asyncio.get_running_loop()
        w, rnd = self.world, self.rnd
        await self._sleep(rnd.uniform(0, 2))
        while self.left() > 0:
            inv = lj.new_invocation_id()
            w.start(inv)
            loop.call_later(1.0, w.running.append, inv)
            end = time.monotonic() + rnd.uniform(*self.p.live_seconds)
            i = 0
            while time.monotonic() < end and self.left() > 0:
                w.live.write(w.line(inv, i))
                i += 1
                await self._sleep(rnd.uniform(*self.p.live_line_every))
            w.finish(inv)
            with contextlib.suppress(ValueError):
                w.running.remove(inv)
            loop.call_later(1.0, self._publish_finished, inv, i + 4, False)

    # --- valid traffic -----------------------------------------------------------------------

    def _pick_finished(self) -> tuple[str, int] | None:
        done = self.world.finished
        if not done:
            return None
        if self.rnd.random() < 0.7:
            return self.rnd.choice(done[-30:])
        return self.rnd.choice(done)

    async def reader(self) -> None:
        """Finished logs back to back from one address, moving to a new address now and then."""
        rnd = self.rnd
        etags: dict[str, str] = {}
        timeout = aiohttp.ClientTimeout(total=60)
        while self.left() > 0:
            async with _session(_address(rnd), timeout) as s:
                for _ in range(rnd.randint(20, 300)):
                    await self._ready()
                    if self.left() <= 0:
                        break
                    pick = self._pick_finished()
                    if pick is None:
                        await self._sleep(0.2)
                        continue
                    inv, entries = pick
                    await self._read_one(s, inv, entries, etags)
                    if len(etags) > 1000:
                        etags.clear()

    async def _read_one(
        self, s: aiohttp.ClientSession, inv: str, entries: int, etags: dict[str, str]
    ) -> None:
        rnd, tally = self.rnd, self.tally
        r = rnd.random()
        url = f"{self.base}/logs/{inv}"
        try:
            if r < 0.05:
                async with s.head(url + ".txt") as resp:
                    tally.done("head", resp.status, (200,))
            elif r < 0.15 and inv in etags:
                headers = {"If-None-Match": etags[inv]}
                async with s.get(url + ".txt", headers=headers) as resp:
                    await resp.read()
                    tally.done("conditional", resp.status, (200, 304))
            else:
                suffix, accept = rnd.choice(((".txt", "*/*"), (".json", "*/*"), ("", "text/html")))
                async with s.get(url + suffix, headers={"Accept": accept}) as resp:
                    body = await resp.read()
                    if tally.done("finished", resp.status, (200,)):
                        if "ETag" in resp.headers:
                            etags[inv] = resp.headers["ETag"]
                        if suffix == ".json":
                            wrong = _json_lines_wrong(body, entries)
                            if wrong:
                                tally.error("finished", f".json {wrong}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.error("finished", f"{type(exc).__name__}: {exc}")

    async def unknown(self) -> None:
        """Well-formed IDs that no journal has: gatewayd is asked, the answer is 404."""
        timeout = aiohttp.ClientTimeout(total=30)
        while self.left() > 0:
            await self._sleep(self.rnd.expovariate(self.p.unknown_per_second))
            await self._ready()
            try:
                async with _session(_address(self.rnd), timeout) as s:
                    url = f"{self.base}/logs/{lj.new_invocation_id()}.txt"
                    async with s.get(url) as resp:
                        await resp.read()
                        self.tally.done("unknown-id", resp.status, (404,))
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.tally.error("unknown-id", f"{type(exc).__name__}: {exc}")

    async def viewer(self) -> None:
        """Follows a running invocation for a while, from its own address, then leaves."""
        rnd = self.rnd
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=40)
        while self.left() > 0:
            await self._ready()
            if not self.world.running:
                await self._sleep(0.5)
                continue
            inv = rnd.choice(self.world.running)
            kind = rnd.choice(("follow-txt", "follow-json", "sse", "sse-resume"))
            stay = min(rnd.uniform(*self.p.view_seconds), self.left())
            try:
                async with _session(_address(rnd), timeout) as s:
                    if kind == "sse-resume":
                        await self._sse_resume(s, inv, stay)
                    else:
                        await self._follow(s, inv, kind, stay)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.tally.error(kind, f"{type(exc).__name__}: {exc}")
            await self._sleep(rnd.uniform(0, 1))

    async def _lines(
        self, resp: aiohttp.ClientResponse, stay: float, on_line: Callable[[bytes], bool]
    ) -> None:
        """Feed lines to ``on_line`` until it says stop, the stream ends, ``stay`` is over or the
        soak is hushed.  One read is kept across waits: cancelling a half-read line would lose it."""
        end = time.monotonic() + stay
        read: asyncio.Future[bytes] | None = None
        hushed = asyncio.ensure_future(self.hush.wait())
        try:
            while (left := end - time.monotonic()) > 0 and not self.hush.is_set():
                if read is None:
                    read = asyncio.ensure_future(resp.content.readline())
                either: set[asyncio.Future[Any]] = {read, hushed}
                await asyncio.wait(either, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():
                    return
                line = read.result()
                read = None
                if not line or not on_line(line):
                    return
        finally:
            for task in (read, hushed):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                        await task

    def _end_reason(self, kind: str, line: bytes) -> None:
        """Count how follows end; an end the soak did not cause (shutdown, upstream) is an error."""
        reason = ""
        if line.startswith(b"# end of stream: "):
            reason = line[17:].split(b";")[0].decode()
        elif line.startswith(b'{"status"') and b'"end"' in line:
            reason = str(json.loads(line).get("end", "?"))
        elif line.startswith(b'data: {"reason"'):
            reason = str(json.loads(line[6:]).get("reason", "?"))
        if reason:
            self.tally.ends[reason] += 1
            if any(word in reason for word in BAD_ENDS):
                self.tally.error(kind, f"stream ended: {reason}")

    async def _follow(self, s: aiohttp.ClientSession, inv: str, kind: str, stay: float) -> None:
        url = f"{self.base}/logs/{inv}"
        if kind == "sse":
            resp_cm = s.get(url, headers={"Accept": "text/event-stream"})
        else:
            resp_cm = s.get(url + (".txt" if kind == "follow-txt" else ".json") + "?follow")
        async with resp_cm as resp:
            if self.tally.done(kind, resp.status, (200,)):

                def on_line(line: bytes) -> bool:
                    self._end_reason(kind, line)
                    return True

                await self._lines(resp, stay, on_line)

    async def _sse_resume(self, s: aiohttp.ClientSession, inv: str, stay: float) -> None:
        """Read some events, drop the connection, come back with Last-Event-ID: no gap, no repeat."""
        url = f"{self.base}/logs/{inv}"
        seen: list[int] = []
        ended = False

        def on_line(line: bytes) -> bool:
            nonlocal ended
            if line.startswith(b"id: "):
                seen.append(int(line[4:]))
            if line.startswith(b"event: end"):
                ended = True
            self._end_reason("sse-resume", line)
            return True

        async with s.get(url, headers={"Accept": "text/event-stream"}) as resp:
            if not self.tally.done("sse-resume", resp.status, (200,)):
                return
            await self._lines(resp, stay / 2, on_line)
        if not seen or ended or self.hush.is_set():
            return
        last = seen[-1]
        seen.clear()
        await asyncio.sleep(self.rnd.uniform(0, 2))
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(last)}
        async with s.get(url, headers=headers) as resp:
            if not self.tally.done("sse-resume", resp.status, (200,)):
                return
            await self._lines(resp, stay / 2, lambda line: on_line(line) and not seen)
        if seen and seen[0] != last + 1:
            self.tally.error("sse-resume", f"resumed after {last}, first id {seen[0]}")

    async def slow_reader(self) -> None:
        """A reader with a tiny receive buffer that takes a few hundred bytes every half second."""
        rnd = self.rnd
        loop = asyncio.get_running_loop()
        while self.left() > 0:
            await self._ready()
            if rnd.random() < 0.7 and self.world.running:
                kind, path = "slow-follow", f"/logs/{rnd.choice(self.world.running)}.txt?follow"
            elif self.world.big:
                kind, path = "slow-big", f"/logs/{rnd.choice(self.world.big)}.txt"
            else:
                await self._sleep(1)
                continue
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind((_address(rnd), 0))
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", self.port)), 10)
                reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
            except (OSError, TimeoutError) as exc:
                sock.close()
                self.tally.error(kind, f"connect: {exc}")
                continue
            try:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n".encode()
                )
                head = await asyncio.wait_for(reader.readline(), 30)
                status = int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else 0
                if self.tally.done(kind, status, (200,)):
                    end = time.monotonic() + min(rnd.uniform(*self.p.slow_seconds), self.left())
                    while time.monotonic() < end and not self.hush.is_set():
                        if not await asyncio.wait_for(reader.read(300), 30):
                            break
                        await asyncio.sleep(0.5)
            except (OSError, TimeoutError, ValueError) as exc:
                self.tally.error(kind, f"{type(exc).__name__}: {exc}")
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    # --- invalid traffic -----------------------------------------------------------------------

    async def scanner(self) -> None:
        """Bursts of junk from one address; a third come again later, a few via the trusted proxy."""
        rnd, tally = self.rnd, self.tally
        returning: deque[str] = deque(maxlen=500)
        timeout = aiohttp.ClientTimeout(total=30)
        while self.left() > 0:
            await self._ready()
            xff = rnd.random() < 0.2
            address = rnd.choice(returning) if returning and rnd.random() < 0.3 else _address(rnd)
            returning.append(address)
            burst = int(rnd.paretovariate(1.2))
            kind = "scanner-xff" if xff else "scanner"
            try:
                async with _session("127.0.0.1" if xff else address, timeout) as s:
                    for _ in range(min(burst, 200)):
                        if self.hush.is_set():
                            break
                        path = rnd.choice(SCANNER_PATHS)
                        headers = {"X-Forwarded-For": f"203.0.113.9, {address}"} if xff else {}
                        async with s.get(self.base + path, headers=headers) as resp:
                            await resp.read()
                            tally.done(kind, resp.status, (404, 429))
                        await asyncio.sleep(rnd.uniform(0, 0.02))
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.error(kind, f"{type(exc).__name__}: {exc}")
            await self._sleep(rnd.uniform(0, 0.1))

    async def run(self, sampler: Callable[[], Awaitable[None]]) -> None:
        p = self.p
        await asyncio.gather(
            self.produce_finished(),
            *[self.live_run() for _ in range(p.live_runs)],
            *[self.reader() for _ in range(p.readers)],
            *[self.viewer() for _ in range(p.viewers)],
            *[self.slow_reader() for _ in range(p.slow_readers)],
            *[self.scanner() for _ in range(p.scanners)],
            self.unknown(),
            sampler(),
        )


# --- sampling ---------------------------------------------------------------------------------


def parse_gauges(text: str) -> dict[str, float]:
    """Every ``journal_proxy_*`` sample whose metric is declared a gauge, by name and labels."""
    gauges: set[str] = set()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) == 4 and parts[3] == "gauge":
                gauges.add(parts[2])
        elif line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            name = series.split("{", 1)[0]
            if name in gauges and name.startswith(GAUGE_PREFIX):
                with contextlib.suppress(ValueError):
                    values[series.removeprefix(GAUGE_PREFIX)] = float(value)
    return values


def proc_sample(pid: int) -> tuple[int, int, float]:
    """RSS in KiB, open descriptors, CPU seconds (user + system) of ``pid``."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / CLK_TCK
    return rss, len(os.listdir(f"/proc/{pid}/fd")), cpu


@dataclass
class Sample:
    t: float
    rss_kib: int
    fds: int
    cpu_percent: float
    valid_per_s: float
    gauges: dict[str, float]
    quiet: bool = False  # taken with the clients hushed: what the proxy keeps, nothing in flight


class Sampler:
    """One row per sample, printed as it is taken (an hour is long to wait for a table)."""

    def __init__(
        self, base: str, pid: int, soak: Soak, quiet_at: list[float], snapshots: Snapshots | None
    ) -> None:
        self.base = base
        self.pid = pid
        self.soak = soak
        self.quiet_at = sorted(quiet_at)
        self.snapshots = snapshots
        self.samples: list[Sample] = []
        self._columns: list[str] = []
        self._start = time.monotonic()
        self._last = (self._start, proc_sample(pid)[2], 0)

    async def _gauges(self, s: aiohttp.ClientSession) -> dict[str, float]:
        try:
            async with s.get(f"{self.base}/metrics") as resp:
                return parse_gauges(await resp.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            print(f"metrics unavailable: {type(exc).__name__} {exc}", flush=True)
            return {}

    async def take(self, s: aiohttp.ClientSession, quiet: bool = False) -> Sample:
        gauges = await self._gauges(s)
        rss, fds, cpu = proc_sample(self.pid)
        now = time.monotonic()
        valid = self.soak.tally.valid
        then, cpu_then, valid_then = self._last
        dt = max(now - then, 1e-6)
        self._last = (now, cpu, valid)
        sample = Sample(
            now - self._start,
            rss,
            fds,
            100 * (cpu - cpu_then) / dt,
            (valid - valid_then) / dt,
            gauges,
            quiet,
        )
        self.samples.append(sample)
        self._print(sample)
        return sample

    def _print(self, sample: Sample) -> None:
        names = sorted(sample.gauges)
        if names != self._columns:
            self._columns = names
            print(
                f"{'t s':>6} {'RSS MiB':>8} {'fds':>5} {'cpu%':>5} {'valid/s':>7} "
                + " ".join(f"{n:>{max(8, len(n))}}" for n in names),
                flush=True,
            )
        print(
            f"{sample.t:5.0f}{'q' if sample.quiet else ' '} {sample.rss_kib / 1024:8.1f} {sample.fds:5d} {sample.cpu_percent:5.0f} "
            f"{sample.valid_per_s:7.0f} "
            + " ".join(f"{sample.gauges[n]:>{max(8, len(n))}.0f}" for n in names),
            flush=True,
        )

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            while self.soak.left() > 0:
                await self.take(s)
                if self.quiet_at and time.monotonic() - self._start >= self.quiet_at[0]:
                    self.quiet_at.pop(0)
                    await self.quiet(s)
                    if self.snapshots is not None:
                        await self.snapshots.take()
                    self.soak.hush.clear()
                    self.soak.go.set()
                await self.soak._sleep(self.soak.p.sample_every)

    async def quiet(self, s: aiohttp.ClientSession) -> None:
        """Hush the clients, wait until no stream and no hub is left (at most 2 minutes), sample."""
        self.soak.go.clear()
        self.soak.hush.set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            g = await self._gauges(s)
            if g.get("active_streams", 0) <= 0 and g.get("follow_hubs", 0) <= 0:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(2)
        await self.take(s, quiet=True)

    async def final(self, settle: float) -> Sample:
        await asyncio.sleep(settle)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as s:
            sample = await self.take(s, quiet=True)
        if self.snapshots is not None:
            await self.snapshots.take()  # the idle end, to compare with the first quiet one
        return sample


class Snapshots:
    """Asks the traced proxy for a snapshot (tracemalloc, object counts) at each quiet sample."""

    def __init__(self, pid: int, directory: Path) -> None:
        self.pid = pid
        self.directory = directory
        self.files: list[Path] = []

    async def take(self) -> None:
        before = set(self.directory.glob("*.json"))
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(600):
            new = set(self.directory.glob("*.json")) - before
            if new:
                self.files.append(new.pop().with_suffix(".tracemalloc"))
                print(f"tracemalloc snapshot: {self.files[-1]}", flush=True)
                return
            await asyncio.sleep(0.2)
        print("tracemalloc snapshot did not appear in 120 s", flush=True)


# --- the processes ---------------------------------------------------------------------------


def write_config(path: Path, upstream: str, port: int, cache_bytes: int) -> None:
    path.write_text(
        f'unit = ["{UNIT}"]\n'
        f'upstream = "{upstream}"\n'
        f'listen = "127.0.0.1:{port}"\n'
        "metrics = true\n"
        'trusted_proxies = ["127.0.0.1/32"]\n'
        "[limits]\n"
        f"cache_bytes = {cache_bytes}\n"
    )


def start_proxy(
    config: Path, port: int, log: Path, traced: Path | None, frames: int, root: Path
) -> subprocess.Popen[bytes]:
    """``serve`` from ``root``'s journal_proxy package: this checkout, or a frozen copy of a
    commit (``git archive``), so edits in progress elsewhere in the tree cannot change a run."""
    serve = ["serve", "--config", str(config)]
    if traced is not None:
        cmd = [
            sys.executable,
            str(ROOT / "bench" / "traced_proxy.py"),
            "run",
            "--snapshot-dir",
            str(traced),
            "--frames",
            str(frames),
            "--",
            *serve,
        ]
    else:
        cmd = [sys.executable, "-m", "journal_proxy.cli", *serve]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=err)
    procs.wait_port(port, timeout=30 if traced is None else 180)  # tracing makes imports slow
    return proc


def initial_journal(directory: Path, count: int, seed: int) -> list[tuple[str, int]]:
    """Finished invocations from an hour ago, so the cache has work from the first second."""
    rnd = random.Random(seed)
    clock = lj.Clock()
    parts: list[bytes] = []
    logs: list[tuple[str, int]] = []
    for _ in range(count):
        inv = lj.new_invocation_id()
        n = rnd.randint(10, 300)
        parts.append(lj.starting(clock, UNIT, inv))
        for i in range(n):
            ident, message = _message(rnd, i)
            parts.append(lj.unit_line(clock, UNIT, inv, message, identifier=ident))
        parts.append(lj.succeeded(clock, UNIT, inv))
        logs.append((inv, n + 4))
    procs.write_journal(directory, "finished", b"".join(parts))
    return logs


def report(soak: Soak, sampler: Sampler, final: Sample, log: Path) -> None:
    tally = soak.tally
    first = sampler.samples[0]
    print(f"\nrequests by kind ({sum(tally.requests.values())} in all, {tally.valid} valid):")
    for kind, n in sorted(tally.requests.items()):
        print(f"  {kind:12} {n:8d}  errors {tally.errors[kind]}")
    for kind, n in sorted(tally.errors.items()):
        if kind not in tally.requests:
            print(f"  {kind:12} {0:8d}  errors {n}")
    print("statuses: " + ", ".join(f"{k}: {n}" for k, n in sorted(tally.statuses.items())))
    print("follow ends seen: " + ", ".join(f"{k}: {n}" for k, n in tally.ends.most_common()))
    print(
        f"proxy RSS {first.rss_kib / 1024:.1f} MiB at {first.t:.0f} s, "
        f"max {max(s.rss_kib for s in sampler.samples) / 1024:.1f}, "
        f"end {final.rss_kib / 1024:.1f}; fds {first.fds} -> {final.fds}"
    )
    if len(sampler.samples) > 4:
        tenth = next(s for s in sampler.samples if s.t >= min(600, final.t / 6))
        print(
            f"RSS after {tenth.t:.0f} s: {tenth.rss_kib / 1024:.1f} MiB -> "
            f"{final.rss_kib / 1024:.1f} MiB at the end ({(final.rss_kib - tenth.rss_kib) / 1024:+.1f})"
        )
    quiet = [s for s in sampler.samples if s.quiet]
    if quiet:
        print(
            "quiet samples, RSS MiB: "
            + ", ".join(f"{s.t:.0f} s {s.rss_kib / 1024:.1f}" for s in quiet)
            + f"; from the first to the last {(quiet[-1].rss_kib - quiet[0].rss_kib) / 1024:+.1f}"
        )
    leftover = {
        k: v for k, v in final.gauges.items() if k in ("active_streams", "follow_viewers") and v
    }
    if leftover:
        print(f"WARNING: after {soak.p.settle:.0f} s without load, still {leftover}")
    text = log.read_text(errors="replace").splitlines()
    warnings = [ln for ln in text if ln[:3] in ("<4>", "<3>", "<2>")]
    print(f"proxy log: {len(text)} lines, {len(warnings)} warnings or errors")
    for ln in Counter(w[:240] for w in warnings).most_common(8):
        print(f"  {ln[1]:6d}x {ln[0]}")
    for example in tally.examples:
        print(f"  error: {example}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="about 25 s, small scale (CI)")
    ap.add_argument("--seconds", type=float, help="load duration (default 3600, smoke 20)")
    ap.add_argument("--sample-every", type=float, help="seconds between samples (30, smoke 4)")
    ap.add_argument("--cache-bytes", type=int, default=512 << 10, help="the proxy's cache bound")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="write samples and totals as JSON here")
    ap.add_argument("--traced", action="store_true", help="run the proxy under tracemalloc")
    ap.add_argument(
        "--quiet-at",
        "--snapshot-at",
        help="seconds into the soak for quiet samples (and snapshots with --traced), "
        "comma-separated (default 600,1800,3000 for the hour, none for the smoke)",
    )
    ap.add_argument("--snapshot-dir", type=Path, help="where snapshots go (default: a temp dir)")
    ap.add_argument("--frames", type=int, default=10, help="tracemalloc frames per allocation")
    ap.add_argument(
        "--proxy-root",
        type=Path,
        default=ROOT,
        help="directory holding the journal_proxy package to run (default: this checkout)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the journal and the proxy's log")
    args = ap.parse_args()
    profile = SMOKE if args.smoke else HOUR
    if args.seconds is not None:
        profile = Profile(**{**asdict(profile), "seconds": args.seconds})
    if args.sample_every is not None:
        profile = Profile(**{**asdict(profile), "sample_every": args.sample_every})
    tmp = Path(tempfile.mkdtemp(prefix="jp-soak-"))
    snapshot_dir = args.snapshot_dir or (tmp / "snapshots" if args.traced else None)
    proc: subprocess.Popen[bytes] | None = None
    gw: procs.Gatewayd | None = None
    live: procs.LiveJournal | None = None
    try:
        initial = initial_journal(tmp / "j", profile.initial_finished, args.seed)
        live = procs.LiveJournal(tmp / "j", "live")
        gw = procs.Gatewayd(tmp / "j")
        port = procs.free_port()
        write_config(tmp / "config.toml", gw.url, port, args.cache_bytes)
        log = tmp / "proxy.log"
        proc = start_proxy(
            tmp / "config.toml", port, log, snapshot_dir, args.frames, args.proxy_root.resolve()
        )
        print(
            f"soak {profile.seconds:.0f} s, proxy pid {proc.pid}{' (traced)' if args.traced else ''}, "
            f"cache_bytes {args.cache_bytes}, files in {tmp}",
            flush=True,
        )
        world = World(live, random.Random(args.seed + 1))
        world.finished.extend(initial)
        base = f"http://127.0.0.1:{port}"
        soak = Soak(base, port, world, profile, args.seed + 2)
        snaps = None
        if args.traced:
            assert snapshot_dir is not None
            snaps = Snapshots(proc.pid, snapshot_dir)
        quiet = args.quiet_at if args.quiet_at is not None else profile.quiet_at
        at = [float(x) for x in quiet.split(",") if x.strip()]
        sampler = Sampler(base, proc.pid, soak, at, snaps)

        async def go() -> Sample:
            await soak.run(sampler.run)
            return await sampler.final(profile.settle)

        final = asyncio.run(go())
        report(soak, sampler, final, log)
        if snaps is not None and len(snaps.files) >= 2:
            print(f"\ntracemalloc: {snaps.files[0].name} -> {snaps.files[-1].name}", flush=True)
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "traced_proxy.py"),
                    "compare",
                    str(snaps.files[0]),
                    str(snaps.files[-1]),
                ],
                check=False,
            )
        if args.out:
            args.out.write_text(
                json.dumps(
                    {
                        "profile": asdict(profile),
                        "cache_bytes": args.cache_bytes,
                        "traced": args.traced,
                        "requests": dict(soak.tally.requests),
                        "errors": dict(soak.tally.errors),
                        "ends": dict(soak.tally.ends),
                        "samples": [asdict(s) for s in sampler.samples],
                    },
                    indent=1,
                )
            )
        valid_errors = sum(n for k, n in soak.tally.errors.items() if k in VALID_KINDS)
        if proc.poll() is not None:
            print(f"FAIL: the proxy exited during the soak ({proc.returncode})")
            return 1
        if valid_errors:
            print(f"FAIL: {valid_errors} valid requests failed")
            return 1
        print("ok: no valid request failed")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if live is not None:
            live.close()
        if gw is not None:
            gw.stop()
        if args.keep:
            print(f"kept {tmp}")
        elif args.snapshot_dir is None and snapshot_dir is not None:
            print(f"snapshots kept in {snapshot_dir}")
            shutil.rmtree(tmp / "j", ignore_errors=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
