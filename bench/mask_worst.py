#!/usr/bin/env python3
"""Worst-case cost of masking one entry: adversarial log lines for every built-in pattern.

Why: masking runs on the event loop, once per entry, on text a deploy script (or anyone who can
make it print) controls.  A slow entry holds every other request of the process: before the fix,
20 lines of ``-eyJ`` repeated 12,000 times kept an unrelated request waiting 2.5 s, and one
4 MB line stalled the loop 11.8 s.  This builds, for each pattern, the inputs that make it work
hardest (many starts, long runs that fail at the last character, every needle of the pre-filter,
thousands of escape sequences around a secret, an open private key followed by a huge line) at
``max_chars`` (64 Ki characters, the default) and at 4 MiB, and prints the time of
``MaskSession.apply`` for each, then the worst.

Commands (from the repository root)::

    .venv/bin/python bench/mask_worst.py                  # both sizes, best of 5 per input
    .venv/bin/python bench/mask_worst.py --sizes 65536 --repeat 1

Each input's figure is the best of ``--repeat`` runs (the cost of the input, not of the machine's
noise); the worst figure over all inputs is the one that matters.  ``tests/test_mask.py`` runs
the same inputs at 64 Ki with a generous bound.  Works against older code too (``apply`` when
there is no ``session``), to measure "before".
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from typing import Any

from journal_proxy.journal.entry import Entry
from journal_proxy.mask.masker import Masker

GH = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"


def fill(unit: str, size: int, tail: str = "") -> str:
    """``unit`` repeated to ``size`` characters, then ``tail``."""
    return (unit * (size // len(unit) + 1))[: max(size - len(tail), 0)] + tail


def inputs(size: int) -> Iterator[tuple[str, list[str]]]:
    """(name, messages) for each adversarial case; the messages go through one session in
    order (so an earlier one can open a private key for the next)."""
    yield "plain", [fill("a", size)]
    yield "words", [fill("lorem ipsum dolor ", size)]
    # github
    yield "gh-starts", [fill("ghp_", size)]
    yield "gh-short-runs", [fill("ghp_" + "a" * 19 + " ", size)]
    yield "gh-long-run", [fill("ghp_" + "a" * 300 + "_", size)]
    yield "github_pat-starts", [fill("github_pat_", size)]
    # aws
    yield "akia-starts", [fill("AKIA", size)]
    yield "akia-almost", [fill("AKIA" + "A" * 15 + " ", size)]
    yield "aws-secret-names", [fill("aws_secret_access_key", size)]
    yield "aws-secret-seps", [fill("secret_access_key = '", size)]
    # slack
    yield "xox-starts", [fill("xoxe.xoxp-", size)]
    yield "xox-almost", [fill("xoxb-" + "a" * 9 + " ", size)]
    yield "webhook-starts", [fill("hooks.slack.com/services/", size)]
    # jwt: the input from the report, and variations
    yield "jwt -eyJ", [fill("-eyJ", size)]
    yield "jwt .eyJ", [fill(".eyJ", size)]
    yield "jwt %3DeyJ", [fill("%3DeyJ", size)]
    yield "jwt long-segments", [fill("eyJ" + "a" * 4100 + ".", size)]
    yield "jwt two-segments", [fill(" eyJ" + "a" * 4000 + "." + "b" * 4000 + " ", size)]
    # authorization
    yield "auth-names", [fill("authorization", size)]
    yield "auth-seps", [fill("Authorization: Bearer ", size)]
    yield "auth-spaces", ["Authorization:" + fill(" ", size - 14)]
    yield "auth-encoded", [fill("Authorization%3A%20Bearer%20%22", size)]
    # url password
    yield "url-starts", [fill("://", size)]
    yield "url-colons", ["://" + fill("a:", size - 3)]
    yield "url-almost", [fill("a://" + "b" * 256 + ":" + "c" * 255 + " ", size)]
    yield "url-encoded-starts", [fill("%3A%2F%2F", size)]
    yield "url-encoded-almost", [fill("%3A%2F%2F" + "%41" * 80 + "%3A" + "%42" * 80 + " ", size)]
    # private keys
    yield "key-headers", [fill("-----BEGIN PRIVATE KEY-----", size)]
    yield "key-begins", [fill("BEGIN ", size)]
    yield "key-begin-spaces", [fill("BEGIN" + " " * 41, size)]
    yield "key-dashes", ["-----BEGIN RSA PRIVATE KEY-----" + fill("----E", size - 31)]
    yield (
        "key-then-huge-line",
        ["-----BEGIN RSA PRIVATE KEY-----", fill("QUJD", size), fill("a b", size)],
    )
    # every needle at once
    yield "all-needles", [fill("ghp_AKIAxoxb-eyJ://BEGIN authorization secret %3a%2f%2f", size)]
    # control characters and escape sequences around a secret
    yield "nul-split", [fill("a\x00", size - len(GH), GH)]
    yield "esc-split", [fill("a\x1bb", size - len(GH), GH)]
    yield "sgr-split", [fill("\x1b[31ma", size - len(GH), GH)]
    yield "sgr-just-under-cap", [fill("\x1b[31ma", 2000 * 6) + GH + fill("b", size - 12000)]
    yield "sgr-8", [fill("\x1b[1;8;38;5;8m", size)]
    yield "osc-split", [fill("\x1b]0;t\x07a", size - len(GH), GH)]
    yield "csi-split", [fill("g\x1b[hp_", size)]


def apply_function(masker: Masker) -> Callable[[Entry], Any]:
    """This tree's masking (a session's ``apply``), or an older tree's ``Masker.apply``."""
    session = getattr(masker, "session", None)
    if session is not None:
        return session().apply  # type: ignore[no-any-return]
    older: Callable[[Entry], Any] = getattr(masker, "apply")  # noqa: B009 - not in this tree
    return older


def time_case(masker: Masker, messages: list[str], repeat: int) -> float:
    """Seconds for the slowest entry of ``messages``, best of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        apply = apply_function(masker)
        worst = 0.0
        for message in messages:
            entry = Entry(0, 6, "deploy", message, "deploy.service", (), None, "")
            started = time.perf_counter()
            apply(entry)
            worst = max(worst, time.perf_counter() - started)
        best = min(best, worst)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=f"{64 * 1024},{4 * 1024 * 1024}")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    masker = Masker.build()
    for size in (int(s) for s in args.sizes.split(",")):
        results = [
            (name, time_case(masker, messages, args.repeat)) for name, messages in inputs(size)
        ]
        print(f"\n{size:,} characters per entry (max_chars {masker.max_chars:,})")
        for name, seconds in results:
            print(f"  {name:22} {seconds * 1000:9.2f} ms")
        name, seconds = max(results, key=lambda r: r[1])
        print(f"  worst: {name} {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()
