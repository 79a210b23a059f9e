"""Settings: what the proxy runs with, as frozen dataclasses of plain data.

Everything downstream trusts a :class:`Settings`; nothing downstream re-validates it.  Loose input
(the TOML file, command-line flags) is checked into them once, by :mod:`journal_proxy.config`.
Plain data only: the masker, the gatewayd clients and the rest are built from these where they
are used.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_UPSTREAM = "http://127.0.0.1:19531"
DEFAULT_LISTEN = "127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class UnitPins:
    """The units whose logs may be served.  Globs are allowed; matching is case-sensitive."""

    patterns: tuple[str, ...]
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Checked for every entry, so the globs become one compiled pattern once, at start-up.
        regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in self.patterns))
        object.__setattr__(self, "_regex", regex)

    def matches(self, unit: str) -> bool:
        return self._regex.match(unit) is not None

    @property
    def exact_names(self) -> tuple[str, ...] | None:
        """The names, if none is a glob: then gatewayd can filter by unit for us too."""
        if any(ch in p for p in self.patterns for ch in "*?["):
            return None
        return self.patterns


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where one gatewayd listens: ``http://host:port``, ``https://...`` or ``unix:/path``."""

    url: str
    name: str = ""
    unix_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    trust: str | None = None

    @property
    def label(self) -> str:
        """How the page names this host: its configured name, else its address."""
        if self.name:
            return self.name
        return self.unix_path or urlsplit(self.url).netloc


@dataclass(frozen=True, slots=True)
class Listen:
    """Where the proxy listens when not socket-activated."""

    host: str = "127.0.0.1"
    port: int = 8080
    unix_path: str | None = None
    unix_mode: int = 0o660


@dataclass(frozen=True, slots=True)
class Timeouts:
    upstream_connect: float = 3.0
    upstream_headers: float = 5.0
    upstream_read: float = 30.0
    follow_idle: float = 600.0
    follow_max: float = 3600.0
    finish_grace: float = 3.0
    shutdown: float = 5.0
    #: A client's whole request head, from its first byte (from the connect, for a new
    #: connection): slower ones are closed.  nginx allows 60 s; a client that means it sends a
    #: head in one packet, and a proxy standing alone must not be held by slow ones.
    request_head: float = 10.0


@dataclass(frozen=True, slots=True)
class Limits:
    max_entry_bytes: int = 4 << 20
    max_message_chars: int = 64 * 1024
    viewer_buffer: int = 4096
    lifecycle_entries: int = 256
    max_streams: int = 512
    max_streams_per_client: int = 16
    refusal_burst: int = 30  # refused requests a client may make at once...
    refusals_per_minute: int = 120  # ...and then this many a minute (the rest: 429, no lookup)
    cache_bytes: int = 64 << 20
    max_request_line: int = 8190
    max_header_bytes: int = 8190


@dataclass(frozen=True, slots=True)
class MaskSettings:
    """What to mask, as plain data; the masker is built from it where it is used (the app)."""

    builtin: bool = True
    patterns: tuple[tuple[str, str], ...] = ()
    literals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Signed links: the keys (first signs, all verify) and whether unsigned links are refused."""

    keys: tuple[bytes, ...] = field(default=(), repr=False)  # never in a log or a traceback
    require_signed: bool = False


@dataclass(frozen=True, slots=True)
class ProblemSettings:
    """The operator's problem matchers as plain data, ``(name, regex)`` per level, checked at
    start-up (``triage.problems.problem_patterns``) and built where they are used."""

    errors: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class KeepSettings:
    """Finished runs kept on disk (``delivery/keep.py``): where (None: not kept), for how long, how much."""

    directory: str | None = None
    days: float = 90.0  # GitHub Actions keeps job logs 90 days by default
    max_bytes: int = 1 << 30


@dataclass(frozen=True, slots=True)
class Settings:
    units: UnitPins
    upstreams: tuple[Upstream, ...] = field(default_factory=lambda: (Upstream(DEFAULT_UPSTREAM),))
    listen: Listen = field(default_factory=Listen)
    public_fields: tuple[str, ...] = ()
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = field(default_factory=Limits)
    exit_idle_after: float | None = None
    mask: MaskSettings = field(default_factory=MaskSettings)
    problems: ProblemSettings = field(default_factory=ProblemSettings)

    @property
    def upstream(self) -> Upstream:
        """The first upstream (the only one, in most deployments)."""
        return self.upstreams[0]

    metrics: bool = False
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    revocation_file: str | None = None
    links: LinkSettings = field(default_factory=LinkSettings)
    keep: KeepSettings = field(default_factory=KeepSettings)
