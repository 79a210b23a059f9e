from __future__ import annotations

from journal_proxy.journal.lifecycle import Event, LifecycleEvent, StatusTracker

UNIT = "deploy-website.service"


def _ev(event: Event, **kw: str) -> LifecycleEvent:
    return LifecycleEvent(event, UNIT, **kw)


def test_succeeded() -> None:
    t = StatusTracker()
    t.observe(1_000_000, UNIT, _ev(Event.UNIT_STARTING))
    t.observe(2_000_000, UNIT, None)
    assert t.status.state == "running" and not t.status.finished
    t.observe(3_500_000, UNIT, _ev(Event.UNIT_SUCCESS))
    s = t.status
    assert (s.state, s.started_usec, s.finished_usec, s.duration_seconds) == (
        "succeeded",
        1_000_000,
        3_500_000,
        2.5,
    )


def test_failed_with_exit_status() -> None:
    t = StatusTracker()
    t.observe(1, UNIT, _ev(Event.UNIT_STARTING))
    t.observe(2, UNIT, _ev(Event.UNIT_PROCESS_EXIT, exit_code="exited", exit_status="1"))
    t.observe(3, UNIT, _ev(Event.UNIT_FAILURE_RESULT, result="exit-code"))
    t.observe(4, UNIT, _ev(Event.UNIT_FAILED_JOB, result="failed"))
    assert t.status.describe() == "failed: exit-code, status 1"
    assert t.status.finished_usec == 3


def test_killed_by_signal_and_timeout() -> None:
    t = StatusTracker()
    t.observe(2, UNIT, _ev(Event.UNIT_PROCESS_EXIT, exit_code="killed", exit_status="TERM"))
    t.observe(3, UNIT, _ev(Event.UNIT_FAILURE_RESULT, result="signal"))
    assert t.status.describe() == "failed: signal, status TERM"
    t2 = StatusTracker()
    t2.observe(3, UNIT, _ev(Event.UNIT_FAILURE_RESULT, result="timeout"))
    assert t2.status.result == "timeout"


def test_job_failed_without_a_run_is_failed() -> None:
    t = StatusTracker()
    t.observe(1, UNIT, _ev(Event.UNIT_FAILED_JOB, result="dependency"))
    assert t.status.describe() == "failed: dependency"


def test_a_signal_is_named_as_systemd_names_it() -> None:
    """The journal's EXIT_STATUS=15 reads "status TERM", the words GitHub gets from the handler."""
    t = StatusTracker()
    t.observe(1, UNIT, _ev(Event.UNIT_STARTING))
    t.observe(2, UNIT, _ev(Event.UNIT_PROCESS_EXIT, exit_code="killed", exit_status="15"))
    t.observe(3, UNIT, _ev(Event.UNIT_FAILURE_RESULT, result="signal"))
    assert t.status.describe() == "failed: signal, status TERM"
    t = StatusTracker()
    t.observe(2, UNIT, _ev(Event.UNIT_PROCESS_EXIT, exit_code="exited", exit_status="15"))
    t.observe(3, UNIT, _ev(Event.UNIT_FAILURE_RESULT, result="exit-code"))
    assert t.status.describe() == "failed: exit-code, status 15"
