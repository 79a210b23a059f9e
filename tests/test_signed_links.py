"""Signed, expiring links: the MAC, the key file, and the proxy in front of the real gatewayd.

A refused link (unsigned, forged, expired) must cost gatewayd nothing: the counting relay's
request lines are unchanged.  Time is moved with an injected clock, never slept.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request

from journal_proxy.access.signing import (
    LinkCheck,
    check,
    link_query,
    load_keys,
    mac,
    parse_duration,
    signed_query,
)
from journal_proxy.cli.main import main
from journal_proxy.config import settings_from_mapping
from journal_proxy.errors import ConfigError
from journal_proxy.service.log_format import AccessLogger
from journal_proxy.service.server import server_options
from journal_proxy.web import make_app

from .conftest import UNIT, Corpus, CountingRelay
from .fake_github import FakeGitHub
from .test_github import TOKEN, _run, github  # noqa: F401 - github is a fixture

OLD_KEY = "old-" + "o" * 40
NEW_KEY = "new-" + "n" * 40
INV = "0123456789abcdef0123456789abcdef"
DAY = 86400


@pytest.fixture(autouse=True)
def _quiet_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` sets up the service's logging on stderr; in-process, pytest's capture owns it."""
    monkeypatch.setattr("journal_proxy.cli.main.setup_logging", lambda: None)


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _keys_file(tmp_path: Path, *keys: str) -> Path:
    path = tmp_path / "link-keys"
    path.write_text("# first signs\n" + "\n".join(keys) + "\n")
    return path


async def _proxy(
    aiohttp_client: Any,
    relay: CountingRelay,
    keys_file: Path,
    clock: Clock,
    require: bool = True,
) -> Any:
    raw = {
        "unit": [UNIT],
        "upstream": f"http://127.0.0.1:{relay.port}",
        "link_keys_file": str(keys_file),
        "require_signed_links": require,
    }
    settings = settings_from_mapping(raw, env={})
    server = TestServer(make_app(settings, clock=clock), **server_options(settings))
    return await aiohttp_client(server)


def _link(key: str, inv: str, exp: int) -> str:
    return f"/logs/{inv}.txt?{signed_query(key.encode(), inv, exp)}"


# --- the MAC and its checks ---------------------------------------------------------------


def test_a_good_signature_is_valid_until_its_expiry_then_expired() -> None:
    exp = 2_000_000_000
    sig = mac(NEW_KEY.encode(), INV, exp)
    keys = [NEW_KEY.encode()]
    assert check(keys, INV, [str(exp)], [sig], exp - 1) == (LinkCheck.VALID, exp)
    assert check(keys, INV, [str(exp)], [sig], exp) == (LinkCheck.EXPIRED, exp)


@pytest.mark.parametrize(
    ("exps", "sigs"),
    [
        (["2000000001"], None),  # exp moved: the MAC covers it
        (["02000000000"], None),  # another spelling of the same number
        (["2000000000"], ["x" * 43]),  # forged
        (["2000000000"], []),  # half present
        ([], None),
        (["2000000000", "2000000000"], None),  # repeated
        (["2000000000"], "twice"),
        (["2e9"], None),
        (["-1"], None),
        (["1" * 13], None),
    ],
)
def test_tampered_or_malformed_links_are_invalid(
    exps: list[str], sigs: list[str] | str | None
) -> None:
    good = mac(NEW_KEY.encode(), INV, 2_000_000_000)
    sig_list = [good] if sigs is None else [good, good] if sigs == "twice" else list(sigs)
    verdict, _ = check([NEW_KEY.encode()], INV, exps, sig_list, 1_000_000_000)
    assert verdict is LinkCheck.INVALID


def test_signature_is_bound_to_the_invocation_and_not_malleable() -> None:
    exp = 2_000_000_000
    sig = mac(NEW_KEY.encode(), INV, exp)
    keys = [NEW_KEY.encode()]
    assert check(keys, "f" * 32, [str(exp)], [sig], 0)[0] is LinkCheck.INVALID
    # 32 bytes in 43 base64url characters leave 2 spare bits in the last one: another
    # character with the same 4 significant bits decodes to the same MAC, and is refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    twin = sig[:-1] + alphabet[last ^ 1]
    assert check(keys, INV, [str(exp)], [twin], 0)[0] is LinkCheck.INVALID
    assert check(keys, INV, [], [], 0)[0] is LinkCheck.UNSIGNED


