"""``deploy/config.toml`` lists every setting with its default, checked against the definition,
so the shipped example cannot drift from the code again."""

from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from journal_proxy.config import SETTING_NAMES
from journal_proxy.settings import Limits, Timeouts

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "config.toml"
# A commented-out setting or table, as the example shows optional ones: "# name = value".
_COMMENTED = re.compile(r"^# ?(?=[a-z_.-]+ = |\[)")


def _example() -> dict[str, Any]:
    """The example with its commented-out settings switched on."""
    lines = [_COMMENTED.sub("", line) for line in CONFIG.read_text().splitlines()]
    return tomllib.loads("\n".join(lines))


def test_every_top_level_setting_is_listed_and_nothing_else() -> None:
    assert set(_example()) == set(SETTING_NAMES)


def test_every_timeout_and_limit_is_listed_with_its_default() -> None:
    example = _example()
    for section, cls in (("timeouts", Timeouts), ("limits", Limits)):
        defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        assert example[section] == defaults, section


def test_mask_and_tls_tables_list_every_key() -> None:
    example = _example()
    assert set(example["mask"]) == {"builtin", "patterns", "secrets_file"}
    assert set(example["upstream_tls"]) == {"client_cert", "client_key", "trust"}
