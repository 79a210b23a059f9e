"""Errors in plain output: what the tools a deploy runs print when they fail.

systemd writes a service's stdout and stderr at the unit's ``SyslogLevel=`` (info), so on a real
deploy log the journal priority says nothing.  This module reads the text instead, one line at a
time, with a little state: a **rule** per kind of output (named, small, tested on real lines in
``tests/test_recognizers.py``) says how an error starts and, for a multi-line error (a Python
traceback, a Java stack trace with ``Caused by:``, Maven's ``[ERROR]`` block, a Go test failure or
panic, rustc's and gcc's source excerpts, BuildKit's error block, Terraform's box), which of the
following lines are still part of it.  Such an error is **one** error with its lines.

The rules live in ``recognizers.toml`` next to this module, one field a line, in the order they
are tried: they are a catalogue that reviewers read and extend (a new tool is a new entry and a
test line, not new code), and a table of sixty constructor calls in Python repeated one shape.
This module keeps what is code: :class:`Rule`, the loader, the few starts that are tests rather
than patterns (:data:`_TESTS`), and the matching.  The catalogue is read once, at import, and
checked there: an unknown key, grade, test or ``<<fragment>>``, or a pattern that does not compile
or could backtrack, stops the import with the rule's name.

Each rule has a **grade**, which ranking reads (:mod:`journal_proxy.triage.combined`):

* ``CAUSE`` (2): the error itself (a compiler error, an exception, ``fatal: ...``);
* ``ECHO`` (1): a line that only reports that something before it failed (``make: *** Error 1``,
  ``FAIL <package>``, ``npm ERR! code ELIFECYCLE``, Maven's ``Failed to execute goal``): chosen as
  the cause only when nothing better is there;
* ``END`` (0): a runner's own line that the job failed here (``Process completed with exit code
  1``, Jenkins' ``marked build as failure``), which ranks like systemd's failure line.

Bounded work per line: only the first :data:`SCAN_CHARS` characters are read; every regular
expression here is anchored or starts with a literal, and none nests unbounded repetition (each is
checked like an operator's pattern at import, :func:`journal_proxy.patterns.compile_pattern`), so
a line costs time linear in that prefix (``tests/test_recognizers.py`` times a 1 MB adversarial
line against each rule; ``bench/triage_cost.py`` measures the cost per entry).  Everything here
reads masked text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from typing import Literal

from journal_proxy.errors import ConfigError
from journal_proxy.patterns import compile_linear
from journal_proxy.terminal.styles import strip_sgr

Level = Literal["error", "warning"]
CAUSE, ECHO, END = 2, 1, 0
#: Recognition reads at most this much of a line: error words come first, and a 1 MB line costs
#: what a 2 KiB one does.
SCAN_CHARS = 2048
#: A multi-line error keeps at most this many lines; the next line then starts afresh.
MAX_BLOCK = 400

#: BuildKit prefixes a step's output with ``#8 12.34 ``: read what the step printed.
_BUILDKIT_OUTPUT = re.compile(r"#\d{1,6} \d{1,6}\.\d{1,6} ")


def _rx(name: str, pattern: str) -> re.Pattern[str]:
    """A rule's pattern, checked like an operator's (no nested unbounded repetition)."""
    return compile_linear(f"recognizer {name}", pattern)


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of error (or warning) in plain output.

    ``first``: the characters a (left-trimmed) line it matches can start with, or ``""`` when
    ``needle`` (a substring the line must hold) selects it instead; ``start``: the pattern (or a
    test) for its first line; ``cont``: the pattern of the lines that continue it; ``end``: a
    continuing line that is its last; ``key``: a continuing line worth showing in a summary
    (``Caused by:``, the exception line closing a traceback), which also makes the error a
    cause when the rule's own grade is lower (a ``--- FAIL`` with a message of its own).
    """

    name: str
    level: Level
    grade: int
    first: str
    start: re.Pattern[str] | Callable[[str], bool]
    needle: str = ""
    cont: re.Pattern[str] | None = None
    #: Substrings of which a line must hold one before the start is tried: a few ``in`` tests
    #: spare most lines the patterns of the rules that can start with any word.
    requires: tuple[str, ...] = ()
    end: re.Pattern[str] | None = None
    key: re.Pattern[str] | None = None

    def starts(self, text: str) -> bool:
        start = self.start
        if isinstance(start, re.Pattern):
            return start.match(text) is not None
        return start(text)


