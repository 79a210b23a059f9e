"""Each verifier admits only its own kind of entry, decided by trusted fields that appear once."""

from __future__ import annotations

import pytest

from journal_proxy.access.ids import InvocationId
from journal_proxy.journal.export_format import ExportParser
from journal_proxy.journal.invocation_log import Verifier
from journal_proxy.journal.verify import (
    verify_lifecycle_entry,
    verify_unit_entry,
    verify_unlabelled_entry,
)
from journal_proxy.settings import UnitPins

INV = InvocationId("0123456789abcdef0123456789abcdef")
OTHER = "fedcba9876543210fedcba9876543210"
PINS = UnitPins(("deploy-*.service",))
SERVICE = {"__CURSOR": "c", "_SYSTEMD_INVOCATION_ID": INV, "_SYSTEMD_UNIT": "deploy-web.service"}
SYSTEMD = {"__CURSOR": "c", "_PID": "1", "INVOCATION_ID": INV, "UNIT": "deploy-web.service"}
UNLABELLED = {"__CURSOR": "c", "_SYSTEMD_UNIT": "deploy-web.service"}


def _raw(fields: dict[str, str], *extra: tuple[str, str]) -> bytes:
    lines = [f"{k}={v}" for k, v in fields.items()] + [f"{k}={v}" for k, v in extra]
    return ("\n".join([*lines, "MESSAGE=hello"]) + "\n\n").encode()


CASES: list[tuple[str, Verifier, bytes, bool]] = [
    ("service line", verify_unit_entry, _raw(SERVICE), True),
    (
        "service line, other run",
        verify_unit_entry,
        _raw({**SERVICE, "_SYSTEMD_INVOCATION_ID": OTHER}),
        False,
    ),
    (
        "service line, unit not pinned",
        verify_unit_entry,
        _raw({**SERVICE, "_SYSTEMD_UNIT": "ssh.service"}),
        False,
    ),
    (
        "service line, unit given twice",
        verify_unit_entry,
        _raw(SERVICE, ("_SYSTEMD_UNIT", "ssh.service")),
        False,
    ),
    (
        "service line, ID given twice",
        verify_unit_entry,
        _raw(SERVICE, ("_SYSTEMD_INVOCATION_ID", OTHER)),
        False,
    ),
    ("systemd line", verify_lifecycle_entry, _raw(SYSTEMD), True),
    ("systemd line, not PID 1", verify_lifecycle_entry, _raw({**SYSTEMD, "_PID": "42"}), False),
    ("systemd line, PID given twice", verify_lifecycle_entry, _raw(SYSTEMD, ("_PID", "7")), False),
    (
        "systemd line, UNIT given twice",
        verify_lifecycle_entry,
        _raw(SYSTEMD, ("UNIT", "ssh.service")),
        False,
    ),
    (
        "systemd line, unit not pinned",
        verify_lifecycle_entry,
        _raw({**SYSTEMD, "UNIT": "ssh.service"}),
        False,
    ),
    ("a service line is not systemd's", verify_lifecycle_entry, _raw(SERVICE), False),
    ("unlabelled line", verify_unlabelled_entry, _raw(UNLABELLED), True),
    ("a labelled line is not unlabelled", verify_unlabelled_entry, _raw(SERVICE), False),
    (
        "unlabelled line, unit given twice",
        verify_unlabelled_entry,
        _raw(UNLABELLED, ("_SYSTEMD_UNIT", "ssh.service")),
        False,
    ),
]


@pytest.mark.parametrize(("what", "verifier", "data", "admitted"), CASES, ids=[c[0] for c in CASES])
def test_verifier_admits_only_its_own_entries(
    what: str, verifier: Verifier, data: bytes, admitted: bool
) -> None:
    [raw] = ExportParser(1 << 20).feed(data)
    entry = verifier(raw, INV, PINS, ())
    assert (entry is not None) is admitted, what
    if entry is not None:
        assert entry.unit == "deploy-web.service"
        assert entry.identifier == ("systemd" if verifier is verify_lifecycle_entry else entry.unit)
