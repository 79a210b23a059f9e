"""A value that cannot be rendered never cuts a response that has begun (issue 26, item 2).

``__REALTIME_TIMESTAMP`` at or past the year 10000 (10^20, 2^64-1) raised ``OverflowError`` in
``iso_time`` after ``200 OK``: the client got a cut body with nothing in it.  Two things hold now,
in every format (text, JSON Lines, page, SSE):

* where entries are verified, a time is taken only within what a journal can hold, as systemd
  bounds it (``VALID_REALTIME``: above 0, below 2^55 us); anything else reads as 0, like a
  missing time, so every value a renderer formats can be formatted;
* should a renderer fail anyway after the headers (a bug), the body ends with a clear last line,
  the end reason ``internal-error``, and the failure is logged once with its traceback.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from journal_proxy.journal.items import EndReason
from journal_proxy.journal.verify import REALTIME_LIMIT, realtime_of
from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.renderers import iso_time

from .conftest import FAST, UNIT
from .helpers import sse_events
from .helpers_standin import StandInGatewayd, with_cursors

FORMATS = [".txt", ".json", "", "sse"]
#: Times no journal holds (systemd-journal-remote refuses each as "out of range").
REFUSED_TIMES = [b"100000000000000000000", b"18446744073709551615", b"%d" % REALTIME_LIMIT]
#: Texts ``int()`` takes that are no journal's time either.
ODD_TIMES = [b"-100000000000000000000", b" 17", b"1_000", b"+5", b"\xd9\xa3"]
_TIME_LINE = re.compile(rb"^__REALTIME_TIMESTAMP=[^\n]*$", re.MULTILINE)


def test_a_time_is_taken_only_within_what_a_journal_holds() -> None:
    assert realtime_of(b"1796613223882220") == 1796613223882220
    assert realtime_of(b"%d" % (REALTIME_LIMIT - 1)) == REALTIME_LIMIT - 1
    for value in [*REFUSED_TIMES, *ODD_TIMES, b"", b"0" * 40, None]:
        assert realtime_of(value) == 0, value
    # The largest time a journal holds is the year 3111, which every renderer can format.
    assert iso_time(REALTIME_LIMIT - 1) == "3111-09-16T23:10:18.963967Z"


def _timed(entry: bytes, value: bytes) -> bytes:
    return _TIME_LINE.sub(lambda _: b"__REALTIME_TIMESTAMP=" + value, entry, count=1)


def _finished_log(inv: str, unit_time: bytes | None, start_time: bytes | None) -> dict[bool, bytes]:
    """A finished run of three lines; the second line's time and the start line's time as given
    (None: a normal one).  Keyed by whether it is the lifecycle query's answer."""
    clock = lj.Clock()
    start = lj.starting(clock, UNIT, inv)
    lines = [lj.unit_line(clock, UNIT, inv, f"line {n}") for n in (1, 2, 3)]
    if start_time is not None:
        start = _timed(start, start_time)
    if unit_time is not None:
        lines[1] = _timed(lines[1], unit_time)
    ends = [part + b"\n\n" for part in lj.succeeded(clock, UNIT, inv).split(b"\n\n")[:-1]]
    return {False: with_cursors(lines), True: with_cursors([start, *ends])}


class Upstream:
    """A stand-in gatewayd serving the logs added to it by invocation ID."""

    def __init__(self) -> None:
        self.logs: dict[str, dict[bool, bytes]] = {}
        self.server = StandInGatewayd(self._answer)

    def _answer(self, path: str) -> bytes | None:
        for inv, bodies in self.logs.items():
            if inv in path:
                return bodies["_PID=1" in path]
        return None

    def add(self, unit_time: bytes | None = None, start_time: bytes | None = None) -> str:
        inv = lj.new_invocation_id()
        self.logs[inv] = _finished_log(inv, unit_time, start_time)
        return inv


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    await up.server.start()
    try:
        yield up
    finally:
        await up.server.stop()


async def read(proxy: Any, inv: str, suffix: str) -> tuple[int, str]:
    """The whole body of a format; SSE up to its ``end`` event.  A cut transfer raises here."""
    if suffix != "sse":
        resp = await proxy.get(f"/logs/{inv}{suffix}", headers={"Accept": "text/html"})
        return resp.status, str(await resp.text())
    resp = await proxy.get(f"/logs/{inv}", headers={"Accept": "text/event-stream"})
    events: list[dict[str, str]] = []
    while resp.status == 200 and not any(e.get("event") == "end" for e in events):
        assert not resp.content.at_eof(), f"the stream ended without an end event: {events}"
        events += await sse_events(resp, 1, timeout=10)
    resp.close()
    return resp.status, "\n".join(json.dumps(e) for e in events)


def normal_end(suffix: str, body: str) -> bool:
    """Whether ``body`` ends as a complete finished log of ``suffix``'s format."""
    last = body.rstrip("\n").rsplit("\n", 1)[-1]
    if suffix == ".json":
        closing: dict[str, object] = json.loads(last)
        return "summary" in closing and "end" not in closing
    if suffix == "":
        return last == "</html>"
    if suffix == "sse":
        end: dict[str, object] = json.loads(json.loads(last)["data"])
        return end["reason"] == "finished"
    return body.startswith("# ") and "end of stream" not in body


