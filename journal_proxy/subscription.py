"""One viewer's bounded queue of a live hub's items (:mod:`journal_proxy.hub`).

A viewer's buffer is bounded; one that falls behind is told so (``too-slow``) and dropped, so a
slow reader holds neither memory nor the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from .entry import NumberedEntry
from .lifecycle import Status
from .types import Ended, EndReason, StatusChanged

if TYPE_CHECKING:
    from .hub import FollowHub

#: What a viewer's subscription carries.
HubItem = NumberedEntry | StatusChanged | Ended


class Subscription:
    """One viewer's bounded queue of hub items."""

    def __init__(self, hub: FollowHub, base_line: int, status: Status, limit: int) -> None:
        self.hub = hub
        self.base_line = base_line
        self.status = status
        self._items: deque[HubItem] = deque()
        self._limit = limit
        self._wakeup = asyncio.Event()
        self._ended: Ended | None = None

    def publish(self, item: HubItem) -> bool:
        """Queue ``item``; False if this viewer is (now) too far behind and must be dropped."""
        if self._ended is not None:
            return False
        if isinstance(item, Ended):
            self._ended = item
        elif len(self._items) >= self._limit:
            self._items.clear()
            self._ended = Ended(EndReason.TOO_SLOW, self.hub.status)
        else:
            self._items.append(item)
        self._wakeup.set()
        return self._ended is None

    async def get(self) -> HubItem:
        """The next item; an :class:`Ended` once the hub ends or this viewer is dropped.

        A plain coroutine rather than an async generator, so a caller's timeout (keep-alives)
        cancels only the wait, never the subscription.
        """
        while True:
            if self._items:
                return self._items.popleft()
            if self._ended is not None:
                return self._ended
            self._wakeup.clear()
            await self._wakeup.wait()

    def close(self) -> None:
        self.hub.unsubscribe(self)
