"""Triage on the log page, in real headless Chromium: steps, groups, errors, search, signed links.

Real journals (systemd-journal-remote, gatewayd) with several streams per invocation, as
``ExecStartPre=`` + ``ExecStart=`` write them, groups, priorities and workflow annotations.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from journal_proxy.access.signing import signed_query
from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import Live
from .conftest import live_proxy as live_proxy
from .helpers import eventually
from .helpers_triage import Run
from .test_page import _page, _shot

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.pwned=1"> & </noscript><script>window.pwned=2</script>'
DEEP_ERROR = 'ERROR: migration 0042_add_index failed: relation "users" does not exist'


@dataclass
class TriageLogs:
    gw: procs.Gatewayd
    failed_big: str  # 20,000 lines, one error at DEEP_LINE
    deep_line: int
    small: str  # failed: prepare.sh (a group), deploy.sh (groups, annotations, hostile titles)
    ok: str  # succeeded, three steps, a group


def _big_failed() -> tuple[Run, int]:
    run = Run().command("prepare.sh", 100)
    run.lines("preparing", "::group::npm ci")
    for i in range(6000):
        run.line(f"added package {i} of 6000")
    run.line("::endgroup::")
    run.command("deploy.sh", 200).line("--- Building site")
    for i in range(13996):
        if i == 7800:
            run.line(DEEP_ERROR, priority=3)
        else:
            run.line(f"rendering page {i}.html")
    run.control_failed(status=1, command="start")
    lines = run.read()
    deep = next(n for n, e in lines if e.message == DEEP_ERROR)
    return run, deep


def _small_failed() -> Run:
    run = Run().command("prepare.sh", 100)
    run.lines(
        "checking out", "::group::Fetch dependencies", "fetched a", "fetched b", "::endgroup::"
    )
    run.command("deploy.sh", 200)
    run.lines(
        "starting deploy",
        f"::group::{HOSTILE}",
        "inside the hostile group",
        "::endgroup::",
        "+++ Upload files",
        "uploading 1",
        "uploading 2",
    )
    run.line(f"::warning file={HOSTILE},line=7,title={HOSTILE}::disk almost full")
    run.line("::error file=site/build.py,line=42,col=5,title=Build broke::KeyError: 'theme'")
    run.line("Traceback: the upload failed", priority=3)
    run.control_failed(status=2, command="start")
    return run


def _ok() -> Run:
    run = Run().command("fetch.sh", 100).lines("fetch 1", "fetch 2")
    run.command("build.sh", 200).lines("::group::Compile", "compile a", "compile b", "::endgroup::")
    run.command("deploy.sh", 300).lines("deployed", "done")
    return run.succeeded()


@pytest.fixture(scope="session")
def triage_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TriageLogs]:
    directory = tmp_path_factory.mktemp("triage")
    big, deep = _big_failed()
    small, ok = _small_failed(), _ok()
    procs.write_journal(directory, "triage", bytes(big.out) + bytes(small.out) + bytes(ok.out))
    gw = procs.Gatewayd(directory)
    yield TriageLogs(gw, big.inv, deep, small.inv, ok.inv)
    gw.stop()


@pytest.fixture
async def tproxy(make_proxy: Any, triage_logs: TriageLogs) -> Any:
    return await make_proxy(upstream=triage_logs.gw.url)


def _url(proxy: Any, path: str) -> str:
    return str(proxy.make_url(path))


async def _open(page: Page, proxy: Any, inv: str, suffix: str = "") -> None:
    await page.goto(_url(proxy, f"/logs/{inv}{suffix}"))
    await page.wait_for_selector("#counts:not(:empty)")


async def test_a_failed_20k_log_shows_its_deep_error_on_the_first_screen(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await page.goto(_url(tproxy, f"/logs/{triage_logs.failed_big}"))
    summary = page.locator("#summary")
    await expect(summary).to_be_in_viewport()
    await expect(summary).to_contain_text(DEEP_ERROR)
    await expect(summary).to_contain_text("Failed in step 2: deploy.sh")
    link = summary.locator(f'a[href="#L{triage_logs.deep_line}"]')
    await expect(link).to_be_in_viewport()
    await _shot(page, "triage-failed-big")
    # Its link goes to the line: built, unfolded, on screen.
    await link.click()
    await expect(page.locator(f"#L{triage_logs.deep_line}")).to_be_in_viewport()
    assert problems == []


async def test_group_markers_are_never_shown_raw_and_groups_fold_with_mouse_and_keyboard(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.small)
    texts = await page.locator("#log .l").all_text_contents()
    raw = re.compile(r"^\s*(::(group|endgroup|error|warning)|##\[|\+\+\+ |--- |~~~ )")
    assert not [t for t in texts if raw.search(t)]
    for marker in await page.locator("#log .l.gm").all():
        assert await marker.text_content() == ""
        assert not await marker.is_visible()
    inside = page.get_by_text("inside the hostile group")
    header = page.locator(".l.gh", has_text="<img src=x")
    button = header.locator("button.fold")
    # Folded by default (no error in it); the mouse unfolds and folds it.
    await expect(inside).to_be_hidden()
    await expect(header.locator(".sm")).to_have_attribute(
        "data-meta", re.compile("^3 lines")
    )  # its line count, from data-meta
    await button.click()
    await expect(inside).to_be_visible()
    await expect(button).to_have_attribute("aria-expanded", "true")
    await button.click()
    await expect(inside).to_be_hidden()
    # The keyboard: the button itself (Tab reaches it), and Left/Right on the log's line cursor.
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(inside).to_be_visible()
    await page.keyboard.press("Space")
    await expect(inside).to_be_hidden()
    await page.locator("#log").focus()
    cursor_on = await header.get_attribute("id")
    await page.evaluate(
        "id => { const el = document.getElementById(id); el.scrollIntoView({block: 'center'}); }",
        cursor_on,
    )
    for _ in range(60):
        await page.keyboard.press("ArrowDown")
        if await page.locator(f"#{cursor_on}.cur").count():
            break
    await expect(page.locator(f"#{cursor_on}.cur")).to_have_count(1)
    await page.keyboard.press("ArrowRight")
    await expect(inside).to_be_visible()
    await page.keyboard.press("ArrowLeft")
    await expect(inside).to_be_hidden()
    assert problems == []


async def test_the_failed_step_is_open_and_the_others_folded(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.small)
    await expect(page.locator("#S1 button.fold")).to_have_attribute("aria-expanded", "false")
    await expect(page.locator("#S2 button.fold")).to_have_attribute("aria-expanded", "true")
    await expect(page.get_by_text("checking out")).to_be_hidden()
    await expect(page.get_by_text("starting deploy", exact=True)).to_be_visible()
    await expect(page.locator("#S1")).to_contain_text("prepare.sh")
    await expect(page.locator("#S1 .sm")).to_have_attribute("data-meta", re.compile("^5 lines · "))
    # A click on the step's header unfolds it.
    await page.locator("#S1").click()
    await expect(page.get_by_text("checking out")).to_be_visible()
    # A succeeded run: every step folded, the page at the top.
    await _open(page, tproxy, triage_logs.ok)
    assert await page.locator(".sh button.fold[aria-expanded=true]").count() == 0
    assert await page.locator(".sh").count() == 3
    assert await page.locator("#summary").count() == 0
    assert await page.evaluate("window.scrollY") == 0
    await expect(page.locator("#counts")).to_have_text("0 errors, 0 warnings")
    # A #L link into a folded step opens it.
    await page.goto(_url(tproxy, f"/logs/{triage_logs.ok}#L4"))
    await expect(page.locator("#L4.hl")).to_be_visible()
    assert problems == []


async def test_error_count_is_right_and_next_previous_visit_each(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.small)
    await expect(page.locator("#counts")).to_have_text("5 errors, 1 warning")
    errors = await page.eval_on_selector("#triage", "n => n.dataset.errorLines.split(' ')")
    assert len(errors) == 5
    # From the top, e goes to the cause: the error closest before the failure (the priority-3
    # line after the ::error), not systemd's failure lines; then it walks every error in order.
    cause = await page.eval_on_selector("#triage", "n => n.dataset.cause")
    assert cause == errors[1]
    order = errors[1:] + errors[:1]
    await page.locator("#log").focus()
    for n in order:
        await page.keyboard.press("e")
        await expect(page.locator(f"#L{n}.xm")).to_be_in_viewport()
        assert await page.locator(".xm").count() == 1
    await page.keyboard.press("e")  # round again
    await expect(page.locator(f"#L{errors[1]}.xm")).to_be_visible()
    await page.keyboard.press("Shift+E")
    await expect(page.locator(f"#L{errors[0]}.xm")).to_be_visible()
    await page.keyboard.press("Shift+E")
    await expect(page.locator(f"#L{errors[-1]}.xm")).to_be_visible()
    await expect(page.locator("#counts")).to_have_text("Error 5 of 5")
    await page.click("#next-error")
    await expect(page.locator(f"#L{errors[0]}.xm")).to_be_visible()
    # An annotation shows its place and title, never the raw command.
    annotated = page.locator(".l.e", has_text="KeyError")
    await expect(annotated.locator(".al")).to_have_text("site/build.py:42:5")
    await expect(annotated.locator(".at")).to_have_text("Build broke")
    assert "::error" not in (await annotated.text_content() or "")
    assert problems == []


async def test_slash_and_first_ctrl_f_focus_search_and_enter_walks_unbuilt_lines(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.failed_big)
    await page.keyboard.press("/")
    assert await page.evaluate("document.activeElement.id") == "search"
    await page.locator("#log").focus()
    await page.keyboard.press("Control+f")
    assert await page.evaluate("document.activeElement.id") == "search"
    # "rendering page 1300": 1300.html and 13000-13009.html, all in blocks never built yet.
    await page.keyboard.type("rendering page 1300")
    await expect(page.locator("#matches")).to_have_text("1 of 11")
    pages = [f"rendering page {i}.html" for i in [1300, *range(13000, 13010)]]
    await expect(page.locator(".l.xm")).to_have_text(pages[0])
    await expect(page.locator(".l.xm")).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await expect(page.locator("#matches")).to_have_text("2 of 11")
    await expect(page.locator(".l.xm")).to_have_text(pages[1])
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.press("Shift+Enter")
    await expect(page.locator("#matches")).to_have_text("11 of 11")
    await expect(page.locator(".l.xm")).to_have_text(pages[-1])
    await expect(page.locator(".l.xm")).to_be_in_viewport()
    # A match in a folded step (prepare.sh) unfolds it; the page built only blocks it visited.
    await page.fill("#search", "added package 5999 of")
    await expect(page.locator("#matches")).to_have_text("1 of 1")
    await expect(page.locator(".l.xm")).to_be_in_viewport()
    assert await page.locator(".l").count() < 10_000
    # Regular expressions: a good one, a bad one, a catastrophic one; and case.
    await page.check("#regex")
    await page.fill("#search", r"page 1300\d\.html$")
    await expect(page.locator("#matches")).to_have_text("1 of 10")
    await page.fill("#search", "page (")
    await expect(page.locator("#matches")).to_have_text("Not a valid regular expression")
    await page.fill("#search", "(a+)+$")
    await expect(page.locator("#matches")).to_contain_text("refused")
    await page.fill("#search", "((x|y)z)*q")
    await expect(page.locator("#matches")).to_contain_text("refused")
    await page.fill("#search", "x" * 300)
    await expect(page.locator("#matches")).to_contain_text("too long")
    await page.uncheck("#regex")
    await page.check("#case")
    await page.fill("#search", "RENDERING PAGE 1300")
    await expect(page.locator("#matches")).to_have_text("No matches")
    assert problems == []


async def test_hostile_group_titles_and_annotation_params_stay_text(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.small)
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("#log img, #summary img").count() == 0
    assert await page.locator("script").count() == 1
    header = page.locator(".l.gh", has_text="<img")
    assert (await header.text_content() or "").strip() == HOSTILE
    warning = page.locator(".l.w", has_text="disk almost full")
    await expect(warning.locator(".al")).to_have_text(f"{HOSTILE}:7")
    await expect(warning.locator(".at")).to_have_text(HOSTILE)
    assert problems == []


@pytest.mark.parametrize(
    ("name", "viewport", "scheme"),
    [
        ("desktop-light", {"width": 1200, "height": 800}, "light"),
        ("desktop-dark", {"width": 1200, "height": 800}, "dark"),
        ("phone-light", {"width": 390, "height": 844}, "light"),
        ("phone-dark", {"width": 390, "height": 844}, "dark"),
    ],
)
async def test_screenshots_of_a_failed_run(
    browser: Browser,
    tproxy: Any,
    triage_logs: TriageLogs,
    name: str,
    viewport: dict[str, int],
    scheme: Any,
) -> None:
    page, problems = await _page(browser, viewport_override=viewport, color_scheme=scheme)
    await _open(page, tproxy, triage_logs.small)
    await expect(page.locator("#summary")).to_be_in_viewport()
    await _shot(page, f"triage-{name}")
    await page.keyboard.press("e")
    await expect(page.locator(".l.xm")).to_be_in_viewport()
    await _shot(page, f"triage-{name}-error")
    assert problems == []


async def test_a_signed_links_page_keeps_its_live_stream_raw_link_and_triage(
    browser: Browser, make_proxy: Any, live: Live, tmp_path: Path
) -> None:
    key = "new-" + "n" * 40
    keys = tmp_path / "link-keys"
    keys.write_text(key + "\n")
    proxy = await live_proxy(make_proxy, live, link_keys_file=str(keys), require_signed_links=True)
    query = signed_query(key.encode(), live.inv, int(time.time()) + 3600)
    live.start()
    live.line("preparing", stream_id=lj.new_stream_id(), identifier="prepare.sh", pid=10)

    async def shown() -> bool:
        resp = await proxy.get(f"/logs/{live.inv}.json?{query}")
        return resp.status == 200 and len((await resp.text()).splitlines()) >= 3

    await eventually(shown, interval=0.02, what="the first lines")
    assert (await proxy.get(f"/logs/{live.inv}.txt")).status == 403  # the link needs its query
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}?{query}"))
    await expect(page.locator("#live")).to_have_text("Live")
    for selector in ("a[download]", "a:text-is('Raw')"):
        href = await page.get_attribute(f".tools {selector}", "href")
        assert href == f"{live.inv}.txt?{query}"
    status = await page.evaluate(
        "fetch(document.querySelector('a[download]').href).then(r => r.status)"
    )
    assert status == 200
    # Live lines: a new step, a group (its markers hidden), an annotated error, counted.
    stream = lj.new_stream_id()
    for message in ("::group::Live <b>group</b>", "inside live", "::endgroup::"):
        live.line(message, stream_id=stream, identifier="deploy.sh", pid=20)
    live.line(
        "::error file=a.py,line=3::live failure", stream_id=stream, identifier="deploy.sh", pid=20
    )
    await expect(page.locator(".l.e .al")).to_have_text("a.py:3")
    await expect(page.locator("#S2")).to_contain_text("deploy.sh")
    header = page.locator(".l.gh")
    await expect(header).to_have_text("Live <b>group</b>")
    await expect(page.get_by_text("inside live")).to_be_visible()
    assert await page.locator(".l.gm").count() == 1
    await expect(page.locator(".l.gm")).to_be_hidden()
    await expect(page.locator("#counts")).to_have_text("1 error, 0 warnings")
    assert "::" not in "".join(await page.locator("#log .l").all_text_contents())
    assert problems == []


# --- accessibility: axe-core over every page state ------------------------------------------

AXE = Path(__file__).resolve().parent.parent / ".venv/axe/node_modules/axe-core/axe.min.js"
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
}).then(r => r.violations.map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + (n.failureSummary || "").replace(/\\s+/g, " ")).join(" | ")))"""


