"""``journal-proxy notify-github``: post a GitHub deployment status whose ``log_url`` is the log.

Run from the deploy unit's ``ExecStartPre=`` (``in_progress``) and from ``OnSuccess=`` /
``OnFailure=`` handler units, which systemd gives ``MONITOR_INVOCATION_ID`` and
``MONITOR_SERVICE_RESULT``; so a deployment that fails or is killed still reports, and the deploy
script never holds the GitHub token.

With ``--expires 30d`` the ``log_url`` is a signed link that stops working then (see
``signing.py``); the key comes from ``$CREDENTIALS_DIRECTORY/link-keys`` or ``--link-keys``.

The token comes from ``$CREDENTIALS_DIRECTORY/github-token`` (``LoadCredential=``), ``--token-file``
or ``GITHUB_TOKEN``: never from the command line, and it is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .ids import parse_invocation_id
from .lifecycle import Status
from .signing import log_url

API_VERSION = "2022-11-28"
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
_REPO_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", re.ASCII)
_DEPLOYMENT_RE = re.compile(r"[0-9]{1,20}", re.ASCII)


class NotifyError(Exception):
    """A failure worth one line on stderr and a non-zero exit."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("notify-github", help="post a GitHub deployment status linking to the log")
    p.add_argument("--repo", required=True, help="OWNER/NAME")
    p.add_argument("--deployment", help="deployment ID (or --deployment-file, $DEPLOYMENT_ID)")
    p.add_argument("--deployment-file", help="file holding the deployment ID")
    p.add_argument("--state", required=True, help="success, failure, in_progress, ... or auto")
    p.add_argument("--log-base", required=True, help="e.g. https://deploy.example.com/logs")
    p.add_argument(
        "--invocation", help="invocation ID when neither MONITOR_ nor INVOCATION_ID is set"
    )
    p.add_argument("--environment-url", help="the deployed site's URL")
    p.add_argument("--description", help="override the description made from the unit's result")
    p.add_argument("--token-file", help="file holding the token")
    p.add_argument("--api-url", default="https://api.github.com", help="GitHub Enterprise API URL")
    p.add_argument("--retries", type=int, default=3, help="retries on 5xx and network errors")
    p.add_argument("--retry-delay", type=float, default=1.0, help="first backoff in seconds")
    from .cli import add_signing_arguments

    add_signing_arguments(p)


@dataclass(frozen=True)
class StatusRequest:
    url: str
    body: dict[str, str]


def invocation_from(env: Mapping[str, str], flag: str | None) -> str:
    """``MONITOR_INVOCATION_ID``, else ``INVOCATION_ID``, else ``--invocation``; validated."""
    for value in (env.get("MONITOR_INVOCATION_ID"), env.get("INVOCATION_ID"), flag):
        if value:
            invocation_id = parse_invocation_id(value)
            if invocation_id is None:
                raise NotifyError("invocation ID is not 32 lowercase hex digits; nothing posted")
            return invocation_id
    raise NotifyError("no invocation ID: set MONITOR_INVOCATION_ID, INVOCATION_ID or --invocation")


def describe_result(env: Mapping[str, str]) -> str:
    """The run's outcome in the words the log page uses (``Status.describe``), from what systemd
    gives an ``OnSuccess=``/``OnFailure=`` handler."""
    result = env.get("MONITOR_SERVICE_RESULT", "")
    if not result:
        return ""
    if result == "success":
        return Status(state="succeeded").describe()
    return Status(
        state="failed", result=result, exit_status=env.get("MONITOR_EXIT_STATUS", "")
    ).describe()


def pick_state(state: str, env: Mapping[str, str]) -> str:
    if state == "auto":
        result = env.get("MONITOR_SERVICE_RESULT")
        if not result:
            raise NotifyError(
                "--state auto needs MONITOR_SERVICE_RESULT (run from OnSuccess=/OnFailure=)"
            )
        return "success" if result == "success" else "failure"
    if state not in STATES:
        raise NotifyError(f"--state must be auto or one of {', '.join(STATES)}")
    return state


