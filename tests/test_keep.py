"""Finished runs kept on disk (journal_proxy/delivery/keep.py): links that outlive the journal.

A run is read once from a real journal through a real gatewayd with ``keep_dir`` set; then a
proxy whose gatewayd serves a journal without that run (as after journald's vacuum) answers
the link with the same bytes in every format.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT, Corpus

FORMATS = {
    "text": (".txt", "text/plain"),
    "json": (".json", "application/json"),
    "page": ("", "text/html"),
}


@pytest.fixture(scope="module")
def vacuumed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.Gatewayd]:
    """A gatewayd over a journal that holds another run only: the corpus's runs are gone."""
    directory = tmp_path_factory.mktemp("vacuumed")
    clock = lj.Clock()
    other = lj.new_invocation_id()
    procs.write_journal(
        directory, "after", lj.starting(clock, UNIT, other) + lj.unit_line(clock, UNIT, other, "x")
    )
    gw = procs.Gatewayd(directory)
    yield gw
    gw.stop()


async def _read(proxy: Any, inv: str, fmt: str, **headers: str) -> tuple[int, bytes, str]:
    suffix, accept = FORMATS[fmt]
    resp = await proxy.get(f"/logs/{inv}{suffix}", headers={"Accept": accept, **headers})
    return resp.status, await resp.read(), resp.headers.get("ETag", "")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
async def test_a_kept_run_is_served_the_same_after_the_journal_lost_it(
    make_proxy: Any, corpus: Corpus, vacuumed: procs.Gatewayd, tmp_path: Path, fmt: str
) -> None:
    keep = str(tmp_path / "kept")
    before = await make_proxy(keep_dir=keep)
    status, from_journal, _ = await _read(before, corpus.failed, fmt)
    assert status == 200
    _, _, etag = await _read(before, corpus.failed, fmt)  # the second read: cached, with ETag
    after = await make_proxy(upstream=f"http://127.0.0.1:{vacuumed.port}", keep_dir=keep)
    status, from_disk, kept_etag = await _read(after, corpus.failed, fmt)
    assert status == 200 and from_disk == from_journal and kept_etag == etag
    assert (await _read(after, lj.new_invocation_id(), fmt))[0] == 404  # only what was kept


async def test_a_format_never_read_is_rendered_from_the_kept_lines(
    make_proxy: Any, corpus: Corpus, vacuumed: procs.Gatewayd, tmp_path: Path
) -> None:
    keep = str(tmp_path / "kept")
    before = await make_proxy(keep_dir=keep)
    assert (await _read(before, corpus.ok, "json"))[0] == 200  # kept: lines, and JSON's bytes
    expected = await (await before.get(f"/logs/{corpus.ok}.txt?color")).read()
    after = await make_proxy(upstream=f"http://127.0.0.1:{vacuumed.port}", keep_dir=keep)
    resp = await after.get(f"/logs/{corpus.ok}.txt?color")
    assert resp.status == 200 and await resp.read() == expected
    head = await after.head(f"/logs/{corpus.ok}.txt")
    assert head.status == 200 and head.headers["Content-Type"].startswith("text/plain")
    follow = await after.get(f"/logs/{corpus.ok}.txt?follow")  # finished: all of it, now
    assert follow.status == 200 and "step 5" in await follow.text()