def test_link_query_echoes_only_a_well_formed_signature() -> None:
    sig = mac(NEW_KEY.encode(), INV, 2_000_000_000)
    assert link_query(["2000000000"], [sig]) == f"?exp=2000000000&sig={sig}"
    assert link_query(["2000000000"], ['"><script>']) == ""
    assert link_query(["2000000000", "1"], [sig]) == ""
    assert link_query([], []) == ""


def test_durations() -> None:
    assert parse_duration("30d") == 30 * DAY
    assert parse_duration("12h") == 12 * 3600
    assert parse_duration("2w") == 14 * DAY
    for bad in ("30", "0d", "1y", "-1d", "1.5d", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_key_file_errors_name_the_line_and_never_the_key(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"{NEW_KEY}\nshort-secret-value\n")
    with pytest.raises(ConfigError, match="line 2") as caught:
        load_keys(str(path), {})
    assert "short-secret-value" not in str(caught.value)
    path.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="no key"):
        load_keys(str(path), {})


def test_the_credential_wins_over_the_configured_file(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "link-keys").write_text(NEW_KEY + "\n")
    other = _keys_file(tmp_path, OLD_KEY)
    assert load_keys(str(other), {"CREDENTIALS_DIRECTORY": str(creds)}) == (NEW_KEY.encode(),)
    assert load_keys(str(other), {}) == (OLD_KEY.encode(),)
    assert load_keys(None, {}) == ()


def test_requiring_signed_links_needs_a_key() -> None:
    with pytest.raises(ConfigError, match="require_signed_links"):
        settings_from_mapping({"unit": [UNIT], "require_signed_links": True}, env={})


def test_keys_are_not_in_the_settings_repr(tmp_path: Path) -> None:
    raw = {"unit": [UNIT], "link_keys_file": str(_keys_file(tmp_path, NEW_KEY))}
    assert NEW_KEY not in repr(settings_from_mapping(raw, env={}))


# --- the proxy ------------------------------------------------------------------------------


async def test_unsigned_forged_and_expired_links_cost_gatewayd_nothing(
    aiohttp_client: Any, relay: CountingRelay, corpus: Corpus, tmp_path: Path
) -> None:
    clock = Clock()
    proxy = await _proxy(aiohttp_client, relay, _keys_file(tmp_path, NEW_KEY), clock)
    exp = int(clock.now) + DAY
    good = _link(NEW_KEY, corpus.ok, exp)
    before = len(relay.request_lines)
    for path, status in [
        (f"/logs/{corpus.ok}", 403),
        (f"/logs/{corpus.ok}.json", 403),
        (f"/logs/{corpus.unknown}", 403),  # no oracle: unknown IDs look the same unsigned
        (_link(OLD_KEY, corpus.ok, exp), 403),  # a key we do not hold
        (good.replace(f"exp={exp}", f"exp={exp + DAY}"), 403),  # extended by hand
        (good + f"&sig={'A' * 43}", 403),  # a second sig
        (_link(NEW_KEY, corpus.ok, int(clock.now) - 1), 410),
    ]:
        resp = await proxy.get(path)
        assert resp.status == status, path
    assert len(relay.request_lines) == before
    resp = await proxy.get(good)
    assert resp.status == 200
    assert "step 3" in await resp.text()
    assert len(relay.request_lines) > before


async def test_a_signed_link_works_until_it_expires(
    aiohttp_client: Any, relay: CountingRelay, corpus: Corpus, tmp_path: Path
) -> None:
    clock = Clock()
    proxy = await _proxy(aiohttp_client, relay, _keys_file(tmp_path, NEW_KEY), clock)
    exp = int(clock.now) + 3600
    query = signed_query(NEW_KEY.encode(), corpus.ok, exp)
    for path in (f"/logs/{corpus.ok}.txt?{query}", f"/logs/{corpus.ok}.json?{query}"):
        resp = await proxy.get(path)
        assert resp.status == 200
        await resp.read()  # the whole read, its last upstream request included
    page = await proxy.get(f"/logs/{corpus.ok}?{query}", headers={"Accept": "text/html"})
    assert page.status == 200
    await page.read()
    clock.now = exp
    before = len(relay.request_lines)
    resp = await proxy.get(f"/logs/{corpus.ok}.json?{query}")
    assert resp.status == 410
    body = await resp.json()
    assert body["error"] == "expired" and body["expired_at"] == str(exp)
    assert len(relay.request_lines) == before


