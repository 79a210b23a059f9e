from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.journal.export_format import ExportParser
from journal_proxy.local.journal import export_entry

names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True)
values = st.binary(max_size=64)
entries = st.lists(st.lists(st.tuples(names, values), min_size=1, max_size=6), max_size=8)


def _feed_in_pieces(
    data: bytes, cuts: list[int]
) -> list[tuple[dict[bytes, bytes], frozenset[bytes]]]:
    parser = ExportParser()
    out = []
    pos = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        out += [(e.fields, frozenset(e.repeated)) for e in parser.feed(data[pos:cut])]
        pos = max(pos, cut)
    parser.finish()
    return out


@given(entries, st.lists(st.integers(min_value=0), max_size=20))
def test_round_trip_whatever_the_chunking(
    items: list[list[tuple[str, bytes]]], cuts: list[int]
) -> None:
    data = b"".join(export_entry(fields) for fields in items)
    parsed = _feed_in_pieces(data, cuts)
    assert len(parsed) == len(items)  # never merges, never splits
    for fields, (got, repeated) in zip(items, parsed, strict=True):
        first: dict[bytes, bytes] = {}
        for k, v in fields:
            first.setdefault(k.encode(), v)
        assert got == first
        # The first value counts, and a name given again with another value is noted, whether
        # the fields are text or binary, before or after each other.
        assert repeated == {k.encode() for k, v in fields if first[k.encode()] != v}


@settings(max_examples=300)
@given(st.binary(max_size=2048), st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_bytes_never_crash(data: bytes, cuts: list[int]) -> None:
    # The only error it may raise is a clean, catchable protocol error.
    with contextlib.suppress(UpstreamProtocolError):
        _feed_in_pieces(data, cuts)


def test_repeated_field_with_different_values_is_flagged() -> None:
    parser = ExportParser()
    [entry] = parser.feed(b"_SYSTEMD_UNIT=a.service\n_SYSTEMD_UNIT=b.service\nMESSAGE=x\n\n")
    assert entry.repeated == {b"_SYSTEMD_UNIT"}
    assert entry.fields[b"_SYSTEMD_UNIT"] == b"a.service"


def test_binary_field_with_newlines_and_nul() -> None:
    value = b"a\nb\x00c"
    [entry] = ExportParser().feed(b"MESSAGE\n" + len(value).to_bytes(8, "little") + value + b"\n\n")
    assert entry.fields[b"MESSAGE"] == value


def test_oversized_entry_is_a_protocol_error() -> None:
    parser = ExportParser(max_entry_bytes=1000)
    with pytest.raises(UpstreamProtocolError):
        parser.feed(b"MESSAGE=" + b"x" * 2000)
    with pytest.raises(UpstreamProtocolError):
        ExportParser(max_entry_bytes=1000).feed(
            b"MESSAGE\n" + (10**9).to_bytes(8, "little") + b"y" * 1500 + b"\n\n"
        )
    # A declared length past the bound is refused as soon as it is read, not once it arrived.
    with pytest.raises(UpstreamProtocolError):
        ExportParser(max_entry_bytes=1000).feed(b"MESSAGE\n" + (10**9).to_bytes(8, "little"))
    bounded = ExportParser(max_entry_bytes=1000)
    bounded.feed(b"MESSAGE=" + b"y" * 500)  # waits for the rest of the line, holds 508 bytes
    with pytest.raises(UpstreamProtocolError):
        bounded.feed(b"y" * 600)


def test_truncated_stream_is_reported_at_finish() -> None:
    parser = ExportParser()
    parser.feed(b"MESSAGE=half")
    with pytest.raises(UpstreamProtocolError):
        parser.finish()
