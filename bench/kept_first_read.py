#!/usr/bin/env python3
"""The first read of a big run that was kept when it ended, against the nginx rule.

A proxy reads the finished run once, as the deploy's handler has it do (``journal-proxy keep``),
and stops.  Each round then starts a fresh proxy on the same ``keep_dir`` (its memory cache
empty: the run is on disk only) and times a reader's first read of the link, next to the nginx
rule reading the same run from gatewayd.  Also printed: the kept run's size on disk and the
fresh proxy's RSS after the read (what is kept does not live in memory).

    .venv/bin/python bench/kept_first_read.py [--entries 100000] [--rounds 5] [--suffix .txt]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import UNIT, build, curl, start_nginx_rule  # noqa: E402

from journal_proxy.local import procs  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def read_once(gw: procs.Gatewayd, config: Path, url_tail: str, accept: str) -> tuple[float, float]:
    """A fresh proxy's first read: seconds, and the proxy's RSS after it."""
    proxy = procs.ProxyProcess(UNIT, gw.url, "--config", str(config))
    try:
        seconds = curl(f"http://127.0.0.1:{proxy.port}{url_tail}", accept)["seconds"]
        return seconds, rss_mib(proxy.proc.pid)
    finally:
        proxy.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--suffix", default=".txt", help=".txt, .json or '' (HTML)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jp-kept-"))
    gw, nginx = None, None
    try:
        big, _ = build(tmp / "journal", args.entries)
        gw = procs.Gatewayd(tmp / "journal")
        nginx, nginx_port = start_nginx_rule(tmp, gw.port)
        procs.wait_port(nginx_port)
        config = tmp / "keep.toml"
        config.write_text(f'keep_dir = "{tmp / "kept"}"\n')
        accept = {".json": "application/json", "": "text/html"}.get(args.suffix, "*/*")
        tail = f"/logs/{big}{args.suffix}"
        read_once(gw, config, tail, accept)  # the handler's read: the run is kept now
        kept = sum(f.stat().st_size for f in (tmp / "kept").rglob("*") if f.is_file())
        rule, kept_reads, rss = [], [], []
        for _ in range(args.rounds):
            rule.append(curl(f"http://127.0.0.1:{nginx_port}/logs/{big}", accept)["seconds"])
            seconds, mib = read_once(gw, config, tail, accept)
            kept_reads.append(seconds)
            rss.append(mib)
        base, ours = statistics.median(rule), statistics.median(kept_reads)
        print(f"first read of a kept run, {args.entries} entries, {args.rounds} rounds")
        print(f"nginx rule        median {base:6.3f} s  min {min(rule):6.3f}  max {max(rule):6.3f}")
        print(
            f"kept, fresh proxy median {ours:6.3f} s  min {min(kept_reads):6.3f}"
            f"  max {max(kept_reads):6.3f}  x rule {ours / base:5.3f}"
        )
        print(f"on disk: {kept / 1e6:.1f} MB; fresh proxy RSS after the read: {max(rss):.1f} MiB")
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=30)
        if gw is not None:
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
