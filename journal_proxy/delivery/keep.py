"""Finished runs kept on disk, masked, so that a deployment's link outlives the journal.

journald vacuums by size and age, shared with every unit on the host, so a deploy run's lines are
gone after days while the GitHub deployment keeps its ``log_url`` for ever.  A finished run is
kept here the first time it is read (the deploy's handler reads it once when the run ends:
``journal-proxy keep``), and a link whose run is kept is answered without asking gatewayd.

What is kept is what viewers see, never raw journal data: each run is a directory named by its
invocation ID holding

* ``entries.gz``: the masked, verified lines as the renderers receive them (JSON, one line each,
  gzip), with the run's status and host; no cursor, and the ``_STREAM_ID``s replaced by small
  tokens (steps only need to tell streams apart).  Any format is rendered again from it, byte for
  byte as from the journal, since renderers are deterministic;
* ``<variant>.gz``: a format's rendered bytes as the cache keeps them (gzip, with their ETag), so
  a kept run's first read costs no rendering at all.

Every file is written to a temporary name and renamed: a reader finds a whole file or none.  The
bound is ``keep_bytes`` of files (oldest run out first) and ``keep_days`` of age, kept with an
index made by one scan at start-up, never a scan per request.  A failing disk (full, read-only)
costs a warning at most every ten minutes and the run is served from the journal; what is
already kept is never removed for it.  A revoked run is removed at once and never kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from journal_proxy.access.ids import InvocationId, parse_invocation_id
from journal_proxy.delivery.cache import RECHECK_SECONDS
from journal_proxy.delivery.opening import OpenedLog
from journal_proxy.journal.entry import Entry, NumberedEntry
from journal_proxy.journal.items import Ended, Item, Source
from journal_proxy.journal.lifecycle import Event, LifecycleEvent, Status
from journal_proxy.settings import KeepSettings

log = logging.getLogger(__name__)

ENTRIES = "entries.gz"
_VERSION = 1
_BODY_MAGIC = b"journal-proxy-body 1 "
_BATCH = 1000
_WARN_EVERY = 600.0
_EVENTS = {e.value: e for e in Event}


@dataclass(slots=True)
class _Kept:
    kept_at: float
    size: int
    #: When a run kept within RECHECK_SECONDS of its end should be read from the journal once
    #: more (late lines, as the cache does); None once it is final.
    recheck_at: float | None = None


@dataclass(slots=True)
class KeepStats:
    """For /metrics."""

    reads: int = 0
    writes: int = 0
    failures: int = 0
    removed: int = 0


class Keeper:
    """The kept runs under one directory, and their index (oldest first)."""

    def __init__(
        self,
        settings: KeepSettings,
        revoked: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        assert settings.directory is not None
        #: Whether a run is revoked now: a revoked run is never kept, even if revoked mid-read.
        self.revoked = revoked
        self.root = Path(settings.directory)
        self.max_bytes = settings.max_bytes
        self.max_age = settings.days * 86400
        self._clock = clock
        self._runs: OrderedDict[str, _Kept] = OrderedDict()
        self.held = 0
        self.stats = KeepStats()
        self._warned_at = float("-inf")

    def __len__(self) -> int:
        return len(self._runs)

    def has(self, invocation_id: str) -> bool:
        return invocation_id in self._runs

    def invocation_ids(self) -> list[str]:
        """The kept runs, oldest first."""
        return list(self._runs)

    def due_for_recheck(self, invocation_id: str) -> bool:
        """Kept early (within RECHECK_SECONDS of its end) and read from the journal once more
        now; the kept copy still answers if the journal no longer has the run."""
        kept = self._runs.get(invocation_id)
        return kept is not None and kept.recheck_at is not None and self._clock() >= kept.recheck_at

    def scan(self, prune: bool = True) -> None:
        """The index, from one look at the directory (at start-up); unfinished writes go, and
        with ``prune`` what is past the bounds."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            found = [_looked_at(p) for p in self.root.iterdir()]
        except OSError as exc:
            self._failed("reading the kept runs", exc)
            return
        for name, kept in sorted((f for f in found if f[1] is not None), key=_by_age):
            assert kept is not None
            self._runs[name] = kept
            self.held += kept.size
        for name, kept in found:
            if kept is None and parse_invocation_id(name) is not None:
                shutil.rmtree(self.root / name, ignore_errors=True)  # a write that never ended
            elif name.startswith(".") and name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    (self.root / name).unlink()
        if prune:
            self.prune()

    def listing(self) -> list[tuple[str, float, int]]:
        """ID, when kept (unix time) and bytes of each kept run, oldest first."""
        return [(name, k.kept_at, k.size) for name, k in self._runs.items()]

    def prune(self) -> list[str]:
        """Runs past ``keep_days``, then the oldest while over ``keep_bytes``."""
        removed = []
        cutoff = self._clock() - self.max_age
        while self._runs:
            oldest, kept = next(iter(self._runs.items()))
            if kept.kept_at >= cutoff and self.held <= self.max_bytes:
                break
            self.drop(oldest)
            removed.append(oldest)
        return removed

    def drop(self, invocation_id: str) -> None:
        """Remove a run (revoked, or past the bounds) from disk and the index."""
        kept = self._runs.pop(invocation_id, None)
        if kept is not None:
            self.held -= kept.size
            self.stats.removed += 1
        if parse_invocation_id(invocation_id) is not None:  # never a path from elsewhere
            shutil.rmtree(self.root / invocation_id, ignore_errors=True)

    def _failed(self, what: str, exc: OSError) -> None:
        self.stats.failures += 1
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("%s failed (%s): runs are served from the journal", what, exc)

    def _grew(self, invocation_id: str, size: int) -> None:
        kept = self._runs.get(invocation_id)
        if kept is None:
            self._runs[invocation_id] = _Kept(self._clock(), size)
        else:
            kept.size += size
        self.held += size
        self.prune()

    # -- rendered bodies ----------------------------------------------------------------------

    def body(self, invocation_id: str, variant: str) -> tuple[str, Status, bytes] | None:
        """A format's kept bytes (ETag, the run's status, gzip), or None."""
        if invocation_id not in self._runs:
            return None
        try:
            data = (self.root / invocation_id / _variant_file(variant)).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._failed("reading a kept run", exc)
            return None
        head, _, packed = data.partition(b"\n")
        if not head.startswith(_BODY_MAGIC):
            return None
        etag, _, status = head[len(_BODY_MAGIC) :].partition(b" ")
        self.stats.reads += 1
        return etag.decode("ascii"), Status(**json.loads(status)), packed

    def save_body(
        self, invocation_id: str, variant: str, etag: str, status: Status, packed: bytes
    ) -> None:
        """Keep a format's bytes beside a kept run's entries (only for a kept run)."""
        if invocation_id not in self._runs or self.revoked(invocation_id):
            return
        meta = etag.encode("ascii") + b" " + json.dumps(dataclasses.asdict(status)).encode()
        data = _BODY_MAGIC + meta + b"\n" + packed
        try:
            _write_atomically(self.root / invocation_id / _variant_file(variant), data)
        except OSError as exc:
            self._failed("keeping a run", exc)
            return
        self.stats.writes += 1
        self._grew(invocation_id, len(data))

    # -- entries ------------------------------------------------------------------------------

    def open(self, invocation_id: InvocationId) -> OpenedLog | None:
        """A kept run as a log to write, like one read from the journal; None if not kept."""
        if invocation_id not in self._runs:
            return None
        path = self.root / invocation_id / ENTRIES
        reader = None
        try:
            reader = gzip.open(path, "rb")  # noqa: SIM115 - _replay closes it, having read it
            header = json.loads(reader.readline())
        except (OSError, ValueError, EOFError) as exc:
            if reader is not None:
                reader.close()
            log.warning("kept run %s… is unreadable (%s): removed", invocation_id[:8], exc)
            self.drop(invocation_id)
            return None
        self.stats.reads += 1
        status = Status(**header["status"])
        source = Source(header["source"]["host"], tuple(header["source"]["unreachable"]))
        return OpenedLog(status, source, _replay(reader, status))

    def keeping(self, invocation_id: InvocationId, opened: OpenedLog) -> OpenedLog:
        """``opened`` (a finished run read from the journal), kept as its items pass."""
        return dataclasses.replace(opened, items=self._tee(invocation_id, opened))

    async def _tee(
        self, invocation_id: InvocationId, opened: OpenedLog
    ) -> AsyncGenerator[Item, None]:
        writer = _EntriesWriter(self.root / invocation_id, opened.status, opened.source)
        try:
            async with aclosing(opened.items) as items:
                async for item in items:
                    if isinstance(item, Ended):
                        self._commit(invocation_id, writer, item)
                    elif writer.ok:
                        writer.add(item)
                    yield item
        finally:  # also when the reader leaves half-way: no temporary file, no open descriptor
            writer.discard()

    def _commit(self, invocation_id: str, writer: _EntriesWriter, ended: Ended) -> None:
        """A whole read (no end reason) becomes the kept run; anything else is discarded."""
        unwanted = self.revoked(invocation_id) or writer.size > self.max_bytes // 4
        if ended.reason is not None or not writer.ok or unwanted:
            writer.discard()
            return
        try:
            size = writer.commit(ended.status)
        except OSError as exc:
            writer.discard()
            self._failed("keeping a run", exc)
            return
        self.stats.writes += 1
        old = self._runs.pop(invocation_id, None)
        if old is not None:
            self.held -= old.size
        finished = (ended.status.finished_usec or 0) / 1e6
        recheck = finished + RECHECK_SECONDS
        self._runs[invocation_id] = _Kept(
            self._clock(), 0, recheck if self._clock() < recheck else None
        )
        self._grew(invocation_id, size)


