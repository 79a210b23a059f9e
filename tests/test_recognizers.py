"""The recognizers of plain output (journal_proxy/triage/recognizers.py), on lines the tools print.

Each case is a line as the tool writes it (from its documentation, its source or a real log); the
multi-line cases check that one error keeps its lines; the last tests feed every pattern 1 MB
adversarial lines: matching must stay linear (a superlinear pattern would take minutes).
"""

from __future__ import annotations

import time

import pytest

from journal_proxy.triage.recognizers import (
    CAUSE,
    ECHO,
    END,
    RULES,
    SCAN_CHARS,
    Scanner,
    first_rule,
    plain,
)

ERRORS = [
    # Python, pip, pytest
    ("Traceback (most recent call last):", "python-traceback", CAUSE),
    ("ERROR: Could not find a version that satisfies the requirement foo==9.9", "error", CAUSE),
    ("ERROR: No matching distribution found for foo==9.9", "error", CAUSE),
    ("FAILED tests/test_app.py::test_home - AssertionError: assert 404 == 200", "pytest", CAUSE),
    ("E       assert 404 == 200", "pytest", CAUSE),
    (
        "========================= 1 failed, 3 passed in 0.12s =========================",
        "pytest-totals",
        ECHO,
    ),
    ("ValueError: bad config", "error", CAUSE),
    (
        "ERROR:sitegen.render:de /de/docs/ failed: templates/price-table.html, line 42",
        "python-logging",
        CAUSE,
    ),
    # Java: Maven, Gradle, javac, surefire, stack traces
    ("[ERROR] /src/main/java/App.java:[12,5] cannot find symbol", "maven", CAUSE),
    ("[\x1b[1;31mERROR\x1b[m] COMPILATION ERROR : ", "maven", CAUSE),
    (
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.8.1:compile"
        " (default-compile) on project app: Compilation failure",
        "maven-goal",
        ECHO,
    ),
    ("[\x1b[1;34mINFO\x1b[m] \x1b[1;31mBUILD FAILURE\x1b[m", "maven-result", ECHO),
    (
        "Tests run: 6, Failures: 0, Errors: 5, Skipped: 0, Time elapsed: 0.154 sec <<< FAILURE!",
        "surefire",
        CAUSE,
    ),
    ('Exception in thread "main" java.lang.IllegalStateException: boom', "java-exception", CAUSE),
    ("java.io.FileNotFoundException: /tmp/x (No such file or directory)", "java-exception", CAUSE),
    ("src/main/java/App.java:12: error: cannot find symbol", "javac", CAUSE),
    ("FAILURE: Build failed with an exception.", "gradle", CAUSE),
    ("AppTest > testGreeting() FAILED", "gradle-test", CAUSE),
    ("BUILD FAILED in 4s", "build-failed", ECHO),
    # Go
    ("./main.go:12:2: undefined: foo", "go-build", CAUSE),
    (
        "internal/states/instance_object_test.go:63:3: the goroutine calls T.Fatalf",
        "go-build",
        CAUSE,
    ),
    ("--- FAIL: TestAdd (0.00s)", "go-test", ECHO),
    ("FAIL\texample.com/calc\t0.002s", "go-fail", ECHO),
    ("panic: runtime error: index out of range [3] with length 3", "go-panic", CAUSE),
    (
        "go: example.com/x@v1.2.3: reading https://proxy.golang.org/x/@v/v1.2.3.mod: 404 Not Found",
        "go-mod",
        CAUSE,
    ),
    ("exit status 1", "go-exit", ECHO),
    # C, make, linkers
    ("main.c:5:3: error: 'x' undeclared (first use in this function)", "cc", CAUSE),
    ("main.c:3:10: fatal error: foo.h: No such file or directory", "cc", CAUSE),
    ("main.c:(.text+0x5): undefined reference to `foo'", "linker", CAUSE),
    ("collect2: error: ld returned 1 exit status", "linker-exit", ECHO),
    ("make: *** [Makefile:12: build] Error 1", "make", ECHO),
    ("make[2]: *** No rule to make target 'install'.  Stop.", "make-rule", CAUSE),
    # Rust
    ("error[E0425]: cannot find value `x` in this scope", "rustc", CAUSE),
    ('error: could not compile `app` (bin "app") due to 1 previous error', "cargo", ECHO),
    ("thread 'tests::it_works' panicked at src/lib.rs:10:9:", "rust-panic", CAUSE),
    ("test tests::it_works ... FAILED", "rust-test", CAUSE),
    ("test result: FAILED. 0 passed; 1 failed; 0 ignored", "test-result", ECHO),
    # JavaScript
    ("npm ERR! code E404", "npm", CAUSE),
    ('npm ERR! Missing script: "build"', "npm", CAUSE),
    ("npm ERR! code ELIFECYCLE", "npm-exit", ECHO),
    ("npm error code ERESOLVE", "npm", CAUSE),
    (
        'error An unexpected error occurred: "https://registry.yarnpkg.com/nope: Not found".',
        "yarn",
        CAUSE,
    ),
    ("error Command failed with exit code 1.", "yarn-exit", ECHO),
    (" ERR_PNPM_NO_MATCHING_VERSION  No matching version found for nope@9.9.9", "pnpm", CAUSE),
    (" ELIFECYCLE  Command failed with exit code 1.", "pnpm-exit", ECHO),
    ("FAIL src/App.test.js", "jest", CAUSE),
    # deploy tools
    (
        'fatal: [web1]: FAILED! => {"changed": false, "msg": "No package matching \'nginxx\'"}',
        "ansible",
        CAUSE,
    ),
    ("ERROR! the role 'foo' was not found", "ansible", CAUSE),
    (
        "web1                       : ok=3    changed=1    unreachable=0    failed=1    skipped=0",
        "ansible-recap",
        ECHO,
    ),
    ("│ Error: Invalid reference", "terraform", CAUSE),
    (
        "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress",
        "error",
        CAUSE,
    ),
    ('Error from server (NotFound): deployments.apps "web" not found', "docker", CAUSE),
    ('error: unable to recognize "k8s.yaml": no matches for kind "Deployment"', "error", CAUSE),
    (
        '#8 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1',
        "buildkit",
        CAUSE,
    ),
    (
        'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully: exit '
        "code: 1",
        "buildkit-exit",
        ECHO,
    ),
    ("#8 12.34 npm ERR! code E404", "npm", CAUSE),
    ("docker: Error response from daemon: pull access denied for nope.", "docker", CAUSE),
    ('rsync: [sender] link_stat "/srv/nope" failed: No such file or directory (2)', "rsync", CAUSE),
    (
        "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at "
        "main.c(1338) [sender=3.2.7]",
        "rsync-exit",
        ECHO,
    ),
    ("ssh: connect to host deploy.example.com port 22: Connection refused", "ssh", CAUSE),
    ("git@github.com: Permission denied (publickey).", "ssh", CAUSE),
    ("Host key verification failed.", "ssh", CAUSE),
    ("fatal: repository 'https://github.com/x/y.git/' not found", "error", CAUSE),
    ("error: failed to push some refs to 'origin'", "error", CAUSE),
    (" ! [rejected]        main -> main (fetch first)", "git", CAUSE),
    ("curl: (22) The requested URL returned error: 404", "curl", CAUSE),
    (
        "Job for nginx.service failed because the control process exited with error code.",
        "systemctl",
        CAUSE,
    ),
    # the shell and coreutils
    ("./deploy.sh: line 7: rsycn: command not found", "command-not-found", CAUSE),
    ("deploy.sh: 7: rsycn: not found", "command-not-found", CAUSE),
    ("bash: line 152: pom.bak5.xml: No space left on device", "shell", CAUSE),
    ("mv: cannot stat 'build': No such file or directory", "tool", CAUSE),
    ("cp: cannot create regular file '/srv/www/index.html': Permission denied", "tool", CAUSE),
    ("tar: Error is not recoverable: exiting now", "tool", CAUSE),
    # runners: where the job failed
    ("Error: Process completed with exit code 1.", "github-runner", END),
    ("Build step 'Execute shell' marked build as failure", "jenkins", END),
    # logs with a level
    ("2024-05-01 12:00:01,234 ERROR [main] c.e.Deploy - upload failed", "log-level", CAUSE),
    ('time="2024-05-01T12:00:01Z" level=error msg="upload failed"', "logfmt", CAUSE),
]

