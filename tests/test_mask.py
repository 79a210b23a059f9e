from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.errors import ConfigError
from journal_proxy.mask import Masker

M = Masker.build(literals=["correct-horse-battery"], patterns=[("ticket", r"TICKET-[0-9]{4}")])
GH = "ghp_" + "x" * 36


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"token {GH}", GH),
        ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
        ("curl -H 'Authorization: Bearer abc.def-123' x", "abc.def-123"),
        ("AUTHORIZATION: token s3cr3t", "s3cr3t"),
        ("git clone https://deploy:hunter2@github.com/x.git", "hunter2"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXk",
        ),
        ("using correct-horse-battery now", "correct-horse-battery"),
        ("see TICKET-1234", "TICKET-1234"),
    ],
)
def test_builtin_operator_and_literal_secrets_are_masked(text: str, secret: str) -> None:
    out = M.mask_text(text)
    assert secret not in out
    assert "***" in out


def test_masks_across_colour_codes_and_keeps_them() -> None:
    text = "t ghp_" + "a" * 10 + "\x1b[31m" + "b" * 26 + "\x1b[0m end"
    out = M.mask_text(text)
    assert "aaaa" not in out and "bbbb" not in out
    assert out == "t ***\x1b[31m\x1b[0m end"


def test_user_in_url_kept_password_masked() -> None:
    assert M.mask_text("https://bob:pw@host/") == "https://bob:***@host/"


@given(st.text(max_size=30), st.text(max_size=30))
def test_known_secret_never_visible_whatever_surrounds_it(before: str, after: str) -> None:
    out = M.mask_text(before + "correct-horse-battery" + after)
    assert "correct-horse-battery" not in out


def test_long_messages_are_truncated_with_a_marker() -> None:
    m = Masker.build(max_chars=100)
    out = m.mask_text("x" * 1000)
    assert out.startswith("x" * 100) and "900 more characters truncated" in out


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"(?:x|y+)+z", r"((ab)*)+"])
def test_catastrophic_patterns_are_refused_at_start(pattern: str) -> None:
    with pytest.raises(ConfigError, match="nested repetition"):
        Masker.build(patterns=[("evil", pattern)])


def test_invalid_or_empty_matching_patterns_name_themselves() -> None:
    with pytest.raises(ConfigError, match="'broken'"):
        Masker.build(patterns=[("broken", "(")])
    with pytest.raises(ConfigError, match="empty"):
        Masker.build(patterns=[("empty", "x*")])


def test_builtins_stay_linear_on_adversarial_input() -> None:
    m = Masker.build(max_chars=10**6)
    inputs = [
        "Authorization:" + " " * 50000,
        "eyJ" + "a" * 50000 + "." * 50000,
        "https://" + "a" * 50000 + ":" + "b" * 50000,
        "-----BEGIN PRIVATE KEY-----" * 2000,
        "ghp_" * 20000,
    ]
    for text in inputs:
        started = time.perf_counter()
        m.mask_text(text)
        assert time.perf_counter() - started < 1.0, text[:20]