async def test_what_is_on_disk_is_masked_and_private(
    make_proxy: Any, corpus: Corpus, tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    proxy = await make_proxy(keep_dir=str(keep))
    assert (await _read(proxy, corpus.tricky, "json"))[0] == 200
    run = keep / corpus.tricky
    assert oct(run.stat().st_mode & 0o777) == "0o700"
    entries = gzip.decompress((run / "entries.gz").read_bytes()).decode()
    assert "ghp_" not in entries and "***" in entries  # the corpus's token, masked
    assert "__CURSOR" not in entries and "s=" not in entries and "_CMDLINE" not in entries
    for line in entries.splitlines()[1:-1]:
        assert json.loads(line)[-1] in ("", "s1", "s2", "s3")  # stream tokens, not _STREAM_IDs


async def test_revocation_removes_the_kept_copy_at_once(
    make_proxy: Any, corpus: Corpus, tmp_path: Path
) -> None:
    keep, revoked = tmp_path / "kept", tmp_path / "revoked"
    revoked.write_text("")
    proxy = await make_proxy(keep_dir=str(keep), revocation_file=str(revoked))
    assert (await _read(proxy, corpus.ok, "text"))[0] == 200
    assert (keep / corpus.ok).is_dir()
    revoked.write_text(f"{corpus.ok} leaked a token\n")
    os.utime(revoked, (1, 1))  # a new mtime, whatever the clock's resolution
    from .helpers import eventually

    await eventually(lambda: not (keep / corpus.ok).exists(), what="the kept copy removed")
    assert (await _read(proxy, corpus.ok, "text"))[0] == 410


async def test_retention_removes_the_oldest_first(
    make_proxy: Any, corpus: Corpus, tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    proxy = await make_proxy(keep_dir=str(keep), keep_bytes=3_000)
    for inv in (corpus.ok, corpus.failed, corpus.tricky):
        assert (await _read(proxy, inv, "text"))[0] == 200
    kept = {p.name for p in keep.iterdir()}
    assert corpus.tricky in kept and corpus.ok not in kept
    assert sum(f.stat().st_size for f in keep.rglob("*") if f.is_file()) <= 3_000


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: full after a run or two."""
    where = tmp_path / "tiny"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=True)


async def test_a_full_disk_leaves_the_proxy_serving_and_keeps_what_was_kept(
    make_proxy: Any, corpus: Corpus, tiny_disk: Path
) -> None:
    proxy = await make_proxy(keep_dir=str(tiny_disk), metrics=True)
    assert (await _read(proxy, corpus.ok, "text"))[0] == 200
    assert (tiny_disk / corpus.ok / "entries.gz").exists()
    (tiny_disk / "filler").write_bytes(b"\0" * (64 * 1024 - 8192))  # what is left: about 8 KiB
    for inv in (corpus.failed, corpus.tricky, corpus.glob_unit):
        for fmt in FORMATS:
            assert (await _read(proxy, inv, fmt))[0] in (200, 404)
    assert (tiny_disk / corpus.ok / "entries.gz").exists()
    metrics = await (await proxy.get("/metrics")).text()
    failures = [
        line for line in metrics.splitlines() if line.startswith("journal_proxy_kept_failures")
    ]
    assert failures and float(failures[0].split()[-1]) > 0


async def _cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "journal_proxy.cli", "keep", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_journal_proxy_keep_reads_the_run_once_through_the_proxy_then_lists_and_prunes(
    make_proxy: Any, corpus: Corpus, tmp_path: Path
) -> None:
    keep = tmp_path / "kept"
    proxy = await make_proxy(keep_dir=str(keep))
    where = f"http://127.0.0.1:{proxy.server.port}"
    code, out = await _cli(corpus.failed, "--proxy", where, "--after", "0")
    assert code == 0 and "200 200 200" in out, out
    files = {p.name for p in (keep / corpus.failed).iterdir()}
    assert "entries.gz" in files and len(files) == 4  # the lines, and text, JSON and the page
    config = tmp_path / "config.toml"
    config.write_text(f'unit = ["{UNIT}"]\nkeep_dir = "{keep}"\nkeep_bytes = 1000\n')
    code, out = await _cli("--list", "--config", str(config))
    assert code == 0 and out.startswith(f"{corpus.failed} kept ")
    code, out = await _cli("--prune", "--config", str(config))
    assert code == 0 and "removed 1" in out and not (keep / corpus.failed).exists()
    code, out = await _cli("not-an-id", "--proxy", where, "--after", "0")
    assert code == 2 and "32 lowercase hex" in out
