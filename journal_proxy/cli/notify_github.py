"""``journal-proxy notify-github``: post a GitHub deployment status whose ``log_url`` is the log.

Run from the deploy unit's ``ExecStartPre=`` (``in_progress``) and from ``OnSuccess=`` /
``OnFailure=`` handler units, which systemd gives ``MONITOR_INVOCATION_ID`` and
``MONITOR_SERVICE_RESULT``; so a deployment that fails or is killed still reports, and the deploy
script never holds the GitHub token.

Which deployment a run belongs to is decided once, when it starts: with ``--runs-dir`` the
``in_progress`` post records the deployment ID under the run's invocation ID, and the handler reads
that record back for ``MONITOR_INVOCATION_ID``.  Reading the deployment-id file at the end instead
would report to whatever the next push wrote there meanwhile.  A run with no deployment (started by
hand) is skipped with one line and exit status 0: nothing to report is not a failure.

With ``--expires 30d`` the ``log_url`` is a signed link that stops working then (see
``access/signing.py``); the key comes from ``$CREDENTIALS_DIRECTORY/link-keys`` or ``--link-keys``.

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

from journal_proxy.access.ids import parse_invocation_id
from journal_proxy.access.signing import log_url
from journal_proxy.cli.arguments import add_signing_arguments
from journal_proxy.errors import ConfigError
from journal_proxy.journal.lifecycle import Status

API_VERSION = "2022-11-28"
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
_REPO_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", re.ASCII)
_DEPLOYMENT_RE = re.compile(r"[0-9]{1,20}", re.ASCII)


class NotifyError(Exception):
    """A failure worth one line on stderr and a non-zero exit."""


class NothingToReport(Exception):
    """No deployment belongs to this run (started by hand): one line, exit status 0."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("notify-github", help="post a GitHub deployment status linking to the log")
    p.add_argument("--repo", required=True, help="OWNER/NAME")
    p.add_argument("--deployment", help="deployment ID (or --deployment-file, $DEPLOYMENT_ID)")
    p.add_argument("--deployment-file", help="file holding the deployment ID")
    p.add_argument(
        "--queue", help="directory of waiting deployments, a file named by each ID: take the oldest"
    )
    p.add_argument(
        "--runs-dir",
        help="directory of each run's deployment ID by invocation ID: in_progress writes, auto reads",
    )
    p.add_argument("--state", required=True, help="success, failure, in_progress, ... or auto")
    p.add_argument("--log-base", required=True, help="e.g. https://deploy.example.com/logs")
    p.add_argument(
        "--invocation", help="invocation ID when neither MONITOR_ nor INVOCATION_ID is set"
    )
    p.add_argument("--environment-url", help="the deployed site's URL")
    p.add_argument("--description", help="override the description made from the unit's result")
    p.add_argument("--token-file", help="file holding the token")
    p.add_argument(
        "--api-url", help="API base (default: $GITHUB_API_URL, else https://api.github.com)"
    )
    p.add_argument("--retries", type=int, default=3, help="retries on 5xx and network errors")
    p.add_argument("--retry-delay", type=float, default=1.0, help="first backoff in seconds")
    add_signing_arguments(p)


@dataclass(frozen=True)
class StatusRequest:
    url: str
    body: dict[str, str]
    deployment: str
    invocation_id: str


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


def _deployment_id(value: str, source: str) -> str:
    if not _DEPLOYMENT_RE.fullmatch(value):
        raise NotifyError(f"deployment ID from {source} must be a number")
    return value


def _read_id_file(path: Path, missing: str) -> str:
    """A file's deployment ID; a missing file means there is nothing to report."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NothingToReport(missing) from None
    except OSError as exc:
        raise NotifyError(f"cannot read {path}: {exc.strerror}") from exc


def read_deployment(args: argparse.Namespace, env: Mapping[str, str], invocation_id: str) -> str:
    """This run's deployment: recorded for its invocation (``--state auto``), else named."""
    if args.runs_dir and args.state == "auto":
        record = Path(args.runs_dir) / invocation_id
        value = _read_id_file(
            record, f"no deployment recorded for run {invocation_id[:8]} (started by hand?)"
        )
        return _deployment_id(value, str(record))
    if args.deployment:
        return _deployment_id(args.deployment, "--deployment")
    if args.queue:
        return claim_deployment(Path(args.queue))
    if args.deployment_file:
        path = Path(args.deployment_file)
        value = _read_id_file(path, f"no deployment ID in {path} (started by hand?)")
        return _deployment_id(value, str(path))
    if env.get("DEPLOYMENT_ID"):
        return _deployment_id(env["DEPLOYMENT_ID"], "$DEPLOYMENT_ID")
    raise NotifyError("no deployment ID: use --deployment, --deployment-file or $DEPLOYMENT_ID")


def claim_deployment(queue: Path) -> str:
    """Take the oldest deployment waiting in ``queue`` (a file named by its ID, as the webhook
    receiver writes it): removed, so that the .path unit's ``DirectoryNotEmpty=`` starts one run
    per push, in order, and a push during a run gets a run of its own.  A file not named by a
    number is removed and said once: left there, it would start run after run."""
    try:
        waiting = sorted((p.stat().st_mtime_ns, p.name, p) for p in queue.iterdir())
    except FileNotFoundError:
        waiting = []
    except OSError as exc:
        raise NotifyError(f"cannot read the queue {queue}: {exc.strerror}") from exc
    for _, name, path in waiting:
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # claimed by another run meanwhile
        except OSError as exc:
            raise NotifyError(f"cannot claim {path}: {exc.strerror}") from exc
        if _DEPLOYMENT_RE.fullmatch(name):
            return name
        print(f"journal-proxy notify-github: removed {path}: not named by a deployment ID")
    raise NothingToReport(f"no deployment waiting in {queue} (started by hand or by a timer?)")


def record_deployment(runs_dir: str, invocation_id: str, deployment: str) -> None:
    """Keep ``deployment`` under the run's invocation ID for the handler (atomically: a reader
    sees the whole number or no file), and drop records of runs older than a week."""
    folder = Path(runs_dir)
    try:
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        week_ago = time.time() - 7 * 86400
        for old in folder.iterdir():
            if old.stat().st_mtime < week_ago:
                old.unlink(missing_ok=True)
        partial = folder / f".{invocation_id}.tmp"
        partial.write_text(deployment + "\n", encoding="utf-8")
        partial.replace(folder / invocation_id)
    except OSError as exc:
        raise NotifyError(f"cannot record the deployment in {folder}: {exc.strerror}") from exc


def build_request(args: argparse.Namespace, env: Mapping[str, str]) -> StatusRequest:
    if not _REPO_RE.fullmatch(args.repo):
        raise NotifyError("--repo must be OWNER/NAME")
    state = pick_state(args.state, env)
    invocation_id = invocation_from(env, args.invocation)
    deployment = read_deployment(args, env, invocation_id)
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
    api = args.api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
    if not api.startswith(("https://", "http://")):
        raise NotifyError("--api-url (or $GITHUB_API_URL) must be an https:// URL")
    url = f"{api.rstrip('/')}/repos/{args.repo}/deployments/{deployment}/statuses"
    return StatusRequest(url, body, deployment, invocation_id)


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
        if args.runs_dir and args.state != "auto":
            record_deployment(args.runs_dir, request.invocation_id, request.deployment)
        result = post(request, token, max(0, args.retries), max(0.0, args.retry_delay))
    except NothingToReport as exc:
        print(f"journal-proxy notify-github: {exc}; nothing posted")
        return 0
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
