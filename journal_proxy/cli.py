"""The ``journal-proxy`` command: ``serve``, ``demo``, ``url`` and ``notify-github``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from .errors import ConfigError
from .ids import parse_invocation_id
from .logs import setup_logging
from .settings import load_config_file, settings_from_mapping

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journal-proxy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    demo = sub.add_parser("demo", help="run on a built-in demo journal with a real gatewayd")
    demo.add_argument("--listen", default="127.0.0.1:8080")
    url = sub.add_parser("url", help="print the public log URL of $INVOCATION_ID")
    url.add_argument("--log-base", required=True, help="e.g. https://deploy.example.com/logs")
    url.add_argument("--invocation", help="invocation ID (default: $INVOCATION_ID)")
    from .github import add_parser as add_github_parser

    add_github_parser(sub)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    try:
        if args.command == "serve":
            settings = settings_from_mapping(settings_from_args(args))
            from .server import serve

            asyncio.run(serve(settings))
            return 0
        if args.command == "demo":
            from .demo import run_demo

            asyncio.run(run_demo(args.listen))
            return 0
        if args.command == "url":
            value = args.invocation or os.environ.get("INVOCATION_ID", "")
            invocation_id = parse_invocation_id(value)
            if invocation_id is None:
                print(
                    "journal-proxy: invocation ID must be 32 lowercase hex digits", file=sys.stderr
                )
                return 2
            print(f"{args.log_base.rstrip('/')}/{invocation_id}")
            return 0
        if args.command == "notify-github":
            from .github import run as run_github

            return run_github(args)
    except ConfigError as exc:
        print(f"journal-proxy: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
