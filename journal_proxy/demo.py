"""``journal-proxy demo``: the proxy on a built-in journal, served by a real gatewayd.

The demo is the first thing anyone runs, so its journal is written to look like real deploys of
``deploy-website.service`` (a oneshot with ``ExecStartPre=``, ``ExecStart=`` and
``ExecStartPost=``, each its own process and identifier), at the pace real steps take:

- **succeeded**: about a minute: fetch, install dependencies, an incremental build, tests,
  publish, smoke test; two warnings on the way, URLs, colours.
- **failed**: a full rebuild of a few thousand pages with one template error in the middle, the
  build's summary and systemd's failure lines at the end: the error has to be found, which is
  what the page's triage and search are for.
- **running**: a deploy that reached a database backfill which logs progress every 1-3 s for as
  long as the demo runs (it has no end of its own), so the live tail can be watched at any time.

The URLs are printed only once the proxy has answered for each of the three runs, so the first
click works; SIGINT or SIGTERM stops everything the demo started and removes what it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from . import localjournal as lj
from .config import settings_from_mapping
from .errors import ConfigError
from .server import serve
from .settings import Settings

log = logging.getLogger(__name__)

UNIT = "deploy-website.service"
#: SGR sequences, as the tools in a real deploy print them.
BOLD, DIM, RED, GREEN, YELLOW, CYAN, X = (
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[36m",
    "\x1b[0m",
)
#: A line to write: the message, or the message and its syslog priority.
Line = str | tuple[str, int]

#: How long the demo waits for its own pieces (gatewayd, the proxy) before calling it broken.
STARTUP_TIMEOUT = 30.0


# --- Writing one run -------------------------------------------------------------------------


@dataclass
class _Run:
    """One invocation being written, entry by entry, at believable times.

    Time only moves forward, by the gap each line says it took, so the page's times and the
    status's duration read like a real deploy rather than entries a millisecond apart.
    """

    invocation_id: str
    start_usec: int
    rng: random.Random
    clock: lj.Clock = field(init=False)
    identifier: str = "deploy.sh"
    pid: int = 0
    stream_id: str = lj.DEFAULT_STREAM
    out: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.clock = lj.Clock(self.start_usec)

    @property
    def elapsed(self) -> float:
        return (self.clock.usec - self.start_usec) / 1e6

    def wait(self, seconds: float) -> None:
        self.clock.usec += int(seconds * 1e6)

    def process(self, identifier: str, pid: int, *, after: float = 0.05) -> None:
        """A new ``Exec*=`` process: its own identifier, pid and stdout stream, as systemd
        starts each command (the proxy's triage tells steps apart by the stream)."""
        self.wait(after)
        self.identifier, self.pid, self.stream_id = identifier, pid, lj.new_stream_id()

    def line(self, message: str, priority: int = 6, *, after: float = 0.0) -> None:
        """One line of the current process's output, ``after`` seconds after the previous."""
        realtime = self.clock.tick(max(40, int(after * 1e6)))
        self.out += self._entry(message, priority, realtime)

    def line_now(self, message: str, priority: int = 6) -> bytes:
        """A live line, stamped with the wall clock (never before the previous line)."""
        realtime = self.clock.tick(max(40, lj.now_usec() - self.clock.usec))
        return self._entry(message, priority, realtime)

    def _entry(self, message: str, priority: int, realtime: int) -> bytes:
        return lj.unit_line(
            self.clock,
            UNIT,
            self.invocation_id,
            message,
            priority=priority,
            identifier=self.identifier,
            pid=self.pid,
            realtime=realtime,
            stream_id=self.stream_id,
        )

    def spread(self, lines: Sequence[Line], seconds: float) -> None:
        """Write ``lines`` over ``seconds``: uneven gaps (bursts and pauses), as output comes."""
        weights = [self.rng.expovariate(1.0) for _ in lines]
        total = sum(weights) or 1.0
        for item, weight in zip(lines, weights, strict=True):
            message, priority = (item, 6) if isinstance(item, str) else item
            self.line(message, priority, after=seconds * weight / total)

    def systemd(self, entries: bytes) -> None:
        """PID 1's lines (made by ``lj.starting``/``failed``/... on this run's clock)."""
        self.out += entries

    def take(self) -> bytes:
        data, self.out = bytes(self.out), bytearray()
        return data


def _finished_ok(clock: lj.Clock, inv: str, cpu: str) -> bytes:
    """``lj.succeeded`` with the CPU time this run would really have consumed."""
    return (
        lj.pid1_line(clock, UNIT, inv, lj.SUCCESS, f"{UNIT}: Deactivated successfully.")
        + lj.pid1_line(
            clock,
            UNIT,
            inv,
            lj.STARTED,
            f"Finished {UNIT} - Deploy the website.",
            extra=[("JOB_TYPE", "start"), ("JOB_RESULT", "done")],
        )
        + _consumed(clock, inv, cpu)
    )


def _consumed(clock: lj.Clock, inv: str, cpu: str) -> bytes:
    return lj.pid1_line(clock, UNIT, inv, lj.RESOURCES, f"{UNIT}: Consumed {cpu} CPU time.")


# --- What the steps print --------------------------------------------------------------------

#: requirements.txt of the website: (name, version, wheel tag, download size).
_PACKAGES = [
    ("Jinja2", "3.1.4", "py3-none-any", "133 kB"),
    ("MarkupSafe", "2.1.5", "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "28 kB"),
    ("Markdown", "3.6", "py3-none-any", "105 kB"),
    ("Pygments", "2.18.0", "py3-none-any", "1.2 MB"),
    ("PyYAML", "6.0.1", "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "757 kB"),
    ("pillow", "10.3.0", "cp311-cp311-manylinux_2_28_x86_64", "4.5 MB"),
    ("beautifulsoup4", "4.12.3", "py3-none-any", "147 kB"),
    ("soupsieve", "2.5", "py3-none-any", "36 kB"),
    ("Babel", "2.15.0", "py3-none-any", "9.6 MB"),
    ("python-dateutil", "2.9.0.post0", "py2.py3-none-any", "229 kB"),
    ("six", "1.16.0", "py2.py3-none-any", "11 kB"),
    ("requests", "2.32.3", "py3-none-any", "64 kB"),
    ("urllib3", "2.2.1", "py3-none-any", "121 kB"),
    ("idna", "3.7", "py3-none-any", "66 kB"),
    ("certifi", "2024.6.2", "py3-none-any", "164 kB"),
    ("charset-normalizer", "3.3.2", "cp311-cp311-manylinux_2_17_x86_64", "140 kB"),
    ("lxml", "5.2.2", "cp311-cp311-manylinux_2_28_x86_64", "5.0 MB"),
    ("feedgen", "1.0.0", "py2.py3-none-any", "24 kB"),
    ("click", "8.1.7", "py3-none-any", "97 kB"),
    ("pymdown-extensions", "10.8.1", "py3-none-any", "250 kB"),
    ("minify-html", "0.15.0", "cp311-cp311-manylinux_2_17_x86_64", "2.1 MB"),
    ("rjsmin", "1.2.2", "cp311-cp311-manylinux_2_5_x86_64", "30 kB"),
    ("csscompressor", "0.9.5", "py3-none-any", "10 kB"),
    ("python-slugify", "8.0.4", "py2.py3-none-any", "10 kB"),
    ("text-unidecode", "1.3", "py2.py3-none-any", "78 kB"),
    ("pytz", "2024.1", "py2.py3-none-any", "505 kB"),
    ("psycopg", "3.1.19", "py3-none-any", "179 kB"),
    ("psycopg-binary", "3.1.19", "cp311-cp311-manylinux_2_17_x86_64", "3.3 MB"),
    ("typing_extensions", "4.12.2", "py3-none-any", "37 kB"),
    ("boto3", "1.34.131", "py3-none-any", "139 kB"),
    ("botocore", "1.34.131", "py3-none-any", "12.3 MB"),
    ("s3transfer", "0.10.1", "py3-none-any", "82 kB"),
    ("jmespath", "1.0.1", "py3-none-any", "20 kB"),
    ("pytest", "8.2.2", "py3-none-any", "339 kB"),
    ("pluggy", "1.5.0", "py3-none-any", "20 kB"),
    ("iniconfig", "2.0.0", "py3-none-any", "5.9 kB"),
    ("packaging", "24.1", "py3-none-any", "53 kB"),
    ("linkify-it-py", "2.0.3", "py3-none-any", "19 kB"),
    ("uc-micro-py", "1.0.3", "py3-none-any", "6.2 kB"),
    ("watchdog", "4.0.1", "py3-none-manylinux2014_x86_64", "83 kB"),
]

_SECTIONS = ("blog", "docs", "guides", "changelog", "customers", "integrations")
_WORDS = (
    *("pricing", "billing", "yearly", "plans", "teams", "search", "api", "webhooks", "exports"),
    *("import", "sso", "audit", "log", "roles", "invoices", "tax", "regions", "latency"),
    *("uptime", "backups", "restore", "deploys", "previews", "domains", "certificates"),
    *("caching", "images", "fonts", "dark", "mode", "keyboard", "shortcuts", "onboarding"),
    *("mobile", "offline", "sync", "analytics", "privacy", "retention", "quotas", "limits"),
)


#: The one page of the failed run that does not render: a docs page embedding the price table.
_FAILING_PAGE = "/docs/plans-and-pricing/"


def _pages(rng: random.Random, count: int) -> list[str]:
    """The site's page paths, made up once per run from a fixed seed."""
    pages = ["/pricing/", "/about/", "/contact/", "/blog/", "/docs/", _FAILING_PAGE]
    seen = set(pages)
    while len(pages) < count:
        section = rng.choice(_SECTIONS)
        slug = "-".join(rng.sample(_WORDS, rng.randint(2, 4)))
        path = (
            f"/blog/{rng.randint(2019, 2026)}/{rng.randint(1, 12):02d}/{slug}/"
            if section == "blog"
            else f"/{section}/{slug}/"
        )
        if path not in seen:
            seen.add(path)
            pages.append(path)
    return ["/", *sorted(pages)]  # rendered section by section, as the generator walks them


def _header(text: str) -> str:
    """A phase of deploy.sh, marked as CI scripts mark them (GitHub Actions' ``::group::``), so
    the proxy's triage shows the phases as groups."""
    return f"::group::{text}"


def _pre(run: _Run) -> None:
    """``ExecStartPre=``: notify-github posts ``in_progress`` with this run's log link."""
    run.process("journal-proxy", run.rng.randint(2000, 2999))
    run.line(
        "posted in_progress for deployment status "
        f"{run.rng.randint(180000000, 189999999)}: "
        f"https://deploy.example.com/logs/{run.invocation_id}",
        after=0.7,
    )


def _fetch(run: _Run, old: str, new: str, subject: str) -> None:
    run.process("deploy.sh", run.pid + run.rng.randint(3, 9), after=0.1)
    run.line(_header("Fetching example/website@main"), after=0.02)
    run.spread(
        [
            "From github.com:example/website",
            f"   {old}..{new}  main       -> origin/main",
            f"HEAD is now at {new} {subject}",
        ],
        2.0,
    )


def _install(run: _Run, seconds: float) -> None:
    """``pip install -r requirements.txt`` into a fresh venv: many lines, about 20 s."""
    run.line(_header("Installing dependencies (pip install -r requirements.txt)"), after=0.1)
    lines: list[Line] = []
    for number, (name, version, tag, _size) in enumerate(_PACKAGES, start=3):
        wheel = f"{name.lower().replace('-', '_')}-{version}-{tag}.whl"
        lines.append(f"Collecting {name}=={version} (from -r requirements.txt (line {number}))")
        lines.append(f"  Downloading {wheel.removesuffix('.whl')}.whl.metadata (2.{number % 9} kB)")
    lines += [
        f"Downloading {n.lower().replace('-', '_')}-{v}-{t}.whl ({s})" for n, v, t, s in _PACKAGES
    ]
    run.spread(lines, seconds * 0.8)
    names = ", ".join(n for n, *_ in _PACKAGES)
    run.line(f"Installing collected packages: {names}", after=0.4)
    installed = " ".join(f"{n}-{v}" for n, v, *_ in _PACKAGES)
    run.line(f"Successfully installed {installed}", after=seconds * 0.2)
    run.line(
        f"{YELLOW}WARNING: Running pip as the 'root' user can result in broken permissions and "
        "conflicting behaviour with the system package manager. It is recommended to use a "
        f"virtual environment instead: https://pip.pypa.io/warnings/venv{X}",
        4,
        after=0.05,
    )


def _render(run: _Run, lang: str, path: str) -> str:
    prefix = "" if lang == "en" else f"/{lang}"
    return f"  render  {lang}  {prefix + path:<58} {DIM}{run.rng.randint(3, 41):>3} ms{X}"


def _build_incremental(run: _Run, pages: list[str], changed: int, seconds: float) -> None:
    total = len(pages) * 3
    run.line(
        _header(f"Building site (incremental: {changed} of {total:,} pages changed)"), after=0.2
    )
    lines: list[Line] = [_render(run, "en", p) for p in pages[:changed]]
    lines.insert(
        changed // 3,
        f"  image   static/img/pricing/yearly@2x.png -> 480w 960w 1920w webp {DIM}612 ms{X}",
    )
    lines.insert(
        changed // 3 + 1,
        (
            f"{YELLOW}WARNING{X}  static/img/pricing/hero.png is 2.4 MB; images over 500 kB "
            "slow the first screen (set images.max_size to silence this)",
            4,
        ),
    )
    run.spread(lines, seconds)
    run.line(
        f"{GREEN}Built {changed} pages{X} in {seconds:.1f} s (cache: {total - changed:,} unchanged)"
    )


def _tests(run: _Run, seconds: float) -> None:
    run.line(_header("Running tests"), after=0.2)
    run.line("============================= test session starts ==============================")
    run.line("platform linux -- Python 3.11.2, pytest-8.2.2, pluggy-1.5.0")
    names = [
        *(f"tests/test_links.py::test_internal_links[{lang}]" for lang in ("en", "de", "fr")),
        *(f"tests/test_links.py::test_anchors[{lang}]" for lang in ("en", "de", "fr")),
        "tests/test_feed.py::test_feed_is_valid_atom",
        "tests/test_feed.py::test_feed_has_latest_posts",
        *(f"tests/test_pricing.py::test_price_table[{p}]" for p in ("free", "team", "business")),
        "tests/test_pricing.py::test_yearly_discount",
        "tests/test_sitemap.py::test_sitemap_lists_every_page",
        "tests/test_sitemap.py::test_no_drafts_in_sitemap",
        "tests/test_html.py::test_every_page_has_a_title",
        "tests/test_html.py::test_images_have_alt_text",
        "tests/test_html.py::test_no_mixed_content",
        "tests/test_search.py::test_index_covers_docs",
        "tests/test_search.py::test_analyzer_stems_german",
    ]
    lines: list[Line] = [
        f"{name} {GREEN}PASSED{X}{' ' * max(1, 70 - len(name))}[{100 * i // len(names):3d}%]"
        for i, name in enumerate(names, start=1)
    ]
    run.spread(lines, seconds)
    run.line(
        f"{GREEN}============================== {len(names)} passed in {seconds - 0.3:.2f}s =============================={X}"
    )


def _publish(run: _Run, commit: str, pages: list[str], changed: int) -> None:
    run.line(_header("Publishing"), after=0.2)
    when = datetime.fromtimestamp(run.clock.usec / 1e6, UTC).strftime("%Y%m%d-%H%M%S")
    release = f"{when}-{commit}"
    lines: list[Line] = [
        "sending incremental file list",
        f"created directory /srv/www/releases/{release}",
    ]
    lines += [
        f">f.st...... {p.strip('/') or 'index'}/index.html".replace("//", "/")
        for p in pages[:changed:5]
    ]
    lines += [
        f"sent {run.rng.randint(3_000_000, 5_000_000):,} bytes  received 12,441 bytes  "
        "1,206,706.57 bytes/sec",
        "total size is 182,311,470  speedup is 43.17",
    ]
    run.spread(lines, 3.5)
    run.line(f"switched /srv/www/current -> releases/{release}", after=0.3)
    run.line(
        f"CDN: purged {changed} paths (https://dash.cdn.example.net/purges/{commit}a41)", after=0.9
    )
    run.line(f"{GREEN}{BOLD}Deployed {commit} to https://www.example.com{X}", 5, after=0.05)


def _smoke(run: _Run) -> None:
    """``ExecStartPost=``: a separate smoke-test process checks the live site."""
    run.process("smoke-test", run.pid + run.rng.randint(40, 90), after=0.1)
    for path in ("/", "/pricing/", "/blog/", "/feed.xml"):
        ms = run.rng.randint(60, 140)
        run.line(f"{GREEN}ok{X}  GET https://www.example.com{path}  200  {ms} ms", after=ms / 1000)
    run.line("4/4 checks passed", after=0.01)


def _succeeded_run(inv: str, start: int, rng: random.Random, pages: list[str]) -> bytes:
    run = _Run(inv, start, rng)
    run.systemd(lj.starting(run.clock, UNIT, inv))
    _pre(run)
    _fetch(run, "4f1c2ab", "9e0d7c1", "Pricing page: show yearly plans")
    _install(run, 20.0)
    _build_incremental(run, pages, 412, 15.0)
    _tests(run, 8.0)
    _publish(run, "9e0d7c1", pages, 412)
    _smoke(run)
    run.wait(0.02)
    run.systemd(_finished_ok(run.clock, inv, "41.873s"))
    return run.take()


def _failed_run(inv: str, start: int, rng: random.Random, pages: list[str]) -> bytes:
    """A full rebuild (a shared template changed) in which one German page fails to render."""
    run = _Run(inv, start, rng)
    run.systemd(lj.starting(run.clock, UNIT, inv))
    _pre(run)
    _fetch(run, "9e0d7c1", "1b7e3aa", "Pricing: show prices in the visitor's currency")
    _install(run, 19.0)
    total = len(pages) * 3
    run.line(
        _header(
            f"Building site (full: templates/partials/price-table.html changed, {total:,} pages)"
        ),
        after=0.2,
    )
    lines: list[Line] = [_render(run, lang, p) for lang in ("en", "de", "fr") for p in pages]
    at = len(pages) + pages.index(_FAILING_PAGE) + 1
    lines[at - 1 : at] = [
        (
            f"{RED}ERROR{X}   render  de  /de{_FAILING_PAGE}  templates/partials/price-table.html, "
            "line 42: {{ plan.price | money(plan.currency) }}",
            3,
        ),
        (
            f"{RED}ERROR{X}     jinja2.exceptions.UndefinedError: 'dict object' has no attribute "
            "'currency' (data/plans/de.yaml has no currency for plan 'team')",
            3,
        ),
    ]
    lines.insert(
        len(pages) // 2,
        (
            f"{YELLOW}WARNING{X}  /blog/ links to /docs/sso-audit/ which redirects (301) to /docs/sso/",
            4,
        ),
    )
    run.spread(lines, 33.0)
    run.line(
        f"{RED}Built {total - 1:,} of {total:,} pages in 33.4 s: 1 error, 1 warning{X}",
        3,
        after=0.3,
    )
    run.line(
        f"{RED}deploy: build failed, not publishing;{X} https://www.example.com still serves 9e0d7c1",
        3,
        after=0.05,
    )
    run.wait(0.03)
    run.systemd(lj.failed(run.clock, UNIT, inv, status=1))
    run.systemd(_consumed(run.clock, inv, "52.106s"))
    return run.take()


@dataclass
class _Backfill:
    """The running run's last step: a backfill with no end of its own (a progress line each)."""

    rng: random.Random
    rows: int = 0
    batch: int = 0
    last_id: int = 1_000_000

    def next_line(self, seconds: float) -> Line:
        """The line after ``seconds`` more of work: mostly progress, sometimes a checkpoint or a
        lock wait, as a long migration really reports."""
        rate = int(self.rng.gauss(4200, 350))
        done = max(5000, round(rate * seconds / 5000) * 5000)
        self.rows += done
        self.batch += done // 5000
        self.last_id += done + self.rng.randint(0, 900)
        roll = self.rng.random()
        if roll < 0.03:
            return (
                f"{YELLOW}WARNING{X}  batch {self.batch:,} waited "
                f"{self.rng.uniform(1.5, 3.5):.1f} s for a lock on posts (autovacuum); "
                "backing off 1 s",
                4,
            )
        if self.batch % 40 < done // 5000:
            return (
                f"  {CYAN}checkpoint{X}  {self.rows:,} rows committed, replication lag "
                f"{self.rng.uniform(0.1, 0.9):.1f} s",
                5,
            )
        return (
            f"  backfill posts.search_vector  batch {self.batch:>5,}  {self.rows:>11,} rows  "
            f"{GREEN}{rate:,} rows/s{X}  {DIM}last id {self.last_id:,}{X}"
        )


def _running_run(
    inv: str, start: int, now: int, rng: random.Random, pages: list[str]
) -> tuple[_Run, _Backfill]:
    """Everything the running run wrote before the demo started; the backfill goes on live."""
    run = _Run(inv, start, rng)
    run.systemd(lj.starting(run.clock, UNIT, inv))
    _pre(run)
    _fetch(run, "1b7e3aa", "5c2d9f0", "Search: new analyzer for posts, backfill search_vector")
    _install(run, 18.0)
    _build_incremental(run, pages, 138, 7.0)
    _tests(run, 8.0)
    run.line(_header("Migrating database"), after=0.2)
    run.spread(
        [
            "Applying 0042_search_vector (adds posts.search_vector, backfills in batches of 5,000)",
            "ALTER TABLE posts ADD COLUMN search_vector tsvector",
            f"{DIM}index posts_search_vector_idx is built after the backfill (CONCURRENTLY){X}",
            "backfill posts.search_vector: 9.8 million rows, no ETA while autovacuum runs",
        ],
        1.5,
    )
    backfill = _Backfill(rng)
    while True:
        gap = rng.uniform(1.0, 3.0)
        if run.clock.usec + int(gap * 1e6) >= now:
            break
        message, priority = _as_pair(backfill.next_line(gap))
        run.line(message, priority, after=gap)
    return run, backfill


def _as_pair(line: Line) -> tuple[str, int]:
    return (line, 6) if isinstance(line, str) else line


@dataclass(frozen=True)
class DemoJournal:
    """The three runs written for the demo; ``running`` and ``backfill`` go on writing."""

    succeeded: str
    failed: str
    running: str
    running_run: _Run
    backfill: _Backfill


def build_demo(directory: Path, now: int | None = None, seed: int = 20) -> DemoJournal:
    """Write the finished runs to ``directory/history.journal``; return the running one unwritten.

    A fixed seed makes every demo (and every screenshot of it) show the same lines; only the
    invocation IDs and the times (relative to ``now``) change.
    """
    now = lj.now_usec() if now is None else now
    rng = random.Random(seed)  # noqa: S311 - made-up log lines, not secrets
    pages = _pages(rng, 1130)
    ok, bad, live = lj.new_invocation_id(), lj.new_invocation_id(), lj.new_invocation_id()
    history = _succeeded_run(ok, now - 47 * 60 * 10**6, rng, pages)
    history += _failed_run(bad, now - 12 * 60 * 10**6, rng, pages)
    lj.write_journal(directory, "history", history)
    running, backfill = _running_run(live, now - 95 * 10**6, now, rng, pages)
    return DemoJournal(ok, bad, live, running, backfill)


async def _keep_running(journal: lj.LiveJournal, demo: DemoJournal) -> None:
    """The running run's backfill, live: a line every 1-3 s until the demo is stopped."""
    rng = demo.backfill.rng
    while True:
        gap = rng.uniform(1.0, 3.0)
        await asyncio.sleep(gap)
        message, priority = _as_pair(demo.backfill.next_line(gap))
        try:
            journal.write(demo.running_run.line_now(message, priority))
        except OSError as exc:  # journal-remote went away (a Ctrl+C reaches it too)
            log.warning("demo: the live journal stopped taking lines: %s", exc)
            return


# --- Serving it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    """What the proxy answered for one run: its entries and its status, as JSON."""

    entries: list[dict[str, object]]
    status: dict[str, object]


async def _get_json(session: aiohttp.ClientSession, url: str) -> _Seen | None:
    async with session.get(url + ".json") as resp:
        if resp.status != 200:
            return None
        objects = [json.loads(x) for x in (await resp.text()).splitlines() if x]
    status = objects[-1].get("status") if objects else None
    if not isinstance(status, dict):
        return None
    return _Seen([o for o in objects if "line" in o], status)


async def _wait_served(
    settings: Settings, gatewayd_url: str, base: str, demo: DemoJournal
) -> dict[str, _Seen]:
    """Ask the proxy for each run, as a visitor would, until it answers for all three.

    This is what makes the printed URLs mean "it serves": the listening socket, gatewayd and
    the live journal (written through a FIFO, so it lands a moment later) are all checked.
    """
    unix = settings.listen.unix_path
    connector = aiohttp.UnixConnector(path=unix) if unix else aiohttp.TCPConnector()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    expect = {"succeeded": demo.succeeded, "failed": demo.failed, "running": demo.running}
    seen: dict[str, _Seen] = {}
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        while len(seen) < len(expect):
            for state, inv in expect.items():
                if state in seen:
                    continue
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    got = await _get_json(session, f"{base}/{inv}")
                    if got is not None and got.status.get("state") == state:
                        seen[state] = got
            if len(seen) < len(expect):
                if time.monotonic() > deadline:
                    missing = ", ".join(s for s in expect if s not in seen)
                    raise RuntimeError(
                        f"demo: the proxy did not serve the {missing} run within "
                        f"{STARTUP_TIMEOUT:.0f} s (gatewayd {gatewayd_url})"
                    )
                await asyncio.sleep(0.05)
    return seen


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest} s"


def _banner(base: str, gatewayd_url: str, demo: DemoJournal, seen: dict[str, _Seen]) -> str:
    """What a new user reads: one link per run, each with what there is to see in it."""
    ok, bad = seen["succeeded"], seen["failed"]
    warnings = sum(1 for e in ok.entries if e.get("priority") == 4)
    errors = [e for e in bad.entries if e.get("priority") == 3 and e.get("identifier") != "systemd"]
    first = errors[0].get("line") if errors else "?"
    total = len(bad.entries)
    where = f"line {first:,}" if isinstance(first, int) else "somewhere"
    return "\n".join(
        [
            f"journal-proxy demo: three runs of {UNIT}, in a real journal served by a real",
            f"systemd-journal-gatewayd ({gatewayd_url}). Open the links in a browser, or curl them.",
            "",
            f"  succeeded  {base}/{demo.succeeded}",
            f"             deployed in {_duration(ok.status.get('duration'))}: fetch, install, "
            f"build, tests, publish, smoke test; {warnings} warnings",
            f"  failed     {base}/{demo.failed}",
            f"             {bad.status.get('description')}, after "
            f"{_duration(bad.status.get('duration'))}: find the build error ({where} of {total:,})",
            f"  running    {base}/{demo.running}",
            "             live: a database backfill logging every 1-3 s until you stop the demo",
            "",
            f"  as text    curl {base}/{demo.failed}.txt",
            f"  as JSON    curl {base}/{demo.succeeded}.json",
            f"  live tail  curl -N '{base}/{demo.running}.txt?follow'",
            "",
            "Ctrl+C stops the demo, its gatewayd and journal-remote, and deletes the demo journal.",
        ]
    )


def _base_url(settings: Settings) -> str:
    if settings.listen.unix_path:
        return "http://localhost/logs"
    host = settings.listen.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.listen.port}/logs"


async def run_demo(listen: str) -> None:
    """Write the demo journal, serve it until SIGINT/SIGTERM, then remove every trace.

    Signals are taken over first, so a Ctrl+C during start-up also cleans up; once the proxy
    runs, its own handlers (installed by ``serve``) take them and ``serve`` returns.
    """
    if not lj.tools_available():
        raise ConfigError(
            "demo: needs systemd-journal-remote and systemd-socket-activate "
            "(apt-get install systemd-journal-remote; scripts/demo.sh does it)"
        )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="journal-proxy-demo-")))
        directory = tmp / "journal"
        demo = build_demo(directory)
        await asyncio.sleep(0)  # let a signal that came while writing set ``stop``
        if stop.is_set():
            return
        live = lj.LiveJournal(directory, "live")
        stack.callback(live.close)
        live.write(demo.running_run.take())
        gatewayd = lj.Gatewayd(directory)
        stack.callback(gatewayd.stop)
        settings = settings_from_mapping(
            {"unit": [UNIT], "upstream": gatewayd.url, "listen": listen}
        )
        await _serve(settings, listen, gatewayd.url, demo, live, stop)
    print("demo stopped: gatewayd and journal-remote ended, demo journal removed", flush=True)


async def _serve(
    settings: Settings,
    listen: str,
    gatewayd_url: str,
    demo: DemoJournal,
    live: lj.LiveJournal,
    stop: asyncio.Event,
) -> None:
    base = _base_url(settings)
    server = asyncio.create_task(serve(settings))
    writer = asyncio.create_task(_keep_running(live, demo))
    stopped = asyncio.create_task(stop.wait())
    ready = asyncio.create_task(_wait_served(settings, gatewayd_url, base, demo))
    try:
        await asyncio.wait({server, stopped, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and not server.done() and not stopped.done():
            print(_banner(base, gatewayd_url, demo, ready.result()), flush=True)
            await asyncio.wait({server, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if server.done() and server.exception() is not None:
            exc = server.exception()
            if isinstance(exc, OSError):
                raise ConfigError(f"demo: --listen {listen}: {exc}") from exc
            server.result()
    finally:
        for task in (ready, stopped, writer, server):
            task.cancel()
        await asyncio.gather(ready, stopped, writer, server, return_exceptions=True)
