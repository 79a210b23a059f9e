#!/usr/bin/env python3
"""``journal-proxy serve`` under tracemalloc, a snapshot on each SIGUSR1, and a snapshot diff.

Why: RSS says that memory grows, not where.  A tracemalloc snapshot taken early in a soak and one
taken late, compared by allocation site, name the lines whose live allocations grew (a leak, or a
cache still filling); whatever RSS grew beyond that is the allocator (fragmentation, arenas), not
Python objects.

Run the proxy (``bench/soak.py --traced`` does this and sends the signals itself)::

    .venv/bin/python bench/traced_proxy.py run --snapshot-dir DIR [--frames 10] -- \\
        serve --config CONFIG.toml

Each ``kill -USR1 <pid>`` collects garbage (so only reachable objects count), then writes
``DIR/snapshot-<seconds since start>.tracemalloc`` and a ``.json`` beside it (traced bytes, RSS,
allocated blocks, gc-tracked objects by type).  The proxy pauses while it writes, a second or
two.  Compare two snapshots::

    .venv/bin/python bench/traced_proxy.py compare DIR/snapshot-0300.tracemalloc \\
        DIR/snapshot-1500.tracemalloc [--top 25]
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import time
import traceback
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _dump(directory: Path, started: float) -> None:
    """Write one snapshot and its summary; files appear by rename, so a reader never sees half."""
    gc.collect()
    elapsed = time.monotonic() - started
    name = f"snapshot-{elapsed:04.0f}"
    tmp = directory / f".{name}.tmp"
    if tracemalloc.is_tracing():
        # Unfiltered: filter_traces is pure Python over every frame (14 s for an idle proxy),
        # and import-time allocations do not grow anyway.
        tracemalloc.take_snapshot().dump(str(tmp))
    types = Counter(type(o).__qualname__ for o in gc.get_objects())
    current, peak = tracemalloc.get_traced_memory()
    summary = {
        "elapsed": elapsed,
        "traced_bytes": current,
        "traced_peak": peak,
        "rss_kib": _rss_kib(),
        "allocated_blocks": sys.getallocatedblocks(),
        "gc_objects": sum(types.values()),
        "gc_types": dict(types.most_common(60)),
    }
    (directory / f".{name}.json.tmp").write_text(json.dumps(summary, indent=1))
    if tmp.exists():
        tmp.rename(directory / f"{name}.tracemalloc")
    (directory / f".{name}.json.tmp").rename(directory / f"{name}.json")


def run(directory: Path, frames: int, argv: list[str]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if frames > 0:  # 0: no tracing (full speed), the snapshots hold only the summary
        tracemalloc.start(frames)

    def on_usr1(signum: int, frame: FrameType | None) -> None:
        print(
            f"traced_proxy: snapshot requested at {time.monotonic() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        try:
            _dump(directory, started)
        except Exception:  # never into the event loop: whatever code was running would get it
            traceback.print_exc()

    # A plain handler runs in the main thread between bytecodes, i.e. between event-loop steps.
    signal.signal(signal.SIGUSR1, on_usr1)
    sys.path.append(str(ROOT))  # after PYTHONPATH, which may name another copy to run
    from journal_proxy.cli.main import main

    return main(argv)


def _where(frame: tracemalloc.Frame) -> str:
    """A short file:line: from the package, site-packages or the standard library on."""
    name = frame.filename
    for marker, keep in (
        ("/journal_proxy/", "journal_proxy/"),
        ("/site-packages/", ""),
        ("/lib/python3.11/", ""),
    ):
        if marker in name:
            return f"{keep}{name.split(marker, 1)[1]}:{frame.lineno}"
    return f"{name}:{frame.lineno}"


def compare(first: Path, last: Path, top: int) -> None:
    """What grew: RSS, blocks and object types from the summaries; sites from the snapshots."""
    sa, sb = (_summary(p) for p in (first, last))
    if sa and sb:
        print(
            f"{first.stem} -> {last.stem}: RSS {sa['rss_kib'] / 1024:.1f} -> "
            f"{sb['rss_kib'] / 1024:.1f} MiB, allocated blocks {sa['allocated_blocks']} -> "
            f"{sb['allocated_blocks']}, gc objects {sa['gc_objects']} -> {sb['gc_objects']}"
        )
        ta, tb = Counter(sa["gc_types"]), Counter(sb["gc_types"])
        grown = sorted(((tb[k] - ta[k], k) for k in tb.keys() | ta.keys()), reverse=True)
        print(
            "gc-tracked objects that grew most (count): "
            + ", ".join(f"{name} {d:+d} (now {tb[name]})" for d, name in grown[:12] if d > 0)
        )
    if not (first.exists() and last.exists()):
        return
    a = tracemalloc.Snapshot.load(str(first))
    b = tracemalloc.Snapshot.load(str(last))
    size_a = sum(s.size for s in a.statistics("filename"))
    size_b = sum(s.size for s in b.statistics("filename"))
    print(f"traced: {size_a / 2**20:.2f} MiB -> {size_b / 2**20:.2f} MiB")
    print(f"\ntop {top} allocation sites by growth (innermost frame):")
    print(f"{'growth KiB':>11} {'blocks':>8} {'now KiB':>9}  site")
    for st in b.compare_to(a, "lineno")[:top]:
        print(
            f"{st.size_diff / 1024:+11.1f} {st.count_diff:+8d} {st.size / 1024:9.1f}  "
            f"{_where(st.traceback[0])}"
        )
    print("\ntop 12 growing call paths (most recent call last, last 8 frames):")
    for st in b.compare_to(a, "traceback")[:12]:
        print(
            f"  {st.size_diff / 1024:+.1f} KiB, {st.count_diff:+d} blocks, now {st.size / 1024:.1f} KiB"
        )
        for fr in list(st.traceback)[-8:]:
            print(f"      {_where(fr)}")


def _summary(snapshot: Path) -> dict[str, Any] | None:
    path = snapshot.with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run journal-proxy with tracemalloc; snapshot on SIGUSR1")
    r.add_argument("--snapshot-dir", type=Path, required=True)
    r.add_argument("--frames", type=int, default=10, help="frames per allocation; 0: untraced")
    r.add_argument("argv", nargs=argparse.REMAINDER, help="-- serve ... (journal-proxy's own)")
    c = sub.add_parser("compare", help="allocation sites that grew from FIRST to LAST")
    c.add_argument("first", type=Path)
    c.add_argument("last", type=Path)
    c.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    if args.command == "run":
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        return run(args.snapshot_dir, args.frames, argv)
    compare(args.first, args.last, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