class _EntriesWriter:
    """The masked lines of one read, compressed into a temporary file as they pass."""

    def __init__(self, directory: Path, status: Status, source: Source) -> None:
        self._dir = directory
        self._tmp = directory.with_name(f".{directory.name}.{os.getpid()}.tmp")
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._streams: dict[str, str] = {"": ""}
        self._file: io.BufferedWriter | None = None
        self.size = 0
        self.ok = True
        header = {"v": _VERSION, "status": dataclasses.asdict(status), "source": _source(source)}
        self._write(json.dumps(header).encode() + b"\n")

    def _write(self, data: bytes) -> None:
        packed = self._zip.compress(data)
        if not packed:
            return
        try:
            if self._file is None:
                self._file = self._tmp.open("wb")
            self._file.write(packed)
        except OSError:
            self.ok = False
            return
        self.size += len(packed)

    def add(self, item: Item) -> None:
        if isinstance(item, list):
            self._write(b"".join(_encode(n, e, self._streams) for n, e in item))
        elif isinstance(item, tuple):
            self._write(_encode(item[0], item[1], self._streams))

    def commit(self, status: Status) -> int:
        """Finish the file and put it in place as the run's entries; its size."""
        self._write(json.dumps({"end": dataclasses.asdict(status)}).encode() + b"\n")
        if not self.ok:
            raise OSError("the kept run could not be written")
        tail = self._zip.flush()
        if self._file is None:
            self._file = self._tmp.open("wb")
        self._file.write(tail)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        shutil.rmtree(self._dir, ignore_errors=True)  # an older copy: this read replaces it
        self._dir.mkdir(mode=0o700)
        self._tmp.replace(self._dir / ENTRIES)
        return self.size + len(tail)

    def discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            self._tmp.unlink()


