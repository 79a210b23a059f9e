"""What the first-read and burst speed-ups (issue 17) must not change: a kept body is sent inside
the route's count of open streams and never decompressed whole for a plain reader, and a batch of
lines read with a corrupt entry still reaches the reader.  Found by a review of that work.

These tests need no gatewayd: a kept body is put in the app's cache directly, and the upstream
reader is fed by a fake client.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from journal_proxy.access.ids import InvocationId
from journal_proxy.config import settings_from_mapping
from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.journal.invocation_log import InvocationQuery, one_by_one, verified_batches
from journal_proxy.journal.lifecycle import Status
from journal_proxy.journal.verify import verify_unit_entry
from journal_proxy.local.journal import export_entry
from journal_proxy.renderers.text import TextRenderer
from journal_proxy.service.server import server_options
from journal_proxy.settings import Limits, UnitPins
from journal_proxy.web import make_app
from journal_proxy.web.state import CACHE, STREAMS
from journal_proxy.web.streaming import variant_of

from .conftest import UNIT, closed_port

INV = InvocationId("0123456789abcdef0123456789abcdef")
LONG_AGO = Status(state="succeeded", finished_usec=1_000_000)


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


async def _proxy_with_kept_text(aiohttp_client: Any, body: bytes) -> tuple[Any, web.Application]:
    """The real app (its routes and limits), with ``body`` kept as the finished log's text."""
    settings = settings_from_mapping(
        {"unit": [UNIT], "upstream": f"http://127.0.0.1:{closed_port()}"}
    )
    app = make_app(settings)
    app[CACHE].put(INV, variant_of(TextRenderer()), LONG_AGO, '"kept"', _gzip(body))
    client = await aiohttp_client(TestServer(app, **server_options(settings)))
    return client, app


@pytest.mark.parametrize("accept_encoding", ["gzip", "identity"])
async def test_a_kept_body_is_sent_while_its_stream_is_counted(
    aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch, accept_encoding: str
) -> None:
    """routes.logs counts a response against max_streams / max_streams_per_client only inside
    ``with app[STREAMS].stream(client)``.  A web.Response returned from there is written by
    aiohttp after the handler has returned, so the slot is already free while its body goes out:
    a client can download kept bodies (up to cache_bytes / 4 each) on any number of connections,
    and active_streams reads 0 meanwhile."""
    client, app = await _proxy_with_kept_text(aiohttp_client, b"line\n" * 1000)
    active_at_end: list[int] = []
    write_eof = web.StreamResponse.write_eof

    async def recording_write_eof(self: web.StreamResponse, data: bytes = b"") -> None:
        if self.status == 200 and not self._eof_sent:
            active_at_end.append(app[STREAMS].active)
        await write_eof(self, data)

    monkeypatch.setattr(web.StreamResponse, "write_eof", recording_write_eof)
    resp = await client.get(f"/logs/{INV}.txt", headers={"Accept-Encoding": accept_encoding})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await resp.read() == b"line\n" * 1000
    assert active_at_end and all(n == 1 for n in active_at_end), active_at_end


async def test_a_plain_reader_never_gets_a_very_compressible_kept_body_decompressed_whole(
    aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Small enough to decompress at once" is judged on the gzip size (<= 64 KiB), but log text
    the deploy script chooses compresses about 1000:1: a 40 MiB body is then decompressed in one
    piece for every reader without gzip (curl's default), where before it went out in pieces of
    16 KiB of gzip input each."""
    line = b"2026-01-01T00:00:00.000000Z deploy.sh: " + b"A" * 65536 + b"\n"
    body = line * 640  # 40 MiB
    assert len(_gzip(body)) <= 64 * 1024
    client, _ = await _proxy_with_kept_text(aiohttp_client, body)
    largest: list[int] = [0]
    write, write_eof = web.StreamResponse.write, web.StreamResponse.write_eof

    async def recording_write(self: web.StreamResponse, data: bytes) -> None:
        largest[0] = max(largest[0], len(data))
        await write(self, data)

    async def recording_write_eof(self: web.StreamResponse, data: bytes = b"") -> None:
        largest[0] = max(largest[0], len(data))
        await write_eof(self, data)

    monkeypatch.setattr(web.StreamResponse, "write", recording_write)
    monkeypatch.setattr(web.StreamResponse, "write_eof", recording_write_eof)
    resp = await client.get(f"/logs/{INV}.txt", headers={"Accept-Encoding": "identity"})
    assert resp.status == 200
    assert len(await resp.read()) == len(body)
    # 16 KiB of deflate input gives at most ~16.5 MiB (deflate's ratio is at most 1032:1).
    assert largest[0] <= 17 << 20, f"{largest[0] >> 20} MiB handed to the transport at once"


class _OneChunkClient:
    """A gatewayd client whose /entries body is one chunk."""

    def __init__(self, chunk: bytes) -> None:
        self._chunk = chunk

    @asynccontextmanager
    async def entries(
        self, matches: Sequence[Any], *, follow: bool = False, after_cursor: str | None = None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        async def body() -> AsyncIterator[bytes]:
            yield self._chunk

        yield body()


def _unit_entry(message: str, *, cursor: bool = True) -> bytes:
    fields = [("__CURSOR", "s=1;i=1")] if cursor else []
    fields += [
        ("__REALTIME_TIMESTAMP", "1000"),
        ("_SYSTEMD_INVOCATION_ID", str(INV)),
        ("_SYSTEMD_UNIT", UNIT),
        ("MESSAGE", message),
    ]
    return export_entry(fields)


async def test_the_entries_before_a_corrupt_one_in_the_same_read_still_reach_the_reader() -> None:
    """The parser's rule (the reader gets everything that was valid before the error) held per
    entry; with a batch per upstream read, an entry without a cursor throws away the verified
    entries read with it (and, in the first read, turns a truncated log into an error page)."""
    client = _OneChunkClient(_unit_entry("valid") + _unit_entry("corrupt", cursor=False))
    query = InvocationQuery(INV, UnitPins((UNIT,)), (), Limits())
    got: list[str] = []
    with pytest.raises(UpstreamProtocolError):
        batches = verified_batches(
            client,  # type: ignore[arg-type]
            query,
            query.unit_matches(),
            verify_unit_entry,
        )
        async for entry in one_by_one(batches):
            got.append(entry.message)
    assert got == ["valid"]
