#!/usr/bin/env python3
"""journal-proxy against the nginx rule it replaces, on one real gatewayd, in one run.

Prints a table of measurements and ratios against the nginx baseline, and writes it as JSON to
bench/results/latest.json.  Measures (a) streaming one big invocation as text and JSON, (b)
requests/s and p99 latency for a small finished invocation with 16 concurrent clients (wrk), and
for one that finished 5 s before (the burst when GitHub shows the result), (b2) the repeat read of
the big log from the cache (plain and gzip) and the proxy's memory after every format twice,
(c) time to first byte, (d) proxy memory before and after streaming, (e) live follow: write-to-
arrival delay, upstream connections for 1/10/100 viewers, memory per idle viewer, (f) the page in
headless Chromium (when Playwright and /usr/bin/chromium are there): first line on screen, and the
last line on screen after the page has loaded, next to gatewayd's own time for the same entries.

    .venv/bin/python bench/run.py            # full: 100,000 entries, 3 rounds, wrk 10 s
    .venv/bin/python bench/run.py --smoke    # CI: 5,000 entries, 1 round, wrk 1 s

These are absolute times on a shared machine: compare ratios from the same run only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy.local import journal as lj  # noqa: E402
from journal_proxy.local import procs  # noqa: E402
from journal_proxy.upstream.gatewayd import EXPORT_MIME  # noqa: E402

UNIT = "deploy-website.service"

# The seed's nginx rule: the invocation ID from the path straight into gatewayd's query, the
# client's headers (Accept, Range) and query string passed through.
NGINX_RULE = """
location ~ "^/logs/(?<inv>[0-9a-f]{{32}})$" {{
    proxy_pass http://127.0.0.1:{gw_port}/entries?_SYSTEMD_INVOCATION_ID=$inv&$args;
    proxy_buffering off;
    proxy_http_version 1.1;
}}
"""


def start_nginx_rule(tmp: Path, gw_port: int) -> tuple[subprocess.Popen[bytes], int]:
    """nginx with the seed's rule in front of gatewayd, on a free port; its files under ``tmp``."""
    port = procs.free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(f"""daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {tmp}; proxy_temp_path {tmp};
  fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; {NGINX_RULE.format(gw_port=gw_port)} }} }}
""")
    return subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.DEVNULL), port


def build(directory: Path, entries: int) -> tuple[str, str]:
    clock = lj.Clock()
    big, small = lj.new_invocation_id(), lj.new_invocation_id()
    parts = [lj.starting(clock, UNIT, big)]
    pad = "x" * 60
    parts += [
        lj.unit_line(clock, UNIT, big, f"step {i}: compiling module_{i % 977}.py {pad}")
        for i in range(entries)
    ]
    parts.append(lj.succeeded(clock, UNIT, big))
    parts.append(lj.starting(clock, UNIT, small))
    parts += [lj.unit_line(clock, UNIT, small, f"small {i}") for i in range(20)]
    parts.append(lj.succeeded(clock, UNIT, small))
    procs.write_journal(directory, "bench", b"".join(parts))
    return big, small