def failure_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in errors if "Error handling request" in r.getMessage()]
    return errors


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("where", ["line", "status"])
async def test_times_no_journal_holds_are_rendered_as_unknown(
    make_proxy: Any, upstream: Upstream, caplog: pytest.LogCaptureFixture, suffix: str, where: str
) -> None:
    proxy = await make_proxy(upstream=upstream.server.url, **FAST)
    for value in [*REFUSED_TIMES, *ODD_TIMES]:
        inv = upstream.add(value, None) if where == "line" else upstream.add(None, value)
        status, body = await read(proxy, inv, suffix)
        assert status == 200
        assert all(f"line {n}" in body for n in (1, 2, 3)), (value, body)
        assert "1970-01-01T00:00:00" in body, (value, body)
        assert normal_end(suffix, body), (value, body)
    assert not failure_logged(caplog)


@pytest.fixture(scope="module")
def edge_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str]]:
    """A real journal (systemd-journal-remote) holding a line at the latest time a journal
    takes, 2^55 - 1 us, served by a real gatewayd."""
    directory = tmp_path_factory.mktemp("edge")
    clock, inv = lj.Clock(), lj.new_invocation_id()
    parts = [lj.starting(clock, UNIT, inv), lj.unit_line(clock, UNIT, inv, "line 1")]
    parts.append(lj.unit_line(clock, UNIT, inv, "line 2", realtime=REALTIME_LIMIT - 1))
    parts += [lj.unit_line(clock, UNIT, inv, "line 3"), lj.succeeded(clock, UNIT, inv)]
    procs.write_journal(directory, "edge", b"".join(parts))
    gw = procs.Gatewayd(directory)
    try:
        yield gw, inv
    finally:
        gw.stop()


@pytest.mark.parametrize("suffix", FORMATS)
async def test_the_latest_time_a_real_journal_holds_renders_in_every_format(
    make_proxy: Any,
    edge_journal: tuple[procs.Gatewayd, str],
    caplog: pytest.LogCaptureFixture,
    suffix: str,
) -> None:
    gw, inv = edge_journal
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{gw.port}", **FAST)
    status, body = await read(proxy, inv, suffix)
    assert status == 200
    assert all(f"line {n}" in body for n in (1, 2, 3)), body
    assert "3111-09-16T23:10:18.963967" in body
    assert normal_end(suffix, body), body
    assert not failure_logged(caplog)


#: The end line each format gives when it failed half-way, its renderer's own or the last resort.
INTERNAL_END = {
    ".txt": f"# end of stream: {EndReason.INTERNAL.words}",
    ".json": '"end":"internal-error"',
    "": f"Log incomplete: {EndReason.INTERNAL.words}.",
    "sse": "internal-error",
}


@pytest.fixture
def unbounded_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Verification as it was before: ``int()`` on whatever came.  A renderer then meets a time
    it cannot format after the headers are out, as a bug in any renderer would fail there."""

    def permissive(value: bytes | None) -> int:
        return int(value) if value else 0

    monkeypatch.setattr("journal_proxy.journal.verify.realtime_of", permissive)
    yield


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("value", REFUSED_TIMES[:2])
async def test_a_line_that_fails_to_render_ends_the_body_with_a_clear_last_line(
    make_proxy: Any,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
    unbounded_times: None,
    suffix: str,
    value: bytes,
) -> None:
    proxy = await make_proxy(upstream=upstream.server.url, **FAST)
    inv = upstream.add(unit_time=value)
    status, body = await read(proxy, inv, suffix)  # a cut transfer would raise here
    assert status == 200
    # Every line before the one that failed was sent (line 3 comes after it: the merge with
    # systemd's lines goes by time, and line 2's is in the far future).
    assert "line 1" in body and "Consumed" in body and "line 3" not in body
    assert INTERNAL_END[suffix] in body.rstrip("\n").rsplit("\n", 1)[-1], body
    [record] = failure_logged(caplog)
    assert record.name == "journal_proxy.web.streaming" and record.exc_info is not None
    assert re.search(r"failed at line [0-9]+,", record.getMessage())
    assert isinstance(record.exc_info[1], OverflowError | ValueError)


@pytest.mark.parametrize("suffix", FORMATS)
async def test_a_status_that_fails_to_render_ends_the_body_with_the_last_resort_line(
    make_proxy: Any,
    upstream: Upstream,
    caplog: pytest.LogCaptureFixture,
    unbounded_times: None,
    suffix: str,
) -> None:
    """The start time fails in the very first bytes (the header, the status), and again in the
    renderer's own end where that formats the status (all but the page's): the body is then the
    format's last-resort end line alone, not nothing."""
    proxy = await make_proxy(upstream=upstream.server.url, **FAST)
    inv = upstream.add(start_time=REFUSED_TIMES[1])
    status, body = await read(proxy, inv, suffix)
    assert status == 200
    assert INTERNAL_END[suffix] in body and "line 1" not in body, body
    [record] = failure_logged(caplog)
    assert record.exc_info is not None
    assert ("its end too" in record.getMessage()) == (suffix != "")
