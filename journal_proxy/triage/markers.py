"""Workflow commands that programs write into their own output, recognised in one place.

Deploy scripts are often CI scripts run by systemd, and already print the markers CI log viewers
understand.  This module reads them from one message, without any state:

* GitHub Actions: ``::group::Title``, ``::endgroup::``, ``::error file=a.py,line=3::message``,
  ``::warning ...::message`` (properties ``name=value`` separated by commas), and the older
  ``##[group]Title``, ``##[endgroup]``, ``##[error]message``, ``##[warning]message``;
* Buildkite: ``--- Title`` (a collapsed group), ``+++ Title`` (expanded), ``~~~ Title``
  (collapsed and de-emphasised), ``^^^ +++`` (expand the group the output is in).  The three
  characters must be followed by a space (a bare ``---`` is YAML), and ``git diff``'s
  ``--- a/path``, ``+++ b/path`` and ``/dev/null`` lines and ``go test``'s ``--- FAIL: TestX``
  (``PASS``, ``SKIP``) are not headers.

A command must start the message (after spaces or tabs, as the GitHub runner trims).  Everything
returned (titles, messages, property names and values) is log text: hostile, shown only escaped.

GitHub's percent escapes (``%25 %0D %0A %3A %2C``) are left as written, on purpose: the text here
was masked as written, and decoding it could assemble a secret the masker never saw
(``https%3A//deploy%3As3cr3t@host``, an operator's literal secret with a comma).  An escaped comma
is still not a separator, so properties split correctly.

Most lines start with none of the few characters a command can start with, so the common case
costs one lookup in a set (see ``bench/triage_cost.py``).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

#: Characters a command (or the blanks before it) can start with: anything else is no command.
FIRST_CHARACTERS = frozenset(":#-+~^ \t")

GroupKind = Literal["start", "end", "reopen"]
GroupStyle = Literal["collapsed", "expanded", "quiet"]
CommandLevel = Literal["error", "warning"]

#: Longest group title kept; a title is a header, not a place for a whole log line.
MAX_TITLE = 200
#: At most this many properties are read from one command, each name at most 32 characters.
MAX_PROPERTIES = 8


class GroupCommand(NamedTuple):
    """A group marker.  ``start`` opens a group titled ``title`` (and closes the one before:
    groups do not nest, in GitHub Actions or in Buildkite); ``end`` closes the open group;
    ``reopen`` (Buildkite ``^^^ +++``) asks for the group the output is in to be expanded."""

    kind: GroupKind
    title: str = ""
    style: GroupStyle = "collapsed"


class AnnotationCommand(NamedTuple):
    """``::error``/``::warning`` (or ``##[error]``/``##[warning]``): the level, the message after
    the marker, and the properties as written (``file``, ``line``, ``col``, ``title``, ...)."""

    level: CommandLevel
    message: str
    params: tuple[tuple[str, str], ...] = ()


Command = GroupCommand | AnnotationCommand

_END = GroupCommand("end")
_REOPEN = GroupCommand("reopen")
_GITHUB = re.compile(r"::([A-Za-z-]{1,32})(?: ([^:\n]{0,4096}))?::")
_GITHUB_V1 = re.compile(r"##\[([A-Za-z-]{1,32})(?: ([^\]\n]{0,4096}))?\]")
_BUILDKITE: dict[str, GroupStyle] = {"---": "collapsed", "+++": "expanded", "~~~": "quiet"}
#: ``git diff`` output starts lines with ``--- a/path`` and ``+++ b/path``, and ``go test -v``
#: reports each test with ``--- FAIL: TestX (0.01s)`` (``PASS``, ``SKIP``): none is a header.
_NOT_TITLES = ("a/", "b/", "/dev/null", "FAIL: ", "PASS: ", "SKIP: ")


def _title(text: str) -> str:
    """A header's text: its first line, without surrounding blanks, bounded."""
    return text.split("\n", 1)[0].strip()[:MAX_TITLE]


def _params(raw: str | None, separator: str) -> tuple[tuple[str, str], ...]:
    if not raw:
        return ()
    out: list[tuple[str, str]] = []
    for part in raw.split(separator, MAX_PROPERTIES)[:MAX_PROPERTIES]:
        name, sep, value = part.partition("=")
        name = name.strip()
        if sep and name and len(name) <= 32:
            out.append((name, value.strip()))
    return tuple(out)


def _command(name: str, raw_params: str | None, data: str, separator: str) -> Command | None:
    name = name.lower()
    if name == "group":
        return GroupCommand("start", _title(data))
    if name == "endgroup":
        return _END
    if name in ("error", "warning"):
        level: CommandLevel = "error" if name == "error" else "warning"
        return AnnotationCommand(level, data, _params(raw_params, separator))
    return None


def parse_command(message: str) -> Command | None:
    """The workflow command ``message`` starts with, or None."""
    if not message or message[0] not in FIRST_CHARACTERS:
        return None
    text = message
    if text[0] in " \t":
        text = text.lstrip(" \t")
        if not text or text[0] not in FIRST_CHARACTERS:
            return None
    first = text[0]
    if first == ":":
        m = _GITHUB.match(text)
        return _command(m[1], m[2], text[m.end() :], ",") if m else None
    if first == "#":
        m = _GITHUB_V1.match(text)
        return _command(m[1], m[2], text[m.end() :], ";") if m else None
    head = text[:4]
    if head == "^^^ " and text[4:].strip() == "+++":
        return _REOPEN
    style = _BUILDKITE.get(text[:3])
    if style is None or len(text) < 4 or text[3] != " ":
        return None  # a bare "---" is a YAML document start or a rule, not a header
    title = _title(text[4:])
    if title.startswith(_NOT_TITLES):
        return None
    return GroupCommand("start", title, style)
