"""Refusals, forgeries and leaks: what must never get through, against a real gatewayd."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.local.journal import BOOT_ID, HOSTNAME, MACHINE_ID

from .conftest import SECRET_TOKEN, UNIT, Corpus, CountingRelay
from .helpers import raw_get

VALID = "0123456789abcdef0123456789abcdef"

MALFORMED_PATHS = [
    "/logs/",
    "/logs",
    f"/logs/{VALID[:-1]}",  # 31
    f"/logs/{VALID}0",  # 33
    f"/logs/{VALID.upper()}",
    f"/logs/{VALID[:-1]}G",
    f"/logs/%30{VALID[1:]}",  # percent-encoded '0'
    f"/logs/%2530{VALID[1:]}",  # double-encoded
    f"/logs/{VALID}%0a",
    f"/logs/{VALID}%00",
    f"/logs/{VALID}%2ejson",
    f"/logs/{VALID}.JSON",
    f"/logs/{VALID}.html",
    f"/logs/{VALID}.txt.json",
    f"/logs/{VALID}/",
    f"/logs/{VALID}/../{VALID}",
    f"/logs/../logs/{VALID}",
    f"/logs/./{VALID}",
    f"/logs//{VALID}",
    f"/logs/%2e%2e/{VALID}",
    f"/logs/{VALID[:-1]}\u0661".encode().decode("latin-1"),  # Arabic-Indic digit one
    f"/logs/{VALID[:-1]}%D9%A1",
    f"/logs/{VALID[:-2]}%EF%BC%91",  # fullwidth digit one
    f"/logs/ {VALID}",
    f"/logs/{VALID};x",
    f"/LOGS/{VALID}",
    "/entries",
    f"/entries?_SYSTEMD_INVOCATION_ID={VALID}",
    "/machine",
    "/fields/_SYSTEMD_UNIT",
    "/browse",
    "/",
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
async def test_malformed_paths_are_404_and_never_reach_gatewayd(
    proxy: Any, relay: CountingRelay, path: str
) -> None:
    status, body = await raw_get(proxy, path)
    # aiohttp's own parser answers 400 to bytes no HTTP path may contain; all else is our 404.
    assert status in (400, 404), path
    assert len(body) < 200
    assert relay.connections == 0


async def test_nul_and_newline_in_raw_request_line_never_reach_gatewayd(
    proxy: Any, relay: CountingRelay
) -> None:
    import asyncio

    host, port = proxy.server.host, proxy.server.port
    for target in [f"/logs/{VALID}\x00", f"/logs/{VALID}\n", f"/logs/{VALID}%0d%0aX: y"]:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = await reader.readline()
        writer.close()
        assert not status.startswith(b"HTTP/1.1 200"), target
    assert relay.connections == 0
    assert (await proxy.get("/healthz")).status == 200


async def test_forged_lifecycle_and_foreign_unit_entries_never_appear(
    make_proxy: Any, corpus: Corpus
) -> None:
    # Even with a glob pin (so gatewayd cannot filter by unit), the proxy's own checks hold.
    for units in (["deploy-website.service"], ["deploy-*.service"]):
        proxy = await make_proxy(unit=units)
        text = await (await proxy.get(f"/logs/{corpus.ok}.txt")).text()
        assert "FORGED" not in text, units
        assert "succeeded" in text.splitlines()[0]


async def test_trusted_fields_and_cursors_never_leave_the_proxy(proxy: Any, corpus: Corpus) -> None:
    secrets = [
        "hunter2-cmdline-secret",
        MACHINE_ID,
        BOOT_ID,
        HOSTNAME,
        "__CURSOR",
        "_PID",
        "_SYSTEMD",
        "/usr/bin/bash",
        "_STREAM_ID",
    ]
    cursor_shape = re.compile(r"s=[0-9a-f]{32};i=[0-9a-f]+")
    for inv in (corpus.ok, corpus.failed, corpus.tricky):
        for suffix, headers in (
            (".txt", {}),
            (".json", {}),
            ("", {"Accept": "text/html"}),
            ("", {"Accept": "text/event-stream"}),
        ):
            body = await (await proxy.get(f"/logs/{inv}{suffix}", headers=headers)).text()
            for s in secrets:
                assert s not in body, (inv, suffix, headers, s)
            assert not cursor_shape.search(body)


async def test_json_objects_carry_no_underscore_fields(proxy: Any, corpus: Corpus) -> None:
    for line in (await (await proxy.get(f"/logs/{corpus.tricky}.json")).text()).splitlines():
        obj = json.loads(line)
        assert not any(k.startswith("_") for k in obj)


async def test_operator_can_allow_a_user_field_but_never_a_trusted_one(
    make_proxy: Any, corpus: Corpus
) -> None:
    from journal_proxy.errors import ConfigError

    with pytest.raises(ConfigError, match="public_fields"):
        await make_proxy(public_fields=["_CMDLINE"])
    proxy = await make_proxy(public_fields=["SYSLOG_FACILITY"])
    first = json.loads((await (await proxy.get(f"/logs/{corpus.ok}.json")).text()).splitlines()[1])
    assert first["fields"] == {"SYSLOG_FACILITY": "3"}


async def test_text_output_is_plain_and_color_keeps_colour_but_no_other_terminal_control(
    proxy: Any, corpus: Corpus
) -> None:
    plain = await (await proxy.get(f"/logs/{corpus.tricky}.txt")).text()
    assert "\x1b" not in plain and "moved green" in plain
    text = await (await proxy.get(f"/logs/{corpus.tricky}.txt?color")).text()
    assert "\x1b]0;" not in text and "pwned\x07" not in text
    assert "\x1b[2J" not in text and "\x1b[H" not in text
    assert "\x1b[1;32mgreen\x1b[0m" in text


async def test_binary_and_multiline_messages(proxy: Any, corpus: Corpus) -> None:
    objs = [
        json.loads(x)
        for x in (await (await proxy.get(f"/logs/{corpus.tricky}.json")).text()).splitlines()
    ]
    messages = [o.get("message") for o in objs]
    assert "multi\nline\nmessage" in messages
    assert "bad utf8 \ufffd\ufffd end" in messages


async def test_secrets_are_masked_in_every_format(proxy: Any, corpus: Corpus) -> None:
    for suffix, headers in ((".txt", {}), (".json", {}), ("", {"Accept": "text/html"})):
        body = await (await proxy.get(f"/logs/{corpus.tricky}{suffix}", headers=headers)).text()
        assert SECRET_TOKEN not in body
        assert "s3cr3tpass" not in body
        assert "token ***" in body


async def test_every_response_carries_the_security_headers(proxy: Any, corpus: Corpus) -> None:
    for path, headers in (
        (f"/logs/{corpus.ok}", {"Accept": "text/html"}),
        (f"/logs/{corpus.ok}.txt", {}),
        (f"/logs/{corpus.unknown}", {}),
        ("/nope", {}),
        ("/healthz", {}),
    ):
        resp = await proxy.get(path, headers=headers)
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["Referrer-Policy"] == "no-referrer"
        assert "noindex" in h["X-Robots-Tag"]
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert h["Cache-Control"] in ("no-store", "private, max-age=300")
        assert "Server" not in h


async def test_html_escapes_log_text(proxy: Any, corpus: Corpus) -> None:
    body = await (await proxy.get(f"/logs/{corpus.tricky}", headers={"Accept": "text/html"})).text()
    assert "<script>window" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in body


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str]]:
    """The worst log content found so far for per-entry work: lines that restart a token pattern
    at every few characters, and one 4 MB line."""
    directory = tmp_path_factory.mktemp("hostile")
    clock, inv = lj.Clock(), lj.new_invocation_id()
    out = bytearray(lj.starting(clock, UNIT, inv))
    for _ in range(20):
        out += lj.unit_line(clock, UNIT, inv, "-eyJ" * 12_000)
    out += lj.unit_line(clock, UNIT, inv, "ghp_" + "a\x07" * 2_000_000)
    out += lj.unit_line(clock, UNIT, inv, "token%3D" * 8_000 + "https://a:b@" * 5_000)
    out += lj.succeeded(clock, UNIT, inv)
    procs.write_journal(directory, "hostile", bytes(out))
    gw = procs.Gatewayd(directory)
    yield gw, inv
    gw.stop()


async def test_hostile_log_content_does_not_stall_other_readers(
    make_proxy: Any, hostile_log: tuple[procs.Gatewayd, str]
) -> None:
    """While the proxy streams the worst content, an unrelated request is answered promptly:
    no single entry holds the event loop for long (it held it for 2.5-11.8 s before)."""
    gw, inv = hostile_log
    proxy = await make_proxy(upstream=gw.url)
    reading = asyncio.ensure_future(proxy.get(f"/logs/{inv}.txt"))
    worst = 0.0
    while not reading.done():
        started = time.monotonic()
        resp = await proxy.get("/no-such-page")
        worst = max(worst, time.monotonic() - started)
        assert resp.status in (404, 429)
    resp = await reading
    text = await resp.text()
    assert resp.status == 200 and "truncated" in text
    assert worst < 0.5, f"an unrelated request waited {worst:.3f} s"