def curl(url: str, accept: str = "*/*", compressed: bool = False) -> dict[str, float]:
    out = subprocess.run(
        [
            "curl",
            "-s",
            *(["--compressed"] if compressed else []),
            "-o",
            "/dev/null",
            "-H",
            f"Accept: {accept}",
            "-w",
            "%{time_starttransfer} %{time_total} %{size_download} %{http_code}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    assert out[3] == "200", (url, out)
    return {"ttfb": float(out[0]), "seconds": float(out[1]), "bytes": float(out[2])}


def median_runs(
    url: str, rounds: int, accept: str = "*/*", compressed: bool = False
) -> dict[str, float]:
    print(f"  measuring {url[:60]}... ({accept})", file=sys.stderr, flush=True)
    runs = [curl(url, accept, compressed) for _ in range(rounds)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def interleaved_medians(
    targets: dict[str, tuple[str, str]], rounds: int
) -> dict[str, dict[str, float]]:
    """Each round reads every target once, in turn, so a change of load on the shared machine
    falls on all of them alike rather than on whichever was measured at the time; and each
    round starts one place further on, so no target always comes right after the same one."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    names = list(targets)
    for r in range(rounds):
        print(f"  round {r + 1} of {rounds}: {len(targets)} reads", file=sys.stderr, flush=True)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            url, accept = targets[name]
            runs[name].append(curl(url, accept))
    return {
        name: {k: statistics.median(r[k] for r in got) for k in got[0]}
        for name, got in runs.items()
    }


def finished_seconds_ago(directory: Path, seconds: float) -> str:
    """A small run (10 lines) that finishes now, returned ``seconds`` later: the burst of clicks
    when GitHub shows the result, not a log cached a minute ago."""
    journal = procs.LiveJournal(directory, f"burst-{lj.new_invocation_id()[:6]}")
    clock = lj.Clock(lj.now_usec())
    inv = lj.new_invocation_id()
    journal.write(lj.starting(clock, UNIT, inv))
    for i in range(10):
        clock.usec = max(clock.usec + 1, lj.now_usec())
        journal.write(lj.unit_line(clock, UNIT, inv, f"deploy step {i}"))
    clock.usec = max(clock.usec + 1, lj.now_usec())
    journal.write(lj.succeeded(clock, UNIT, inv))
    time.sleep(seconds)
    journal.close()
    return inv


def wrk(url: str, seconds: int) -> dict[str, float]:
    if not shutil.which("wrk"):
        return {"rps": float("nan"), "p99_ms": float("nan")}
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"99%\s+([0-9.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99 = float(m.group(1)) * scale[m.group(2)] if m else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": p99, "errors": float(non2xx.group(1)) if non2xx else 0.0}


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def page_numbers(url: str, last_line: int, rounds: int) -> dict[str, float]:
    """Seconds from navigation to the first line on screen, and to the last line on screen
    after the page has loaded; also when the response's last byte arrived (Navigation Timing)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return {}
    if not Path(CHROMIUM).exists():
        return {}
    print(f"  page in Chromium, {rounds} round(s)", file=sys.stderr, flush=True)
    runs: list[dict[str, float]] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        for _ in range(rounds):
            ctx = await browser.new_context(viewport={"width": 1200, "height": 800})
            page = await ctx.new_page()
            started = time.monotonic()
            await page.goto(url, wait_until="commit")
            await page.wait_for_selector("#L1", state="visible")
            first = time.monotonic() - started
            await page.wait_for_load_state("load", timeout=300_000)
            await page.evaluate(f"location.hash = '#L{last_line}'")
            await page.wait_for_selector(f"#L{last_line}.hl", state="visible")
            last = time.monotonic() - started
            response_end = await page.evaluate(
                "performance.getEntriesByType('navigation')[0].responseEnd / 1000"
            )
            runs.append({"first_line": first, "last_line": last, "response_end": response_end})
            await ctx.close()
        await browser.close()
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def gatewayd_connections(port: int) -> int:
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
        capture_output=True,
        text=True,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


async def live_numbers(
    proxy_port: int, gw_port: int, directory: Path, writes: int, pid: int
) -> dict[str, object]:
    import aiohttp

    journal = procs.LiveJournal(directory, "livebench")
    clock = lj.Clock(lj.now_usec())
    inv = lj.new_invocation_id()
    journal.write(lj.starting(clock, UNIT, inv))
    base = f"http://127.0.0.1:{proxy_port}/logs/{inv}"
    result: dict[str, object] = {}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for _ in range(200):
            async with session.get(base + ".txt") as r:
                if r.status == 200:
                    break
            await asyncio.sleep(0.02)
        # Delay from write to arrival at one follow client.
        resp = await session.get(base + ".txt?follow")
        await resp.content.readline()
        await resp.content.readline()
        delays = []
        for i in range(writes):
            clock.usec = max(clock.usec + 1, lj.now_usec())
            sent = time.perf_counter()
            journal.write(lj.unit_line(clock, UNIT, inv, f"live {i}"))
            while True:
                line = (await asyncio.wait_for(resp.content.readline(), 10)).decode()
                if not line:
                    raise RuntimeError("follow stream ended early")
                if line.endswith(f" live {i}\n"):
                    break
            delays.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.01)
        resp.close()
        delays.sort()
        result["delay_ms_median"] = statistics.median(delays)
        result["delay_ms_p99"] = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        # Upstream connections and memory for 1, 10, 100 idle viewers of one invocation.
        conns: dict[str, int] = {}
        mem_before = rss_kib(pid)
        viewers: list[aiohttp.ClientResponse] = []
        for count in (1, 10, 50, 100):
            while len(viewers) < count:
                v = await session.get(base, headers={"Accept": "text/event-stream"})
                viewers.append(v)
            await asyncio.sleep(1.0)
            conns[str(count)] = gatewayd_connections(gw_port)
        mem_after = rss_kib(pid)
        result["upstream_connections_for_viewers"] = conns
        result["kib_per_idle_viewer"] = round((mem_after - mem_before) / 100, 1)
        for v in viewers:
            v.close()
    journal.close()
    return result


def print_targets(
    rows: dict[str, dict[str, float]],
    repeat: dict[str, dict[str, float]],
    small: dict[str, dict[str, float]],
    live: dict[str, Any],
    cache_growth_kib: int,
) -> None:
    """The performance issue's targets, each next to what this run measured."""
    rule = rows["text: nginx rule"]["seconds"]
    first = rows["text: journal-proxy"]["seconds"] / rule
    floor = rows["export: gatewayd direct"]["seconds"] / rule
    again = repeat["repeat text: journal-proxy"]["seconds"] / rule
    burst = (
        small["burst 5 s after: journal-proxy"]["rps"] / small["burst 5 s after: nginx rule"]["rps"]
    )
    viewers = live["upstream_connections_for_viewers"]
    checks = [
        (
            "small log finished 5 s ago: at least 1.5x the rule's req/s",
            f"{burst:.2f}x",
            burst >= 1.5,
        ),
        ("repeat read of the big log as text: at most 0.3x", f"{again:.2f}x", again <= 0.3),
        (
            f"first read of the big log as text: at most 1.15x (floor, gatewayd's export: {floor:.2f}x)",
            f"{first:.2f}x",
            first <= 1.15,
        ),
        (
            "50 and 100 live viewers: at most 3 gatewayd connections",
            f"{viewers['50']} and {viewers['100']}",
            max(viewers["50"], viewers["100"]) <= 3,
        ),
        (
            "RSS after every format twice: at most the cache bound + 30 MB",
            f"+{cache_growth_kib / 1024:.1f} MiB",
            cache_growth_kib <= (64 + 30) * 1024,
        ),
        (
            "live delay: median under 50 ms",
            f"{live['delay_ms_median']:.1f} ms",
            live["delay_ms_median"] < 50,
        ),
    ]
    print("targets of the performance issue, this run:")
    for what, measured, met in checks:
        print(f"  {'met    ' if met else 'NOT MET'} {measured:>10}  {what}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true", help="small and quick, for CI")
    ap.add_argument(
        "--root",
        type=Path,
        help="run the journal_proxy found in this folder (a frozen commit: "
        "git archive <commit> journal_proxy | tar -x -C DIR) instead of this tree's",
    )
    ap.add_argument("--out", type=Path, help="write the figures here instead of bench/results/")
    args = ap.parse_args()
    entries, rounds, wrk_s, writes = (5_000, 1, 1, 20) if args.smoke else (100_000, 3, 10, 200)
    tmp = Path(tempfile.mkdtemp(prefix="jp-bench-"))
    started: list[subprocess.Popen[bytes]] = []
    try:
        big, small = build(tmp / "journal", entries)
        gw = procs.Gatewayd(tmp / "journal")
        nginx, nginx_port = start_nginx_rule(tmp, gw.port)
        started.append(nginx)
        # Proxy A keeps nothing (cache_bytes 1): every read of it is a first read.  Proxy B runs
        # as shipped: the second read of a finished log comes from its cache.
        (tmp / "nocache.toml").write_text("[limits]\ncache_bytes = 1\n")
        proxy = procs.ProxyProcess(
            UNIT, gw.url, "--config", str(tmp / "nocache.toml"), root=args.root
        )
        started.append(proxy.proc)
        cached_proxy = procs.ProxyProcess(UNIT, gw.url, root=args.root)
        started.append(cached_proxy.proc)
        procs.wait_port(nginx_port)
        proxy_port = proxy.port
        proxy_pid = proxy.proc.pid
        gw_q = f"{gw.url}/entries?_SYSTEMD_INVOCATION_ID="
        ngx, prx = f"http://127.0.0.1:{nginx_port}/logs/", f"http://127.0.0.1:{proxy_port}/logs/"
        curl(prx + small + ".txt")  # warm up
        mem0 = rss_kib(proxy_pid)
        rows = interleaved_medians(
            {
                "text: nginx rule": (ngx + big, "*/*"),
                "text: gatewayd direct": (gw_q + big, "*/*"),
                "text: journal-proxy": (prx + big + ".txt", "*/*"),
                "json: nginx rule": (ngx + big, "application/json"),
                "json: gatewayd direct": (gw_q + big, "application/json"),
                "json: journal-proxy": (prx + big + ".json", "*/*"),
                "html: journal-proxy": (prx + big, "text/html"),
                "export: gatewayd direct": (gw_q + big, EXPORT_MIME),
            },
            rounds,
        )
        mem1 = rss_kib(proxy_pid)
        cached = f"http://127.0.0.1:{cached_proxy.port}/logs/"
        cache_mem0 = rss_kib(cached_proxy.proc.pid)
        for accept, suffix in (("*/*", ".txt"), ("*/*", ".json"), ("text/html", "")):
            for _ in range(2):  # every format of the big log, twice: once read, once kept
                curl(cached + big + suffix, accept)
        cache_mem1 = rss_kib(cached_proxy.proc.pid)
        repeat_rows = {
            "repeat text: nginx rule": rows["text: nginx rule"],
            "repeat text: journal-proxy": median_runs(cached + big + ".txt", rounds),
            "repeat text: journal-proxy gzip": median_runs(
                cached + big + ".txt", rounds, compressed=True
            ),
        }
        page = asyncio.run(page_numbers(prx + big, entries + 4, rounds))
        print("  wrk, small invocation", file=sys.stderr, flush=True)
        small_rows = {
            "small: nginx rule": wrk(ngx + small, wrk_s),
            "small: journal-proxy": wrk(prx + small + ".txt", wrk_s),
        }
        print("  wrk, a small run that finished 5 s ago", file=sys.stderr, flush=True)
        burst = finished_seconds_ago(tmp / "journal", 5.0)
        small_rows["burst 5 s after: nginx rule"] = wrk(ngx + burst, wrk_s)
        burst = finished_seconds_ago(tmp / "journal", 5.0)
        small_rows["burst 5 s after: journal-proxy"] = wrk(cached + burst + ".txt", wrk_s)
        print("  live follow", file=sys.stderr, flush=True)
        live = asyncio.run(live_numbers(proxy_port, gw.port, tmp / "journal", writes, proxy_pid))
        base_text = rows["text: nginx rule"]["seconds"]
        base_json = rows["json: nginx rule"]["seconds"]
        print(f"journal-proxy bench: {entries} entries, {rounds} round(s), median of rounds")
        print(f"{'what':28} {'seconds':>8} {'MB/s':>8} {'TTFB ms':>8} {'x nginx':>8}")
        for name, r in rows.items():
            base = base_json if name.startswith("json") else base_text
            print(
                f"{name:28} {r['seconds']:8.2f} {r['bytes'] / r['seconds'] / 1e6:8.1f} "
                f"{r['ttfb'] * 1000:8.1f} {r['seconds'] / base:8.2f}"
            )
        for name, r in repeat_rows.items():
            print(
                f"{name:28} {r['seconds']:8.2f} {r['bytes'] / r['seconds'] / 1e6:8.1f} "
                f"{r['ttfb'] * 1000:8.1f} {r['seconds'] / base_text:8.2f}"
            )
        for name, r in small_rows.items():
            nrps = small_rows[name.split(":")[0] + ": nginx rule"]["rps"]
            print(
                f"{name:28} {r['rps']:8.0f} req/s  p99 {r['p99_ms']:.1f} ms  x nginx {r['rps'] / nrps:.2f}"
            )
        print(
            f"proxy RSS before/after streaming: {mem0 / 1024:.1f} / {mem1 / 1024:.1f} MiB "
            f"(growth {(mem1 - mem0) / 1024:.1f} MiB)"
        )
        print(
            f"cached proxy RSS before/after every format of the big log twice: "
            f"{cache_mem0 / 1024:.1f} / {cache_mem1 / 1024:.1f} MiB "
            f"(growth {(cache_mem1 - cache_mem0) / 1024:.1f} MiB; cache bound 64 MiB + 30 MiB)"
        )
        if page:
            print(
                f"page in Chromium: first line {page['first_line']:.2f} s, last byte "
                f"{page['response_end']:.2f} s, last line shown {page['last_line']:.2f} s "
                f"(gatewayd's own export of the same entries: "
                f"{rows['export: gatewayd direct']['seconds']:.2f} s)"
            )
        cpu = rows["text: journal-proxy"]["seconds"] / entries * 1e6
        print(f"proxy wall time per entry (text): {cpu:.1f} us")
        print(
            f"live: delay median {live['delay_ms_median']:.1f} ms, p99 {live['delay_ms_p99']:.1f} ms; "
            f"gatewayd connections for 1/10/50/100 viewers: "
            f"{live['upstream_connections_for_viewers']}; "
            f"{live['kib_per_idle_viewer']} KiB per idle viewer"
        )
        print_targets(rows, repeat_rows, small_rows, live, cache_mem1 - cache_mem0)
        out = {
            "entries": entries,
            "rounds": rounds,
            "streams": rows,
            "small": small_rows,
            "repeat": repeat_rows,
            "cached_proxy_rss_kib": [cache_mem0, cache_mem1],
            "proxy_rss_kib": [mem0, mem1],
            "page": page,
            "live": live,
        }
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        target = args.out or results / ("smoke.json" if args.smoke else "latest.json")
        target.write_text(json.dumps(out, indent=2))
    finally:
        for p in started:
            p.terminate()
            p.wait(timeout=10)
        if "gw" in locals():
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