def _encode(line: int, e: Entry, streams: dict[str, str]) -> bytes:
    stream = streams.get(e.stream)
    if stream is None:
        stream = streams[e.stream] = f"s{len(streams)}"
    lc = e.lifecycle
    lifecycle = None
    if lc is not None:
        lifecycle = [lc.event.value if lc.event else None, lc.unit, lc.result]
        lifecycle += [lc.exit_code, lc.exit_status]
    row = [line, e.realtime_usec, e.priority, e.identifier, e.message, e.unit]
    row += [[list(x) for x in e.extra], lifecycle, stream]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _decode(raw: bytes) -> NumberedEntry:
    line, realtime, priority, identifier, message, unit, extra, lc, stream = json.loads(raw)
    lifecycle = None
    if lc is not None:
        lifecycle = LifecycleEvent(_EVENTS.get(lc[0]) if lc[0] else None, *lc[1:])
    entry = Entry(
        realtime, priority, identifier, message, unit, tuple(tuple(x) for x in extra),
        lifecycle, "", stream,
    )  # fmt: skip
    return line, entry


async def _replay(reader: gzip.GzipFile, status: Status) -> AsyncGenerator[Item, None]:
    """The kept lines in batches, as an upstream read gives them, then the end."""
    end = status
    try:
        batch: list[NumberedEntry] = []
        for raw in reader:
            if raw.startswith(b"{"):
                end = Status(**json.loads(raw)["end"])
                break
            batch.append(_decode(raw))
            if len(batch) >= _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        reader.close()
    yield Ended(None, end)


def _source(source: Source) -> dict[str, object]:
    return {"host": source.host, "unreachable": list(source.unreachable)}


def _variant_file(variant: str) -> str:
    return hashlib.sha256(variant.encode()).hexdigest()[:32] + ".gz"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _looked_at(path: Path) -> tuple[str, _Kept | None]:
    """A run directory's age and size; None for anything that is not a whole kept run."""
    if parse_invocation_id(path.name) is None:
        return path.name, None
    try:
        entries = (path / ENTRIES).stat()
        size = sum(f.stat().st_size for f in path.iterdir())
    except OSError:
        return path.name, None
    return path.name, _Kept(entries.st_mtime, size)


def _by_age(found: tuple[str, _Kept | None]) -> float:
    return found[1].kept_at if found[1] is not None else 0.0
