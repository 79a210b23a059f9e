"""The shipped deployment under a real systemd 252 as PID 1, installed as the README says.

One container is booted for the module (tests/realsystemd.py): ``deploy/install.sh`` runs from a
read-only checkout with pip offline (a wheelhouse made on the host), then the operator's steps from
the README (nginx server block, GitHub token, the example deploy unit, its handler and its .path),
with a stand-in GitHub (tests/fake_github.py) that the units reach through ``GITHUB_API_URL``.
Every request goes through the real nginx to the socket-activated proxy, which reads the
container's own journal through the real gatewayd on its unix socket.

The tests run in file order and share the container: each leaves it as it found it.
"""

from __future__ import annotations

import json
import re
import selectors
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.realsystemd import Container, cannot_boot_reason

ROOT = Path(__file__).resolve().parent.parent
SRC = "/src/journal-proxy"  # the checkout, bound read-only inside
GITHUB = "http://127.0.0.1:9999"
DEPLOYMENTS = "8001,8002,8003,8004,8005,8006,8007,8008"
UNKNOWN = "0123456789abcdef0123456789abcdef"

DEPLOY_SCRIPT = """#!/bin/sh
# The test's deploy script: plain output, at the priority systemd gives it (info).
echo "$INVOCATION_ID" >> /run/test-invocations
mode=$(cat /run/deploy-mode 2>/dev/null || echo ok)
echo "deploying in mode $mode"
case "$mode" in
ok) echo "rsync: 12 files sent"; echo "done" ;;
fail) echo "rsync: connect to host www.example.com port 22: Connection refused" >&2; exit 3 ;;
hold) i=0
      while [ ! -e /run/deploy-release ]; do i=$((i+1)); echo "waiting for the release, $i"; sleep 0.2; done
      rm -f /run/deploy-release; echo "released" ;;
esac
"""

NGINX_SITE = """server {
    listen 127.0.0.1:80 default_server;
    server_name _;
    include snippets/journal-proxy.conf;
}
"""


def _wheelhouse() -> Path:
    """What pip needs inside the container, which has no network: the project's dependencies (as
    pyproject.toml lists them) and its build backend as wheels, downloaded on the host once per
    list of requirements (kept beside the test venv)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    wheels = ROOT / ".venv" / "wheelhouse"
    stamp = wheels / ".complete"
    if not stamp.exists() or stamp.read_text() != "\n".join(wanted):
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "-d",
                str(wheels),
                "--only-binary=:all:",
                *wanted,
            ],
            check=True,
            timeout=600,
        )
        stamp.write_text("\n".join(wanted))
    return wheels


@dataclass
class Host:
    """The booted container, and what the test reads from it."""

    c: Container

    @property
    def posts_file(self) -> Path:
        return self.c.share / "github.jsonl"

    def posts(self) -> list[dict[str, object]]:
        if not self.posts_file.exists():
            return []
        return [json.loads(line) for line in self.posts_file.read_text().splitlines()]

    def curl(self, path: str, *args: str) -> tuple[int, str]:
        out = self.c.run(
            "curl",
            "-s",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code}",
            *args,
            f"http://127.0.0.1{path}",
        ).stdout
        body, _, code = out.rpartition("\n")
        return int(code), body

    def invocations(self) -> list[str]:
        return self.c.sh("cat /run/test-invocations 2>/dev/null || true").split()

    def state(self, unit: str) -> str:
        return self.c.run("systemctl", "is-active", unit, check=False).stdout.strip()

    def journal(self, *args: str) -> str:
        return self.c.run("journalctl", "--no-pager", "-o", "cat", *args).stdout


def wait_for(what: str, ready: Callable[[], object], seconds: float = 30) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def _operator_steps(c: Container) -> None:
    """What README's host section leaves to the operator, done as it says."""
    c.run("install", "-d", "-m", "0755", "/opt/website", "/run/deploy-website")
    c.run("tee", "/opt/website/deploy.sh", input=DEPLOY_SCRIPT)
    c.run("chmod", "0755", "/opt/website/deploy.sh")
    c.sh("umask 077; echo ghs_e2etoken0123456789 > /etc/journal-proxy/github-token")
    c.run("tee", "/etc/nginx/sites-enabled/default", input=NGINX_SITE)
    c.sh(f"cp {SRC}/deploy/examples/*.service {SRC}/deploy/examples/*.path /etc/systemd/system/")
    for unit in ("deploy-website.service", "github-deployment-status@.service"):
        c.run("install", "-d", f"/etc/systemd/system/{unit}.d")
        # The stand-in GitHub; and no start limit: the suite deploys more often than 5 in 10 s.
        c.run(
            "tee",
            f"/etc/systemd/system/{unit}.d/test.conf",
            input=f"[Unit]\nStartLimitIntervalSec=0\n[Service]\nEnvironment=GITHUB_API_URL={GITHUB}\n",
        )
    c.run(
        "systemd-run", "--unit=fake-github", "/usr/bin/python3", f"{SRC}/tests/fake_github.py",
        "--port", "9999", "--log", "/share/github.jsonl", "--deployments", DEPLOYMENTS,
        "--token-file", "/etc/journal-proxy/github-token",
    )  # fmt: skip
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "enable", "--now", "deploy-website.path")
    c.run("systemctl", "start", "nginx")


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    reason = cannot_boot_reason()
    if reason:
        pytest.skip(
            f"THIS MACHINE CANNOT BOOT SYSTEMD AS PID 1, the real-systemd suite is skipped: {reason}"
        )
    wheels = _wheelhouse()
    c = Container(
        Path(tempfile.mkdtemp(prefix="jp-e2e-")), {str(ROOT): SRC, str(wheels): "/wheels"}
    )
    try:
        c.start()
        install = c.run(
            "sh", "-c", f"cd / && {SRC}/deploy/install.sh",
            env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"}, timeout=300,
        )  # fmt: skip
        assert "install.sh: done" in install.stdout
        _operator_steps(c)
        yield Host(c)
    finally:
        c.stop()