def _no_axe() -> None:
    """Skip on a developer's machine without axe-core; in CI (which installs it) that is a failure."""
    message = "axe-core is not installed: npm install --prefix .venv/axe axe-core@4"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def _axe(page: Page) -> list[str]:
    await page.add_script_tag(content=AXE.read_text())
    found: list[str] = await page.evaluate(AXE_RUN)
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_page_state_passes_axe(
    browser: Browser,
    tproxy: Any,
    triage_logs: TriageLogs,
    scheme: Any,
) -> None:
    if not AXE.exists():
        _no_axe()
    # Only this test's context ignores the CSP, to inject axe-core's script.
    page, problems = await _page(browser, color_scheme=scheme, bypass_csp=True)
    states: dict[str, list[str]] = {}
    await _open(page, tproxy, triage_logs.ok)
    states["succeeded"] = await _axe(page)
    await _open(page, tproxy, triage_logs.small)
    states["failed"] = await _axe(page)
    await page.keyboard.press("e")
    await page.fill("#search", "upload")
    await expect(page.locator("#matches")).to_have_text(re.compile("^1 of "))
    states["searched"] = await _axe(page)
    await _open(page, tproxy, triage_logs.small, "#L12-L16")
    await expect(page.locator("#L16.hl")).to_be_visible()
    states["range"] = await _axe(page)
    assert {k: v for k, v in states.items() if v} == {}
    assert problems == []