WARNINGS = [
    "npm WARN deprecated request@2.88.2: request has been deprecated",
    "warning: unused variable `x`",
    "main.c:3:5: warning: unused variable 'y' [-Wunused-variable]",
    "[WARNING] Using platform encoding (UTF-8 actually) to copy filtered resources",
    "WARNING: Running pip as the 'root' user can result in broken permissions",
]

PLAIN = [
    "go: downloading github.com/gofrs/uuid v4.0.0+incompatible",
    "ok  \tgithub.com/hashicorp/terraform/internal/addrs\t0.036s",
    "--- PASS: TestAdd (0.00s)",
    "[INFO] BUILD SUCCESS",
    "Tests run: 5, Failures: 0, Errors: 0, Skipped: 0",
    "Number of errors in tests: 0",
    "added 300 packages, and audited 301 packages in 4s",
    "error_log = /var/log/nginx/error.log",
    "Errors: 0",
    "   Compiling app v0.1.0 (/srv/app)",
    "Step 3/7 : RUN npm ci",
    "deploying release 42 to web1",
    '[36;1m  echo >&2 "ERROR: go.mod/go.sum are not up-to-date."[0m',
    "",
]


@pytest.mark.parametrize(("line", "name", "grade"), ERRORS)
def test_an_error_line_is_recognised_by_its_rule(line: str, name: str, grade: int) -> None:
    rule = first_rule(plain(line))
    assert rule is not None, line
    assert (rule.name, rule.level, rule.grade) == (name, "error", grade)


