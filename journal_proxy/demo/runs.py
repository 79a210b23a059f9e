"""The demo's three runs of ``deploy-website.service``: succeeded, failed, and one still running.

A fixed seed makes every demo (and every screenshot of it) show the same lines; only the
invocation IDs and the times change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from journal_proxy.demo.steps import (
    FAILING_PAGE,
    build_incremental,
    fetch,
    header,
    install,
    notify_in_progress,
    publish,
    rendered,
    run_tests,
    site_pages,
    smoke_test,
)
from journal_proxy.demo.writer import (
    CYAN,
    DIM,
    GREEN,
    RED,
    UNIT,
    YELLOW,
    Line,
    Run,
    X,
    as_pair,
    consumed,
    finished_ok,
)
from journal_proxy.local import journal as lj
from journal_proxy.local import procs


def _fetched(run: Run, commits: tuple[str, str, str], install_seconds: float) -> Run:
    """How every run begins: systemd starts it, GitHub hears "in progress", the new commit is
    fetched (``commits``: from, to, subject) and the dependencies installed."""
    run.systemd(lj.starting(run.clock, UNIT, run.invocation_id))
    notify_in_progress(run)
    fetch(run, *commits)
    install(run, install_seconds)
    return run


def succeeded_run(inv: str, start: int, rng: random.Random, pages: list[str]) -> bytes:
    run = _fetched(
        Run(inv, start, rng), ("4f1c2ab", "9e0d7c1", "Pricing page: show yearly plans"), 20.0
    )
    build_incremental(run, pages, 412, 15.0)
    run_tests(run, 8.0)
    publish(run, "9e0d7c1", pages, 412)
    smoke_test(run)
    run.wait(0.02)
    run.systemd(finished_ok(run.clock, inv, "41.873s"))
    return run.take()


def failed_run(inv: str, start: int, rng: random.Random, pages: list[str]) -> bytes:
    """A full rebuild (a shared template changed) in which one German page fails to render."""
    run = _fetched(
        Run(inv, start, rng),
        ("9e0d7c1", "1b7e3aa", "Pricing: show prices in the visitor's currency"),
        19.0,
    )
    total = _full_build_with_one_error(run, pages)
    # At priority 6, as systemd logs a unit's output (SyslogLevel=info): the page finds the
    # error by what the tools print (journal_proxy/triage/recognizers.py), as it must on a real deploy.
    run.line(
        f"{RED}Built {total - 1:,} of {total:,} pages in 33.4 s: 1 error, 1 warning{X}", after=0.3
    )
    run.line(
        f"{RED}deploy: build failed, not publishing;{X} https://www.example.com still serves 9e0d7c1",
        after=0.05,
    )
    run.wait(0.03)
    run.systemd(lj.failed(run.clock, UNIT, inv, status=1))
    run.systemd(consumed(run.clock, inv, "52.106s"))
    return run.take()


def _full_build_with_one_error(run: Run, pages: list[str]) -> int:
    """Every page in three languages; the German price page fails.  Returns the page count."""
    total = len(pages) * 3
    run.line(
        header(
            f"Building site (full: templates/partials/price-table.html changed, {total:,} pages)"
        ),
        after=0.2,
    )
    lines: list[Line] = [rendered(run, lang, p) for lang in ("en", "de", "fr") for p in pages]
    at = len(pages) + pages.index(FAILING_PAGE) + 1
    lines[at - 1 : at] = _render_error()
    lines.insert(
        len(pages) // 2,
        "WARNING:sitegen.links:/blog/ links to /docs/sso-audit/ which redirects (301) to /docs/sso/",
    )
    run.spread(lines, 33.0)
    return total


#: Where the demo's site generator lives (its traceback's paths).
_SITE = "/srv/www-build"
_JINJA = f"{_SITE}/.venv/lib/python3.11/site-packages/jinja2/environment.py"


def _render_error() -> list[Line]:
    """What a Python site generator prints when a Jinja2 template fails: its logger's line (the
    default ``logging`` format) and the traceback, as it really is, at priority 6."""
    return [
        f"ERROR:sitegen.render:de /de{FAILING_PAGE} failed: templates/partials/price-table.html, "
        "line 42 (data/plans/de.yaml has no currency for plan 'team')",
        "Traceback (most recent call last):",
        f'  File "{_SITE}/sitegen/render.py", line 88, in render_page',
        "    html = template.render(page=page, site=site)",
        f'  File "{_JINJA}", line 1304, in render',
        "    self.environment.handle_exception()",
        f'  File "{_JINJA}", line 939, in handle_exception',
        "    raise rewrite_traceback_stack(source=source)",
        '  File "templates/partials/price-table.html", line 42, in top-level template code',
        "    {{ plan.price | money(plan.currency) }}",
        "jinja2.exceptions.UndefinedError: 'dict object' has no attribute 'currency'",
    ]


@dataclass
class Backfill:
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
                f"{YELLOW}WARNING{X}: batch {self.batch:,} waited "
                f"{self.rng.uniform(1.5, 3.5):.1f} s for a lock on posts (autovacuum); "
                "backing off 1 s"
            )
        if self.batch % 40 < done // 5000:
            return (
                f"  {CYAN}checkpoint{X}  {self.rows:,} rows committed, replication lag "
                f"{self.rng.uniform(0.1, 0.9):.1f} s"
            )
        return (
            f"  backfill posts.search_vector  batch {self.batch:>5,}  {self.rows:>11,} rows  "
            f"{GREEN}{rate:,} rows/s{X}  {DIM}last id {self.last_id:,}{X}"
        )


def running_run(
    inv: str, start: int, now: int, rng: random.Random, pages: list[str]
) -> tuple[Run, Backfill]:
    """Everything the running run wrote before the demo started; the backfill goes on live."""
    run = _fetched(
        Run(inv, start, rng),
        ("1b7e3aa", "5c2d9f0", "Search: new analyzer for posts, backfill search_vector"),
        18.0,
    )
    build_incremental(run, pages, 138, 7.0)
    run_tests(run, 8.0)
    run.line(header("Migrating database"), after=0.2)
    run.spread(
        [
            "Applying 0042_search_vector (adds posts.search_vector, backfills in batches of 5,000)",
            "ALTER TABLE posts ADD COLUMN search_vector tsvector",
            f"{DIM}index posts_search_vector_idx is built after the backfill (CONCURRENTLY){X}",
            "backfill posts.search_vector: 9.8 million rows, no ETA while autovacuum runs",
        ],
        1.5,
    )
    backfill = Backfill(rng)
    while True:
        gap = rng.uniform(1.0, 3.0)
        if run.clock.usec + int(gap * 1e6) >= now:
            break
        message, priority = as_pair(backfill.next_line(gap))
        run.line(message, priority, after=gap)
    return run, backfill


@dataclass(frozen=True)
class DemoJournal:
    """The three runs written for the demo; ``running`` and ``backfill`` go on writing."""

    succeeded: str
    failed: str
    running: str
    running_run: Run
    backfill: Backfill


def build_demo(directory: Path, now: int | None = None, seed: int = 20) -> DemoJournal:
    """Write the finished runs to ``directory/history.journal``; return the running one unwritten.

    A fixed seed makes every demo (and every screenshot of it) show the same lines; only the
    invocation IDs and the times (relative to ``now``) change.
    """
    now = lj.now_usec() if now is None else now
    rng = random.Random(seed)  # noqa: S311 - made-up log lines, not secrets
    pages = site_pages(rng, 1130)
    ok, bad, live = lj.new_invocation_id(), lj.new_invocation_id(), lj.new_invocation_id()
    history = succeeded_run(ok, now - 47 * 60 * 10**6, rng, pages)
    history += failed_run(bad, now - 12 * 60 * 10**6, rng, pages)
    procs.write_journal(directory, "history", history)
    running, backfill = running_run(live, now - 95 * 10**6, now, rng, pages)
    return DemoJournal(ok, bad, live, running, backfill)
