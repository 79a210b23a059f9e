#!/usr/bin/env python3
"""What one address remembered by the refusal throttle costs, in the proxy's RSS.

Why: the README budgets memory for the throttle (10,000 addresses at most), and a soak showed
RSS growing with the addresses it remembered.  Object sizes miss the allocator's overhead and
fragmentation, so this measures what the operator sees: the RSS of a real proxy process
(``serve``, as deployed, ``metrics = true``, 127.0.0.1 a trusted proxy) while refused requests
from new addresses (``X-Forwarded-For``) fill the throttle.  Past ``--warm`` addresses, the
bounded caches that also see addresses (1,024 each) are full, so the growth from there on is the
throttle's own.

    .venv/bin/python bench/throttle_rss.py                   # IPv4, to 10,000 addresses
    .venv/bin/python bench/throttle_rss.py --ipv6
    .venv/bin/python bench/throttle_rss.py --proxy-root /tmp/base   # a frozen other commit
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy.local import procs  # noqa: E402

UNIT = "deploy-website.service"


def rss_kib(pid: int) -> int:
    """The process's resident set, from ``/proc/PID/status`` (``VmRSS``)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match[1])


def address(i: int, ipv6: bool) -> str:
    """The ``i``-th client address: documentation ranges, written as a client would."""
    if ipv6:
        return str(ipaddress.IPv6Address("2001:db8::") + i * 0x10001 + (i << 64))
    return str(ipaddress.IPv4Address("10.0.0.0") + i)


async def refuse_from(url: str, first: int, last: int, ipv6: bool) -> None:
    """One refused request (``404``, no upstream work) from each address in [first, last)."""
    queue = iter(range(first, last))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for i in queue:
                headers = {"X-Forwarded-For": address(i, ipv6)}
                async with session.get(f"{url}/nothing-here", headers=headers) as resp:
                    assert resp.status == 404, resp.status
                    await resp.read()

        await asyncio.gather(*(worker() for _ in range(8)))


async def remembered(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    match = re.search(r"^journal_proxy_throttle_clients (\d+)", text, re.M)
    assert match is not None, text[:500]
    return int(match[1])


async def measure(proxy: procs.ProxyProcess, args: argparse.Namespace) -> None:
    pid, url = proxy.proc.pid, proxy.url
    await refuse_from(url, 0, args.warm, args.ipv6)
    before, held_before = rss_kib(pid), await remembered(url)
    print(f"{held_before:>6} addresses: RSS {before} KiB", flush=True)
    step = (args.addresses - args.warm) // 4
    for done in range(args.warm + step, args.addresses + 1, step):
        await refuse_from(url, done - step, done, args.ipv6)
        rss, held = rss_kib(pid), await remembered(url)
        per = (rss - before) * 1024 / max(held - held_before, 1)
        print(f"{held:>6} addresses: RSS {rss} KiB, {per:.0f} bytes per address since warm-up")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--addresses", type=int, default=10_000, help="the throttle keeps 10,000")
    ap.add_argument("--warm", type=int, default=2_000)
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--proxy-root", type=Path, help="run the journal_proxy found there")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text('metrics = true\ntrusted_proxies = ["127.0.0.1/32"]\n')
        upstream = f"http://127.0.0.1:{procs.free_port()}"  # never asked: every request is refused
        proxy = procs.ProxyProcess(UNIT, upstream, "--config", str(config), root=args.proxy_root)
        try:
            asyncio.run(measure(proxy, args))
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
