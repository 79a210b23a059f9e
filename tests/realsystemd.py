"""A real systemd as PID 1, in a throwaway container, for the end-to-end suite.

The container's root is an overlay of the host's root (the host's ``/`` read-only below, a tmpfs
above), so it has the host's packages (systemd 252, gatewayd, nginx, python3) and writes nothing
back.  ``systemd-nspawn --boot`` runs inside ``unshare -m`` with a tmpfs on ``/run/systemd`` (the
host need not run systemd) and in a cgroup of its own, which is removed at :meth:`stop`.
The recipe is ../shared/realsystemd/boot.sh's, measured at about 0.5 s to boot.

Commands run inside with ``nsenter -a``: in the container's namespaces, outside its cgroups, so
anything that must be a unit is started with ``systemctl`` or ``systemd-run``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_BASE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
             "HOME=/root"]  # fmt: skip


def cannot_boot_reason() -> str | None:
    """Why this machine cannot boot a container, or None.  A skip must say which."""
    if os.geteuid() != 0:
        return "needs root (mounts, cgroups, namespaces)"
    for tool in ("systemd-nspawn", "unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (apt-get install systemd-container util-linux)"
    probe = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "mount",
            "-t",
            "tmpfs",
            "tmpfs",
            "/mnt",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"cannot mount in a new mount namespace: {probe.stderr.strip()[:200]}"
    if not os.access(_CGROUP_ROOT, os.W_OK):
        return f"{_CGROUP_ROOT} is not writable (an unprivileged container?)"
    return None


def _cgroup_dirs(name: str) -> list[Path]:
    """Where the container's own cgroup goes: both hierarchies on a hybrid host, else one."""
    hybrid = [_CGROUP_ROOT / "systemd", _CGROUP_ROOT / "unified"]
    if all(p.is_dir() for p in hybrid):
        return [p / name for p in hybrid]
    return [_CGROUP_ROOT / name]


class Container:
    """One booted systemd; ``run`` executes a command inside, ``stop`` powers off and cleans up."""

    def __init__(self, scratch: Path, binds_ro: dict[str, str]) -> None:
        self.scratch = scratch
        self.share = scratch / "share"  # bound at /share inside
        self._binds_ro = binds_ro
        self._name = f"jp-e2e-{os.getpid()}"
        self._nspawn: subprocess.Popen[bytes] | None = None
        self.leader = 0

    def _script(self, target: str) -> str:
        cg = " ".join(str(p) for p in _cgroup_dirs(self._name))
        root, ovl = self.scratch / "root", self.scratch / "ovl"
        binds = " ".join(f"--bind-ro={src}:{dst}" for src, dst in self._binds_ro.items())
        return f"""set -e
for c in {cg}; do mkdir "$c"; echo $$ > "$c/cgroup.procs"; done
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs tmpfs {ovl}
mkdir {ovl}/upper {ovl}/work
mount -t overlay overlay -o lowerdir=/,upperdir={ovl}/upper,workdir={ovl}/work {root}
exec systemd-nspawn --quiet --boot --directory={root} --register=no --keep-unit \
  --machine={self._name} --private-network --link-journal=no --console=pipe \
  --bind={self.share}:/share {binds} systemd.unit={target}
"""

    def start(self, target: str = "basic.target") -> float:
        """Boot to ``target`` (basic.target: the host's enabled services stay off); seconds."""
        started = time.monotonic()
        for d in ("ovl", "root", "share"):
            (self.scratch / d).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}
        console = (self.scratch / "console.log").open("wb")
        self._nspawn = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                self._script(target),
            ],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        console.close()
        self.leader = self._find_leader()
        self._wait(lambda: self._ok("test", "-S", "/run/systemd/private"), 30, "systemd's bus")
        self.run("systemctl", "is-system-running", "--wait", check=False, timeout=60)
        return time.monotonic() - started

    def _find_leader(self) -> int:
        """PID 1 of the container, as the host sees it: nspawn's child in another PID namespace."""
        assert self._nspawn is not None
        own = os.readlink("/proc/self/ns/pid")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._nspawn.poll() is not None:
                raise RuntimeError(f"nspawn exited: {self.console()[-2000:]}")
            for pid in _descendants(self._nspawn.pid):
                try:
                    if os.readlink(f"/proc/{pid}/ns/pid") != own:
                        return pid
                except OSError:
                    continue
            time.sleep(0.05)
        raise RuntimeError(f"no container leader: {self.console()[-2000:]}")

    def console(self) -> str:
        return (self.scratch / "console.log").read_text(errors="replace")

    def _inside(self, cmd: tuple[str, ...], env: dict[str, str] | None) -> list[str]:
        """nsenter with a clean environment: the host's PATH may name a Python under /root."""
        extra = [f"{k}={v}" for k, v in (env or {}).items()]
        return ["nsenter", "-t", str(self.leader), "-a", "env", "-i", *_BASE_ENV, *extra, *cmd]

    def run(
        self,
        *cmd: str,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``cmd`` inside the container (its namespaces, not its cgroups), as root."""
        result = subprocess.run(
            self._inside(cmd, env),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)[:300]} -> {result.returncode}\n{result.stdout[-3000:]}\n"
                f"{result.stderr[-3000:]}"
            )
        return result

    def sh(self, script: str, check: bool = True, timeout: float = 60) -> str:
        return self.run("sh", "-c", script, check=check, timeout=timeout).stdout

    def popen(self, *cmd: str) -> subprocess.Popen[str]:
        """A long-running command inside (a follow); the caller ends it."""
        return subprocess.Popen(
            self._inside(cmd, None),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _ok(self, *cmd: str) -> bool:
        return self.run(*cmd, check=False, timeout=10).returncode == 0

    def _wait(self, ready: object, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if callable(ready) and ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}: {self.console()[-2000:]}")

    def stop(self) -> None:
        """Power off, wait for nspawn, kill what is left, remove the cgroups and the scratch."""
        if self._nspawn is None:
            return
        if self.leader:
            self.run("systemctl", "poweroff", "--no-block", check=False, timeout=10)
        try:
            self._nspawn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in (self.leader, self._nspawn.pid):
                if pid:
                    _kill(pid)
            self._nspawn.wait(timeout=10)
        for d in _cgroup_dirs(self._name):
            _remove_cgroup(d)
        self._nspawn = None
        shutil.rmtree(self.scratch, ignore_errors=True)


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    children = [int(p) for p in out.stdout.split()]
    return children + [g for c in children for g in _descendants(c)]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _remove_cgroup(path: Path) -> None:
    """rmdir, deepest first (a cgroup directory is removed empty, its files go with it)."""
    if not path.is_dir():
        return
    for sub in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        path.rmdir()