@pytest.mark.parametrize("line", WARNINGS)
def test_a_warning_line_is_a_warning(line: str) -> None:
    rule = first_rule(plain(line))
    assert rule is not None and rule.level == "warning", line


@pytest.mark.parametrize("line", PLAIN)
def test_an_ordinary_line_is_nothing(line: str) -> None:
    assert first_rule(plain(line)) is None


def _scan(lines: list[str]) -> list[str]:
    """Each line as ``S`` (an error starts), ``+`` (continues one), ``.`` (nothing)."""
    scanner = Scanner()
    out = []
    for line in lines:
        found = scanner.scan(line)
        out.append("." if found is None else "+" if found[1] else "S")
    return out


def test_a_python_traceback_is_one_error_with_its_lines() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/srv/app/deploy.py", line 12, in <module>',
        "    main()",
        '  File "/srv/app/deploy.py", line 8, in main',
        '    raise ValueError("bad config")',
        "ValueError: bad config",
        "cleaning up",
    ]
    assert _scan(lines) == ["S", "+", "+", "+", "+", "+", "."]


def test_a_java_stack_trace_keeps_caused_by_and_marks_it_key() -> None:
    lines = [
        'Exception in thread "main" java.lang.IllegalStateException: deploy failed',
        "\tat com.example.Deploy.run(Deploy.java:42)",
        "\tat com.example.Main.main(Main.java:7)",
        "Caused by: java.io.IOException: No space left on device",
        "\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)",
        "\t... 2 more",
        "done",
    ]
    assert _scan(lines) == ["S", "+", "+", "+", "+", "+", "."]
    scanner = Scanner()
    keys = [found[2] for line in lines if (found := scanner.scan(line)) is not None]
    assert keys == [False, False, False, True, False, False]


def test_mavens_error_block_is_one_error() -> None:
    lines = [
        "[INFO] BUILD FAILURE",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:2.12.4:test",
        "[ERROR] ",
        "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
        "[ERROR] -> [Help 1]",
        "Build step 'Execute shell' marked build as failure",
    ]
    assert _scan(lines) == ["S", "S", "+", "+", "+", "S"]


def test_a_go_test_failure_keeps_its_messages_not_its_passing_subtests() -> None:
    lines = [
        "--- FAIL: TestProviderTampering (14.05s)",
        "    --- FAIL: TestProviderTampering/cache_dir_totally_gone (10.32s)",
        "        providers_tamper_test.go:76: unexpected init error: exit status 1",
        "    --- PASS: TestProviderTampering/lock_file_modified (0.54s)",
        "FAIL",
    ]
    assert _scan(lines) == ["S", "+", "+", ".", "S"]


