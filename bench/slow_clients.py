#!/usr/bin/env python3
"""Slow clients against the proxy on its own: how long a legitimate request waits.

Why: run with ``--listen`` on TCP (no nginx in front), the proxy meets slow clients itself.  This
starts a real gatewayd and the proxy as deployed (``serve``, its own TCP listener) with a lowered
``RLIMIT_NOFILE``, opens ``--clients`` connections that each send half a request line and hold
it (and connect again whenever the proxy closes them, as an attacker would), and then times
legitimate requests (``GET`` of a small finished log, a real gatewayd read) one after another.

    .venv/bin/python bench/slow_clients.py                     # 1,100 clients on 1,024 fds
    .venv/bin/python bench/slow_clients.py --no-reconnect      # closed ones stay away
    .venv/bin/python bench/slow_clients.py --proxy-root /tmp/base   # a frozen other commit

It prints each legitimate request's wait (connect to full answer) and the slow clients' closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy.local import journal as lj  # noqa: E402
from journal_proxy.local import procs  # noqa: E402

UNIT = "deploy-website.service"
HALF_LINE = b"GET /logs/0123456789abcdef"


def build(directory: Path) -> str:
    """A journal holding one small finished run; its invocation ID."""
    clock = lj.Clock()
    inv = lj.new_invocation_id()
    parts = [lj.starting(clock, UNIT, inv)]
    parts += [lj.unit_line(clock, UNIT, inv, f"line {i}") for i in range(20)]
    parts.append(lj.succeeded(clock, UNIT, inv))
    procs.write_journal(directory, "slow", b"".join(parts))
    return inv


class Attack:
    """``count`` slow clients, each holding half a request line (and connecting again when
    closed, if ``reconnect``: the harder case, as a closed one is back in the queue at once)."""

    def __init__(self, port: int, count: int, reconnect: bool = True) -> None:
        self.port = port
        self.count = count
        self.reconnect = reconnect
        self.holding = 0
        self.closed_by_proxy = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._one()) for _ in range(self.count)]

    async def _one(self) -> None:
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port), 30
                )
            except (TimeoutError, OSError):
                await asyncio.sleep(0.5)
                continue
            try:
                writer.write(HALF_LINE)
                self.holding += 1
                with contextlib.suppress(OSError):
                    await reader.read(1)  # returns when the proxy closes (or answers)
                self.holding -= 1
                self.closed_by_proxy += 1
            finally:
                writer.close()
            if not self.reconnect:
                return

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def legit(port: int, target: str, timeout: float) -> tuple[float | None, str]:
    """Seconds from connect to the whole ``200`` answer (None if it never came), and what
    happened."""
    began = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (TimeoutError, OSError) as exc:
        return None, f"connect failed: {exc!r}"
    connected = time.monotonic() - began
    try:
        writer.write(f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        left = timeout - (time.monotonic() - began)
        data = await asyncio.wait_for(reader.read(), max(left, 0.1))
    except (TimeoutError, OSError) as exc:
        return None, f"no answer: {exc!r}"
    finally:
        writer.close()
    status = data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"
    status += f", connected after {connected * 1000:.0f} ms"
    return (time.monotonic() - began if data.split(b" ", 2)[1:2] == [b"200"] else None), status


async def measure(port: int, target: str, args: argparse.Namespace) -> list[float | None]:
    attack = Attack(port, args.clients, reconnect=not args.no_reconnect)
    attack.start()
    try:
        await asyncio.sleep(args.settle)
        print(f"{attack.holding} slow clients holding after {args.settle:.0f} s", flush=True)
        waits: list[float | None] = []
        for i in range(args.requests):
            wait, what = await legit(port, target, args.timeout)
            waits.append(wait)
            shown = f"never answered ({what})" if wait is None else f"{wait * 1000:.0f} ms ({what})"
            print(
                f"request {i + 1}: {shown} ({attack.holding} holding, "
                f"{attack.closed_by_proxy} closed by the proxy so far)",
                flush=True,
            )
            await asyncio.sleep(args.gap)
        return waits
    finally:
        await attack.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1100)
    ap.add_argument("--nofile", type=int, default=1024, help="the proxy's RLIMIT_NOFILE")
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--gap", type=float, default=2.0, help="seconds between requests")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before the first")
    ap.add_argument("--timeout", type=float, default=60.0, help="a request's longest wait")
    ap.add_argument("--no-reconnect", action="store_true", help="a closed slow client is gone")
    ap.add_argument("--proxy-root", type=Path, help="run the journal_proxy found there")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.clients + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.clients + 256), hard))

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))

    with tempfile.TemporaryDirectory() as tmp:
        inv = build(Path(tmp) / "journal")
        gatewayd = procs.Gatewayd(Path(tmp) / "journal")
        try:
            proxy = procs.ProxyProcess(UNIT, gatewayd.url, root=args.proxy_root, preexec_fn=lower)
            try:
                waits = asyncio.run(measure(proxy.port, f"/logs/{inv}.txt", args))
            finally:
                proxy.stop()
        finally:
            gatewayd.stop()
    answered = [w for w in waits if w is not None]
    print(f"answered {len(answered)} of {len(waits)}", end="")
    if answered:
        print(
            f"; wait median {statistics.median(answered) * 1000:.0f} ms, "
            f"max {max(answered) * 1000:.0f} ms"
        )
    else:
        print()


if __name__ == "__main__":
    main()
