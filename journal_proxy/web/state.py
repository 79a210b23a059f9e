"""Typed application state (``web.AppKey``): what the app factory builds and the handlers use."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from journal_proxy.access.limits import RefusalThrottle, StreamLimiter
from journal_proxy.access.revocation import RevocationList
from journal_proxy.delivery.cache import FinishedLogCache
from journal_proxy.delivery.hub_registry import HubRegistry
from journal_proxy.delivery.keep import Keeper
from journal_proxy.delivery.shared_read import SharedReads
from journal_proxy.journal.invocation_log import Counters
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Settings
from journal_proxy.triage.problems import ProblemMatchers
from journal_proxy.upstream.gatewayd import GatewaydClient
from journal_proxy.web.assets import Assets
from journal_proxy.web.metrics import Metrics, Tally

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