# -- the install ------------------------------------------------------------------------------


def test_install_runs_again_from_anywhere_and_leaves_the_same_system(host: Host) -> None:
    c = host.c
    assert c.run("test", "-w", f"{SRC}/pyproject.toml", check=False).returncode != 0  # read-only
    again = c.run(
        "sh", "-c", f"cd /tmp && {SRC}/deploy/install.sh",
        env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/wheels"}, timeout=300,
    )  # fmt: skip
    assert "install.sh: done" in again.stdout
    assert "wrote /etc/journal-proxy/config.toml" not in again.stdout  # the operator's is kept
    assert c.sh("readlink /usr/local/bin/journal-proxy").strip() == (
        "/opt/journal-proxy/venv/bin/journal-proxy"
    )
    base = c.run("/opt/journal-proxy/venv/bin/python", "-c", "import sys; print(sys.base_prefix)")
    assert base.stdout.strip() == "/usr"  # the system's Python, not one under /root
    assert c.sh("getent group journal-gatewayd-clients").startswith("journal-gatewayd-clients:")
    assert c.sh(
        "systemctl is-enabled systemd-journal-gatewayd.socket journal-proxy.socket"
    ).split() == [
        "enabled",
        "enabled",
    ]


def test_the_first_request_through_nginx_starts_the_proxy(host: Host) -> None:
    assert host.state("journal-proxy.service") == "inactive"
    code, body = host.curl(f"/logs/{UNKNOWN}")
    assert code == 404, body
    assert host.state("journal-proxy.service") == "active"
    show = host.c.sh("systemctl show journal-proxy.service -p NRestarts -p Result -p User")
    assert "NRestarts=0" in show and "Result=success" in show
    assert "217/USER" not in host.journal("-u", "journal-proxy.service")


def test_the_unix_only_drop_in_leaves_only_af_unix(host: Host) -> None:
    show = host.c.sh(
        "systemctl show journal-proxy.service -p RestrictAddressFamilies -p PrivateNetwork"
    )
    assert "RestrictAddressFamilies=AF_UNIX\n" in show
    assert "PrivateNetwork=yes" in show


def test_the_security_score_is_the_one_the_readme_states(host: Host) -> None:
    out = host.c.run("systemd-analyze", "security", "--no-pager", "journal-proxy.service").stdout
    measured = re.search(r"Overall exposure level for journal-proxy.service: ([0-9.]+)", out)
    assert measured, out[-500:]
    stated = re.search(r"scores the shipped unit\s+\*\*([0-9.]+)", (ROOT / "README.md").read_text())
    assert stated, "README.md states no score"
    assert stated.group(1) == measured.group(1)


def test_the_watchdog_is_pinged(host: Host) -> None:
    host.curl(f"/logs/{UNKNOWN}")  # started, if an earlier test let it idle
    show = host.c.sh("systemctl show journal-proxy.service -p WatchdogUSec -p StatusText")
    assert "WatchdogUSec=30s" in show and "StatusText=serving" in show
    first = wait_for("a watchdog ping", lambda: _watchdog_stamp(host))
    wait_for("the next ping", lambda: _watchdog_stamp(host) not in (0, first), seconds=40)


