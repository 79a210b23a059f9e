"""The ``journal-proxy`` command: ``serve``, ``demo``, ``url``, ``revoke``, ``notify-github`` and
``keep``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from journal_proxy.access import revocation
from journal_proxy.access.ids import parse_invocation_id
from journal_proxy.access.signing import log_url
from journal_proxy.cli.arguments import add_signing_arguments
from journal_proxy.config import load_config_file, parse_revocation_file, settings_from_mapping
from journal_proxy.errors import ConfigError
from journal_proxy.service.log_format import setup_logging

DEFAULT_CONFIG = "/etc/journal-proxy/config.toml"

log = logging.getLogger("journal_proxy")


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve invocation logs of the pinned units")
    p.add_argument("--unit", action="append", help="unit name or glob to serve (repeatable)")
    p.add_argument(
        "--upstream",
        action="append",
        help="gatewayd: [NAME=]http://host:port, https://..., unix:/path (repeatable)",
    )
    p.add_argument("--upstream-cert", help="client certificate for an https:// upstream")
    p.add_argument("--upstream-key", help="client key for an https:// upstream")
    p.add_argument("--upstream-trust", help="CA bundle that signed gatewayd's certificate")
    p.add_argument("--listen", help="HOST:PORT or unix:/path (default 127.0.0.1:8080)")
    p.add_argument("--listen-mode", help="octal mode of a unix listening socket (default 660)")
    p.add_argument("--config", help="TOML file with the same settings; flags override it")
    p.add_argument("--exit-idle-after", type=float, help="exit after SECONDS without connections")
    p.add_argument("--metrics", action="store_true", default=None, help="enable GET /metrics")


def _revoke_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("revoke", help="take a log link offline (or list, or undo)")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="the TOML file serve reads")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("invocation", nargs="?", help="invocation ID to revoke")
    what.add_argument("--list", action="store_true", help="print the revoked IDs and reasons")
    what.add_argument("--undo", metavar="ID", help="make a revoked link work again")
    p.add_argument("--reason", default="", help="shown to whoever opens the link")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journal-proxy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    demo = sub.add_parser("demo", help="run on a built-in demo journal with a real gatewayd")
    demo.add_argument("--listen", default="127.0.0.1:8080")
    url = sub.add_parser("url", help="print the public log URL of $INVOCATION_ID")
    url.add_argument("--log-base", required=True, help="e.g. https://deploy.example.com/logs")
    url.add_argument("--invocation", help="invocation ID (default: $INVOCATION_ID)")
    add_signing_arguments(url)
    _revoke_parser(sub)
    from journal_proxy.cli.keep import add_parser as add_keep_parser
    from journal_proxy.cli.notify_github import add_parser as add_github_parser

    add_github_parser(sub)
    add_keep_parser(sub)
    return parser


def settings_from_args(args: argparse.Namespace) -> dict[str, object]:
    raw: dict[str, object] = load_config_file(args.config) if args.config else {}
    overrides = {
        "unit": args.unit,
        "upstream": args.upstream,
        "listen": args.listen,
        "listen_mode": args.listen_mode,
        "exit_idle_after": args.exit_idle_after,
        "metrics": args.metrics,
    }
    raw.update({k: v for k, v in overrides.items() if v is not None})
    for flag, key in (
        ("upstream_cert", "client_cert"),
        ("upstream_key", "client_key"),
        ("upstream_trust", "trust"),
    ):
        value = getattr(args, flag)
        if value is not None:
            tls = raw.setdefault("upstream_tls", {})
            assert isinstance(tls, dict)
            tls[key] = value
    return raw


def _url(args: argparse.Namespace) -> int:
    invocation_id = parse_invocation_id(args.invocation or os.environ.get("INVOCATION_ID", ""))
    if invocation_id is None:
        print("journal-proxy: invocation ID must be 32 lowercase hex digits", file=sys.stderr)
        return 2
    try:
        url = log_url(
            args.log_base, invocation_id, args.expires, args.link_keys, os.environ, time.time()
        )
    except ValueError as exc:
        print(f"journal-proxy: --expires: {exc}", file=sys.stderr)
        return 2
    print(url)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    """Edit the revocation list under a lock; the running service applies it within a second."""
    path = parse_revocation_file(load_config_file(args.config))
    if path is None:
        raise ConfigError(
            f'revocation_file: not set in {args.config} (e.g. "/etc/journal-proxy/revoked")'
        )
    target = Path(path)
    if args.list:
        for revoked_id, reason in revocation.read(target).items():
            print(f"{revoked_id} {reason}".rstrip())
        return 0
    invocation_id = parse_invocation_id(args.undo or args.invocation)
    if invocation_id is None:
        print("journal-proxy: invocation ID must be 32 lowercase hex digits", file=sys.stderr)
        return 2
    try:
        with revocation.locked(target):
            revoked = revocation.read(target)
            if args.undo and revoked.pop(invocation_id, None) is None:
                print(f"journal-proxy: {invocation_id} is not revoked", file=sys.stderr)
                return 1
            if not args.undo:
                revoked[invocation_id] = revocation.clean_reason(args.reason)
            revocation.write(target, revoked)
    except OSError as exc:
        print(f"journal-proxy: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    if not args.undo:
        _drop_kept(args.config, invocation_id)
    done = "restored" if args.undo else "revoked"
    print(f"{done} {invocation_id} in {target}; a running journal-proxy applies it within a second")
    return 0


def _drop_kept(config: str, invocation_id: str) -> None:
    """Remove a revoked run's kept copy now (a running proxy does too, within a second; one that
    is not running does at its next start)."""
    from journal_proxy.cli.keep import DEFAULT_DIRECTORY

    raw = load_config_file(config)
    directory = raw.get("keep_dir", DEFAULT_DIRECTORY)
    kept = Path(str(directory)) / invocation_id
    if kept.is_dir():
        shutil.rmtree(kept, ignore_errors=True)
        print(f"removed the kept copy {kept}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        if args.command == "serve":
            settings = settings_from_mapping(settings_from_args(args))
            from journal_proxy.service.server import serve

            asyncio.run(serve(settings))
            return 0
        if args.command == "demo":
            from journal_proxy.demo.run import run_demo

            asyncio.run(run_demo(args.listen))
            return 0
        if args.command == "url":
            return _url(args)
        if args.command == "revoke":
            return _revoke(args)
        if args.command == "notify-github":
            from journal_proxy.cli.notify_github import run as run_github

            return run_github(args)
        if args.command == "keep":
            from journal_proxy.cli.keep import run as run_keep

            return run_keep(args)
    except ConfigError as exc:
        print(f"journal-proxy: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