def test_buildkits_error_block_is_one_error_up_to_failed_to_solve() -> None:
    lines = [
        "#7 ERROR: failed to copy: httpReadSeeker: failed open: could not fetch content",
        "------",
        " > [2/3] RUN apk add --no-cache git openssh:",
        "------",
        "build-Dockerfile:32",
        "--------------------",
        "  32 | >>> RUN apk add --no-cache git openssh",
        "--------------------",
        "error: failed to solve: failed to compute cache key: failed to copy",
        "Process completed with exit code 1.",
    ]
    assert _scan(lines) == ["S", "+", "+", "+", "+", "+", "+", "+", "+", "S"]


def test_rustcs_source_excerpt_belongs_to_its_error() -> None:
    lines = [
        "error[E0425]: cannot find value `x` in this scope",
        " --> src/main.rs:2:13",
        "  |",
        "2 |     let y = x;",
        "  |             ^ not found in this scope",
        "",
        'error: could not compile `app` (bin "app") due to 1 previous error',
    ]
    assert _scan(lines) == ["S", "+", "+", "+", "+", ".", "S"]


#: Lines built to make a backtracking pattern work hard: long runs of what the rules look for.
ADVERSARIAL = [
    "a" * 10,
    "a.",
    ":1",
    "1:",
    " ",
    "\t",
    "/",
    "(",
    ")",
    "<<< ",
    "--- ",
    "│",
    "[ERROR] ",
    "error: ",
    "x.go:1:",
    "x.java:1",
    "at ",
    "Exception",
    "Error",
    "FAILED ",
    "#1 ",
    "go: ",
    "= ",
    "1 ",
    "a1 ",
    "ok=1 ",
]
MB = 1 << 20


def _patterns() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for rule in RULES:
        for part in ("start", "cont", "end", "key"):
            pattern = getattr(rule, part)
            if pattern is not None:
                out.append((f"{rule.name}.{part}", pattern))
    return out


@pytest.mark.parametrize(("name", "pattern"), _patterns(), ids=[n for n, _ in _patterns()])
def test_no_pattern_is_superlinear_on_a_1_mb_line(name: str, pattern: object) -> None:
    """Every pattern on whole 1 MB lines (not cut to SCAN_CHARS): linear time or bust.  First
    4 and 16 KiB (best of seven each): a pattern whose time grows much faster than its input
    fails there in milliseconds instead of hanging on the 1 MB line."""
    for unit in ADVERSARIAL:
        for tail in ("", "!", ")"):
            small, large = (
                min(_time(pattern, unit * (size // len(unit)) + tail) for _ in range(_TRIES))
                for size in (4096, 16384)
            )
            assert large < 0.002 or large < 10 * small, f"{name}: grows on {unit!r}"
            line = unit * (MB // len(unit)) + tail
            took = _time(pattern, line)
            took = _time(pattern, line) if took >= 0.5 else took  # once more: a busy machine
            assert took < 0.5, f"{name}: {took:.3f} s on 1 MB of {unit!r}"


#: Timings are the best of this many: on a busy machine one run may be preempted, and a pattern
#: that really grows faster than its input is slow every time.
_TRIES = 7


def _time(pattern: object, line: str) -> float:
    started = time.perf_counter()
    if callable(pattern) and not hasattr(pattern, "match"):
        pattern(line)
    else:
        pattern.match(line)  # type: ignore[attr-defined]
        pattern.match(line.lstrip())  # type: ignore[attr-defined]
    return time.perf_counter() - started


def test_a_1_mb_line_costs_what_its_first_characters_do() -> None:
    """The scanner reads SCAN_CHARS of a line: a 1 MB line is as cheap as a 2 KiB one."""
    scanner = Scanner()
    for unit in ADVERSARIAL:
        line = unit * (MB // len(unit))
        started = time.perf_counter()
        for _ in range(10):
            scanner.scan(line)
        per_line = (time.perf_counter() - started) / 10
        assert per_line < 0.005, f"{unit!r}: {per_line * 1e6:.0f} us"
    assert len(plain("x" * MB)) == SCAN_CHARS