def _watchdog_stamp(host: Host) -> int:
    out = host.c.sh("systemctl show journal-proxy.service -p WatchdogTimestampMonotonic")
    return int(out.strip().partition("=")[2] or 0)


# -- runs, and what GitHub is told -------------------------------------------------------------


def _push(host: Host, deployment: str, mode: str) -> str:
    """A push: the webhook receiver queues the deployment, the .path starts a run; its ID."""
    before = len(host.invocations())
    host.c.sh(f"echo {mode} > /run/deploy-mode; touch /run/deploy-website/queue/{deployment}")
    wait_for("the run to start", lambda: len(host.invocations()) > before)
    return host.invocations()[before]


def _posts_for(host: Host, invocation_id: str, count: int) -> list[dict[str, object]]:
    def ready() -> list[dict[str, object]]:
        posts = [p for p in host.posts() if invocation_id in str(p["body"])]
        return posts if len(posts) >= count else []

    return wait_for(f"{count} posts for {invocation_id[:8]}", ready)  # type: ignore[return-value]


def _idle_deploy(host: Host) -> None:
    wait_for("the deploy unit to be inactive", lambda: host.state("deploy-website.service") in (
        "inactive", "failed"))  # fmt: skip
    host.c.sh("systemctl reset-failed deploy-website.service 2>/dev/null || true")


def _summary(post: dict[str, object]) -> tuple[str, str, str]:
    body = post["body"]
    assert isinstance(body, dict)
    deployment = str(post["path"]).split("/")[5]
    return deployment, body["state"], body.get("description", "")


def test_an_ok_run_reports_in_progress_then_success_and_its_steps_are_named(host: Host) -> None:
    run = _push(host, "8001", "ok")
    posts = _posts_for(host, run, 2)
    assert [_summary(p) for p in posts] == [
        ("8001", "in_progress", "deploying"),
        ("8001", "success", "succeeded"),
    ]
    assert all(p["code"] == 201 for p in posts)
    _idle_deploy(host)
    code, body = host.curl(f"/logs/{run}.json")
    assert code == 200
    lines = [json.loads(line) for line in body.splitlines()]
    steps = {(x["step"], x["identifier"]) for x in lines if "step" in x and "identifier" in x}
    assert steps - {(2, "systemd")} == {(1, "journal-proxy"), (2, "deploy.sh")}
    assert lines[0]["status"]["state"] == "succeeded"


def test_a_failed_run_reports_failure_with_the_step_and_status(host: Host) -> None:
    run = _push(host, "8002", "fail")
    posts = _posts_for(host, run, 2)
    assert [_summary(p) for p in posts][1] == ("8002", "failure", "failed: exit-code, status 3")
    _idle_deploy(host)
    code, text = host.curl(f"/logs/{run}.txt")
    assert code == 200
    assert "Connection refused" in text
    assert "failed step 2: deploy.sh" in text.splitlines()[-1]


def test_a_push_during_a_run_does_not_take_its_result(host: Host) -> None:
    """Deployment 8004 arrives while 8003's run goes on: 8003 gets its own run's result, and
    8004 a run of its own once 8003's ends."""
    run = _push(host, "8003", "hold")
    wait_for("the in_progress post", lambda: _posts_for(host, run, 1))
    host.c.sh("echo ok > /run/deploy-mode; touch /run/deploy-website/queue/8004")
    host.c.sh("touch /run/deploy-release")
    posts = _posts_for(host, run, 2)
    assert [_summary(p)[:2] for p in posts] == [("8003", "in_progress"), ("8003", "success")]
    # And the push that came during the run is deployed by a run of its own after it.
    wait_for("a run of its own for 8004", lambda: [_summary(p)[:2] for p in host.posts()
             if _summary(p)[0] == "8004"] == [("8004", "in_progress"), ("8004", "success")])  # fmt: skip
    _idle_deploy(host)


def test_a_stopped_run_reports_the_signal_by_name_as_the_page_does(host: Host) -> None:
    run = _push(host, "8005", "hold")
    _posts_for(host, run, 1)
    host.c.run("systemctl", "stop", "deploy-website.service")
    posts = _posts_for(host, run, 2)
    assert _summary(posts[1]) == ("8005", "failure", "failed: signal, status TERM")
    _idle_deploy(host)
    code, text = host.curl(f"/logs/{run}.txt")
    assert code == 200 and "failed: signal, status TERM" in text.splitlines()[0]


