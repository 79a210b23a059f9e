"""Errors in plain output: what the tools a deploy runs print when they fail.

systemd writes a service's stdout and stderr at the unit's ``SyslogLevel=`` (info), so on a real
deploy log the journal priority says nothing.  This module reads the text instead, one line at a
time, with a little state: a **rule** per kind of output (named, small, tested on real lines in
``tests/test_recognizers.py``) says how an error starts and, for a multi-line error (a Python
traceback, a Java stack trace with ``Caused by:``, Maven's ``[ERROR]`` block, a Go test failure or
panic, rustc's and gcc's source excerpts, BuildKit's error block, Terraform's box), which of the
following lines are still part of it.  Such an error is **one** error with its lines.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_PATHS = _UPPER + _LOWER + "./_~"
_INDENTED = r"[ \t]"
_JAVA_FRAME = r"[ \t]*+(?:at |\.\.\. \d++ (?:more|common frames omitted)|Caused by: |Suppressed: )"
_JAVA_EXCEPTION = r"[a-z_$][\w$]*+\.[\w$.]{0,300}(?:Exception|Error|Throwable|Failure)(?::|$)"
#: Lines a Go panic or fatal error goes on with: its goroutine dumps (not indented themselves).
_GO_TRACE = r"$|[ \t]|goroutine \d|\[signal |created by |.{0,2000}+(?<=\))$"
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


def _errno(text: str) -> bool:
    """``mv: cannot stat 'x': No such file or directory``-style lines: a tool, then strerror."""
    return text.rstrip().endswith(_ERRNO)


def _pytest_totals(text: str) -> bool:
    """``==== 2 failed, 10 passed in 1.2s ====``: pytest's closing line when tests failed."""
    return (
        text.startswith("==")
        and text.rstrip().endswith("==")
        and (" failed" in text or " error" in text)
    )


def _command_not_found(text: str) -> bool:
    """bash's ``line 3: foo: command not found`` and dash's ``3: foo: not found``."""
    return text.rstrip().endswith(("command not found", ": not found"))


def _surefire(text: str) -> bool:
    """Surefire's ``Tests run: 6, Failures: 1 ... <<< FAILURE!`` and a test's ``<<< ERROR!``."""
    return "<<< FAILURE!" in text or "<<< ERROR!" in text


_r = _rx

