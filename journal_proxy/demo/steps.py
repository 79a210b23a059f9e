"""What the demo's deploy steps print: fetch, install, build, tests, publish, smoke test.

Each writes through a :class:`journal_proxy.demo.writer.Run`, with the lines and the pace real
tools have (pip, a static site generator, pytest, rsync).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from journal_proxy.demo.writer import BOLD, DIM, GREEN, YELLOW, Line, Run, X

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
FAILING_PAGE = "/docs/plans-and-pricing/"


def site_pages(rng: random.Random, count: int) -> list[str]:
    """The site's page paths, made up once per run from a fixed seed."""
    pages = ["/pricing/", "/about/", "/contact/", "/blog/", "/docs/", FAILING_PAGE]
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


def header(text: str) -> str:
    """A phase of deploy.sh, marked as CI scripts mark them (GitHub Actions' ``::group::``), so
    the proxy's triage shows the phases as groups."""
    return f"::group::{text}"


def notify_in_progress(run: Run) -> None:
    """``ExecStartPre=``: notify-github posts ``in_progress`` with this run's log link."""
    run.process("journal-proxy", run.rng.randint(2000, 2999))
    run.line(
        "posted in_progress for deployment status "
        f"{run.rng.randint(180000000, 189999999)}: "
        f"https://deploy.example.com/logs/{run.invocation_id}",
        after=0.7,
    )


def fetch(run: Run, old: str, new: str, subject: str) -> None:
    run.process("deploy.sh", run.pid + run.rng.randint(3, 9), after=0.1)
    run.line(header("Fetching example/website@main"), after=0.02)
    run.spread(
        [
            "From github.com:example/website",
            f"   {old}..{new}  main       -> origin/main",
            f"HEAD is now at {new} {subject}",
        ],
        2.0,
    )


def install(run: Run, seconds: float) -> None:
    """``pip install -r requirements.txt`` into a fresh venv: many lines, about 20 s."""
    run.line(header("Installing dependencies (pip install -r requirements.txt)"), after=0.1)
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
        after=0.05,
    )


def rendered(run: Run, lang: str, path: str) -> str:
    prefix = "" if lang == "en" else f"/{lang}"
    return f"  render  {lang}  {prefix + path:<58} {DIM}{run.rng.randint(3, 41):>3} ms{X}"


def build_incremental(run: Run, pages: list[str], changed: int, seconds: float) -> None:
    total = len(pages) * 3
    run.line(
        header(f"Building site (incremental: {changed} of {total:,} pages changed)"), after=0.2
    )
    lines: list[Line] = [rendered(run, "en", p) for p in pages[:changed]]
    lines.insert(
        changed // 3,
        f"  image   static/img/pricing/yearly@2x.png -> 480w 960w 1920w webp {DIM}612 ms{X}",
    )
    lines.insert(
        changed // 3 + 1,
        "WARNING:sitegen.images:static/img/pricing/hero.png is 2.4 MB; images over 500 kB "
        "slow the first screen (set images.max_size to silence this)",
    )
    run.spread(lines, seconds)
    run.line(
        f"{GREEN}Built {changed} pages{X} in {seconds:.1f} s (cache: {total - changed:,} unchanged)"
    )


def run_tests(run: Run, seconds: float) -> None:
    run.line(header("Running tests"), after=0.2)
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


def publish(run: Run, commit: str, pages: list[str], changed: int) -> None:
    run.line(header("Publishing"), after=0.2)
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
    run.line(f"{GREEN}{BOLD}Deployed {commit} to https://www.example.com{X}", after=0.05)


def smoke_test(run: Run) -> None:
    """``ExecStartPost=``: a separate smoke-test process checks the live site."""
    run.process("smoke-test", run.pid + run.rng.randint(40, 90), after=0.1)
    for path in ("/", "/pricing/", "/blog/", "/feed.xml"):
        ms = run.rng.randint(60, 140)
        run.line(f"{GREEN}ok{X}  GET https://www.example.com{path}  200  {ms} ms", after=ms / 1000)
    run.line("4/4 checks passed", after=0.01)
