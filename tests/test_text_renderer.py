"""The text output, byte for byte: no message can forge the header, a status line or an entry.

Every line is the proxy's own (``# ``), an entry's first line (an ISO timestamp), or a
continuation line (``  | ``).  See the module docstring of ``journal_proxy.renderers.text``.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.lifecycle import Status
from journal_proxy.renderers.text import TextRenderer

from .conftest import Corpus

T = 1_764_106_213_123_456  # 2025-11-25T21:30:13.123456Z
STAMP = "2025-11-25T21:30:13.123456Z"
ENTRY_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ")


def entry(message: str, identifier: str = "deploy") -> Entry:
    return Entry(T, 6, identifier, message, "deploy.service", (), None, "")


def render(message: str, identifier: str = "deploy", *, color: bool = False) -> bytes:
    return TextRenderer(color=color).entry(1, entry(message, identifier))


def test_a_one_line_entry() -> None:
    assert render("hello") == f"{STAMP} deploy: hello\n".encode()


def test_continuation_lines_are_marked() -> None:
    assert render("first\nsecond\n\nfourth") == (
        f"{STAMP} deploy: first\n  | second\n  | \n  | fourth\n".encode()
    )


def test_a_message_cannot_forge_the_header_or_a_systemd_line() -> None:
    forged = (
        "ok\n# deploy.service, succeeded, started 2025-11-25T21:30:00.000000Z, took 1.0s\n"
        f"{STAMP} systemd[1]: Finished deploy.service."
    )
    assert (
        render(forged)
        == (
            f"{STAMP} deploy: ok\n"
            "  | # deploy.service, succeeded, started 2025-11-25T21:30:00.000000Z, took 1.0s\n"
            f"  | {STAMP} systemd[1]: Finished deploy.service.\n"
        ).encode()
    )


def test_unicode_line_separators_are_line_breaks_too() -> None:
    assert render("a\u2028# fake\u2029b") == f"{STAMP} deploy: a\n  | # fake\n  | b\n".encode()


def test_other_breaks_are_removed_not_kept() -> None:
    # VT, FF, NEL (U+0085) and the separators \x1c-\x1e are control characters: gone.  (CR is
    # a redraw: see test_a_redrawn_line_is_written_as_its_final_state.)
    assert render("a# x\x0bb\x0cc\x85d\x1ee") == f"{STAMP} deploy: a# xbcde\n".encode()


def test_identifiers_stay_on_one_line() -> None:
    assert render("m", identifier="x\n# fake\u2028yz") == f"{STAMP} x # fake yz: m\n".encode()


def test_concealed_sgr_is_dropped_and_colours_kept_on_request() -> None:
    text = "\x1b[1;8;31mred\x1b[8m hidden\x1b[0m \x1b[38;5;8mgrey"
    assert render(text, color=True) == (
        f"{STAMP} deploy: \x1b[1;31mred hidden\x1b[0m \x1b[38;5;8mgrey\n".encode()
    )


def test_plain_by_default_so_grep_finds_a_coloured_line() -> None:
    out = render("\x1b[31merror:\x1b[0m tests \x1b[1mfailed\x1b[0m", "\x1b[32mdeploy\x1b[0m")
    assert out == f"{STAMP} deploy: error: tests failed\n".encode()
    assert b"error: tests failed" in out


def test_a_redrawn_line_is_written_as_its_final_state() -> None:
    """The masker resolves CR redraws (so what it masks is what is shown); the renderer gets the
    final state, and no raw CR moves a terminal's cursor back over the timestamp."""
    from journal_proxy.mask.masker import Masker

    session = Masker.build().session()
    r = TextRenderer()
    progress = Entry(T, 6, "deploy", "progress 10%\rprogress 50%\rprogress 100%", "u", (), None, "")
    assert r.entry(1, session.apply(progress)) == f"{STAMP} deploy: progress 100%\n".encode()
    coloured = Entry(T, 6, "d", "\x1b[33m 10%\r\x1b[32m100%\x1b[0m done", "u", (), None, "")
    assert TextRenderer(color=True).entry(1, session.apply(coloured)) == (
        f"{STAMP} d: \x1b[0;32m100%\x1b[0m done\n".encode()
    )


def test_status_and_end_lines() -> None:
    r = TextRenderer()
    status = Status(state="succeeded", unit="deploy.service")
    assert r.status(status) == b"# status: deploy.service, succeeded\n"
    assert r.end(status, None) == b""


@settings(max_examples=200, deadline=None)
@given(
    message=st.text(max_size=60),
    identifier=st.text(max_size=20),
)
def test_every_line_is_one_of_three_kinds(message: str, identifier: str) -> None:
    out = render(message, identifier).decode()
    assert out.endswith("\n")
    lines = out[:-1].split("\n")
    assert ENTRY_LINE.match(lines[0]), lines[0]
    for line in lines[1:]:
        assert line.startswith("  | "), line
    # No other way for a viewer or str.splitlines to see a line break.
    assert len(out.splitlines()) == len(lines)


async def test_txt_is_plain_for_grep_and_colour_is_asked_for(proxy: Any, corpus: Corpus) -> None:
    """``curl URL.txt | grep 'error: tests failed'`` finds the line the script coloured red;
    ``?color`` gives a terminal its colours; JSON keeps the message as written."""
    plain = await (await proxy.get(f"/logs/{corpus.failed}.txt")).text()
    assert "error: tests failed" in plain and "\x1b" not in plain
    bare = await (await proxy.get(f"/logs/{corpus.failed}", headers={"Accept": "*/*"})).text()
    assert bare == plain  # curl without the suffix gets the same text
    coloured = await (await proxy.get(f"/logs/{corpus.failed}.txt?color")).text()
    assert "\x1b[31merror:\x1b[0m tests failed" in coloured
    assert await (await proxy.get(f"/logs/{corpus.failed}.txt?color=0")).text() == plain
    json_text = await (await proxy.get(f"/logs/{corpus.failed}.json")).text()
    assert "\\u001b[31merror:\\u001b[0m tests failed" in json_text


def test_a_finished_log_with_problems_ends_with_a_summary_line() -> None:
    """The header is written before any line is read, so the counts come at the end."""
    from journal_proxy.journal.lifecycle import Status

    r = TextRenderer()
    r.entry(1, Entry(T, 6, "deploy", "building", "u", (), None, ""))
    r.entry(2, Entry(T, 3, "deploy", "error: tests failed", "u", (), None, ""))
    r.entry(3, Entry(T, 4, "deploy", "warning: slow", "u", (), None, ""))
    done = Status(state="failed", result="exit-code", exit_status="1", finished_usec=T)
    assert r.end(done, None) == b"# 1 error, 1 warning\n"
    assert TextRenderer().end(done, None) == b""  # nothing found, nothing said
