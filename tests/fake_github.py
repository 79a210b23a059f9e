"""A stand-in for GitHub's deployment-status endpoint, for the end-to-end suite (stdlib only: it
runs under the system's python3 inside the test container, where GitHub cannot be reached).

It answers as GitHub documents ``POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses``
(https://docs.github.com/rest/deployments/statuses): ``201`` with the status object, ``401 Bad
credentials`` for another token, ``404 Not Found`` for a deployment it does not know, ``422
Validation Failed`` for an unknown state; and appends every request it accepted or refused to a
JSON Lines file, token shortened.

    python3 fake_github.py --port 9999 --log posts.jsonl --token-file T --deployments 8001,8002
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
_PATH = re.compile(r"/repos/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/deployments/([0-9]+)/statuses")
_DOCS = "https://docs.github.com/rest/deployments/statuses"


def make_handler(token: str, deployments: set[str], log: Path) -> type[BaseHTTPRequestHandler]:
    ids = itertools.count(1001)

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

        def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            match = _PATH.fullmatch(self.path)
            if self.headers.get("Authorization") != f"Bearer {token}":
                return 401, {"message": "Bad credentials", "documentation_url": _DOCS}
            if match is None or match.group(1) not in deployments:
                return 404, {"message": "Not Found", "documentation_url": _DOCS}
            if body.get("state") not in STATES:
                errors = [{"resource": "DeploymentStatus", "field": "state", "code": "invalid"}]
                return 422, {"message": "Validation Failed", "errors": errors}
            return 201, {"id": next(ids), **body}

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"message": "Problems parsing JSON"})
                return
            code, answer = self._answer(body)
            auth = self.headers.get("Authorization", "")
            record = {
                "path": self.path,
                "code": code,
                "auth": auth[:12],
                "accept": self.headers.get("Accept", ""),
                "api_version": self.headers.get("X-GitHub-Api-Version", ""),
                "body": body,
            }
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
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
    handler = make_handler(token, set(args.deployments.split(",")), args.log)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