def test_a_run_started_by_hand_without_a_deployment_leaves_nothing_failed(host: Host) -> None:
    host.c.run("systemctl", "stop", "deploy-website.path")
    try:
        host.c.sh("echo ok > /run/deploy-mode")  # and nothing queued
        before = len(host.posts())
        host.c.run("systemctl", "start", "deploy-website.service")
        handler = "github-deployment-status@deploy-website-success.service"
        wait_for("the handler to run", lambda: "nothing posted" in host.journal("-u", handler))
        wait_for("the handler to end", lambda: host.state(handler) != "activating")
        assert host.c.sh("systemctl list-units --failed --plain --no-legend").strip() == ""
        assert len(host.posts()) == before
    finally:
        host.c.run("systemctl", "start", "deploy-website.path")


def test_a_live_run_is_followed_through_nginx_to_its_end(host: Host) -> None:
    run = _push(host, "8006", "hold")
    follow = host.c.popen(
        "curl", "-sN", "--max-time", "60", f"http://127.0.0.1/logs/{run}.txt?follow"
    )
    try:
        first = _read_until(follow, "waiting for the release, 2", seconds=20)
        host.c.sh("touch /run/deploy-release")
        rest, _ = follow.communicate(timeout=30)
    finally:
        follow.kill()
        follow.wait()
    assert "deploying in mode hold" in first
    lines = (first + rest).splitlines()
    assert "released" in rest
    assert lines[-1].startswith("#") and "finished" in lines[-1], lines[-3:]
    _idle_deploy(host)


def _read_until(proc: subprocess.Popen[str], marker: str, seconds: float) -> str:
    """What a live reader has received by the time ``marker`` arrives (it must arrive live)."""
    assert proc.stdout is not None
    got = ""
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while marker not in got:
            assert time.monotonic() < deadline, f"no {marker!r} within {seconds}s: {got[-500:]}"
            if sel.select(timeout=1):
                line = proc.stdout.readline()
                assert line, f"the follow ended early: {got[-500:]}"
                got += line
    return got


# -- operating it ------------------------------------------------------------------------------


def _finished_run(host: Host) -> str:
    run = _push(host, "8007", "ok")
    _posts_for(host, run, 2)
    _idle_deploy(host)
    return run


def test_revocation_works_while_the_proxy_has_idle_exited(host: Host) -> None:
    """The README's command works whether the proxy runs or not (reload refuses an inactive unit)."""
    first, second = _finished_run(host), _finished_run(host)
    assert host.curl(f"/logs/{first}.txt")[0] == 200  # and now cached
    host.c.run("systemctl", "stop", "journal-proxy.service")  # as after the idle exit
    host.c.run("journal-proxy", "revoke", first, "--reason", "token in line 3")
    assert host.c.run("systemctl", "reload", "journal-proxy", check=False).returncode != 0
    host.c.run("systemctl", "try-reload-or-restart", "journal-proxy")
    code, body = host.curl(f"/logs/{first}.txt")
    assert code == 410 and "token in line 3" in body
    assert host.curl(f"/logs/{second}.txt")[0] == 200  # running again, and cached
    host.c.run("journal-proxy", "revoke", second, "--reason", "another")
    host.c.run("systemctl", "try-reload-or-restart", "journal-proxy")  # a reload this time
    assert host.curl(f"/logs/{second}.txt")[0] == 410
    assert "NRestarts=0" in host.c.sh("systemctl show journal-proxy.service -p NRestarts")


def test_gatewayd_down_is_a_warning_and_serving_resumes_without_a_reset(host: Host) -> None:
    host.c.run("systemctl", "stop", "systemd-journal-gatewayd.socket", "systemd-journal-gatewayd")
    try:
        assert host.curl(f"/logs/{UNKNOWN}")[0] == 502
        warnings = host.journal("-u", "journal-proxy.service", "-p", "warning")
        assert "systemd-journal-gatewayd.socket" in warnings and "not reachable" in warnings
    finally:
        host.c.run("systemctl", "start", "systemd-journal-gatewayd.socket")
    assert host.curl(f"/logs/{UNKNOWN}")[0] == 404


def test_the_access_log_names_the_client_behind_nginx(host: Host) -> None:
    host.curl(f"/logs/{UNKNOWN}")
    access = [
        line
        for line in host.journal("-u", "journal-proxy.service").splitlines()
        if '"GET /logs/' in line
    ]
    clients = {line.split()[1] for line in access}
    # nginx's X-Forwarded-For; "local" for the handler's own reads on the socket (journal-proxy
    # keep); never an empty field.
    assert "127.0.0.1" in clients and clients <= {"127.0.0.1", "local"}
    assert all(UNKNOWN not in line for line in access)  # never a whole ID


