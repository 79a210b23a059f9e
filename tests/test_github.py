"""notify-github against a local server that implements GitHub's deployment-status endpoint.

GitHub cannot be reached from here; the stand-in answers as GitHub documents for
``POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses``: 201 with the status object,
401 ``Bad credentials``, 404 ``Not Found``, 422 ``Validation Failed``, and records each request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from .fake_github import FakeGitHub, make_handler

INV = "0123456789abcdef0123456789abcdef"
TOKEN = "ghs_" + "T" * 36


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    state = FakeGitHub(token=TOKEN, deployments={"42"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _run(
    github: FakeGitHub, args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "journal_proxy.cli",
            "notify-github",
            "--repo",
            "example/website",
            "--log-base",
            "https://deploy.example.com/logs/",
            "--api-url",
            github.url,
            "--retry-delay",
            "0.01",
            *args,
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_failure_from_onfailure_handler(github: FakeGitHub, tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "github-token").write_text(TOKEN + "\n")
    env = {
        "CREDENTIALS_DIRECTORY": str(creds),
        "MONITOR_INVOCATION_ID": INV,
        "INVOCATION_ID": "f" * 32,
        "MONITOR_SERVICE_RESULT": "exit-code",
        "MONITOR_EXIT_CODE": "exited",
        "MONITOR_EXIT_STATUS": "1",
    }
    result = _run(
        github,
        ["--deployment", "42", "--state", "auto", "--environment-url", "https://www.example.com"],
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [req] = github.requests
    assert req["path"] == "/repos/example/website/deployments/42/statuses"
    assert req["body"] == {
        "state": "failure",
        "log_url": f"https://deploy.example.com/logs/{INV}",
        "description": "failed: exit-code, status 1",
        "environment_url": "https://www.example.com",
    }
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert TOKEN not in result.stdout + result.stderr


def test_success_from_onsuccess_handler(github: FakeGitHub, tmp_path: Path) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "MONITOR_INVOCATION_ID": INV, "MONITOR_SERVICE_RESULT": "success"}
    assert _run(github, ["--deployment", "42", "--state", "auto"], env, tmp_path).returncode == 0
    assert github.requests[0]["body"]["state"] == "success"
    assert github.requests[0]["body"]["description"] == "succeeded"


def test_in_progress_from_execstartpre_uses_invocation_id_and_deployment_file(
    github: FakeGitHub, tmp_path: Path
) -> None:
    (tmp_path / "deployment-id").write_text("42\n")
    (tmp_path / "token").write_text(TOKEN)
    env = {"INVOCATION_ID": INV}
    result = _run(
        github,
        [
            "--deployment-file",
            str(tmp_path / "deployment-id"),
            "--state",
            "in_progress",
            "--token-file",
            str(tmp_path / "token"),
        ],
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert github.requests[0]["body"]["state"] == "in_progress"
    assert github.requests[0]["body"]["log_url"].endswith(INV)


def test_invocation_flag_is_the_last_resort(github: FakeGitHub, tmp_path: Path) -> None:
    env = {"GITHUB_TOKEN": TOKEN}
    assert (
        _run(
            github, ["--deployment", "42", "--state", "success", "--invocation", INV], env, tmp_path
        ).returncode
        == 0
    )
    assert github.requests[0]["body"]["log_url"].endswith(INV)


@pytest.mark.parametrize("bad", ["../../etc/passwd", INV.upper(), INV + "0", ""])
def test_invalid_invocation_posts_nothing(github: FakeGitHub, tmp_path: Path, bad: str) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "MONITOR_INVOCATION_ID": bad} if bad else {"GITHUB_TOKEN": TOKEN}
    result = _run(github, ["--deployment", "42", "--state", "success"], env, tmp_path)
    assert result.returncode != 0
    assert github.requests == []
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_token_is_one_clear_line_without_the_token(github: FakeGitHub, tmp_path: Path) -> None:
    env = {"GITHUB_TOKEN": "ghp_wrongwrongwrongwrongwrongwrongwrong12", "INVOCATION_ID": INV}
    result = _run(github, ["--deployment", "42", "--state", "success"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "journal-proxy notify-github: GitHub answered 401: bad or expired token (Bad credentials)"
    ]
    assert "wrongwrong" not in result.stdout + result.stderr
    assert len(github.requests) == 1  # 4xx is not retried


def test_unknown_deployment_is_404_message(github: FakeGitHub, tmp_path: Path) -> None:
    result = _run(
        github,
        ["--deployment", "999", "--state", "success"],
        {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV},
        tmp_path,
    )
    assert result.returncode == 1
    assert "404: unknown repository or deployment" in result.stderr


def test_server_errors_are_retried_then_succeed(github: FakeGitHub, tmp_path: Path) -> None:
    github.fail_times = 2
    result = _run(
        github,
        ["--deployment", "42", "--state", "success", "--retries", "3"],
        {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert len(github.requests) == 3


def test_server_errors_give_up_after_retries(github: FakeGitHub, tmp_path: Path) -> None:
    github.fail_times = 10
    result = _run(
        github,
        ["--deployment", "42", "--state", "success", "--retries", "2"],
        {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV},
        tmp_path,
    )
    assert result.returncode == 1
    assert len(github.requests) == 3
    assert "gave up after 3 attempts" in result.stderr


def test_network_error_is_retried_and_reported(tmp_path: Path) -> None:
    from .conftest import closed_port

    fake = FakeGitHub(url=f"http://127.0.0.1:{closed_port()}")
    result = _run(
        fake,
        ["--deployment", "42", "--state", "success", "--retries", "1"],
        {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV},
        tmp_path,
    )
    assert result.returncode == 1
    assert "cannot reach GitHub" in result.stderr and "2 attempts" in result.stderr


def test_missing_token_and_auto_without_result_are_clear(
    github: FakeGitHub, tmp_path: Path
) -> None:
    result = _run(
        github, ["--deployment", "42", "--state", "success"], {"INVOCATION_ID": INV}, tmp_path
    )
    assert result.returncode == 1 and "no token" in result.stderr
    result = _run(
        github,
        ["--deployment", "42", "--state", "auto"],
        {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV},
        tmp_path,
    )
    assert result.returncode == 1 and "MONITOR_SERVICE_RESULT" in result.stderr
    assert github.requests == []


def test_handler_reports_to_the_deployment_its_run_started_with(
    github: FakeGitHub, tmp_path: Path
) -> None:
    """A push during the run rewrites deployment-id; the result still goes to the run's own."""
    id_file, runs = tmp_path / "deployment-id", tmp_path / "runs"
    id_file.write_text("42\n")
    start = ["--deployment-file", str(id_file), "--runs-dir", str(runs), "--state", "in_progress"]
    env = {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV}
    assert _run(github, start, env, tmp_path).returncode == 0
    assert (runs / INV).read_text() == "42\n"
    id_file.write_text("43\n")  # the next push; the stand-in knows only 42
    end = ["--deployment-file", str(id_file), "--runs-dir", str(runs), "--state", "auto"]
    env = {"GITHUB_TOKEN": TOKEN, "MONITOR_INVOCATION_ID": INV, "MONITOR_SERVICE_RESULT": "success"}
    result = _run(github, end, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["path"].split("/")[5] for r in github.requests] == ["42", "42"]
    assert github.requests[1]["body"]["state"] == "success"


