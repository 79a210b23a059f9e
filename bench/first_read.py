#!/usr/bin/env python3
"""The first read of one big finished log, paired: the nginx rule and one or more proxies.

Every proxy keeps nothing (``cache_bytes = 1``), so every request is a first read.  Rounds
interleave the targets, so load on the machine falls on all of them alike; the ratios of one run
are what to compare, never absolute seconds across runs.

    .venv/bin/python bench/first_read.py                         # this tree against the rule
    .venv/bin/python bench/first_read.py --proxy base=/tmp/base  # and a frozen other commit
    .venv/bin/python bench/first_read.py --profile /tmp/prof     # cProfile this tree's proxy
    .venv/bin/python bench/first_read.py --proxy base=/tmp/base --profile /tmp/prof \
        --profile-also base                                      # and base's, into /tmp/prof.base

A frozen commit: ``git archive <commit> journal_proxy | tar -x -C /tmp/base``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import UNIT, build, curl, start_nginx_rule  # noqa: E402

from journal_proxy.local import procs  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_proxy(
    root: Path, upstream: str, config: Path, profile: Path | None
) -> tuple[subprocess.Popen[bytes], int]:
    python = ["-m", "cProfile", "-o", str(profile)] if profile else []
    proxy = procs.ProxyProcess(UNIT, upstream, "--config", str(config), root=root, python=python)
    return proxy.proc, proxy.port


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--suffix", default=".txt", help=".txt, .json or '' (HTML)")
    ap.add_argument("--proxy", action="append", default=[], metavar="NAME=ROOT")
    ap.add_argument("--profile", type=Path, help="cProfile this tree's proxy into this file")
    ap.add_argument(
        "--profile-also",
        action="append",
        default=[],
        metavar="NAME",
        help="with --profile, also cProfile the proxy named NAME (by --proxy) into PROFILE.NAME, "
        "so two trees' profiles of the same reads can be compared",
    )
    ap.add_argument(
        "--shipped",
        action="store_true",
        help="also this tree as shipped (cache on), restarted before each read: a first read "
        "that also keeps the log's bytes for the next reader",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jp-first-"))
    started: list[subprocess.Popen[bytes]] = []
    gw = None
    try:
        big, _ = build(tmp / "journal", args.entries)
        gw = procs.Gatewayd(tmp / "journal")
        nginx, nginx_port = start_nginx_rule(tmp, gw.port)
        started.append(nginx)
        procs.wait_port(nginx_port)
        (tmp / "nocache.toml").write_text("[limits]\ncache_bytes = 1\n")
        accept = {".json": "application/json", "": "text/html"}.get(args.suffix, "*/*")
        targets = {"nginx rule": (f"http://127.0.0.1:{nginx_port}/logs/{big}", accept)}
        pids = {"nginx rule": 0}
        roots = [("this tree", ROOT)] + [
            (name, Path(root).resolve()) for name, root in (p.split("=", 1) for p in args.proxy)
        ]
        for name, root in roots:
            profile = None
            if args.profile and name == "this tree":
                profile = args.profile
            elif args.profile and name in args.profile_also:
                profile = args.profile.with_name(f"{args.profile.name}.{name}")
            proc, port = start_proxy(root, gw.url, tmp / "nocache.toml", profile)
            started.append(proc)
            targets[name] = (f"http://127.0.0.1:{port}/logs/{big}{args.suffix}", accept)
            pids[name] = proc.pid
        shipped = tmp / "shipped.toml"
        shipped.write_text("")
        if args.shipped:
            targets["shipped"], pids["shipped"] = ("", accept), 0
        times: dict[str, list[float]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        gw_cpu: dict[str, list[float]] = {name: [] for name in targets}
        gw_pid = gw._proc.pid
        names = list(targets)
        for r in range(args.rounds + 1):
            # Each round starts one place further on: a read right after another one is slower
            # or faster for reasons of its own (about 0.1x between places), and rotation gives
            # every target every place.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                url, acc = targets[name]
                if name == "shipped":  # a fresh process: an empty cache
                    proc, port = start_proxy(ROOT, gw.url, shipped, None)
                    url, pids[name] = f"http://127.0.0.1:{port}/logs/{big}{args.suffix}", proc.pid
                before, gw_before = cpu_seconds(pids[name] or gw_pid), cpu_seconds(gw_pid)
                seconds = curl(url, acc)["seconds"]
                if r:  # the first round warms everything up
                    times[name].append(seconds)
                    cpu[name].append(cpu_seconds(pids[name] or gw_pid) - before)
                    gw_cpu[name].append(cpu_seconds(gw_pid) - gw_before)
                if name == "shipped":
                    proc.terminate()
                    proc.wait(timeout=30)
        base = statistics.median(times["nginx rule"])
        print(f"first read, {args.entries} entries, {args.rounds} rounds, {args.suffix or 'html'}")
        for name, runs in times.items():
            med = statistics.median(runs)
            print(
                f"{name:16} median {med:6.2f} s  min {min(runs):6.2f}  max {max(runs):6.2f}"
                f"  x rule {med / base:5.2f}  proxy CPU {statistics.median(cpu[name]):5.2f} s"
                f"  gatewayd CPU {statistics.median(gw_cpu[name]):5.2f} s"
            )
    finally:
        for p in reversed(started):
            p.terminate()
            p.wait(timeout=30)
        if gw is not None:
            gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
