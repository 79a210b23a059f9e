#!/usr/bin/env python3
"""Soak: mixed valid, invalid and follow traffic against the proxy for a bounded time.

Loopback only, bounded in time and concurrency; stops by itself.  Samples the proxy's memory and
open files every few seconds and counts any error for valid requests.

    .venv/bin/python bench/soak.py --seconds 180
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy import localjournal as lj  # noqa: E402

UNIT = "deploy-website.service"


def sample(pid: int) -> tuple[int, int]:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def soak(
    base: str, finished: list[str], live: lj.LiveJournal, live_inv: str, seconds: float, pid: int
) -> dict[str, object]:
    stop = time.monotonic() + seconds
    stats = {"valid": 0, "valid_errors": 0, "invalid": 0, "follows": 0}
    samples: list[tuple[float, int, int]] = []
    clock = lj.Clock(lj.now_usec())
    timeout = aiohttp.ClientTimeout(total=30)
    rnd = random.Random(1)

    async with aiohttp.ClientSession(timeout=timeout) as s:

        async def valid_worker() -> None:
            while time.monotonic() < stop:
                inv = rnd.choice(finished)
                suffix, accept = rnd.choice([(".txt", "*/*"), (".json", "*/*"), ("", "text/html")])
                async with s.get(f"{base}/logs/{inv}{suffix}", headers={"Accept": accept}) as r:
                    await r.read()
                    stats["valid"] += 1
                    if r.status != 200:
                        stats["valid_errors"] += 1

        async def invalid_worker() -> None:
            while time.monotonic() < stop:
                path = rnd.choice(
                    ["/logs/" + "A" * 32, "/entries", "/logs/%30" + "0" * 31, "/machine", "/logs/x"]
                )
                async with s.get(f"{base}{path}", headers={"X-Forwarded-For": "10.0.0.1"}) as r:
                    await r.read()
                    stats["invalid"] += 1
                await asyncio.sleep(0.01)

        async def follow_worker() -> None:
            while time.monotonic() < stop:
                async with s.get(
                    f"{base}/logs/{live_inv}", headers={"Accept": "text/event-stream"}
                ) as r:
                    if r.status != 200:
                        stats["valid_errors"] += 1
                    stats["follows"] += 1
                    end = time.monotonic() + rnd.uniform(0.2, 3)
                    while time.monotonic() < end:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(r.content.readline(), 0.5)

        async def writer() -> None:
            i = 0
            while time.monotonic() < stop:
                clock.usec = max(clock.usec + 1, lj.now_usec())
                live.write(lj.unit_line(clock, UNIT, live_inv, f"soak line {i}"))
                i += 1
                await asyncio.sleep(0.05)

        async def sampler() -> None:
            start = time.monotonic()
            while time.monotonic() < stop:
                rss, fds = sample(pid)
                samples.append((time.monotonic() - start, rss, fds))
                await asyncio.sleep(5)

        await asyncio.gather(
            *[valid_worker() for _ in range(4)],
            *[invalid_worker() for _ in range(2)],
            *[follow_worker() for _ in range(8)],
            writer(),
            sampler(),
        )
    await asyncio.sleep(2)
    rss, fds = sample(pid)
    samples.append((seconds + 2, rss, fds))
    return {**stats, "samples": samples}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=180)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jp-soak-"))
    proc = None
    gw = None
    live = None
    try:
        clock = lj.Clock()
        finished = [lj.new_invocation_id() for _ in range(20)]
        parts = []
        for inv in finished:
            parts.append(lj.starting(clock, UNIT, inv))
            parts += [
                lj.unit_line(clock, UNIT, inv, f"line {i} \x1b[32mok\x1b[0m") for i in range(300)
            ]
            parts.append(lj.succeeded(clock, UNIT, inv))
        lj.write_journal(tmp / "j", "finished", b"".join(parts))
        live = lj.LiveJournal(tmp / "j", "live")
        live_inv = lj.new_invocation_id()
        live.write(lj.starting(lj.Clock(lj.now_usec()), UNIT, live_inv))
        gw = lj.Gatewayd(tmp / "j")
        proxy = lj.ProxyProcess(UNIT, gw.url)
        proc = proxy.proc
        port = proxy.port
        result = asyncio.run(
            soak(f"http://127.0.0.1:{port}", finished, live, live_inv, args.seconds, proc.pid)
        )
        samples = result.pop("samples")
        print(f"soak {args.seconds:.0f}s: {result}")
        print(f"{'t (s)':>6} {'RSS MiB':>8} {'fds':>5}")
        for t, rss, fds in samples:  # type: ignore[attr-defined]
            print(f"{t:6.0f} {rss / 1024:8.1f} {fds:5d}")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
        if live:
            live.close()
        if gw:
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
