"""The revocation list: links taken offline by the operator, in a file named in the config.

One revoked invocation per line, ``<32 hex> [reason]``; blank lines and ``#`` comments are
skipped.  ``journal-proxy revoke`` edits it under a lock and replaces it atomically (temporary
file, ``fsync``, rename), so the service never reads half a file.  The service notices a change
by ``stat`` (inode, size, modification time) once a second, which a rename always changes, and
needs no restart or signal.

A file that cannot be read or parsed stops the start; while running, the last good list stays in
force (a typo never un-revokes anything) and the error is logged.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from journal_proxy.access.ids import InvocationId, parse_invocation_id
from journal_proxy.errors import ConfigError

log = logging.getLogger(__name__)

#: Longest reason kept; it is shown to whoever holds the link.
MAX_REASON_CHARS = 200
_HEADER = (
    "# Revoked journal-proxy links: <invocation ID> <reason>. Edit with `journal-proxy revoke`.\n"
)


def clean_reason(text: str) -> str:
    """One printable line, at most :data:`MAX_REASON_CHARS` characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:MAX_REASON_CHARS]


def parse(text: str, where: str) -> dict[InvocationId, str]:
    """Revoked IDs and their reasons; errors name the line, never repeat its content."""
    revoked: dict[InvocationId, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        first, _, reason = line.partition(" ")
        invocation_id = parse_invocation_id(first)
        if invocation_id is None:
            raise ConfigError(
                f"revocation_file: {where} line {number} does not start with an invocation ID"
            )
        revoked[invocation_id] = clean_reason(reason)
    return revoked


def read(path: Path) -> dict[InvocationId, str]:
    """The list in ``path``; a file that does not exist yet is an empty list."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"revocation_file: cannot read {path}: {exc}") from exc
    return parse(text, str(path))


def render(revoked: Mapping[InvocationId, str]) -> str:
    lines = [f"{i} {reason}".rstrip() + "\n" for i, reason in revoked.items()]
    return _HEADER + "".join(lines)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the list's directory, so two ``revoke`` runs cannot interleave."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write(path: Path, revoked: Mapping[InvocationId, str]) -> None:
    """Replace the file atomically; readable by all (it names links, not what they show)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render(revoked))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class RevocationList:
    """The service's view of the file: a dictionary lookup per request, a ``stat`` per second."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self._revoked: dict[InvocationId, str] = {}
        self._seen: tuple[int, int, int] | None = None
        if self.path is not None:
            self._seen = self._stamp()
            self._revoked = read(self.path)

    def __len__(self) -> int:
        return len(self._revoked)

    def reason(self, invocation_id: InvocationId) -> str | None:
        """The operator's reason ("" if none was given) if the link is revoked, else None."""
        return self._revoked.get(invocation_id)

    def _stamp(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"revocation_file: cannot read {self.path}: {exc}") from exc
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def refresh(self) -> frozenset[InvocationId]:
        """Re-read the file if it changed; return the IDs revoked since the last read."""
        if self.path is None:
            return frozenset()
        try:
            stamp = self._stamp()
        except ConfigError as exc:
            log.error("%s; keeping the %d revocations read before", exc, len(self._revoked))
            return frozenset()
        if stamp == self._seen:
            return frozenset()
        self._seen = stamp  # a bad edit is reported once, not every second
        try:
            revoked = read(self.path)
        except ConfigError as exc:
            log.error("%s; keeping the %d revocations read before", exc, len(self._revoked))
            return frozenset()
        added = frozenset(revoked) - frozenset(self._revoked)
        self._revoked = revoked
        log.info("revocation list read: %d revoked, %d new", len(revoked), len(added))
        return added
