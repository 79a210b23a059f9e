"""Real CI failures, written into a real journal at priority 6 and opened in Chromium (issue 27).

Each case of the corpus (``../shared/failures/dev-corpus.tar.gz``, extracted: ``data/*/*/``) has a
``fail.log``, the ``pass.log`` of the run before it, and a ``groundtruth`` (``E a-b`` the error's
lines, ``C n`` context; numbered over lines split at ``\\r``, ``\\n`` and ``\\r\\n``).  For each
case this writes, as one unit ``deploy-website.service`` would log them, the pass run (then
systemd's success lines) and the failed run (then systemd's failure lines), one journal line per
``\\n``-line, every line at priority 6, without GitHub's timestamps and ``##[...]`` marks (a deploy
script prints neither).  A real ``systemd-journal-gatewayd`` serves the journal, the proxy runs as
its own process, and headless Chromium (/usr/bin/chromium) opens the failed run's page.  Figures,
as the issue's table:

1. shows: the "why it failed" summary shows a line of the error (an ``E`` line);
2. first: the summary's first line is on the error;
3. e: ``e`` pressed at the top leaves an ``E`` line on screen;
4. noise: summary lines that are neither error nor context, per log.

A journal line holding several ``\\r``-lines is "on the error" when any of them is.  The same
figures without a browser (``--triage``: :class:`journal_proxy.triage.combined.Triage` over the same
entries, :attr:`Summary.shown` as the summary and the cause as where ``e`` lands) take a second.

    .venv/bin/python bench/real_failures.py [--corpus /tmp/failures] [--triage] [-v]
    git archive a981075 journal_proxy | tar -x -C /tmp/before   # the figures before issue 27
    .venv/bin/python bench/real_failures.py --root /tmp/before
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

UNIT = "deploy-website.service"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
_STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
_MARK = re.compile(rb"^##\[[a-z]+\]")
_BREAKS = re.compile(rb"\r\n|\r|\n")


@dataclass
class Case:
    """One failure: the journal messages of both runs and, per failed-run message (0-based),
    whether it is on the error (``E``) or context (``C``)."""

    name: str
    passed: list[bytes]
    failed: list[bytes]
    error: set[int] = field(default_factory=set)
    context: set[int] = field(default_factory=set)


def messages(raw: bytes) -> tuple[list[bytes], list[range]]:
    """A raw log as journal messages (split at ``\\n`` only, marks stripped), and for each the
    ground truth's line numbers it covers (split at ``\\r`` too)."""
    out: list[bytes] = []
    covers: list[range] = []
    number = 1
    pieces = raw.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for piece in pieces:
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        count = piece.count(b"\r") + 1
        covers.append(range(number, number + count))
        number += count
        text = _STAMP.sub(b"", piece, count=1)
        out.append(_MARK.sub(b"", text, count=1))
    return out, covers


def truth(path: Path) -> tuple[set[int], set[int]]:
    """The ``E`` and ``C`` line numbers of a ``groundtruth`` file."""
    error: set[int] = set()
    context: set[int] = set()
    for row in path.read_text().splitlines()[1:]:
        parts = row.split()
        if len(parts) != 2 or parts[0] not in ("E", "C"):
            continue
        first, _, last = parts[1].partition("-")
        numbers = range(int(first), int(last or first) + 1)
        (error if parts[0] == "E" else context).update(numbers)
    return error, context


def load(root: Path) -> list[Case]:
    """Every case under ``root`` (``data/*/*/*`` holding a fail.log), sorted by name."""
    cases = []
    for fail in sorted(root.glob("data/**/fail.log")):
        folder = fail.parent
        failed, covers = messages(fail.read_bytes())
        passed, _ = messages((folder / "pass.log").read_bytes())
        error, context = truth(folder / "groundtruth")
        case = Case(str(folder.relative_to(root / "data")), passed, failed)
        for i, numbers in enumerate(covers):
            if error.intersection(numbers):
                case.error.add(i)
            elif context.intersection(numbers):
                case.context.add(i)
        cases.append(case)
    return cases


def run_bytes(clock: lj.Clock, inv: str, lines: list[bytes], ok: bool) -> bytes:
    """One run of the unit: systemd's start, the lines at priority 6, systemd's end."""
    stream = lj.new_stream_id()
    out = bytearray(lj.starting(clock, UNIT, inv))
    for line in lines:
        out += lj.unit_line(clock, UNIT, inv, line, priority=6, stream_id=stream)
    out += lj.succeeded(clock, UNIT, inv) if ok else lj.failed(clock, UNIT, inv, 1)
    return bytes(out)


@dataclass
class Seen:
    """What a reader saw of one case: the summary's lines and where ``e`` landed (page lines)."""

    summary: list[int]
    on_screen: list[int]


