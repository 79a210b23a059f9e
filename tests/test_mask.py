from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.errors import ConfigError
from journal_proxy.journal.entry import Entry
from journal_proxy.mask.masker import Masker
from journal_proxy.terminal.ansi import sanitize

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
    out = masked(M, text)
    assert secret not in out
    assert "***" in out


def test_masks_across_colour_codes_and_keeps_them() -> None:
    text = "t ghp_" + "a" * 10 + "\x1b[31m" + "b" * 26 + "\x1b[0m end"
    out = masked(M, text)
    assert "aaaa" not in out and "bbbb" not in out
    assert out == "t ***\x1b[31m\x1b[0m end"


def test_user_in_url_kept_password_masked() -> None:
    assert masked(M, "https://bob:pw@host/") == "https://bob:***@host/"


@given(st.text(max_size=30), st.text(max_size=30))
def test_known_secret_never_visible_whatever_surrounds_it(before: str, after: str) -> None:
    out = masked(M, before + "correct-horse-battery" + after)
    assert "correct-horse-battery" not in out


def test_long_messages_are_truncated_with_a_marker() -> None:
    m = Masker.build(max_chars=100)
    out = masked(m, "x" * 1000)
    assert out.startswith("x" * 100) and "900 more characters truncated" in out


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"(?:x|y+)+z", r"((ab)*)+"])
def test_catastrophic_patterns_are_refused_at_start(pattern: str) -> None:
    with pytest.raises(ConfigError, match="nested repetition"):
        Masker.build(patterns=[("evil", pattern)])


def test_invalid_or_empty_matching_patterns_name_themselves() -> None:
    with pytest.raises(ConfigError, match=r"^mask\.patterns\.broken: invalid regular expression"):
        Masker.build(patterns=[("broken", "(")])
    with pytest.raises(ConfigError, match=r"^mask\.patterns\.empty: matches the empty string"):
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
        masked(m, text)
        assert time.perf_counter() - started < 1.0, text[:20]


# --- issue 13, item 3: holes in masking -----------------------------------------------------

GITHUB_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"
TOKEN = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"


def entry(
    message: str, identifier: str = "deploy", extra: tuple[tuple[str, str], ...] = ()
) -> Entry:
    return Entry(1_700_000_000_000_000, 6, identifier, message, "deploy.service", extra, None, "")


def masked(masker: Masker, text: str) -> str:
    """``text`` as the first line of a log shows it: a fresh session, no private-key state."""
    return masker.session().apply(entry(text)).message


def test_fine_grained_github_pat_is_masked() -> None:
    assert masked(M, f"using {GITHUB_PAT} now") == "using *** now"


@pytest.mark.parametrize("control", ["\x00", "\x07", "\r", "\x7f", "\x08", "\x85", "\x9b", "\x1b"])
def test_a_control_character_inside_a_token_does_not_split_it(control: str) -> None:
    for i in (1, 3, 8, 30):
        out = masked(M, f"token {TOKEN[:i]}{control}{TOKEN[i:]} end")
        if control == "\x1b" and TOKEN[i] == "_":
            # ESC _ opens an APC string: sanitising removes it and everything after it.
            assert out == "token ***", (i, out)
        else:
            assert out == "token *** end", (i, out)


@pytest.mark.parametrize(
    "sequence", ["\x1b]0;title\x07", "\x1b]8;;http://x\x1b\\", "\x1b[2J", "\x1b[10;5H", "\x1b[31m"]
)
def test_an_escape_sequence_inside_a_token_does_not_split_it(sequence: str) -> None:
    out = masked(M, f"token {TOKEN[:10]}{sequence}{TOKEN[10:]} end")
    assert "IJKLMNOP" not in out and out.startswith("token ***") and out.endswith(" end")


@pytest.mark.parametrize("i", [1, 2, 3, 10])
def test_an_unfinished_csi_swallowing_token_characters_does_not_unmask_it(i: int) -> None:
    out = masked(M, f"token {TOKEN[:i]}\x1b[{TOKEN[i:]} end")
    assert out == "token *** end", out


def test_what_is_masked_is_what_is_shown() -> None:
    """The masker's output is already sanitised: the renderers' sanitize changes nothing."""
    out = masked(M, f"a\x1b]0;t\x07b \x1b[1;8;31m{TOKEN[:5]}\x00{TOKEN[5:]}\x1b[0m c\r")
    assert sanitize(out) == out
    assert out == "ab \x1b[1;31m***\x1b[0m c"


