"""Revocation: the list file, ``journal-proxy revoke``, and the running proxy picking it up.

The proxy watches the file (no restart, no signal): a revoked link is ``410`` in every format
without a gatewayd request, its live viewers get their last line within a second, its cached log
is dropped, and other streams carry on.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.access import revocation
from journal_proxy.access.ids import InvocationId
from journal_proxy.cli.main import main
from journal_proxy.config import settings_from_mapping
from journal_proxy.errors import ConfigError
from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.web import make_app
from journal_proxy.web.app import apply_revocations
from journal_proxy.web.state import CACHE, HUBS

from .conftest import UNIT, Corpus, CountingRelay, Live, app_of
from .conftest import live_proxy as _live_proxy
from .conftest import wait_for_log as _wait_for_log
from .helpers import eventually, readline, sse_events, wait_until

INV = InvocationId("0123456789abcdef0123456789abcdef")


@pytest.fixture(autouse=True)
def _quiet_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` sets up the service's logging on stderr; in-process, pytest's capture owns it."""
    monkeypatch.setattr("journal_proxy.cli.main.setup_logging", lambda: None)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'unit = ["{UNIT}"]\nrevocation_file = "{tmp_path / "revoked"}"\n')
    return cfg


def _revoke(config: Path, *args: str) -> int:
    return main(["revoke", "--config", str(config), *args])


# --- the file and the command ---------------------------------------------------------------


def test_write_is_atomic_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "revoked"
    assert revocation.read(path) == {}  # not there yet: nothing revoked
    revocation.write(path, {INV: "leaked a token", InvocationId("f" * 32): ""})
    assert revocation.read(path) == {INV: "leaked a token", "f" * 32: ""}
    assert os.listdir(tmp_path) == ["revoked"]  # no temporary file left behind
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_bad_line_is_named_and_stops_the_start(tmp_path: Path, relay: CountingRelay) -> None:
    path = tmp_path / "revoked"
    path.write_text(f"# comment\n\n{INV} fine\n{INV.upper()} shouting\n")
    with pytest.raises(ConfigError, match="line 4"):
        revocation.read(path)
    settings = settings_from_mapping({"unit": [UNIT], "revocation_file": str(path)}, env={})
    with pytest.raises(ConfigError, match="revocation_file"):
        make_app(settings)


def test_reasons_are_one_short_printable_line() -> None:
    assert revocation.clean_reason("a\nb\x1b[31m  c") == "a b [31m c"
    assert len(revocation.clean_reason("x" * 1000)) == revocation.MAX_REASON_CHARS


