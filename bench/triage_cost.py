#!/usr/bin/env python3
"""CPU cost per entry of step and annotation detection (``Triage.observe``), next to the path it
rides on.

Why: triage runs once per line in every renderer, on the event loop.  Issue 15 asks that it stay a
small fraction of what an entry already costs (about 30 us of proxy wall time per entry in
``bench/run.py``).  This builds a realistic failed deploy in the export format (four commands, so
four streams; GitHub and Buildkite groups; indented, coloured and ``---``-like lines; 1 % warnings,
a few errors, an ``::error`` annotation, systemd's failure lines), then times in this process:

* ``parse+verify``: :class:`ExportParser` and the verifiers, as a request does;
* ``stream field``: the part of ``verify`` that keeps ``_STREAM_ID`` (``Entry.stream``);
* ``+mask``: plus a :class:`MaskSession` (built-in patterns);
* ``+json render``: plus the JSON Lines renderer *without* triage (``entry_object``);
* ``triage``: :meth:`Triage.observe` alone over the same masked entries;
* ``triage+2 patterns``: the same with two operator patterns (``[problems]``).

Commands (from the repository root)::

    .venv/bin/python bench/triage_cost.py                 # 100,000 entries, best of 5
    .venv/bin/python bench/triage_cost.py --entries 20000 --repeat 3

Each figure is the best of ``--repeat`` runs, in microseconds per entry, and triage is also given
as a share of ``parse+verify+mask+json``.  Absolute times drift on a shared machine: compare the
ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from journal_proxy.access.ids import InvocationId
from journal_proxy.journal.entry import Entry
from journal_proxy.journal.export_format import ExportParser
from journal_proxy.journal.verify import _stream, verify_lifecycle_entry, verify_unit_entry
from journal_proxy.local import journal as lj
from journal_proxy.mask.masker import Masker
from journal_proxy.renderers.jsonl import entry_object
from journal_proxy.settings import UnitPins
from journal_proxy.triage.combined import Triage
from journal_proxy.triage.problems import build_matchers, problem_patterns

UNIT = "deploy-website.service"
PINS = UnitPins((UNIT,))


def build(entries: int) -> tuple[bytes, str]:
    """A failed deploy of about ``entries`` lines, as export-format bytes."""
    inv = lj.new_invocation_id()
    clock = lj.Clock()
    out = bytearray(lj.starting(clock, UNIT, inv))
    commands = [("prepare.sh", 101), ("npm", 202), ("deploy.sh", 303), ("notify.sh", 404)]
    per = entries // len(commands)
    for c, (identifier, pid) in enumerate(commands):
        stream = lj.new_stream_id()
        for i in range(per):
            if i % 500 == 0:
                message = f"::group::batch {i // 500}" if c % 2 else f"--- :package: part {i}"
            elif i % 500 == 499 and c % 2:
                message = "::endgroup::"
            elif i % 100 == 7:
                message = f"warning: deprecated option --legacy-peer-deps (line {i})"
            elif i % 10 == 3:
                message = f"    at Object.<anonymous> (/srv/app/src/module{i}.js:12:5)"
            elif i % 10 == 5:
                message = f"\x1b[32m✓\x1b[0m test {i} passed \x1b[90m(12 ms)\x1b[0m"
            elif i % 97 == 11:
                message = "----------------------------------------"
            else:
                message = f"added {i} packages, and audited {i * 3} packages in 4s"
            priority = 4 if i % 100 == 7 else 6
            if c == 2 and i == per // 2:
                message, priority = "::error file=deploy.sh,line=42::rsync failed", 6
            out += lj.unit_line(
                clock,
                UNIT,
                inv,
                message,
                priority=priority,
                identifier=identifier,
                pid=pid,
                stream_id=stream,
            )
        if identifier == "deploy.sh":  # ExecStart= fails; notify.sh is its ExecStopPost=
            out += lj.process_exited(clock, UNIT, inv, 23)
    out += lj.pid1_line(
        clock, UNIT, inv, lj.FAILURE, f"{UNIT}: Failed with result 'exit-code'.", priority=4
    )
    return bytes(out), inv


def parse_verify(export: bytes, inv: str) -> list[Entry]:
    out: list[Entry] = []
    invocation = InvocationId(inv)
    parser = ExportParser()
    for start in range(0, len(export), 65536):  # network-sized chunks
        for raw in parser.feed(export[start : start + 65536]):
            entry = verify_lifecycle_entry(raw, invocation, PINS, ()) or verify_unit_entry(
                raw, invocation, PINS, ()
            )
            if entry is not None:
                out.append(entry)
    parser.finish()
    return out


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    export, inv = build(args.entries)
    masker = Masker.build()
    entries = parse_verify(export, inv)
    n = len(entries)
    masked = [masker.session().apply(e) for e in entries]
    matchers = build_matchers(
        *problem_patterns(
            {"errors": {"npm": r"^npm ERR!"}, "warnings": {"deprecated": r"(?i)\bdeprecated\b"}}
        )
    )

    raws = ExportParser().feed(export)

    def stream_field() -> None:
        for raw in raws:
            _stream(raw.fields.get(b"_STREAM_ID"))

    def mask() -> None:
        session = masker.session()
        for e in entries:
            session.apply(e)

    def render() -> None:
        for line, e in enumerate(masked, 1):
            json.dumps(entry_object(line, e))

    def triage(with_patterns: bool) -> Callable[[], Triage]:
        def run() -> Triage:
            t = Triage(matchers) if with_patterns else Triage()
            for line, e in enumerate(masked, 1):
                t.observe(line, e)
            return t

        return run

    figures = {
        "parse+verify": best(args.repeat, lambda: parse_verify(export, inv)),
        "stream field": best(args.repeat, stream_field),
        "mask": best(args.repeat, mask),
        "json render": best(args.repeat, render),
        "triage": best(args.repeat, triage(False)),
        "triage+2 patterns": best(args.repeat, triage(True)),
    }
    path = figures["parse+verify"] + figures["mask"] + figures["json render"]
    added = figures["stream field"] + figures["triage"]
    summary = triage(False)().summary()
    print(f"triage cost: {n} entries, best of {args.repeat}, microseconds per entry")
    for name, seconds in figures.items():
        print(f"  {name:<20} {seconds / n * 1e6:7.2f} us")
    print(f"  {'parse+verify+mask+json':<20} {path / n * 1e6:7.2f} us")
    for name in ("triage", "triage+2 patterns"):
        print(f"  {name} / that path: {figures[name] / path:.1%}")
    print(f"  stream field + triage / that path: {added / path:.1%}")
    print(
        f"  (the log: {len(summary.steps)} steps, {len(summary.groups)} groups, "
        f"{summary.describe()})"
    )


if __name__ == "__main__":
    main()