#: How a failed system call reads (strerror), at the end of a tool's ``tool: path: reason``.
_ERRNO = (
    ": No such file or directory",
    ": Permission denied",
    ": No space left on device",
    ": Read-only file system",
    ": Operation not permitted",
    ": Connection refused",
    ": Connection timed out",
    ": Network is unreachable",
    ": Is a directory",
    ": Not a directory",
    ": Directory not empty",
    ": Out of memory",
    ": Disk quota exceeded",
)


def _rstripped(text: str) -> str:
    """``text`` without trailing white space, copied only when it has some (most lines end in a
    visible character).  :func:`_errno`, tried on every line that starts with a letter, spells
    the same test out in line, to spare that line a call."""
    return text.rstrip() if text[-1:].isspace() else text


def _errno(text: str) -> bool:
    """``mv: cannot stat 'x': No such file or directory``-style lines: a tool, then strerror.
    Tried on every line that starts with a letter, so the common case is one C call."""
    return text.endswith(_ERRNO) or (text[-1:].isspace() and text.rstrip().endswith(_ERRNO))


def _pytest_totals(text: str) -> bool:
    """``==== 2 failed, 10 passed in 1.2s ====``: pytest's closing line when tests failed."""
    return (
        text.startswith("==")
        and _rstripped(text).endswith("==")
        and (" failed" in text or " error" in text)
    )


def _command_not_found(text: str) -> bool:
    """bash's ``line 3: foo: command not found`` and dash's ``3: foo: not found``."""
    return _rstripped(text).endswith(("command not found", ": not found"))


def _surefire(text: str) -> bool:
    """Surefire's ``Tests run: 6, Failures: 1 ... <<< FAILURE!`` and a test's ``<<< ERROR!``."""
    return "<<< FAILURE!" in text or "<<< ERROR!" in text


# -- the catalogue (recognizers.toml) ---------------------------------------------------------
#: The starts written in Python, by the name a rule's ``start_test`` gives: a test that a
#: pattern would say less clearly (a line's end, two substrings anywhere).
_TESTS: dict[str, Callable[[str], bool]] = {
    "errno": _errno,
    "pytest-totals": _pytest_totals,
    "command-not-found": _command_not_found,
    "surefire": _surefire,
}
_GRADES = {"cause": CAUSE, "echo": ECHO, "end": END}
_LEVELS: dict[str, Level] = {"error": "error", "warning": "warning"}
#: The keys a ``[[rule]]`` may have: the fields of :class:`Rule`, and ``start_test`` (a misspelt
#: key would otherwise be ignored).
_KEYS = frozenset({field.name for field in fields(Rule)} | {"start_test"})
#: ``<<name>>``: a ``[fragments]`` entry.  Not ``{name}``, which regular expressions use
#: (``{0,300}``); no pattern here holds ``<<`` followed by a letter and ``>>``.
_PLACEHOLDER = re.compile(r"<<([a-z_]+)>>")


def _expand(where: str, text: str, fragments: Mapping[str, str]) -> str:
    """``text`` with each ``<<name>>`` replaced by its fragment; an unknown name stops the load
    (a typo would otherwise become a pattern that never matches)."""

    def fragment(m: re.Match[str]) -> str:
        found = fragments.get(m.group(1))
        if found is None:
            known = ", ".join(fragments) or "none"
            raise ConfigError(f"recognizer {where}: no fragment <<{m.group(1)}>> (known: {known})")
        return found

    return _PLACEHOLDER.sub(fragment, text)


def _fragments(table: object) -> dict[str, str]:
    """The ``[fragments]`` table, each expanded with the fragments above it."""
    if not isinstance(table, dict):
        raise ConfigError("recognizers: [fragments] must be a table")
    fragments: dict[str, str] = {}
    for name, text in table.items():
        if _PLACEHOLDER.fullmatch(f"<<{name}>>") is None or not isinstance(text, str):
            raise ConfigError(f"recognizers: fragment {name!r} must be a-z_ naming a string")
        fragments[name] = _expand(f"fragment {name}", text, fragments)
    return fragments


def _text(entry: Mapping[str, object], name: str, key: str) -> str | None:
    """A rule's string field, or None when it has none."""
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"recognizer {name}: {key} must be a string")
    return value


def _words(entry: Mapping[str, object], name: str, key: str) -> tuple[str, ...]:
    """A rule's list of strings (``requires``)."""
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise ConfigError(f"recognizer {name}: {key} must be a list of strings")
    return tuple(value)