def test_identifier_and_extra_fields_are_masked_and_identifier_on_one_line() -> None:
    e = entry("hi", identifier=f"tool-{TOKEN}\nsystemd[1]", extra=(("F", f"x {TOKEN}"),))
    out = M.session().apply(e)
    assert out.identifier == "tool-*** systemd[1]"
    assert out.extra == (("F", "x ***"),)


def test_unchanged_entry_is_returned_as_is() -> None:
    e = entry("plain line")
    assert M.session().apply(e) is e


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0bTbkBCAD\n=Xw2Q\n-----END PGP PRIVATE KEY BLOCK-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----***-----END PGP PRIVATE KEY BLOCK-----",
        ),
        ("bot xoxb-1234567890-0987654321-AbCdEfGhIjKl", "bot ***"),
        ("app xapp-1-A0123456789-1234567890123-abcdef012345", "app ***"),
        ("refresh xoxe-1-Mi0yLTEyMzQ1Njc4OTAtYWJjZGVm", "refresh ***"),
        ("rotated xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtYWJjZGVm", "rotated ***"),
        (
            "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX ok",
            "POST https://hooks.slack.com/services/*** ok",
        ),
        (
            "https://hooks.slack.com/workflows/T0/A0/123/abcdefgh",
            "https://hooks.slack.com/workflows/***",
        ),
        (
            "https://hooks.slack.com/triggers/T0/123/abcdefgh",
            "https://hooks.slack.com/triggers/***",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = ***",
        ),
        (
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SECRET_ACCESS_KEY=***",
        ),
        ('"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG"', '"aws_secret_access_key": "***"'),
        ("AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG'", "AWS_SECRET_ACCESS_KEY: '***'"),
        ('"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG",', '"SecretAccessKey": "***",'),
        (f"GET /x?token%3D{TOKEN}&a=1", "GET /x?token%3D***&a=1"),
        (f"x%20{GITHUB_PAT}", "x%20***"),
        ("h=Authorization%3A%20Bearer%20abc.def-123&x", "h=Authorization%3A%20Bearer%20***&x"),
        (
            "u=https%3A%2F%2Fdeploy%3Ahunter2%40github.com%2F",
            "u=https%3A%2F%2Fdeploy%3A***%40github.com%2F",
        ),
        (
            "k=-----BEGIN%20RSA%20PRIVATE%20KEY-----%0AMIIEow%0A-----END%20RSA%20PRIVATE%20KEY-----",
            "k=-----BEGIN%20RSA%20PRIVATE%20KEY-----***-----END%20RSA%20PRIVATE%20KEY-----",
        ),
        (
            "%2D%2D%2D%2D%2DBEGIN%20RSA%20PRIVATE%20KEY%2D%2D%2D%2D%2D%0AMIIEow%0A%2D%2D%2D%2D%2DEND",
            "%2D%2D%2D%2D%2DBEGIN%20RSA%20PRIVATE%20KEY%2D%2D%2D%2D%2D***%2D%2D%2D%2D%2DEND",
        ),
        ("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "t=***"),
        ("t%3DeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "t%3D***"),
    ],
)
def test_new_shapes(text: str, expected: str) -> None:
    assert masked(M, text) == expected


def key_session(lines: list[str]) -> list[str]:
    session = M.session()
    return [session.apply(entry(line)).message for line in lines]


def test_a_key_printed_one_line_per_entry_is_masked_to_its_end_line() -> None:
    assert key_session(
        [
            "+ cat deploy.pem",
            "-----BEGIN RSA PRIVATE KEY-----",
            "Proc-Type: 4,ENCRYPTED",
            "DEK-Info: AES-128-CBC,3F17F5316E2BAC89",
            "",
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
            "-----END RSA PRIVATE KEY-----",
            "MIIEnotakeyanymore",
        ]
    ) == [
        "+ cat deploy.pem",
        "-----BEGIN RSA PRIVATE KEY-----",
        "***",
        "***",
        "",
        "***",
        "***",
        "-----END RSA PRIVATE KEY-----",
        "MIIEnotakeyanymore",
    ]


def test_a_pgp_key_over_entries_masks_headers_body_and_checksum() -> None:
    out = key_session(
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "Version: GnuPG v2",
            "",
            "lQOYBF0bTbkBCADDZJ1ZQkRr4yYwqUQpL1eN9n3p7zG2n8VfF5",
            "=Xw2Q",
            "-----END PGP PRIVATE KEY BLOCK-----",
        ]
    )
    assert out == ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "***", "", "***", "***", out[-1]]
    assert out[-1] == "-----END PGP PRIVATE KEY BLOCK-----"


def test_a_line_that_is_not_key_material_ends_the_key() -> None:
    out = key_session(
        [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjE",
            "Error: cat: truncated",
            "QUJDREVG",
        ]
    )
    assert out == [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "***",
        "Error: cat: truncated",
        "QUJDREVG",
    ]


