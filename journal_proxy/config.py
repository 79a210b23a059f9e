"""Loose input (TOML file, command-line flags) checked once into :class:`Settings`.

Every error names the setting, so ``journal-proxy serve`` can stop with one clear line.  What is
checked here is trusted everywhere else: nothing downstream re-validates it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from journal_proxy.access.signing import load_keys
from journal_proxy.errors import ConfigError
from journal_proxy.patterns import compile_pattern, load_literals
from journal_proxy.settings import (
    DEFAULT_LISTEN,
    DEFAULT_UPSTREAM,
    KeepSettings,
    Limits,
    LinkSettings,
    Listen,
    MaskSettings,
    ProblemSettings,
    Settings,
    Timeouts,
    UnitPins,
    Upstream,
)
from journal_proxy.triage.problems import problem_patterns

# A systemd unit name, optionally with glob characters: letters, digits, ":-_.\@" plus "*?[]".
_UNIT_PATTERN_RE = re.compile(r"[A-Za-z0-9:_.\\@*?\[\]-]{1,256}", re.ASCII)
_UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".mount", ".scope", ".target")
# Journal field names: upper case, digits, underscore; user fields cannot start with "_".
_PUBLIC_FIELD_RE = re.compile(r"[A-Z0-9][A-Z0-9_]{0,63}", re.ASCII)


def parse_units(values: object) -> UnitPins:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or not values:
        raise ConfigError("unit: at least one unit is required (pinning is not optional)")
    patterns: list[str] = []
    for v in values:
        if not isinstance(v, str) or not _UNIT_PATTERN_RE.fullmatch(v):
            raise ConfigError(f"unit: {v!r} is not a unit name or glob")
        if not v.endswith(_UNIT_SUFFIXES) and not v.endswith("*"):
            raise ConfigError(f"unit: {v!r} has no unit type suffix such as .service")
        if v.strip("*?") == "" or v in ("*", "*.service"):
            raise ConfigError(f"unit: {v!r} would match every unit")
        patterns.append(v)
    return UnitPins(tuple(patterns))


_UPSTREAM_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", re.ASCII)


def parse_upstream(value: object, name: str = "") -> Upstream:
    """``URL`` or ``NAME=URL``: ``http://host:port``, ``https://host:port`` or ``unix:/path``."""
    if not isinstance(value, str) or not value:
        raise ConfigError("upstream: expected a URL such as http://127.0.0.1:19531")
    head, sep, rest = value.partition("=")
    if sep and "://" not in head and not head.startswith("unix:"):
        if not _UPSTREAM_NAME_RE.fullmatch(head):
            raise ConfigError(f"upstream: {head!r} is not a host name (letters, digits, . _ -)")
        name, value = head, rest
    if value.startswith("unix:"):
        path = value[len("unix:") :]
        if not path.startswith("/"):
            raise ConfigError("upstream: unix socket path must be absolute")
        return Upstream(url=value, name=name, unix_path=path)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"upstream: {value!r} is not http://, https:// or unix:")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError(f"upstream: {value!r} must be scheme://host:port only")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"upstream: {value!r} has an invalid port") from exc
    try:
        parts.hostname.encode("idna")  # how the Host header will carry it
    except UnicodeError as exc:
        raise ConfigError(f"upstream: {value!r} has an invalid host name") from exc
    # Stored with the scheme as urlsplit reads it (lower case): "HTTPS://" is https everywhere.
    return Upstream(url=f"{parts.scheme}://{parts.netloc}", name=name)


def parse_listen(value: object, mode: object = None) -> Listen:
    if not isinstance(value, str) or not value:
        raise ConfigError("listen: expected HOST:PORT or unix:/path")
    unix_mode = 0o660
    if mode is not None:
        if isinstance(mode, str) and re.fullmatch(r"0?[0-7]{3}", mode):
            unix_mode = int(mode, 8)
        else:
            raise ConfigError("listen_mode: expected an octal mode such as 660")
    if value.startswith("unix:"):
        path = value[len("unix:") :]
        if not path.startswith("/"):
            raise ConfigError("listen: unix socket path must be absolute")
        return Listen(unix_path=path, unix_mode=unix_mode)
    host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"listen: {value!r} is not HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    return Listen(host=host, port=int(port))


