from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from journal_proxy.access.ids import LogFormat, parse_invocation_id, parse_log_path

VALID = "0123456789abcdef0123456789abcdef"
REFERENCE = re.compile(r"[0-9a-f]{32}", re.ASCII)


@given(st.text(max_size=40))
@example(VALID + "\n")
@example("\u0660" * 32)  # Arabic-Indic zeros
@example(VALID.upper())
@example("\uff10" * 32)  # fullwidth zeros
def test_accepts_exactly_32_lowercase_ascii_hex(text: str) -> None:
    assert (parse_invocation_id(text) is not None) == bool(REFERENCE.fullmatch(text))


@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
def test_every_hex_string_of_32_is_accepted(text: str) -> None:
    assert parse_invocation_id(text) == text


def test_log_paths_and_formats() -> None:
    assert parse_log_path(f"/logs/{VALID}").format is LogFormat.NEGOTIATE  # type: ignore[union-attr]
    assert parse_log_path(f"/logs/{VALID}.txt").format is LogFormat.TEXT  # type: ignore[union-attr]
    assert parse_log_path(f"/logs/{VALID}.json?follow").format is LogFormat.JSON  # type: ignore[union-attr]
    for bad in (f"/logs/{VALID}.txt.txt", f"/logs/{VALID}/", f"/logs/%30{VALID[1:]}", "/logs/.txt"):
        assert parse_log_path(bad) is None, bad