async def test_a_running_page_passes_axe(
    browser: Browser, make_proxy: Any, live: Live, tmp_path: Path
) -> None:
    if not AXE.exists():
        _no_axe()
    proxy = await live_proxy(make_proxy, live)
    live.start()
    for message in ("::group::Build", "compiling", "::endgroup::", "warn: slow disk"):
        live.line(message, priority=4 if message.startswith("warn") else 6)

    async def shown() -> bool:
        resp = await proxy.get(f"/logs/{live.inv}.json")
        return resp.status == 200 and len((await resp.text()).splitlines()) >= 6

    await eventually(shown, interval=0.02, what="the first lines")
    for scheme in ("light", "dark"):
        page, problems = await _page(browser, color_scheme=scheme, bypass_csp=True)
        await page.goto(_url(proxy, f"/logs/{live.inv}"))
        await expect(page.locator("#live")).to_have_text("Live")
        assert await _axe(page) == [], scheme
        assert problems == []


async def test_errors_and_warnings_are_named_for_assistive_technology(
    browser: Browser, tproxy: Any, triage_logs: TriageLogs
) -> None:
    page, problems = await _page(browser)
    await _open(page, tproxy, triage_logs.small)
    snapshot = await page.locator(".l.e", has_text="KeyError").aria_snapshot()
    assert "Error, line" in snapshot
    snapshot = await page.locator(".l.w").aria_snapshot()
    assert "Warning, line" in snapshot
    assert problems == []
