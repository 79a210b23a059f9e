"""Errors and warnings over real export bytes: priorities, workflow commands, systemd's failure
lines, operator patterns; hostile and secret text in annotation properties."""

from __future__ import annotations

import json
import re

import pytest

from journal_proxy.errors import ConfigError
from journal_proxy.local import journal as lj
from journal_proxy.renderers.jsonl import JsonLinesRenderer
from journal_proxy.triage.combined import Triage
from journal_proxy.triage.problems import (
    Annotation,
    ProblemMatchers,
    annotate,
    build_matchers,
    problem_patterns,
)

from .helpers_triage import UNIT, Run, read_log

GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def _levels(run: Run, matchers: ProblemMatchers | None = None) -> list[tuple[str, str | None]]:
    triage = Triage(matchers) if matchers else Triage()
    return [(e.message, triage.observe(n, e).level) for n, e in run.read()]


@pytest.mark.parametrize(
    ("priority", "level"),
    [(0, "error"), (2, "error"), (3, "error"), (4, "warning"), (5, None), (6, None), (7, None)],
)
def test_journal_priority_makes_errors_and_warnings(priority: int, level: str | None) -> None:
    run = Run().command("deploy.sh", 1).line("something", priority=priority)
    assert _levels(run)[-1] == ("something", level)


def test_workflow_commands_are_annotations_with_readable_properties() -> None:
    run = (
        Run()
        .command("deploy.sh", 1)
        .line("::error file=app/main.py,line=12,col=5,title=Syntax error::unexpected indent")
        .line("##[warning]disk almost full")
        .line("  ::warning::indented counts too")
    )
    triage = Triage()
    infos = [triage.observe(n, e) for n, e in run.read()][1:]
    error, warning, indented = infos
    assert error.annotation == Annotation(
        "error",
        "command",
        "unexpected indent",
        (("file", "app/main.py"), ("line", "12"), ("col", "5"), ("title", "Syntax error")),
    )
    assert error.shown("whatever the raw line was") == "unexpected indent"
    assert error.annotation is not None and error.annotation.location == "app/main.py:12:5"
    assert error.annotation.param("title") == "Syntax error"
    assert (warning.level, warning.shown("x")) == ("warning", "disk almost full")
    assert indented.level == "warning"
    assert (triage.errors, triage.warnings) == (1, 2)
    assert triage.summary().describe() == "1 error, 2 warnings"


def test_a_workflow_command_decides_the_level_over_the_priority() -> None:
    run = Run().command("deploy.sh", 1).line("::warning::only a warning", priority=3)
    assert _levels(run)[-1][1] == "warning"


def test_systemd_failure_lines_are_errors_and_its_success_lines_are_not() -> None:
    clock, inv = lj.Clock(), lj.new_invocation_id()
    export = (
        lj.starting(clock, UNIT, inv)
        + lj.process_exited(clock, UNIT, inv, 0, control=True, command="start-pre")
        + lj.process_exited(clock, UNIT, inv, 1)
        + lj.pid1_line(
            clock,
            UNIT,
            inv,
            lj.PROCESS_EXIT,
            f"{UNIT}: Main process exited, code=killed, status=15/TERM",
            extra=[("EXIT_CODE", "killed"), ("EXIT_STATUS", "15")],
            priority=4,
        )
        + lj.pid1_line(
            clock, UNIT, inv, lj.FAILURE, f"{UNIT}: Failed with result 'exit-code'.", priority=4
        )
        + lj.succeeded(clock, UNIT, inv)
    )
    triage = Triage()
    levels = [triage.observe(n, e).level for n, e in read_log(export, inv)]
    assert levels == [
        None,  # Starting
        None,  # Control process exited ... (success), logged at debug level
        "error",  # Main process exited, status=1/FAILURE (notice)
        "error",  # killed by a signal (warning)
        "error",  # Failed with result (warning): systemd's failure line counts as an error
        None,  # Deactivated successfully
        None,  # Finished
        None,  # Consumed CPU time
    ]


