#!/usr/bin/env python3
"""The export-format parser alone, in-process: the common case's speed and the worst entry shapes.

For each shape, the bytes gatewayd would send are fed to ``ExportParser`` in reads of a given
size, as the upstream client hands them over; printed are the total CPU time and the longest
single ``feed`` (what one upstream read holds the event loop for).  Issue 26: an entry's shape
(many binary fields, binary fields before a lot of text, an entry cut into small reads) must not
make the parse more than linear in the bytes.

    .venv/bin/python bench/export_shapes.py                   # this tree
    .venv/bin/python bench/export_shapes.py --base /tmp/base  # and a frozen other commit

A frozen commit: ``git archive <commit> journal_proxy | tar -x -C /tmp/base``.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_proxy.local import journal as lj  # noqa: E402

Shape = tuple[str, bytes, int]  # name, bytes, read size
_INV = "0123456789abcdef0123456789abcdef"
_UNIT = "deploy-website.service"


def _entry(fields: list[tuple[str, str | bytes]]) -> bytes:
    base: list[tuple[str, str | bytes]] = [("__CURSOR", "s=1;i=1"), ("__REALTIME_TIMESTAMP", "1")]
    return lj.export_entry([*base, *fields])


def _typical(count: int, coloured: bool) -> bytes:
    """``count`` lines as a unit writes them (about 700 bytes each, the benchmarks' log)."""
    clock = lj.Clock()
    message = "\x1b[32mok\x1b[0m step {}" if coloured else "step {} of the deployment went fine"
    return b"".join(
        lj.unit_line(clock, _UNIT, _INV, message.format(i), extra=[("__CURSOR", f"s=1;i={i}")])
        for i in range(count)
    )


def shapes() -> list[Shape]:
    """The common case first, then every bad shape issue 26 names and a few more."""
    binary_text = b"x" * 3400 + b"\x01"
    return [
        ("text-only, 100k typical lines", _typical(100_000, False), 65536),
        ("binary MESSAGE (colour), 20k lines", _typical(20_000, True), 65536),
        ("1000 binary fields of 3.4 KB", _entry([(f"F{i}", binary_text) for i in range(1000)]), 65536),
        ("1000 binary fields of 3.4 KB, 4 KB reads", _entry([(f"F{i}", binary_text) for i in range(1000)]), 4096),
        ("8000 one-byte binary fields", _entry([(f"F{i}", b"\x01") for i in range(8000)]), 1 << 20),
        ("300 binary fields, then 3.5 MB of text lines", _entry([*((f"B{i}", b"\x01") for i in range(300)), *((f"T{i}", "t" * 100) for i in range(35_000))]), 1 << 20),
        ("300 binary fields, then one 3.5 MB text field", _entry([*((f"B{i}", b"\x01") for i in range(300)), ("T", "t" * 3_500_000)]), 1 << 20),
        ("one 3.9 MB text field in 1 KB reads", _entry([("MESSAGE", "m" * 3_900_000)]), 1024),
        ("35k text fields in 1 KB reads", _entry([(f"T{i}", "t" * 100) for i in range(35_000)]), 1024),
        ("one 3.9 MB binary field in 1 KB reads", _entry([("MESSAGE", b"\x01" * 3_900_000)]), 1024),
        ("4000 names repeated with other values", _entry([*((f"R{i}", "a") for i in range(4000)), *((f"R{i}", "b") for i in range(4000))]), 1 << 20),
        ("1 MB of blank lines between entries", b"\n" * (1 << 20) + _entry([("MESSAGE", "x")]), 65536),
    ]  # fmt: skip


def run(module: ModuleType, data: bytes, read: int) -> tuple[float, float, int]:
    """Total seconds, the longest feed, and the number of entries parsed."""
    parser = module.ExportParser()
    count, longest = 0, 0.0
    clock = time.perf_counter
    start = clock()
    for pos in range(0, len(data), read):
        t = clock()
        count += len(parser.feed(data[pos : pos + read]))
        longest = max(longest, clock() - t)
    parser.finish()
    return clock() - start, longest, count


def load(root: Path | None) -> ModuleType:
    """``journal_proxy.journal.export_format`` from this tree or from a frozen one."""
    if root is None:
        return importlib.import_module("journal_proxy.journal.export_format")
    saved = {k: v for k, v in sys.modules.items() if k.startswith("journal_proxy")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("journal_proxy.journal.export_format")
    finally:
        sys.path.remove(str(root))
        for name in [k for k in sys.modules if k.startswith("journal_proxy")]:
            del sys.modules[name]
        sys.modules.update(saved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, help="a frozen tree to compare with")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per shape (median printed)")
    args = ap.parse_args()
    modules: dict[str, ModuleType] = {"this": load(None)}
    if args.base is not None:
        modules = {"base": load(args.base), **modules}
    print(f"{'shape':50} {'tree':5} {'MB':>6} {'total s':>8} {'longest feed s':>14}")
    for name, data, read in shapes():
        for label, module in modules.items():
            timings = [run(module, data, read) for _ in range(args.rounds)]
            total = statistics.median(t[0] for t in timings)
            longest = statistics.median(t[1] for t in timings)
            mb = len(data) / 1e6
            print(f"{name:50} {label:5} {mb:6.2f} {total:8.4f} {longest:14.4f}", flush=True)


if __name__ == "__main__":
    main()
