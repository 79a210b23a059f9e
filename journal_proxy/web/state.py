"""Typed application state (``web.AppKey``): what the app factory builds and the handlers use."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from ..annotations import ProblemMatchers
from ..assets import Assets
from ..cache import FinishedLogCache
from ..gatewayd import GatewaydClient
from ..hub_registry import HubRegistry
from ..invocation_log import Counters
from ..keep import Keeper
from ..limits import RefusalThrottle, StreamLimiter
from ..mask import Masker
from ..metrics import Metrics, Tally
from ..revocation import RevocationList
from ..settings import Settings
from ..shared_read import SharedReads

MATCHERS = web.AppKey("matchers", ProblemMatchers)
SETTINGS = web.AppKey("settings", Settings)
MASKER = web.AppKey("masker", Masker)
CLIENTS = web.AppKey("clients", tuple[GatewaydClient, ...])
HUBS = web.AppKey("hubs", HubRegistry)
METRICS = web.AppKey("metrics", Metrics)
TALLY = web.AppKey("tally", Tally)
ASSETS = web.AppKey("assets", Assets)
COUNTERS = web.AppKey("counters", Counters)
STREAMS = web.AppKey("streams", StreamLimiter)
THROTTLE = web.AppKey("throttle", RefusalThrottle)
CACHE = web.AppKey("cache", FinishedLogCache)
READS = web.AppKey("reads", SharedReads)
REVOCATIONS = web.AppKey("revocations", RevocationList)
#: Finished runs kept on disk; None when ``keep_dir`` (or ``$STATE_DIRECTORY``) is not set.
KEEPER: web.AppKey[Keeper | None] = web.AppKey("keeper")
#: Wall-clock time in unix seconds (``time.time``); tests pass their own to move it.
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