@dataclass
class Figures:
    cases: int = 0
    shows: int = 0
    first: int = 0
    e_lands: int = 0
    noise: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: Case, seen: Seen, verbose: bool) -> None:
        """Score one case; page line n is message n - 2 (line 1 is systemd's Starting)."""
        msg = [n - 2 for n in seen.summary]
        on_error = [m in case.error for m in msg]
        self.cases += 1
        self.shows += any(on_error)
        self.first += bool(on_error and on_error[0])
        self.e_lands += any(n - 2 in case.error for n in seen.on_screen)
        self.noise += sum(1 for m in msg if m not in case.error and m not in case.context)
        if not (on_error and on_error[0]):
            self.misses.append(case.name)
        if verbose:
            marks = "".join("E" if e else "." for e in on_error)
            print(f"  {case.name:48} summary {marks:10} e {'ok' if self.e_lands else ''}")

    def table(self, label: str) -> str:
        n = self.cases or 1
        return (
            f"{label}: {self.cases} cases\n"
            f"  summary shows a line of the error   {self.shows} of {self.cases}\n"
            f"  summary's first line on the error   {self.first} of {self.cases}\n"
            f"  e from the top lands on the error   {self.e_lands} of {self.cases}\n"
            f"  summary lines neither error nor context  {self.noise / n:.1f} a log\n"
            f"  first line missed: {', '.join(self.misses) or 'none'}"
        )


def triage_seen(case: Case) -> Seen:
    """The figures' inputs from :class:`Triage` alone (no journal, no browser)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from journal_proxy.triage.combined import Triage
    from tests.helpers_triage import read_log

    clock = lj.Clock()
    inv = lj.new_invocation_id()
    triage = Triage()
    for line, entry in read_log(run_bytes(clock, inv, case.failed, False), inv):
        triage.observe(line, entry)
    summary = triage.summary()
    cause = summary.cause
    landing = [] if cause is None else list(range(cause.first - 15, cause.first + 15))
    return Seen(list(summary.shown), landing)


async def page_seen(browser: object, url: str) -> Seen:
    """Open the page at desktop size; read the summary's links; press ``e`` at the top."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = await ctx.new_page()
    await page.goto(url)
    await page.wait_for_load_state("load")
    links = await page.eval_on_selector_all(
        "#summary li a", "els => els.map(a => +a.getAttribute('href').slice(2))"
    )
    await page.evaluate("window.scrollTo(0, 0)")
    await page.keyboard.press("e")
    await page.wait_for_timeout(300)
    on_screen = await page.evaluate(
        """() => [...document.querySelectorAll('#log .l')].filter(el => {
               const r = el.getBoundingClientRect();
               return r.height > 0 && r.bottom > 0 && r.top < innerHeight;
             }).map(el => +el.dataset.n)"""
    )
    await ctx.close()
    return Seen(links, on_screen)


async def browse(cases: list[Case], verbose: bool, root: Path | None = None) -> Figures:
    """Every case in one journal behind one gatewayd and one proxy (``root``: the
    ``journal_proxy`` of another tree, e.g. ``git archive`` of an older commit); one Chromium."""
    from playwright.async_api import async_playwright

    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp:
        clock = lj.Clock()
        invs = []
        parts = []
        for case in cases:
            ok, bad = lj.new_invocation_id(), lj.new_invocation_id()
            parts += [
                run_bytes(clock, ok, case.passed, True),
                run_bytes(clock, bad, case.failed, False),
            ]
            invs.append(bad)
        procs.write_journal(Path(tmp), "real", b"".join(parts))
        gw = procs.Gatewayd(Path(tmp))
        proxy = procs.ProxyProcess(UNIT, gw.url, root=root)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    for case, inv in zip(cases, invs, strict=True):
                        seen = await page_seen(browser, f"{proxy.url}/logs/{inv}")
                        figures.add(case, seen, verbose)
                finally:
                    await browser.close()
        finally:
            proxy.stop()
            gw.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/failures"))
    parser.add_argument("--triage", action="store_true", help="no journal, no browser")
    parser.add_argument("--root", type=Path, help="run the journal_proxy found there")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    cases = load(args.corpus)
    if not cases:
        sys.exit(f"no cases under {args.corpus}/data: extract dev-corpus.tar.gz there")
    if args.triage:
        figures = Figures()
        for case in cases:
            figures.add(case, triage_seen(case), args.verbose)
        print(figures.table("triage only (no browser)"))
        return
    label = f"the page in Chromium ({args.root or 'this tree'})"
    print(asyncio.run(browse(cases, args.verbose, args.root)).table(label))


if __name__ == "__main__":
    main()