def _start(
    entry: Mapping[str, object], name: str, fragments: Mapping[str, str]
) -> re.Pattern[str] | Callable[[str], bool]:
    """A rule's ``start`` pattern or its ``start_test`` (exactly one of them)."""
    pattern, test = _text(entry, name, "start"), _text(entry, name, "start_test")
    if (pattern is None) == (test is None):
        raise ConfigError(f"recognizer {name}: needs one of start and start_test")
    if pattern is not None:
        return _rx(f"{name}.start", _expand(f"{name}.start", pattern, fragments))
    if test not in _TESTS:
        raise ConfigError(f"recognizer {name}: no start_test {test!r} (known: {', '.join(_TESTS)})")
    return _TESTS[test]


def _rule(entry: object, fragments: Mapping[str, str]) -> Rule:
    """One ``[[rule]]`` entry, its patterns compiled and checked."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ConfigError(f"recognizers: a [[rule]] without a name: {entry!r}")
    name: str = entry["name"]
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ConfigError(f"recognizer {name}: unknown key(s) {', '.join(unknown)}")
    level, grade = _text(entry, name, "level"), _text(entry, name, "grade")
    level = "error" if level is None else level
    if level not in _LEVELS:
        raise ConfigError(f"recognizer {name}: level {level!r} is not error or warning")
    if grade not in _GRADES:
        raise ConfigError(f"recognizer {name}: grade {grade!r} is not cause, echo or end")
    first = _expand(f"{name}.first", _text(entry, name, "first") or "", fragments)
    needle = _text(entry, name, "needle") or ""
    if bool(first) == bool(needle):
        raise ConfigError(f"recognizer {name}: needs one of first and needle")

    def pattern(part: str) -> re.Pattern[str] | None:
        text = _text(entry, name, part)
        where = f"{name}.{part}"
        return None if text is None else _rx(where, _expand(where, text, fragments))

    return Rule(
        name=name,
        level=_LEVELS[level],
        grade=_GRADES[grade],
        first=first,
        start=_start(entry, name, fragments),
        needle=needle,
        cont=pattern("cont"),
        requires=_words(entry, name, "requires"),
        end=pattern("end"),
        key=pattern("key"),
    )


def load_rules(text: str) -> tuple[Rule, ...]:
    """The rules of a catalogue in ``recognizers.toml``'s form, in its order (the first that
    matches wins); :class:`~journal_proxy.errors.ConfigError` naming the rule at the first fault.
    A function of the text, so that tests can try faulty catalogues."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"recognizers: not TOML: {exc}") from exc
    unknown = sorted(set(data) - {"fragments", "rule"})
    entries = data.get("rule")
    if unknown or not isinstance(entries, list):
        raise ConfigError("recognizers: expected [fragments] and [[rule]] entries only")
    fragments = _fragments(data.get("fragments", {}))
    rules = tuple(_rule(entry, fragments) for entry in entries)
    names = [rule.name for rule in rules]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        # the matching orders and caches the rules by name
        raise ConfigError(f"recognizers: rule names used twice: {', '.join(twice)}")
    return rules


def _catalogue() -> str:
    """The package's ``recognizers.toml`` (package data, so also inside a wheel or zip)."""
    return (
        resources.files("journal_proxy.triage")
        .joinpath("recognizers.toml")
        .read_text(encoding="utf-8")
    )


#: The built-in rules, most specific first (the first that matches wins).
RULES: tuple[Rule, ...] = load_rules(_catalogue())


def _dispatch(rules: tuple[Rule, ...]) -> dict[str, tuple[Rule, ...]]:
    """The rules by the first character of a line, in order."""
    by_first: dict[str, list[Rule]] = {}
    for rule in rules:
        for ch in rule.first:
            by_first.setdefault(ch, []).append(rule)
    return {ch: tuple(found) for ch, found in by_first.items()}


@dataclass(frozen=True, slots=True)
class _Plan:
    """How :func:`first_rule` tries the rules of one first character (or the rules after one of them): one
    search of ``combined`` (the start patterns of the rules that have one, as one
    alternation whose group ``n`` is ``rules[position[n]]``: the first of them that matches, as
    Python's alternation tries its branches in order), then only the rules before it that test
    the line in Python (``tests``).  When the ``requires`` of the rule matched does not hold, the
    plan of the rules after it goes on."""

    rules: tuple[Rule, ...]
    combined: re.Pattern[str] | None
    position: tuple[int, ...]
    tests: tuple[tuple[int, Rule, Callable[[str], bool]], ...]


