"""One upstream follow fed into a live hub's merge (:mod:`journal_proxy.delivery.hub`), reopened when
gatewayd breaks it.

gatewayd sometimes breaks a follow in the middle of its chunked answer; the stream is then opened
again after the last entry it gave (the merge drops the one gatewayd sends again), a few times,
before the hub is told the stream failed.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

from journal_proxy.errors import UpstreamTimeout, UpstreamUnavailable
from journal_proxy.journal.entry import Entry
from journal_proxy.journal.invocation_log import (
    InvocationQuery,
    Verifier,
    one_by_one,
    verified_batches,
)
from journal_proxy.journal.merge import Feed
from journal_proxy.upstream.gatewayd import GatewaydClient, Match

log = logging.getLogger(__name__)

#: Waits before opening a broken follow again; after the last, the hub ends ("upstream").
RECONNECT_DELAYS = (0.2, 0.5, 1.0)

#: What a pump hands the merge loop: an entry, None when its stream ended, or the stream's error.
Pumped = tuple[Feed, Entry | Exception | None]


async def pump(
    client: GatewaydClient,
    query: InvocationQuery,
    source: Feed,
    matches: list[Match],
    check: Verifier,
    cursor: str | None,
    out: asyncio.Queue[Pumped],
) -> None:
    """Feed the follow of ``matches`` after ``cursor`` into ``out`` as ``source``, until it ends
    (then ``None``) or fails for good (then the error)."""
    retries = 0
    while True:
        batches = verified_batches(client, query, matches, check, follow=True, after_cursor=cursor)
        stream = one_by_one(batches)
        try:
            async with aclosing(stream):
                async for entry in stream:
                    cursor, retries = entry.cursor, 0
                    await out.put((source, entry))
            await out.put((source, None))
            return
        except (UpstreamUnavailable, UpstreamTimeout) as exc:
            if retries >= len(RECONNECT_DELAYS):
                await out.put((source, exc))
                return
            log.info("follow %s: reconnecting after %s", query.invocation_id[:8], exc)
            await asyncio.sleep(RECONNECT_DELAYS[retries])
            retries += 1
        except Exception as exc:
            await out.put((source, exc))
            return
