"""systemd integration without libsystemd: socket activation and ``sd_notify``.

Both protocols are small and documented (sd_listen_fds(3), sd_notify(3)); a datagram socket and a
few environment variables are all they need.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

SD_LISTEN_FDS_START = 3


def listen_sockets(environ: dict[str, str] | None = None) -> list[socket.socket]:
    """Sockets passed by systemd (``LISTEN_FDS``), or an empty list.

    ``LISTEN_PID`` must name this process, and the variables are removed so that no child
    process believes the sockets are its own.
    """
    env = os.environ if environ is None else environ
    pid = env.get("LISTEN_PID", "")
    count = env.get("LISTEN_FDS", "")
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(name, None)
    if not pid.isdigit() or int(pid) != os.getpid() or not count.isdigit():
        return []
    sockets = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(count)):
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError(f"LISTEN_FDS: fd {fd} is not a socket")
        os.set_inheritable(fd, False)
        sockets.append(socket.socket(fileno=fd))
    return sockets


class Notifier:
    """Sends ``sd_notify`` messages when ``NOTIFY_SOCKET`` is set; does nothing otherwise."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.pop("NOTIFY_SOCKET", "")
        self._address: str | None = None
        if path.startswith("@"):
            self._address = "\0" + path[1:]
        elif path.startswith("/"):
            self._address = path
        usec = env.get("WATCHDOG_USEC", "")
        wd_pid = env.get("WATCHDOG_PID", "")
        watchdog = usec.isdigit() and (not wd_pid or wd_pid == str(os.getpid()))
        #: Seconds between ``WATCHDOG=1`` pings (half the interval systemd expects), or None.
        self.watchdog_interval = int(usec) / 2e6 if watchdog else None
        self._sock: socket.socket | None = None
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, *lines: str) -> None:
        if self._sock is None or self._address is None:
            return
        # Best effort: systemd may have gone away, or its socket may be full.
        with contextlib.suppress(OSError):
            self._sock.sendto("\n".join(lines).encode(), self._address)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