def test_a_run_started_by_hand_is_skipped_not_failed(github: FakeGitHub, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    start = ["--deployment-file", str(tmp_path / "absent"), "--runs-dir", str(runs)]
    env = {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV}
    result = _run(github, [*start, "--state", "in_progress"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started by hand" in result.stdout and "nothing posted" in result.stdout
    env = {"GITHUB_TOKEN": TOKEN, "MONITOR_INVOCATION_ID": INV, "MONITOR_SERVICE_RESULT": "success"}
    result = _run(github, ["--runs-dir", str(runs), "--state", "auto"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no deployment recorded for run 01234567" in result.stdout
    assert github.requests == []


def test_a_malformed_record_is_an_error(github: FakeGitHub, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / INV).write_text("42; rm -rf /\n")
    env = {"GITHUB_TOKEN": TOKEN, "MONITOR_INVOCATION_ID": INV, "MONITOR_SERVICE_RESULT": "failed"}
    result = _run(github, ["--runs-dir", str(runs), "--state", "auto"], env, tmp_path)
    assert result.returncode == 1 and "must be a number" in result.stderr
    assert github.requests == []


def test_github_api_url_from_the_environment(github: FakeGitHub, tmp_path: Path) -> None:
    """GITHUB_API_URL (the name GitHub Actions uses, for GitHub Enterprise) is the API base."""
    args = [
        sys.executable, "-m", "journal_proxy.cli", "notify-github", "--repo", "example/website",
        "--log-base", "https://deploy.example.com/logs", "--deployment", "42",
        "--state", "success", "--invocation", INV,
    ]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url + "/"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert github.requests[0]["path"] == "/repos/example/website/deployments/42/statuses"


def test_a_killed_run_is_described_with_the_signal_name(github: FakeGitHub, tmp_path: Path) -> None:
    env = {
        "GITHUB_TOKEN": TOKEN,
        "MONITOR_INVOCATION_ID": INV,
        "MONITOR_SERVICE_RESULT": "signal",
        "MONITOR_EXIT_CODE": "killed",
        "MONITOR_EXIT_STATUS": "TERM",
    }
    assert _run(github, ["--deployment", "42", "--state", "auto"], env, tmp_path).returncode == 0
    assert github.requests[0]["body"]["description"] == "failed: signal, status TERM"


def test_each_run_takes_the_oldest_queued_deployment(github: FakeGitHub, tmp_path: Path) -> None:
    queue, runs = tmp_path / "queue", tmp_path / "runs"
    queue.mkdir()
    (queue / "42").touch()
    (queue / "43").touch()
    os.utime(queue / "42", (1, 1))  # the older push
    (queue / "not-an-id").touch()
    os.utime(queue / "not-an-id", (0, 0))
    args = ["--queue", str(queue), "--runs-dir", str(runs), "--state", "in_progress"]
    result = _run(github, args, {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "removed" in result.stdout and "not named by a deployment ID" in result.stdout
    assert sorted(p.name for p in queue.iterdir()) == ["43"]
    assert (runs / INV).read_text() == "42\n"
    assert github.requests[0]["path"].split("/")[5] == "42"
    other = "f" * 32
    result = _run(github, args, {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": other}, tmp_path)
    assert list(queue.iterdir()) == [] and (runs / other).read_text() == "43\n"
    result = _run(github, args, {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV}, tmp_path)
    assert result.returncode == 0 and "no deployment waiting" in result.stdout