_GENERIC_CONT = _r("generic.cont", r"[ \t]++\S|\d++[ \t]*+\||│")
#: The built-in rules, most specific first (the first that matches wins).
RULES: tuple[Rule, ...] = (
    # -- runners: where the job failed (after that, cleanup) -----------------------------
    Rule(
        "github-runner",
        "error",
        END,
        "EP",
        _r("github-runner", r"(?:Error: )?Process completed with exit code [1-9]"),
    ),
    Rule(
        "jenkins",
        "error",
        END,
        "B",
        _r("jenkins", r"Build step '[^'\n]{0,200}+' marked build as failure"),
    ),
    Rule("jenkins-result", "error", ECHO, "F", _r("jenkins-result", r"Finished: FAILURE")),
    # -- Python ------------------------------------------------------------------------
    Rule(
        "python-traceback",
        "error",
        CAUSE,
        "T",
        _r("python-traceback", r"Traceback \(most recent call last\):"),
        cont=_r("python.cont", _INDENTED),
        end=_r("python.end", r"[A-Za-z_][\w.]*+(?::|$)"),
        key=_r("python.key", r"[A-Za-z_][\w.]*+(?::|$)"),
    ),
    Rule(
        "pytest",
        "error",
        CAUSE,
        "FE",
        _r("pytest", r"(?:FAILED|ERROR) \S++(?:::| - )|E {3}"),
        cont=_r("pytest.cont", r"(?:FAILED|ERROR) \S|E  "),
    ),
    Rule("pytest-totals", "error", ECHO, "=", _pytest_totals),
    # -- Java: exceptions, Maven, Gradle, surefire -----------------------------------
    Rule(
        "maven-goal",
        "error",
        ECHO,
        "[",
        _r("maven-goal", r"\[(?:ERROR|FATAL)\] Failed to execute goal"),
        cont=_r("maven.cont", r"\[(?:ERROR|FATAL)\](?: |$)"),
    ),
    Rule(
        "maven",
        "error",
        CAUSE,
        "[",
        _r("maven", r"\[(?:ERROR|FATAL)\] \S"),
        cont=_r("maven.cont2", r"\[(?:ERROR|FATAL)\](?: |$)"),
    ),
    Rule("maven-result", "error", ECHO, "[B", _r("maven-result", r"(?:\[INFO\] )?BUILD FAILURE")),
    Rule(
        "surefire",
        "error",
        CAUSE,
        "",
        _surefire,
        needle="<<< ",
        cont=_r("surefire.cont", _JAVA_FRAME + "|" + _JAVA_EXCEPTION + r"|$|[^<\n]{0,300}+<<< "),
    ),
    Rule(
        "java-exception",
        "error",
        CAUSE,
        _LOWER + "_$EC",
        _r(
            "java-exception",
            r"(?:Exception in thread \"[^\"\n]{0,200}+\" |Caused by: )?" + _JAVA_EXCEPTION,
        ),
        cont=_r("java.cont", _JAVA_FRAME),
        key=_r("java.key", r"Caused by: "),
        requires=("Exception", "Error", "Throwable", "Failure"),
    ),
    Rule(
        "javac",
        "error",
        CAUSE,
        "",
        _r("javac", r"[^\s:]*\.java:\d++: error: "),
        needle=".java:",
        cont=_r("javac.cont", _INDENTED),
    ),
    Rule(
        "gradle",
        "error",
        CAUSE,
        "F",
        _r("gradle", r"FAILURE: Build (?:failed with an exception|completed with)"),
        cont=_r("gradle.cont", r"(?!BUILD FAILED)"),
        end=_r("gradle.end", r"\* Try:"),
    ),
    Rule(
        "gradle-test",
        "error",
        CAUSE,
        _UPPER + _LOWER,
        _r("gradle-test", r"[\w.$]++ > .*FAILED$"),
        cont=_r("gradle-test.cont", _INDENTED),
        requires=(" > ",),
    ),
    Rule("build-failed", "error", ECHO, "B", _r("build-failed", r"BUILD FAILED")),
    # -- Go ------------------------------------------------------------------------------
    # ``go test -v`` prints a test's messages before its ``--- FAIL``, which then only
    # echoes them; a message after it (``    x_test.go:12: ...``) makes it the cause.
    Rule(
        "go-test",
        "error",
        ECHO,
        "-",
        _r("go-test", r"--- FAIL: "),
        cont=_r("go-test.cont", r"[ \t]++(?!--- (?:PASS|SKIP))"),
        key=_r("go-test.key", r"[ \t]++(?!--- )\S"),
    ),
    Rule(
        "go-panic",
        "error",
        CAUSE,
        "pf",
        _r("go-panic", r"panic: |fatal error: (?!\w++\.h)"),
        cont=_r("go-panic.cont", _GO_TRACE),
    ),
    Rule("go-fail", "error", ECHO, "F", _r("go-fail", r"FAIL(?:\t|$)")),
    Rule(
        "go-build",
        "error",
        CAUSE,
        "",
        _r("go-build", r"[^\s:]*\.go:\d++(?::\d++)?: "),
        needle=".go:",
        cont=_r("go-build.cont", r"\t"),
    ),
    Rule("go-exit", "error", ECHO, "e", _r("go-exit", r"exit status [1-9]")),
    Rule(
        "go-mod",
        "error",
        CAUSE,
        "g",
        _r(
            "go-mod",
            r"go: (?!downloading |finding |extracting |upgraded |added |creating |"
            r"found |downgraded |removed )\S",
        ),
    ),
    # -- C, C++, make, linkers ----------------------------------------------------------
    Rule(
        "cc",
        "error",
        CAUSE,
        "",
        _r("cc", r"[^\s:]++:\d++:(?:\d++:)? (?:fatal )?error: "),
        needle="error: ",
        cont=_r("cc.cont", r"[ \t]|\d++ \|"),
    ),
    Rule("make", "error", ECHO, "mg", _r("make", r"g?make(?:\[\d++\])?: \*\*\* \[")),
    Rule("make-rule", "error", CAUSE, "mg", _r("make-rule", r"g?make(?:\[\d++\])?: \*\*\* ")),
    Rule(
        "linker",
        "error",
        CAUSE,
        "",
        _r("linker", r".{0,300}?undefined reference to"),
        needle="undefined reference",
    ),
    # -- Rust ---------------------------------------------------------------------------
    Rule(
        "cargo",
        "error",
        ECHO,
        "e",
        _r("cargo", r"error: (?:could not compile|aborting due to|test failed)"),
    ),
    Rule(
        "rustc",
        "error",
        CAUSE,
        "e",
        _r("rustc", r"error\[E\d{4}\]: "),
        cont=_r("rustc.cont", r"[ \t]|\d++[ \t]*+\||= "),
    ),
    Rule(
        "rust-panic",
        "error",
        CAUSE,
        "t",
        _r("rust-panic", r"thread '[^'\n]{0,300}+' panicked at"),
        cont=_r("rust-panic.cont", r"note: |stack backtrace:|[ \t]"),
    ),
    Rule("rust-test", "error", CAUSE, "t", _r("rust-test", r"test \S++ \.\.\. FAILED")),
    Rule("test-result", "error", ECHO, "t", _r("test-result", r"test result: FAILED")),
    # -- JavaScript ---------------------------------------------------------------------
    Rule(
        "npm-exit",
        "error",
        ECHO,
        "n",
        _r(
            "npm-exit",
            r"npm (?:ERR!|error) (?:code (?:ELIFECYCLE|\d)|errno |Lifecycle "
            r"script|command failed|Failed at the)",
        ),
        cont=_r("npm.cont", r"npm (?:ERR!|error)(?: |$)"),
    ),
    Rule(
        "npm",
        "error",
        CAUSE,
        "n",
        _r("npm", r"npm (?:ERR!|error) \S"),
        cont=_r("npm.cont2", r"npm (?:ERR!|error)(?: |$)"),
    ),
    Rule("yarn-exit", "error", ECHO, "e", _r("yarn-exit", r"error Command failed")),
    Rule("yarn", "error", CAUSE, "e", _r("yarn", r"error [A-Z\"]")),
    Rule("pnpm-exit", "error", ECHO, "E", _r("pnpm-exit", r"ELIFECYCLE\s++Command failed")),
    Rule("pnpm", "error", CAUSE, "", _r("pnpm", r"ERR_PNPM_\w++"), needle="ERR_PNPM_"),
    Rule("jest", "error", CAUSE, "F●", _r("jest", r"FAIL \S|● "), cont=_r("jest.cont", _INDENTED)),
    # -- deploy tools -------------------------------------------------------------------
    Rule(
        "ansible",
        "error",
        CAUSE,
        "fE",
        _r("ansible", r"(?:fatal|failed): \[[^\]\n]{1,300}+\]|ERROR! "),
    ),
    Rule(
        "ansible-recap",
        "error",
        ECHO,
        _PATHS,
        _r(
            "ansible-recap",
            r"\S++\s++: ok=\d++\s++changed=\d++\s++unreachable=\d++\s++"
            r"failed=[1-9]",
        ),
        requires=("ok=",),
    ),
    Rule(
        "terraform",
        "error",
        CAUSE,
        "│",
        _r("terraform", r"│ Error: "),
        cont=_r("terraform.cont", r"│"),
        end=_r("terraform.end", r"╵"),
    ),
    Rule(
        "buildkit",
        "error",
        CAUSE,
        "#",
        _r("buildkit", r"#\d++ ERROR: "),
        cont=_r(
            "buildkit.cont",
            r"-{6}|[ \t]*+(?:>|\d++ \|)|\S*Dockerfile\S*:\d|#\d++ "
            r"(?:CANCELED|ERROR)|$|(?:ERROR|error): failed to solve",
        ),
        end=_r("buildkit.end", r"(?:ERROR|error): failed to solve"),
    ),
    Rule(
        "buildkit-exit",
        "error",
        ECHO,
        "Ee",
        _r("buildkit-exit", r"(?:ERROR|error): failed to solve: process .{0,2000}+"),
    ),
    Rule(
        "docker",
        "error",
        CAUSE,
        "dE",
        _r("docker", r"(?:docker: )?Error response from daemon: |Error from server"),
    ),
    Rule("rsync-exit", "error", ECHO, "r", _r("rsync-exit", r"rsync error: ")),
    Rule("rsync", "error", CAUSE, "r", _r("rsync", r"rsync: ")),
    Rule(
        "ssh",
        "error",
        CAUSE,
        _PATHS + "H",
        _r("ssh", r"ssh: |(?:[^\s:]++: )?Permission denied \(|Host key verification failed"),
        requires=(": ", "Host key"),
    ),
    Rule("git", "error", CAUSE, "!", _r("git", r"! \[(?:remote )?rejected\]")),
    Rule("curl", "error", CAUSE, "c", _r("curl", r"curl: \(\d++\) ")),
    Rule(
        "systemctl",
        "error",
        CAUSE,
        "JF",
        _r("systemctl", r"Job for \S++ failed|Failed to [a-z]"),
    ),
    # -- the shell and its tools ----------------------------------------------------------
    Rule("command-not-found", "error", CAUSE, "", _command_not_found, needle="not found"),
    Rule(
        "shell",
        "error",
        CAUSE,
        _PATHS,
        _r("shell", r"[\w./~-]++: (?:line )?\d++: "),
        requires=(": ",),
    ),
    Rule("linker-exit", "error", ECHO, "c", _r("linker-exit", r"collect2: error: ")),
    Rule(
        "tool",
        "error",
        CAUSE,
        _LOWER,
        _r(
            "tool",
            r"(?!(?:error|fatal|warning): )[a-z][\w.-]{0,30}+: (?:cannot |can't |"
            r"failed to |unable to |(?:fatal )?error: |fatal: |[Ee]rror\b)",
        ),
        requires=(": ",),
    ),
    Rule("errno", "error", CAUSE, _PATHS, _errno, requires=(": ",)),
    # -- everything else that says it is an error -------------------------------------------
    # Python's logging in its default format: ``ERROR:sitegen.render:message``.
    Rule(
        "python-logging",
        "error",
        CAUSE,
        "EFC",
        _r("python-logging", r"(?:ERROR|CRITICAL|FATAL):[\w.-]{1,100}+:"),
        requires=(":",),
    ),
    Rule(
        "error",
        "error",
        CAUSE,
        _UPPER + "efE",
        _r(
            "error",
            r"(?:(?:[A-Z][A-Za-z]{0,60})?(?:Error|Exception)|ERROR|FATAL(?: ERROR)?|"
            r"CRITICAL|E|error|fatal|Fatal)(?:\[[^\]\n]{0,40}+\])?[:!] ",
        ),
        cont=_GENERIC_CONT,
        requires=(":", "!"),
    ),
    Rule(
        "log-level",
        "error",
        CAUSE,
        _UPPER + "[0123456789",
        _r("log-level", r"(?:[^\s\d]*+\d\S*+ ){1,3}?\[?(?:ERROR|FATAL|CRITICAL)\]?[\s:]"),
        requires=("ERROR", "FATAL", "CRITICAL"),
    ),
    Rule("logfmt", "error", CAUSE, "", _r("logfmt", r".{0,2000}+"), needle="level=error"),
    # -- warnings -----------------------------------------------------------------------
    Rule(
        "warning",
        "warning",
        CAUSE,
        _UPPER + "wn[",
        _r(
            "warning",
            r"(?:WARNING|WARN|Warning|warning|npm WARN|npm warn|\[(?:WARNING|"
            r"WARN)\])(?::[\w.-]{1,100}+:|(?:\[[^\]\n]{0,40}+\])?(?:[:!\]]| ))",
        ),
        requires=("WARN", "warn", "Warn"),
    ),
    Rule(
        "cc-warning",
        "warning",
        CAUSE,
        "",
        _r("cc-warning", r"[^\s:]++:\d++:(?:\d++:)? warning: "),
        needle="warning: ",
    ),
)


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
    tests: tuple[tuple[int, Rule], ...]


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
            tests.append((i, rule))
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
_ANY_NEEDLE = _rx("needles", "|".join(re.escape(needle) for needle in _NEEDLES))


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
        for i, rule in plan.tests:
            if i >= stop:
                break
            if (not rule.requires or _holds_one(trimmed, rule.requires)) and rule.starts(trimmed):
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
    if _ANY_NEEDLE.search(trimmed) is None:
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