def _drop_in(host: Host, name: str, text: str | None) -> None:
    path = f"/etc/systemd/system/journal-proxy.service.d/{name}"
    if text is None:
        host.c.run("rm", "-f", path)
    else:
        host.c.run("tee", path, input=text)
    host.c.run("systemctl", "daemon-reload")
    host.c.run("systemctl", "stop", "journal-proxy.service")


def test_idle_exit_does_not_wait_for_nginx_keepalive_and_the_next_request_starts_it(
    host: Host,
) -> None:
    serve = "/usr/local/bin/journal-proxy serve --config /etc/journal-proxy/config.toml"
    _drop_in(host, "idle.conf", f"[Service]\nExecStart=\nExecStart={serve} --exit-idle-after 2\n")
    try:
        assert host.curl(f"/logs/{UNKNOWN}")[0] == 404  # nginx now holds a keep-alive connection
        started = time.monotonic()
        wait_for("the idle exit", lambda: host.state("journal-proxy.service") == "inactive", 30)
        # The proxy's own keep-alive timeout is 15 s: an exit that waited for nginx's idle
        # connection would come after it, not after the 2 s setting and a tick.
        assert time.monotonic() - started < 12
        assert "idle for 2s" in host.journal("-u", "journal-proxy.service")
        assert host.curl(f"/logs/{UNKNOWN}")[0] == 404
        assert host.state("journal-proxy.service") == "active"
    finally:
        _drop_in(host, "idle.conf", None)


def test_signed_links_with_the_key_as_a_credential(host: Host) -> None:
    run = _finished_run(host)
    host.c.sh("umask 077; openssl rand -base64 32 > /etc/journal-proxy/link-keys")
    config = "/etc/journal-proxy/config.toml"
    host.c.sh(f"sed -i 's/^require_signed_links = false/require_signed_links = true/' {config}")
    cred = "[Service]\nLoadCredential=link-keys:/etc/journal-proxy/link-keys\n"
    _drop_in(host, "link-keys.conf", cred)
    try:
        url = host.c.run(
            "journal-proxy", "url", "--log-base", "http://127.0.0.1/logs", "--invocation", run,
            "--expires", "1h", "--link-keys", "/etc/journal-proxy/link-keys",
        ).stdout.strip()  # fmt: skip
        signed = url.removeprefix("http://127.0.0.1")
        assert "sig=" in signed
        assert host.curl(signed.replace("?", ".txt?", 1))[0] == 200
        assert host.curl(f"/logs/{run}.txt")[0] == 403
    finally:
        host.c.sh(f"sed -i 's/^require_signed_links = true/require_signed_links = false/' {config}")
        _drop_in(host, "link-keys.conf", None)


def test_a_kept_run_is_served_after_the_journal_lost_it(host: Host) -> None:
    """The handler has the proxy keep the run; journald then loses it; the link still works."""
    run = _push(host, "8008", "fail")
    _posts_for(host, run, 2)
    handler = "github-deployment-status@deploy-website-failure.service"
    wait_for("the run kept", lambda: host.c.run(
        "test", "-s", f"/var/lib/private/journal-proxy/{run}/entries.gz", check=False
    ).returncode == 0)  # fmt: skip
    assert "read run" in host.journal("-u", handler)
    mode = host.c.sh(
        f"stat -c %a /var/lib/private/journal-proxy /var/lib/private/journal-proxy/{run}"
    )
    assert mode.split() == ["700", "700"]
    before = {fmt: host.curl(f"/logs/{run}{fmt}") for fmt in (".txt", ".json")}
    host.c.run("systemctl", "stop", "journal-proxy.service")  # its memory cache goes too
    host.c.sh("systemctl stop systemd-journald.socket systemd-journald-dev-log.socket "
              "systemd-journald-audit.socket systemd-journald.service; "
              "rm -rf /run/log/journal/* /var/log/journal/*")  # fmt: skip
    try:
        assert host.c.sh(f"journalctl -q _SYSTEMD_INVOCATION_ID={run} | wc -l").strip() == "0"
        for fmt, (code, body) in before.items():
            assert host.curl(f"/logs/{run}{fmt}") == (code, body)
        assert host.curl(f"/logs/{UNKNOWN}.txt")[0] == 404
    finally:
        host.c.run("systemctl", "start", "systemd-journald.service")