def _positive(name: str, value: object, *, integer: bool = False) -> float:
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or value <= 0:
        raise ConfigError(f"{name}: expected a positive {'integer' if integer else 'number'}")
    return value


def _section(raw: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a table")
    return value


def _dataclass_from(cls: type[T], section: str, raw: Mapping[str, object], ints: bool) -> T:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{section}.{key}: unknown setting")
        values[key] = _positive(f"{section}.{key}", value, integer=ints)
    return cls(**values)


T = TypeVar("T")

#: Every top-level setting (TOML key); tests check ``deploy/config.toml`` lists exactly these.
SETTING_NAMES = frozenset(
    {"unit", "public_fields", "mask", "metrics", "exit_idle_after", "trusted_proxies"}
    | {"upstream", "upstream_tls", "listen", "listen_mode", "timeouts", "limits"}
    | {"revocation_file", "require_signed_links", "link_keys_file"}  # the link's life
    | {"problems", "keep_dir", "keep_days", "keep_bytes"}
)


def parse_mask(raw: Mapping[str, object]) -> MaskSettings:
    for key in raw:
        if key not in ("builtin", "patterns", "secrets_file"):
            raise ConfigError(f"mask.{key}: unknown setting")
    builtin = raw.get("builtin", True)
    if not isinstance(builtin, bool):
        raise ConfigError("mask.builtin: expected true or false")
    patterns = raw.get("patterns", {})
    if not isinstance(patterns, Mapping) or not all(isinstance(v, str) for v in patterns.values()):
        raise ConfigError('mask.patterns: expected a table of name = "regex"')
    secrets_file = raw.get("secrets_file")
    if secrets_file is not None and not isinstance(secrets_file, str):
        raise ConfigError("mask.secrets_file: expected a path")
    named = tuple((str(k), str(v)) for k, v in patterns.items())
    for name, pattern in named:  # checked now, so a bad one stops the start
        compile_pattern(f"mask.patterns.{name}", pattern)
    return MaskSettings(
        builtin=builtin,
        patterns=named,
        literals=tuple(load_literals(secrets_file)) if secrets_file else (),
    )


def _parse_upstreams(raw: Mapping[str, object]) -> tuple[Upstream, ...]:
    raw_upstreams = raw.get("upstream", DEFAULT_UPSTREAM)
    if isinstance(raw_upstreams, str):
        raw_upstreams = [raw_upstreams]
    if not isinstance(raw_upstreams, list) or not raw_upstreams:
        raise ConfigError("upstream: expected a URL or a list of URLs")
    upstreams = [parse_upstream(u) for u in raw_upstreams]
    labels = [u.label for u in upstreams]
    if len(set(labels)) != len(labels):
        raise ConfigError("upstream: two upstreams have the same name")
    tls = _section(raw, "upstream_tls")
    for key, value in tls.items():
        if key not in ("client_cert", "client_key", "trust"):
            raise ConfigError(f"upstream_tls.{key}: unknown setting")
        if not isinstance(value, str) or not Path(value).is_file():
            raise ConfigError(f"upstream_tls.{key}: {value!r} is not a readable file")
    if tls:
        if not any(u.url.startswith("https://") for u in upstreams):
            raise ConfigError("upstream_tls: only for an https:// upstream")
        upstreams = [
            replace(
                u,
                client_cert=_opt_str(tls.get("client_cert")),
                client_key=_opt_str(tls.get("client_key")),
                trust=_opt_str(tls.get("trust")),
            )
            if u.url.startswith("https://")
            else u
            for u in upstreams
        ]
    return tuple(upstreams)


def parse_revocation_file(raw: Mapping[str, object]) -> str | None:
    """``revocation_file``: an absolute path (the file itself may not exist yet)."""
    value = raw.get("revocation_file")
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError("revocation_file: expected an absolute path")
    return value


def parse_links(raw: Mapping[str, object], env: Mapping[str, str]) -> LinkSettings:
    """``link_keys_file`` (or the ``link-keys`` credential) and ``require_signed_links``."""
    require = raw.get("require_signed_links", False)
    if not isinstance(require, bool):
        raise ConfigError("require_signed_links: expected true or false")
    path = raw.get("link_keys_file")
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise ConfigError("link_keys_file: expected an absolute path")
    keys = load_keys(path, env)
    if require and not keys:
        raise ConfigError(
            "require_signed_links: needs a key (link_keys_file or the link-keys credential)"
        )
    return LinkSettings(keys=keys, require_signed=require)


def settings_from_mapping(
    raw: Mapping[str, object], env: Mapping[str, str] | None = None
) -> Settings:
    """Check a merged mapping of settings (TOML keys) and build :class:`Settings`."""
    for key in raw:
        if key not in SETTING_NAMES:
            raise ConfigError(f"{key}: unknown setting")
    units = parse_units(raw.get("unit"))
    upstreams = _parse_upstreams(raw)
    listen = parse_listen(raw.get("listen", DEFAULT_LISTEN), raw.get("listen_mode"))
    fields = raw.get("public_fields", [])
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ConfigError("public_fields: expected a list of field names")
    for f in fields:
        if not _PUBLIC_FIELD_RE.fullmatch(f):
            raise ConfigError(
                f"public_fields: {f!r} is not a user field name (trusted _FIELDS are never public)"
            )
    exit_idle = raw.get("exit_idle_after")
    limits = _dataclass_from(Limits, "limits", _section(raw, "limits"), ints=True)
    metrics = raw.get("metrics", False)
    if not isinstance(metrics, bool):
        raise ConfigError("metrics: expected true or false")
    return Settings(
        units=units,
        upstreams=upstreams,
        listen=listen,
        public_fields=tuple(fields),
        timeouts=_dataclass_from(Timeouts, "timeouts", _section(raw, "timeouts"), ints=False),
        limits=limits,
        exit_idle_after=None if exit_idle is None else _positive("exit_idle_after", exit_idle),
        mask=parse_mask(_section(raw, "mask")),
        problems=ProblemSettings(*problem_patterns(_section(raw, "problems"))),
        metrics=metrics,
        trusted_proxies=_parse_proxies(raw),
        revocation_file=parse_revocation_file(raw),
        links=parse_links(raw, os.environ if env is None else env),
        keep=parse_keep(raw, os.environ if env is None else env),
    )


def parse_keep(raw: Mapping[str, object], env: Mapping[str, str]) -> KeepSettings:
    """``keep_dir`` (default: ``$STATE_DIRECTORY``, which systemd sets from ``StateDirectory=``;
    neither: runs are not kept), ``keep_days`` and ``keep_bytes``."""
    directory = raw.get("keep_dir", env.get("STATE_DIRECTORY", "").split(":")[0] or None)
    if directory is not None and (not isinstance(directory, str) or not directory.startswith("/")):
        raise ConfigError("keep_dir: expected an absolute path")
    defaults = KeepSettings()
    days = _positive("keep_days", raw.get("keep_days", defaults.days))
    max_bytes = _positive("keep_bytes", raw.get("keep_bytes", defaults.max_bytes), integer=True)
    return KeepSettings(directory, float(days), int(max_bytes))


def _parse_proxies(
    raw: Mapping[str, object],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    proxies = raw.get("trusted_proxies", [])
    if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
        raise ConfigError("trusted_proxies: expected a list of addresses")
    networks = []
    for p in proxies:
        try:
            networks.append(ipaddress.ip_network(p, strict=False))
        except ValueError as exc:
            raise ConfigError(f"trusted_proxies: {p!r} is not an address or network") from exc
    return tuple(networks)


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def load_config_file(path: str) -> dict[str, object]:
    try:
        with Path(path).open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from exc
