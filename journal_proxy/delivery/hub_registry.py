"""At most one live hub per invocation (:mod:`journal_proxy.delivery.hub`), for the whole app."""

from __future__ import annotations

import asyncio

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery.hub import FollowHub, Locator
from journal_proxy.journal.invocation_log import InvocationQuery
from journal_proxy.journal.items import EndReason
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Limits, Timeouts


class HubRegistry:
    """At most one hub per invocation; a hub removes itself when it ends."""

    def __init__(
        self, locator: Locator, timeouts: Timeouts, limits: Limits, masker: Masker
    ) -> None:
        self._locate = locator
        self._timeouts = timeouts
        self._limits = limits
        self._masker = masker
        #: Viewers whose history had to be read from gatewayd (their hub had dropped it), for
        #: /metrics.
        self.history_reads = 0
        self._hubs: dict[InvocationId, FollowHub] = {}

    def __len__(self) -> int:
        return len(self._hubs)

    @property
    def viewers(self) -> int:
        return sum(h.viewers for h in self._hubs.values())

    @property
    def history_lines(self) -> int:
        """Lines held in memory by every hub, for /metrics."""
        return sum(len(h.history or ()) for h in self._hubs.values())

    @property
    def history_overflowed(self) -> int:
        """Hubs whose log grew past their memory (their new viewers read gatewayd), for /metrics."""
        return sum(h.history is None for h in self._hubs.values())

    def get(self, query: InvocationQuery) -> FollowHub:
        hub = self._hubs.get(query.invocation_id)
        if hub is None:
            hub = FollowHub(
                self._locate, query, self._timeouts, self._limits, self._masker, self._forget
            )
            self._hubs[query.invocation_id] = hub
            hub.start()
        return hub

    def _forget(self, hub: FollowHub) -> None:
        if self._hubs.get(hub.invocation_id) is hub:
            del self._hubs[hub.invocation_id]

    def stop_invocation(self, invocation_id: InvocationId, reason: EndReason) -> bool:
        """End one invocation's hub now (a revoked link); its viewers get their last line."""
        hub = self._hubs.get(invocation_id)
        if hub is None:
            return False
        hub.stop(reason)
        return True

    async def close(self, reason: EndReason = EndReason.SHUTDOWN) -> None:
        hubs = list(self._hubs.values())
        for hub in hubs:
            hub.stop(reason)
        await asyncio.gather(*(h.wait_closed() for h in hubs))
