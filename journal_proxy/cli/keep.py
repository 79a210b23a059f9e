"""``journal-proxy keep``: keep a run that just ended, list the kept runs, prune them.

``journal-proxy keep [ID]`` runs in the deploy's ``OnSuccess=``/``OnFailure=`` handler (the ID from
``MONITOR_INVOCATION_ID``): it waits out the grace period for systemd's trailing lines, then reads
the run's text, JSON and page once through the proxy's own socket, as a viewer would.  The proxy
keeps a finished run on its first read (``delivery/keep.py``), so the first person to click the link
gets bytes already on disk, and the link keeps working after journald has vacuumed the run.  The
proxy does the keeping: the handler never writes into the proxy's state directory.

``--list`` and ``--prune`` read the directory itself (as root, next to the running proxy):
``--prune`` applies ``keep_days`` and ``keep_bytes`` now, as the proxy does at start and after
every write.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from journal_proxy.access.ids import parse_invocation_id
from journal_proxy.access.signing import load_keys, log_url
from journal_proxy.cli.arguments import add_signing_arguments
from journal_proxy.config import load_config_file, parse_keep
from journal_proxy.delivery.keep import Keeper
from journal_proxy.errors import ConfigError

#: Where the shipped socket unit listens, and where the shipped unit's state directory is.
DEFAULT_PROXY = "unix:/run/journal-proxy.sock"
DEFAULT_DIRECTORY = "/var/lib/journal-proxy"
#: The formats a viewer opens, read once each so each is kept rendered.
_READS = ((".txt", "text/plain"), (".json", "application/json"), ("", "text/html"))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keep", help="keep a finished run on disk (or list, or prune the kept)")
    p.add_argument("invocation", nargs="?", help="default: $MONITOR_INVOCATION_ID, $INVOCATION_ID")
    p.add_argument("--proxy", default=DEFAULT_PROXY, help="unix:/path or http://host:port")
    p.add_argument("--after", type=float, default=5.0, help="seconds to wait first (grace)")
    p.add_argument("--config", default="/etc/journal-proxy/config.toml", help="for --list/--prune")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="print the kept runs, oldest first")
    what.add_argument("--prune", action="store_true", help="apply keep_days and keep_bytes now")
    add_signing_arguments(p)


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        if args.list or args.prune:
            return _list_or_prune(args)
        return _trigger(args, env)
    except ConfigError as exc:
        print(f"journal-proxy keep: {exc}", file=sys.stderr)
        return 2


def _trigger(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    raw = args.invocation or env.get("MONITOR_INVOCATION_ID") or env.get("INVOCATION_ID") or ""
    invocation_id = parse_invocation_id(raw)
    if invocation_id is None:
        print("journal-proxy keep: invocation ID must be 32 lowercase hex digits", file=sys.stderr)
        return 2
    time.sleep(max(0.0, args.after))
    # A proxy that requires signed links needs a signature here too: sign when there is a key.
    expires = args.expires or ("1h" if load_keys(args.link_keys, env) else None)
    try:
        path = log_url("/logs", invocation_id, expires, args.link_keys, env, time.time())
    except ValueError as exc:
        print(f"journal-proxy keep: {exc}", file=sys.stderr)
        return 2
    where, _, query = path.partition("?")
    statuses = []
    for suffix, accept in _READS:
        target = f"{where}{suffix}" + (f"?{query}" if query else "")
        statuses.append(_read_once(args.proxy, target, accept))
    print(f"read run {invocation_id[:8]} through {args.proxy}: {' '.join(map(str, statuses))}")
    return 0 if all(s == 200 for s in statuses) else 1


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=60)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _read_once(proxy: str, target: str, accept: str) -> int | str:
    """GET ``target`` through the proxy and drop the body (gzip: the proxy's kept bytes)."""
    if proxy.startswith("unix:"):
        conn: http.client.HTTPConnection = _UnixConnection(proxy.removeprefix("unix:"))
    else:
        host = proxy.removeprefix("http://").rstrip("/")
        conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.request("GET", target, headers={"Accept": accept, "Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        while resp.read(1 << 16):
            pass
        return resp.status
    except OSError as exc:
        return f"error ({exc.strerror or exc})"
    finally:
        conn.close()


def _list_or_prune(args: argparse.Namespace) -> int:
    raw = load_config_file(args.config) if Path(args.config).exists() else {}
    keeper = Keeper(parse_keep(raw, {"STATE_DIRECTORY": DEFAULT_DIRECTORY}), lambda _: False)
    keeper.scan(prune=args.prune)
    if args.prune:
        print(f"kept: {len(keeper)} runs, {keeper.held} bytes; removed {keeper.stats.removed}")
        return 0
    for name, kept_at, size in keeper.listing():
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(kept_at))
        print(f"{name} kept {when} {size} bytes")
    return 0