def test_revoke_list_and_undo(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _revoke(config, INV, "--reason", "secret in line 40") == 0
    assert _revoke(config, "f" * 32) == 0
    capsys.readouterr()
    assert _revoke(config, "--list") == 0
    assert capsys.readouterr().out.splitlines() == [f"{INV} secret in line 40", "f" * 32]
    assert _revoke(config, "--undo", INV) == 0
    assert _revoke(config, "--undo", INV) == 1  # not revoked any more
    capsys.readouterr()
    assert _revoke(config, "--list") == 0
    assert capsys.readouterr().out.splitlines() == ["f" * 32]


def test_revoke_refuses_bad_ids_and_a_config_without_the_setting(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _revoke(config, "../../etc/passwd") == 2
    assert _revoke(config, INV.upper()) == 2
    bare = tmp_path / "bare.toml"
    bare.write_text(f'unit = ["{UNIT}"]\n')
    assert main(["revoke", "--config", str(bare), INV]) == 2
    assert "revocation_file" in capsys.readouterr().err


# --- the running proxy ----------------------------------------------------------------------


async def test_a_revoked_link_is_gone_in_every_format_without_asking_gatewayd(
    make_proxy: Any, relay: CountingRelay, corpus: Corpus, config: Path, tmp_path: Path
) -> None:
    proxy = await make_proxy(revocation_file=str(tmp_path / "revoked"))
    first = await proxy.get(f"/logs/{corpus.ok}.txt")
    assert first.status == 200
    await first.read()  # the whole body: kept in the cache before its last chunk
    assert len(app_of(proxy)[CACHE]) == 1
    assert _revoke(config, corpus.ok, "--reason", "a <b>token</b> leaked") == 0

    async def gone() -> bool:
        return bool((await proxy.get(f"/logs/{corpus.ok}.txt")).status == 410)

    await eventually(gone, timeout=5, what="the revocation applied")
    assert len(app_of(proxy)[CACHE]) == 0
    before = len(relay.request_lines)
    text = await proxy.get(f"/logs/{corpus.ok}")
    assert await text.text() == "410: this link was revoked (a <b>token</b> leaked)\n"
    as_json = await proxy.get(f"/logs/{corpus.ok}.json")
    assert await as_json.json() == {
        "status": 410,
        "error": "revoked",
        "message": "this link was revoked (a <b>token</b> leaked)",
        "reason": "a <b>token</b> leaked",
    }
    page = await proxy.get(f"/logs/{corpus.ok}", headers={"Accept": "text/html"})
    html = await page.text()
    assert page.status == 410 and "a &lt;b&gt;token&lt;/b&gt; leaked" in html
    sse = await proxy.get(f"/logs/{corpus.ok}", headers={"Accept": "text/event-stream"})
    assert sse.status == 410
    assert len(relay.request_lines) == before
    assert (await proxy.get(f"/logs/{corpus.failed}.txt")).status == 200  # others unaffected
    assert _revoke(config, "--undo", corpus.ok) == 0

    async def back() -> bool:
        return bool((await proxy.get(f"/logs/{corpus.ok}.txt")).status == 200)

    await eventually(back, timeout=5, what="the undo applied")


async def test_live_viewers_get_a_last_line_within_a_second_and_others_carry_on(
    make_proxy: Any, live: Live, config: Path, tmp_path: Path
) -> None:
    proxy = await _live_proxy(make_proxy, live, revocation_file=str(tmp_path / "revoked"))
    other = lj.new_invocation_id()
    live.start()
    live.journal.write(lj.starting(live.clock, UNIT, other))
    live.line("first")
    await _wait_for_log(proxy, live.inv, 2)
    await _wait_for_log(proxy, other, 1)
    text = await proxy.get(f"/logs/{live.inv}.txt?follow")
    sse = await proxy.get(f"/logs/{live.inv}", headers={"Accept": "text/event-stream"})
    bystander = await proxy.get(f"/logs/{other}.txt?follow")
    for _ in range(3):
        await readline(text)
    await sse_events(sse, 2)
    assert "Starting" in await readline(bystander) + await readline(bystander)

    started = time.monotonic()
    assert _revoke(config, live.inv, "--reason", "leak") == 0
    rest = (await asyncio.wait_for(text.content.read(), 2)).decode()
    assert time.monotonic() - started < 1.5  # checked every 0.5 s: at least 3x that
    assert rest.splitlines()[-1].startswith("# end of stream: this link was revoked")
    end = (await sse_events(sse, 1, timeout=2))[0]
    while end.get("event") != "end":  # lines it had not read yet come first
        end = (await sse_events(sse, 1, timeout=2))[0]
    assert json.loads(end["data"])["reason"] == "revoked"
    assert HUBS in app_of(proxy) and len(app_of(proxy)[HUBS]) == 1  # the bystander's hub

    live.clock.usec = max(live.clock.usec + 1, lj.now_usec())
    live.journal.write(lj.unit_line(live.clock, UNIT, other, "still streaming"))
    assert "still streaming" in await readline(bystander)
    assert (await proxy.get(f"/logs/{live.inv}.txt?follow")).status == 410


async def test_a_bad_edit_while_running_keeps_the_list_in_force(
    make_proxy: Any, corpus: Corpus, config: Path, tmp_path: Path
) -> None:
    proxy = await make_proxy(revocation_file=str(tmp_path / "revoked"))
    assert _revoke(config, corpus.ok) == 0

    async def gone() -> bool:
        return bool((await proxy.get(f"/logs/{corpus.ok}.txt")).status == 410)

    await eventually(gone, timeout=5, what="the revocation applied")
    broken = tmp_path / "revoked.new"
    broken.write_text("not an id\n")
    broken.replace(tmp_path / "revoked")
    assert apply_revocations(app_of(proxy)) == 0  # what the watch runs: the error is logged
    assert (await proxy.get(f"/logs/{corpus.ok}.txt")).status == 410


def test_sighup_reloads_the_list_and_the_service_keeps_serving(
    config: Path, gatewayd: procs.Gatewayd, corpus: Corpus
) -> None:
    """``systemctl reload`` (ExecReload= sends SIGHUP) applies the list at once; without a
    handler, SIGHUP would end the service."""
    import signal
    import urllib.error
    import urllib.request

    def status(path: str) -> int:
        try:
            with urllib.request.urlopen(proxy.url + path, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    proxy = procs.ProxyProcess(UNIT, gatewayd.url, "--config", str(config))
    try:
        assert status(f"/logs/{corpus.ok}.txt") == 200
        assert _revoke(config, corpus.ok, "--reason", "a token in line 3") == 0
        proxy.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: status(f"/logs/{corpus.ok}.txt") == 410, what="the revocation applied")
        assert proxy.proc.poll() is None
        assert status(f"/logs/{corpus.failed}.txt") == 200
    finally:
        proxy.stop()