def _plan(rules: tuple[Rule, ...], made: dict[tuple[str, ...], _Plan]) -> _Plan:
    """The plan for ``rules`` (shared between the characters whose lists end alike)."""
    names = tuple(rule.name for rule in rules)
    if names in made:
        return made[names]
    branches, position, tests = [], [0], []
    for i, rule in enumerate(rules):
        if isinstance(rule.start, re.Pattern):
            branches.append(f"({rule.start.pattern})")
            position.append(i)
        else:
            tests.append((i, rule, rule.start))
    combined = _rx("+".join(names), "|".join(branches)) if branches else None
    made[names] = plan = _Plan(rules, combined, tuple(position), tuple(tests))
    return plan


_ORDER = {rule.name: i for i, rule in enumerate(RULES)}
_BY_FIRST = _dispatch(RULES)
#: The plans by rules (at most one per rule and first character, each made once, when needed).
_MADE: dict[tuple[str, ...], _Plan] = {}
_PLANS = {ch: _plan(rules, _MADE) for ch, rules in _BY_FIRST.items()}
_BY_NEEDLE = tuple(rule for rule in RULES if rule.needle)
#: The rules' substrings: most lines hold none (one search of them all).
_NEEDLES = tuple(dict.fromkeys(rule.needle for rule in _BY_NEEDLE))


def plain(message: str) -> str:
    """What a rule reads of a message: its first :data:`SCAN_CHARS` characters, without colours,
    and without BuildKit's step prefix."""
    text = message[:SCAN_CHARS]
    if "\x1b" in text:
        text = strip_sgr(text)  # masked text: colours are its only sequences
    if text[:1] == "#":
        m = _BUILDKIT_OUTPUT.match(text)
        if m is not None:
            text = text[m.end() :]
    return text


def _holds_one(text: str, parts: tuple[str, ...]) -> bool:
    for part in parts:
        if part in text:
            return True
    return not parts


def _first_by_plan(plan: _Plan | None, trimmed: str) -> Rule | None:
    """The first of a character's rules whose start matches (and whose ``requires`` holds)."""
    while plan is not None:
        m = plan.combined.match(trimmed) if plan.combined is not None else None
        group = 0 if m is None else m.lastindex or 0
        stop = plan.position[group] if group else len(plan.rules)
        for i, rule, test in plan.tests:
            if i >= stop:
                break
            if (not rule.requires or _holds_one(trimmed, rule.requires)) and test(trimmed):
                return rule
        if not group:
            return None
        found = plan.rules[stop]
        if not found.requires or _holds_one(trimmed, found.requires):
            return found
        plan = _plan(plan.rules[stop + 1 :], _MADE)  # a line rarely gets here
    return None


def first_rule(text: str) -> Rule | None:
    """The first rule whose start matches ``text`` (already :func:`plain`), or None."""
    trimmed = text.lstrip(" \t")
    best = _first_by_plan(_PLANS.get(trimmed[:1]), trimmed)
    for needle in _NEEDLES:  # a few `in` tests: half the cost of one search for them all
        if needle in trimmed:
            break
    else:
        return best
    for rule in _BY_NEEDLE:
        earlier = best is None or _ORDER[rule.name] < _ORDER[best.name]
        if earlier and rule.needle in trimmed and rule.starts(trimmed):
            best = rule
    return best


class Scanner:
    """Reads one log's lines in order; remembers the multi-line error that is still open."""

    __slots__ = ("_lines", "_open")

    def __init__(self) -> None:
        self._open: Rule | None = None
        self._lines = 0

    def scan(self, message: str) -> tuple[Rule, bool, bool] | None:
        """``(rule, continued, key)`` for an error or warning line, else None.  ``continued``: the
        line is a later line of the error that started before it; ``key``: worth showing."""
        text = plain(message)
        rule = self._open
        if rule is not None and rule.cont is not None:
            if self._lines < MAX_BLOCK and rule.cont.match(text) is not None:
                self._lines += 1
                if rule.end is not None and rule.end.match(text) is not None:
                    self._open = None
                key = rule.key is not None and rule.key.match(text) is not None
                return rule, True, key
            if rule.end is not None and rule.end.match(text) is not None:
                self._open = None
                return rule, True, rule.key is not None and rule.key.match(text) is not None
            self._open = None
        found = first_rule(text)
        if found is not None and found.cont is not None:
            self._open, self._lines = found, 1
        return (found, False, False) if found is not None else None

    def close(self) -> None:
        """The next line cannot continue an error (a group marker, another command's line)."""
        self._open = None