def test_an_armor_header_after_the_body_is_not_key_material() -> None:
    out = key_session(["-----BEGIN RSA PRIVATE KEY-----", "MIIEow", "Status: deployed"])
    assert out == ["-----BEGIN RSA PRIVATE KEY-----", "***", "Status: deployed"]


def test_key_state_covers_multi_line_messages_and_a_body_glued_to_its_end_line() -> None:
    out = key_session(
        ["-----BEGIN EC PRIVATE KEY-----", "MHcCAQEE\nIBs8J7-----END EC PRIVATE KEY-----\ndone"]
    )
    assert out == ["-----BEGIN EC PRIVATE KEY-----", "***-----END EC PRIVATE KEY-----\ndone"]


def test_stateless_apply_does_not_carry_key_state() -> None:
    assert M.session().apply(entry("MIIEowIBAAKCAQEA")).message == "MIIEowIBAAKCAQEA"


# --- issue 13, item 4: bounded work per entry ------------------------------------------------


def test_truncation_happens_before_masking_and_keeps_its_wording() -> None:
    m = Masker.build(max_chars=100)
    raw = "x" * 4 * 1024 * 1024
    started = time.perf_counter()
    out = masked(m, raw)
    assert time.perf_counter() - started < 0.5
    assert out == "x" * 100 + f" … [{len(raw) - 100} more characters truncated]"


def test_a_secret_straddling_the_cut_is_masked_whole_not_shown_in_part() -> None:
    m = Masker.build(max_chars=100)
    for at in (70, 90, 98):
        out = masked(m, "x" * at + " " + TOKEN + " tail" * 10000)
        assert out.startswith("x" * at + " *** … ["), (at, out[:120])


def test_a_secret_straddling_the_cut_of_a_huge_line_is_masked() -> None:
    m = Masker.build(max_chars=1000)
    out = masked(m, "y" * 990 + TOKEN + "z" * (5 * 1024 * 1024))
    assert out.startswith("y" * 990 + "*** … [")


def _worst_inputs() -> Any:
    path = Path(__file__).resolve().parent.parent / "bench" / "mask_worst.py"
    spec = importlib.util.spec_from_file_location("mask_worst", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_entry_takes_long_whatever_it_holds() -> None:
    """bench/mask_worst.py's adversarial inputs, 4 MiB each: every entry well under half a
    second, a bound fifty times what they cost here (about 10 ms at worst; the bench prints the
    figures), so a busy machine cannot fail it while the old code (13 s) would."""
    bench = _worst_inputs()
    masker = Masker.build()
    bound = 0.5
    slow = []
    for name, messages in bench.inputs(4 * 1024 * 1024):
        seconds = bench.time_case(masker, messages, 2)
        if seconds > bound:
            slow.append((name, round(seconds * 1000, 1)))
    assert not slow, (round(bound * 1000, 1), slow)


def test_the_first_look_never_misses_a_builtin_needle() -> None:
    """``could_hold_builtin`` skips all matching for a line; it must say yes to every needle of
    every built-in pattern (in any case, for the case-insensitive ones)."""
    from journal_proxy.mask.shapes import BUILTINS, could_hold_builtin

    for builtin in BUILTINS:
        for needle in builtin.needles:
            forms = [needle, needle.upper(), needle.title()] if builtin.lower else [needle]
            for form in forms:
                assert could_hold_builtin(f"x {form} y"), (builtin.name, form)


def test_redraws_are_resolved_before_masking() -> None:
    """A progress line shows its final state; a token assembled by overwriting is masked, and a
    token among redrawn states is masked where the states are shown (glued, as before)."""
    assert masked(M, "progress 10%\rprogress 50%\rprogress 100%") == "progress 100%"
    assembled = masked(M, "x" * 4 + TOKEN[4:] + " end\r" + TOKEN[:4])
    assert TOKEN[8:20] not in assembled and "***" in assembled
    hidden = masked(M, f"token {TOKEN}\rdone")
    assert TOKEN[8:20] not in hidden and "***" in hidden
    assert "\r" not in masked(M, "a\rb\r\nc")


def test_a_concealed_sgr_on_an_otherwise_plain_line_is_dropped_by_the_masker() -> None:
    """The masker's fast path (a line with nothing but colours) is ``ansi.is_sanitized``: an SGR
    8 is not "nothing but colours", so what every format shows has it dropped."""
    out = masked(M, "shown \x1b[8mhidden\x1b[0m end")
    assert "\x1b[8m" not in out and out == sanitize(out)
