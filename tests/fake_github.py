"""A stand-in for GitHub's deployment-status endpoint: the one the unit tests of notify-github
run in a thread, and the one the end-to-end suite runs inside the test container (stdlib only:
there it runs under the system's python3, where GitHub cannot be reached).

It answers as GitHub documents ``POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses``
(https://docs.github.com/rest/deployments/statuses): ``201`` with the status object, ``401 Bad
credentials`` for another token, ``404 Not Found`` for a deployment it does not know, ``422
Validation Failed`` for an unknown state, and ``502`` the first ``fail_times`` times (to test
retries).  Every request is recorded, and appended to a JSON Lines file if one is given.

    python3 fake_github.py --port 9999 --log posts.jsonl --token-file T --deployments 8001,8002
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
_PATH = re.compile(r"/repos/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/deployments/([0-9]+)/statuses")
_DOCS = "https://docs.github.com/rest/deployments/statuses"


@dataclass
class FakeGitHub:
    """What the stand-in knows, and what it was sent."""

    token: str = ""
    deployments: set[str] = field(default_factory=set)
    log: Path | None = None
    fail_times: int = 0  # answer 502 this many times first
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def answer(self, path: str, auth: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.fail_times > 0:
            self.fail_times -= 1
            return 502, {"message": "Server Error"}
        match = _PATH.fullmatch(path)
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials", "documentation_url": _DOCS}
        if match is None or match.group(1) not in self.deployments:
            return 404, {"message": "Not Found", "documentation_url": _DOCS}
        if body.get("state") not in STATES:
            errors = [{"resource": "DeploymentStatus", "field": "state", "code": "invalid"}]
            return 422, {"message": "Validation Failed", "errors": errors}
        return 201, {"id": next(self._ids), **body}

    def record(self, request: dict[str, Any]) -> None:
        self.requests.append(request)
        if self.log is not None:
            shown = {**request, "auth": request["auth"][:12], "headers": None}
            with self.log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(shown) + "\n")


def make_handler(github: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"message": "Problems parsing JSON"})
                return
            auth = self.headers.get("Authorization", "")
            code, answer = github.answer(self.path, auth, body)
            github.record(
                {
                    "path": self.path,
                    "code": code,
                    "auth": auth,
                    "headers": dict(self.headers),
                    "body": body,
                }
            )
            self._send(code, answer)

    return Handler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", type=Path, required=True)
    p.add_argument("--token-file", type=Path, required=True)
    p.add_argument("--deployments", required=True, help="comma-separated IDs that exist")
    args = p.parse_args()
    token = args.token_file.read_text(encoding="utf-8").strip()
    github = FakeGitHub(token, set(args.deployments.split(",")), args.log)
    ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(github)).serve_forever()


if __name__ == "__main__":
    main()
