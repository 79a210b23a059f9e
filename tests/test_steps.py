"""Steps from systemd's streams and groups from markers, over real export bytes.

Each log is built as systemd-journal-remote would receive it (``journal_proxy.local.journal``), parsed by the
export parser, verified, merged and masked as a request does (``helpers_triage``).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.triage.combined import LineInfo, Triage
from journal_proxy.triage.markers import AnnotationCommand, GroupCommand, parse_command

from .helpers_triage import Run


def _infos(run: Run) -> list[tuple[str, LineInfo]]:
    triage = Triage()
    return [(entry.message, triage.observe(line, entry)) for line, entry in run.read()]


def _two_commands() -> Run:
    return (
        Run()
        .command("prepare.sh", 100)
        .lines("fetching", "fetched")
        .command("deploy.sh", 200)
        .lines("copying", "done")
        .succeeded()
    )


def test_each_command_is_a_step_named_by_its_identifier() -> None:
    infos = _infos(_two_commands())
    steps = [(m[:9], i.step, i.step_name, i.step_start) for m, i in infos]
    assert steps == [
        ("Starting ", 0, "", False),  # systemd's line before any command: no step
        ("fetching", 1, "prepare.sh", True),
        ("fetched", 1, "prepare.sh", False),
        ("copying", 2, "deploy.sh", True),
        ("done", 2, "deploy.sh", False),
        # systemd's closing lines have no stream: they stay in the step they follow
        ("deploy-we", 2, "deploy.sh", False),
        ("Finished ", 2, "deploy.sh", False),
        ("deploy-we", 2, "deploy.sh", False),
    ]


def test_one_command_with_the_same_identifier_twice_is_two_steps() -> None:
    run = Run().command("sh", 1).lines("first").command("sh", 2).lines("second")
    infos = [i for _, i in _infos(run)][1:]
    assert [(i.step, i.step_name, i.step_start) for i in infos] == [
        (1, "sh", True),
        (2, "sh", True),
    ]


def test_a_line_without_a_stream_stays_in_the_current_step() -> None:
    run = Run().command("deploy.sh", 7).lines("one").line("via logger", stream=False).line("two")
    infos = [i for _, i in _infos(run)][1:]
    assert [(i.step, i.step_start) for i in infos] == [(1, True), (1, False), (1, False)]


def test_a_failed_control_process_names_the_failed_step() -> None:
    run = (
        Run()
        .command("prepare.sh", 100)
        .line("checking disk space")
        .line("not enough space", priority=3)
        .control_failed(1, "start-pre")
    )
    triage = Triage()
    infos = [triage.observe(line, entry) for line, entry in run.read()]
    summary = triage.summary()
    assert (summary.failed_step, summary.failed_step_name) == (1, "prepare.sh")
    # the error line, "Control process exited", "Failed with result", "Failed to start"
    assert summary.errors == 4
    assert summary.error_lines == (3, 4, 5, 6)
    assert [i.level for i in infos] == [None, None, "error", "error", "error", "error"]
    assert summary.describe() == "4 errors; failed step 1: prepare.sh"
    assert summary.steps[0].errors == 4 and summary.steps[0].last_line == 6


def test_the_first_failure_names_the_step_even_when_cleanup_runs_after_it() -> None:
    run = (
        Run()
        .command("deploy.sh", 200)
        .line("boom")
        .main_failed(2)
        .command("cleanup.sh", 300)
        .line("cleaning up")
    )
    triage = Triage()
    for line, entry in run.read():
        triage.observe(line, entry)
    assert triage.summary().failed_step_name == "deploy.sh"


def test_github_groups_fold_their_lines_and_markers_are_not_text() -> None:
    run = (
        Run()
        .command("deploy.sh", 1)
        .lines("before", "::group::npm ci", "added 300 packages", "::endgroup::", "after")
    )
    infos = _infos(run)[1:]
    assert [(m, i.group) for m, i in infos] == [
        ("before", 0),
        ("::group::npm ci", 1),
        ("added 300 packages", 1),
        ("::endgroup::", 1),  # the end marker is the group's last line
        ("after", 0),
    ]
    start, end = infos[1][1], infos[3][1]
    assert start.marker == GroupCommand("start", "npm ci", "collapsed")
    assert start.shown("::group::npm ci") == "npm ci"
    assert end.marker is not None and end.marker.kind == "end"
    assert end.shown("::endgroup::") == ""


def test_buildkite_groups_follow_each_other_and_reopen_expands_the_current_one() -> None:
    run = (
        Run()
        .command("ci.sh", 1)
        .lines("--- :package: Build", "built", "~~~ Lint", "linted", "+++ Test", "failed")
        .lines("--- Upload", "oops", "^^^ +++")
    )
    triage = Triage()
    infos = [triage.observe(line, entry) for line, entry in run.read()][1:]
    assert [i.group for i in infos] == [1, 1, 2, 2, 3, 3, 4, 4, 4]
    _, groups = triage.summary().steps, triage.summary().groups
    assert [(g.title, g.style, g.expanded) for g in groups] == [
        (":package: Build", "collapsed", False),
        ("Lint", "quiet", False),
        ("Test", "expanded", True),
        ("Upload", "collapsed", True),  # ^^^ +++ opened it
    ]
    assert [(g.first_line, g.last_line) for g in groups] == [(2, 3), (4, 5), (6, 7), (8, 10)]


def test_a_new_step_closes_the_open_group() -> None:
    run = (
        Run()
        .command("a.sh", 1)
        .lines("::group::inside a", "a line")
        .command("b.sh", 2)
        .line("b line")
    )
    triage = Triage()
    infos = [triage.observe(line, entry) for line, entry in run.read()]
    assert (infos[-1].step, infos[-1].group) == (2, 0)
    [group] = triage.summary().groups
    assert (group.step, group.first_line, group.last_line) == (1, 2, 3)


def test_step_spans_have_line_ranges_and_durations() -> None:
    triage = Triage()
    numbered = _two_commands().read()
    for line, entry in numbered:
        triage.observe(line, entry)
    first, second = triage.summary().steps
    times = {line: e.realtime_usec for line, e in numbered}
    assert (first.first_line, first.last_line) == (2, 3)
    # a step lasts from its first line to the first line after it
    assert first.end_usec - first.first_usec == times[4] - times[2]
    assert (second.first_line, second.last_line) == (4, 8)


@given(st.integers(min_value=0, max_value=14))
def test_resuming_from_any_line_numbers_every_line_alike(split: int) -> None:
    """A reader that takes over at line N (a copy, as a live viewer joining a hub) or that
    observes the lines it already has (a resumed SSE stream) sees the same steps and groups."""
    numbered = (
        Run()
        .command("prepare.sh", 1)
        .lines("--- Fetch", "a", "b")
        .command("deploy.sh", 2)
        .lines("::group::copy", "c", "::endgroup::", "d", "::error file=x::bad")
        .main_failed()
        .read()
    )
    whole = Triage()
    expected = [whole.observe(line, entry) for line, entry in numbered]
    first = Triage()
    for line, entry in numbered[:split]:
        first.observe(line, entry)
    taken_over = first.copy()
    assert [taken_over.observe(line, e) for line, e in numbered[split:]] == expected[split:]
    assert taken_over.summary() == whole.summary()


def test_steps_reveal_no_stream_id_or_pid() -> None:
    run = Run().command("prepare.sh", 31337).lines("x")
    numbered = run.read()
    stream = numbered[-1][1].stream
    assert len(stream) == 32  # the trusted stream ID is known inside ...
    triage = Triage()
    infos = [triage.observe(line, entry) for line, entry in numbered]
    text = repr(infos) + repr(triage.summary())
    assert stream not in text and "31337" not in text  # ... and appears in nothing a renderer reads


def test_commands_are_parsed_only_at_the_start_of_a_message() -> None:
    assert parse_command("  ::group::indented") == GroupCommand("start", "indented")
    assert parse_command("echo ::group::x") is None
    assert parse_command("---") is None  # YAML
    assert parse_command("--- a/deploy.sh") is None  # git diff
    assert parse_command("+++ b/deploy.sh") is None
    assert parse_command("::set-output name=x::y") is None
    assert parse_command("##[error]disk full") == AnnotationCommand("error", "disk full")


def test_hostile_group_titles_stay_one_bounded_line_of_text() -> None:
    title = "<script>alert(1)</script>\x1b]0;owned\x07" + "x" * 500
    command = parse_command(f"::group::{title}\nsecond line")
    assert isinstance(command, GroupCommand)
    assert command.title == title[:200]  # kept as text (renderers escape it), first line only