async def test_key_rotation_old_links_verify_until_their_key_is_removed(
    aiohttp_client: Any,
    relay: CountingRelay,
    corpus: Corpus,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    exp = int(clock.now) + DAY
    old_link = _link(OLD_KEY, corpus.ok, exp)
    rotated = _keys_file(tmp_path, NEW_KEY, OLD_KEY)  # the new key first: it signs
    proxy = await _proxy(aiohttp_client, relay, rotated, clock)
    assert (await proxy.get(old_link)).status == 200
    argv = ["url", "--log-base", "https://d.example/logs", "--invocation", corpus.ok]
    assert main([*argv, "--expires", "1d", "--link-keys", str(rotated)]) == 0
    new_link = urlsplit(capsys.readouterr().out.strip())
    assert new_link.query == signed_query(NEW_KEY.encode(), corpus.ok, int(new_link.query[4:14]))
    assert (await proxy.get(f"/logs/{corpus.ok}.txt?{new_link.query}")).status == 200
    await proxy.close()
    retired = _keys_file(tmp_path, NEW_KEY)
    proxy = await _proxy(aiohttp_client, relay, retired, clock)
    assert (await proxy.get(old_link)).status == 403
    assert (await proxy.get(f"/logs/{corpus.ok}.txt?{new_link.query}")).status == 200


async def test_without_require_unsigned_links_open_but_bad_signatures_do_not(
    aiohttp_client: Any, relay: CountingRelay, corpus: Corpus, tmp_path: Path
) -> None:
    clock = Clock()
    proxy = await _proxy(aiohttp_client, relay, _keys_file(tmp_path, NEW_KEY), clock, False)
    assert (await proxy.get(f"/logs/{corpus.ok}.txt")).status == 200
    assert (await proxy.get(_link(OLD_KEY, corpus.ok, int(clock.now) + 60))).status == 403
    assert (await proxy.get(_link(NEW_KEY, corpus.ok, int(clock.now) + 60))).status == 200


async def test_notify_github_expires_posts_a_link_the_proxy_accepts_until_it_expires(
    aiohttp_client: Any,
    relay: CountingRelay,
    corpus: Corpus,
    tmp_path: Path,
    github: FakeGitHub,  # noqa: F811 - the fixture imported above
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "github-token").write_text(TOKEN)
    (creds / "link-keys").write_text(NEW_KEY + "\n")
    env = {"CREDENTIALS_DIRECTORY": str(creds), "INVOCATION_ID": corpus.ok}
    args = ["--deployment", "42", "--state", "in_progress", "--expires", "30d"]
    result = _run(github, args, env, tmp_path)
    assert result.returncode == 0, result.stderr
    url = urlsplit(github.requests[0]["body"]["log_url"])
    assert "sig=" not in result.stdout + result.stderr  # its output lands in the deploy's log
    assert url.path == f"/logs/{corpus.ok}" and url.query.startswith("exp=")
    clock = Clock()
    proxy = await _proxy(aiohttp_client, relay, _keys_file(tmp_path, NEW_KEY), clock)
    assert (await proxy.get(f"{url.path}.txt?{url.query}")).status == 200
    clock.now += 29 * DAY
    assert (await proxy.get(f"{url.path}.txt?{url.query}")).status == 200
    clock.now += 2 * DAY
    assert (await proxy.get(f"{url.path}.txt?{url.query}")).status == 410


def test_notify_github_expires_without_a_key_posts_nothing(
    github: FakeGitHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {"GITHUB_TOKEN": TOKEN, "INVOCATION_ID": INV}
    result = _run(
        github, ["--deployment", "42", "--state", "success", "--expires", "30d"], env, tmp_path
    )
    assert result.returncode == 1
    assert "link key" in result.stderr
    assert github.requests == []


async def test_the_signature_stays_out_of_the_proxy_log(
    aiohttp_client: Any,
    relay: CountingRelay,
    corpus: Corpus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    proxy = await _proxy(aiohttp_client, relay, _keys_file(tmp_path, NEW_KEY), clock)
    exp = int(clock.now) + 60
    link = _link(NEW_KEY, corpus.ok, exp)
    sig = link.rsplit("sig=", 1)[1]
    caplog.set_level(logging.DEBUG)
    assert (await proxy.get(link)).status == 200
    assert (await proxy.get(link.replace(sig[:5], "AAAAA"))).status == 403
    access = logging.getLogger("test.access")
    request = make_mocked_request("GET", link)
    AccessLogger(access, "").log(request, web.Response(status=200), 0.01)
    # The test server logs with aiohttp's default access logger; ``serve`` uses AccessLogger.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "aiohttp.access")
    assert "/logs/" in ours
    assert sig not in ours and str(exp) not in ours and corpus.ok not in ours
