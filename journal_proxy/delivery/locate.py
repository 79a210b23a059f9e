"""Finds which gatewayd has an invocation, when there are several.

Invocation IDs are random 128-bit values, unique across machines, so a link can be looked up on
every upstream at once; the first that has the invocation serves it.  An upstream that is down or
slow (per-upstream timeout) does not stop the others; it is named on the page.  When nobody has
the invocation and someone could not be asked, the answer is 502, not 404: it may be there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from journal_proxy.errors import InvocationNotFound, UpstreamError, UpstreamUnavailable
from journal_proxy.journal.invocation_log import InvocationLog, InvocationQuery, open_log
from journal_proxy.upstream.gatewayd import GatewaydClient


@dataclass(frozen=True, slots=True)
class Located:
    client: GatewaydClient
    log: InvocationLog
    unreachable: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.client.upstream.label


async def locate(
    clients: Sequence[GatewaydClient], query: InvocationQuery, timeout: float
) -> Located:
    if len(clients) == 1:
        return Located(clients[0], await open_log(clients[0], query), ())

    async def attempt(client: GatewaydClient) -> InvocationLog:
        async with asyncio.timeout(timeout):
            return await open_log(client, query)

    tasks = {asyncio.create_task(attempt(c)): c for c in clients}
    unreachable: list[str] = []
    winner: Located | None = None
    pending = set(tasks)
    try:
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                client = tasks[task]
                try:
                    log = task.result()
                except InvocationNotFound:
                    continue
                except (UpstreamError, TimeoutError):
                    unreachable.append(client.upstream.label)
                    continue
                if winner is None:
                    winner = Located(client, log, ())
                else:
                    await log.aclose()  # the same ID on two hosts: the first answer wins
    finally:
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                log = await task
                await log.aclose()
    if winner is not None:
        return Located(winner.client, winner.log, tuple(sorted(unreachable)))
    if unreachable:
        raise UpstreamUnavailable(f"could not ask {', '.join(sorted(unreachable))}")
    raise InvocationNotFound(query.invocation_id)
