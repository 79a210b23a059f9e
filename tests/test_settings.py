from __future__ import annotations

from pathlib import Path

import pytest

from journal_proxy.cli.main import main
from journal_proxy.config import settings_from_mapping
from journal_proxy.errors import ConfigError


def test_defaults() -> None:
    s = settings_from_mapping({"unit": ["deploy-website.service"]})
    assert s.upstream.url == "http://127.0.0.1:19531"
    assert (s.listen.host, s.listen.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({}, "unit"),
        ({"unit": []}, "unit"),
        ({"unit": ["*"]}, "unit"),
        ({"unit": ["bad name.service"]}, "unit"),
        ({"unit": ["a.service"], "upstream": "ftp://x"}, "upstream"),
        ({"unit": ["a.service"], "upstream": "http://x/entries"}, "upstream"),
        ({"unit": ["a.service"], "upstream": "http://" + "a" * 64 + ".example"}, "upstream"),
        ({"unit": ["a.service"], "upstream": "http://:secret@gw.example"}, "upstream"),
        ({"unit": ["a.service"], "listen": "nope"}, "listen"),
        ({"unit": ["a.service"], "timeouts": {"follow_idle": -1}}, "timeouts.follow_idle"),
        ({"unit": ["a.service"], "limits": {"bogus": 1}}, "limits.bogus"),
        ({"unit": ["a.service"], "mask": {"patterns": {"evil": "(a+)+"}}}, "evil"),
        ({"unit": ["a.service"], "surprise": 1}, "surprise"),
        ({"unit": ["a.service"], "revocation_file": "revoked"}, "revocation_file"),
        ({"unit": ["a.service"], "require_signed_links": "yes"}, "require_signed_links"),
        ({"unit": ["a.service"], "require_signed_links": True}, "require_signed_links"),
        ({"unit": ["a.service"], "link_keys_file": "keys"}, "link_keys_file"),
        ({"unit": ["a.service"], "link_keys_file": "/nonexistent/keys"}, "link keys"),
    ],
)
def test_invalid_settings_name_the_setting(raw: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        settings_from_mapping(raw, env={})


def test_an_upstream_is_kept_with_its_scheme_in_lower_case() -> None:
    """ "HTTPS://" is https for every later check (TLS on, upstream_tls allowed)."""
    s = settings_from_mapping({"unit": ["a.service"], "upstream": "HTTPS://gw.example:19531/"})
    assert s.upstream.url == "https://gw.example:19531"


def test_serve_without_unit_exits_nonzero_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unit" in err


def test_flags_override_config_file(tmp_path: Path) -> None:
    from journal_proxy.cli.main import build_parser, settings_from_args

    cfg = tmp_path / "proxy.toml"
    cfg.write_text(
        'unit = ["a.service"]\nlisten = "127.0.0.1:9000"\n[timeouts]\nfollow_idle = 30\n'
    )
    args = build_parser().parse_args(["serve", "--config", str(cfg), "--listen", "127.0.0.1:9001"])
    s = settings_from_mapping(settings_from_args(args))
    assert s.units.patterns == ("a.service",)
    assert s.listen.port == 9001
    assert s.timeouts.follow_idle == 30


def test_url_prints_log_link(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef")
    assert main(["url", "--log-base", "https://d.example/logs/"]) == 0
    assert capsys.readouterr().out == "https://d.example/logs/0123456789abcdef0123456789abcdef\n"
    monkeypatch.setenv("INVOCATION_ID", "../../etc")
    assert main(["url", "--log-base", "https://d.example/logs"]) == 2


def test_problem_matchers_are_checked_at_start_up() -> None:
    raw = {"unit": ["a.service"], "problems": {"errors": {"npm": "^npm ERR!"}}}
    settings = settings_from_mapping(raw)
    assert settings.problems.errors == (("npm", "^npm ERR!"),)
    bad = {"unit": ["a.service"], "problems": {"warnings": {"slow": "(a+)+$"}}}
    with pytest.raises(ConfigError, match=r"problems\.warnings\.slow"):
        settings_from_mapping(bad)