def test_a_unit_line_that_looks_like_systemd_failing_is_not_a_systemd_failure() -> None:
    run = Run().command("deploy.sh", 1).line(f"{UNIT}: Failed with result 'exit-code'.")
    assert _levels(run)[-1][1] is None


def test_operator_patterns_mark_lines_and_the_more_severe_level_wins() -> None:
    matchers = build_matchers(
        *problem_patterns(
            {
                "errors": {"npm": r"^npm ERR!", "python": r"^Traceback \(most recent call last\)"},
                "warnings": {"deprecated": r"(?i)\bdeprecated\b"},
            }
        )
    )
    run = (
        Run()
        .command("deploy.sh", 1)
        .line("npm ERR! code ELIFECYCLE")
        .line("this API is DEPRECATED")
        .line("npm ERR! also at warning priority", priority=4)
        .line("deprecated, but the journal says error", priority=3)
        .line("fine")
    )
    assert [level for _, level in _levels(run, matchers)][1:] == [
        "error",
        "warning",
        "error",
        "error",
        None,
    ]
    [(_, entry)] = run.read()[2:3]
    found = annotate(entry, matchers=matchers)
    assert found == Annotation("warning", "matcher", matcher="deprecated")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"errors": {"slow": r"(a+)+$"}}, "problems.errors.slow: nested repetition"),
        ({"warnings": {"bad": r"(unclosed"}}, "problems.warnings.bad: invalid regular expression"),
        ({"errors": {"empty": r"x*"}}, "problems.errors.empty: matches the empty string"),
        ({"errors": ["^npm ERR!"]}, "problems.errors: expected a table"),
        ({"error": {}}, "problems.error: unknown setting"),
    ],
)
def test_bad_operator_patterns_stop_the_start_naming_the_setting(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_matchers(*problem_patterns(raw))


def test_problem_settings_are_plain_data_that_build_matchers_for_the_renderers() -> None:
    errors, warnings = problem_patterns({"errors": {"rollback": "^rolling back to "}})
    assert (errors, warnings) == ((("rollback", "^rolling back to "),), ())
    run = Run().command("deploy.sh", 1).line("rolling back to release 41")
    objs = _json_objects(run, build_matchers(errors, warnings))
    assert objs[-1]["level"] == "error"
    # Without the operator's pattern: a plain line (no built-in recognizer knows it).
    assert "level" not in _json_objects(run)[-1]


def _json_objects(run: Run, matchers: ProblemMatchers | None = None) -> list[dict[str, object]]:
    renderer = JsonLinesRenderer(matchers) if matchers else JsonLinesRenderer()
    return [json.loads(renderer.entry(n, e)) for n, e in run.read()]


def test_hostile_annotation_properties_stay_json_text_without_terminal_controls() -> None:
    hostile = '<img src=x onerror="alert(1)">\x1b]0;owned\x07\x1b[2J'
    run = Run().command("deploy.sh", 1).line(f"::error file={hostile},line=1 ::boom")
    obj = _json_objects(run)[-1]
    assert obj["level"] == "error"
    assert obj["annotation"] == {"file": '<img src=x onerror="alert(1)">', "line": "1"}


def test_secrets_in_annotation_properties_are_masked_and_escapes_are_not_decoded() -> None:
    run = (
        Run()
        .command("deploy.sh", 1)
        .line(f"::error file=token-{GH_TOKEN}.txt::push failed")
        .line("::warning title=https%3A//deploy%3As3cr3t@git.example.com::clone slow")
    )
    masked, escaped = _json_objects(run)[-2:]
    assert GH_TOKEN not in json.dumps(masked) and "***" in str(masked["annotation"])
    # decoding %3A would assemble a URL with a password the masker never saw
    assert escaped["annotation"] == {"title": "https%3A//deploy%3As3cr3t@git.example.com"}
    assert "deploy:s3cr3t" not in json.dumps(escaped)