def read_token(env: Mapping[str, str], token_file: str | None) -> str:
    candidates = []
    if env.get("CREDENTIALS_DIRECTORY"):
        candidates.append(Path(env["CREDENTIALS_DIRECTORY"]) / "github-token")
    if token_file:
        candidates.append(Path(token_file))
    for path in candidates:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if token:
            return token
    token = env.get("GITHUB_TOKEN", "").strip()
    if token:
        return token
    raise NotifyError("no token: use LoadCredential=github-token, --token-file or GITHUB_TOKEN")


def read_deployment(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    value = args.deployment
    if not value and args.deployment_file:
        try:
            value = Path(args.deployment_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise NotifyError(f"cannot read --deployment-file: {exc.strerror}") from exc
    value = value or env.get("DEPLOYMENT_ID", "")
    if not _DEPLOYMENT_RE.fullmatch(value or ""):
        raise NotifyError(
            "deployment ID must be a number (--deployment, --deployment-file, $DEPLOYMENT_ID)"
        )
    return str(value)


def build_request(args: argparse.Namespace, env: Mapping[str, str]) -> StatusRequest:
    if not _REPO_RE.fullmatch(args.repo):
        raise NotifyError("--repo must be OWNER/NAME")
    deployment = read_deployment(args, env)
    state = pick_state(args.state, env)
    invocation_id = invocation_from(env, args.invocation)
    try:
        url = log_url(args.log_base, invocation_id, args.expires, args.link_keys, env, time.time())
    except (ConfigError, ValueError) as exc:
        raise NotifyError(f"{exc}; nothing posted") from None
    body = {"state": state, "log_url": url}
    description = (
        args.description
        or describe_result(env)
        or {
            "in_progress": "deploying",
            "queued": "queued",
            "pending": "pending",
        }.get(state, "")
    )
    if description:
        body["description"] = description[:140]
    if args.environment_url:
        body["environment_url"] = args.environment_url
    if not args.api_url.startswith(("https://", "http://")):
        raise NotifyError("--api-url must be an https:// URL")
    url = f"{args.api_url.rstrip('/')}/repos/{args.repo}/deployments/{deployment}/statuses"
    return StatusRequest(url, body)


def _message(error: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(error.read(4096) or b"{}")
        return str(payload.get("message", ""))[:200]
    except (ValueError, OSError):
        return ""


def post(request: StatusRequest, token: str, retries: int, delay: float) -> dict[str, object]:
    data = json.dumps(request.body).encode()
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": API_VERSION,
        "Content-Type": "application/json",
        "User-Agent": "journal-proxy",
    }
    attempt = 0
    while True:
        req = urllib.request.Request(  # noqa: S310 - the URL was checked to be http(s)
            request.url, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310 - https or test URL
                result: dict[str, object] = json.loads(resp.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                hint = {
                    401: "bad or expired token",
                    403: "token lacks permission or rate limited",
                    404: "unknown repository or deployment (or the token cannot see it)",
                    422: "GitHub rejected the status",
                }.get(exc.code, "request refused")
                detail = _message(exc)
                raise NotifyError(
                    f"GitHub answered {exc.code}: {hint}" + (f" ({detail})" if detail else "")
                ) from None
            failure = f"GitHub answered {exc.code}"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            failure = f"cannot reach GitHub: {reason}"
        if attempt >= retries:
            raise NotifyError(f"{failure}; gave up after {attempt + 1} attempts")
        time.sleep(delay * (2**attempt))
        attempt += 1


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        request = build_request(args, env)
        token = read_token(env, args.token_file)
        result = post(request, token, max(0, args.retries), max(0.0, args.retry_delay))
    except NotifyError as exc:
        print(f"journal-proxy notify-github: {exc}", file=sys.stderr)
        return 1
    # The output lands in the deploy's own journal (and so on its log page): never the signature.
    url, signed, _ = request.body["log_url"].partition("?")
    print(
        f"posted {request.body['state']} for deployment status {result.get('id', '?')}: {url}"
        + (" (signed link)" if signed else "")
    )
    return 0
