"""Triage on the log page, in real headless Chromium: steps, groups, errors, search, signed links.

Real journals (systemd-journal-remote, gatewayd) with several streams per invocation, as
``ExecStartPre=`` + ``ExecStart=`` write them, groups, priorities and workflow annotations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from journal_proxy import localjournal as lj

from .helpers_triage import Run
from .test_page import _page, _shot, browser  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.pwned=1"> & </noscript><script>window.pwned=2</script>'
DEEP_ERROR = "ERROR: migration 0042_add_index failed: relation \"users\" does not exist"


@dataclass
class TriageLogs:
    gw: lj.Gatewayd
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
    run.lines("checking out", "::group::Fetch dependencies", "fetched a", "fetched b", "::endgroup::")
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
    lj.write_journal(directory, "triage", bytes(big.out) + bytes(small.out) + bytes(ok.out))
    gw = lj.Gatewayd(directory)
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
