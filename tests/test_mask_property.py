"""Masking, as properties: whatever surrounds or splits a secret, no output format shows it.

Each built-in shape has a realistic sample and a *core* (the part that must never be shown).
The sample is inserted into arbitrary text, split at an arbitrary place by a control character
(C0, DEL, C1 with U+0085 and U+009B) or an escape sequence (SGR, OSC, CSI cursor movement), or,
for private keys, printed one line per entry through one session; the masked entries are rendered
by the real renderers, and the core must be absent from the text output, the decoded JSON
strings, the SSE data and the page's text.
"""

from __future__ import annotations

import html
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from journal_proxy.journal.entry import Entry
from journal_proxy.mask.masker import Masker, MaskSession
from journal_proxy.mask.shapes import BUILTINS, Builtin
from journal_proxy.mask.views import map_escapes, other_view
from journal_proxy.renderers.html import HtmlRenderer
from journal_proxy.renderers.jsonl import JsonLinesRenderer
from journal_proxy.renderers.sse import SseRenderer
from journal_proxy.renderers.text import TextRenderer
from journal_proxy.terminal.ansi import drop_controls, drop_sequences, sanitize
from journal_proxy.terminal.styles import strip_sgr

MASKER = Masker.build()

GITHUB_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

#: (shape, sample as a deploy would print it, core that must never be shown).
SAMPLES: list[tuple[str, str, str]] = [
    *[
        (
            f"github {p}",
            f"{p}_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
        )
        for p in ("ghp", "gho", "ghu", "ghs", "ghr")
    ],
    ("github-pat", GITHUB_PAT, "abcdefghijklmnopqrstuvwxyzABCDEFGH"),
    ("aws-access-key", "AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("aws-secret", f"aws_secret_access_key = {AWS_SECRET}", "FEMI/K7MDENG/bPxRfiCY"),
    ("aws-secret-env", f"AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'", "FEMI/K7MDENG/bPxRfiCY"),
    ("slack-bot", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrSt"),
    ("slack-app", "xapp-1-A0123456789-1234567890123-abcdef0123456789", "abcdef0123456789"),
    ("slack-refresh", "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtYWJjZGVm", "Mi0yLTEyMzQ1Njc4OTAt"),
    (
        "slack-webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    ("jwt", JWT, "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6"),
    ("authorization", "Authorization: Bearer s3cr3t-T0ken.value_123", "s3cr3t-T0ken"),
    ("url-password", "https://deploy:hunter2-pa55word@github.com/x.git", "hunter2-pa55word"),
    ("gitlab", "glpat-Xq3vB7nK9mP2rT5wY8zA", "Xq3vB7nK9mP2rT5wY8zA"),
    ("npm", "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4"),
    ("password-flag", "mysql --password=Tr0ub4dor-and-3", "Tr0ub4dor-and-3"),
    ("token-env", "NPM_TOKEN=abc123def456ghi789", "abc123def456ghi789"),
    (
        "private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAxyz0123456789abcdef\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAxyz",
    ),
]

CONTROLS = [
    *[chr(c) for c in range(0x00, 0x20) if c not in (0x09, 0x0A)],
    "\x7f",
    *[chr(c) for c in range(0x80, 0xA0)],
]
SEQUENCES = [
    "\x1b[31m",
    "\x1b[1;38;5;8m",
    "\x1b[0m",
    "\x1b[m",
    "\x1b[8m",
    "\x1b]0;title\x07",
    "\x1b]8;;http://example.com\x1b\\",
    "\x1b[2J",
    "\x1b[10;5H",
    "\x1b[1A",
    "\x1b[K",
    "\x1bc",
]
#: A bare ESC swallows the next character when sanitised (ESC h, ESC 7...), which is how a
#: token could lose the first letter of its shape: drawn as often as the rest together.
#: (An unfinished CSI inserted by hand, ``ESC [``, can swallow more: see test_mask.py.)
SWALLOWING = ["\x1b", "\x1b\x00", "\x00\x1b", "\x1b\x7f"]
splitter = st.one_of(st.sampled_from(CONTROLS + SEQUENCES), st.sampled_from(SWALLOWING))
surrounding = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


def render_all(entries: list[Entry]) -> dict[str, str]:
    """Every format's rendering of ``entries``, reduced to the text a reader sees."""
    out: dict[str, str] = {}
    text = TextRenderer()
    out["text"] = sanitize(b"".join(text.entry(i + 1, e) for i, e in enumerate(entries)).decode())
    jsonl = JsonLinesRenderer()
    objs = [json.loads(jsonl.entry(i + 1, e)) for i, e in enumerate(entries)]
    out["json"] = "\n".join(
        f"{o['identifier']}\n{o['message']}\n{json.dumps(o.get('fields', {}))}" for o in objs
    )
    sse = SseRenderer()
    datas = [sse.entry(i + 1, e).decode().split("data: ", 1)[1] for i, e in enumerate(entries)]
    sse_objs = [json.loads(d) for d in datas]
    out["sse"] = "\n".join(
        f"{o['identifier']}\n{o['message']}\n" + "".join(t for _, t in o["spans"]) for o in sse_objs
    )
    page = HtmlRenderer("0" * 32, "/s.css", "/s.js", "/i.svg")
    body = b"".join(page.entry(i + 1, e) for i, e in enumerate(entries)).decode()
    attrs = " ".join(html.unescape(a) for a in re.findall(r'data-h="([^"]*)"', body))
    out["html"] = html.unescape(re.sub(r"<[^>]*>", "", body)) + "\n" + attrs
    return out


def entry(
    message: str, identifier: str = "deploy", extra: tuple[tuple[str, str], ...] = ()
) -> Entry:
    return Entry(1_700_000_000_000_000, 6, identifier, message, "deploy.service", extra, None, "")


def assert_hidden(core: str, rendered: dict[str, str]) -> None:
    for name, shown in rendered.items():
        plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
        assert core not in plain, (name, shown)


@settings(max_examples=200, deadline=None)
@given(
    sample=st.sampled_from(SAMPLES),
    before=surrounding,
    after=surrounding,
    at=st.integers(min_value=0, max_value=200),
    split=splitter,
    where=st.sampled_from(["message", "identifier", "extra"]),
)
def test_a_split_secret_is_shown_in_no_format(
    sample: tuple[str, str, str], before: str, after: str, at: int, split: str, where: str
) -> None:
    _, secret, core = sample
    i = at % (len(secret) + 1)
    text = f"{before}\n{secret[:i]}{split}{secret[i:]}\n{after}"
    if where == "message":
        e = entry(text)
    elif where == "identifier":
        e = entry("hello", identifier=text)
    else:
        e = entry("hello", extra=(("FIELD", text),))
    masked = MASKER.session().apply(e)
    assert_hidden(core, render_all([masked]))


@settings(max_examples=60, deadline=None)
@given(sample=st.sampled_from(SAMPLES), prefix=st.sampled_from(["", "token=", "x%3D", '"', " "]))
def test_every_shape_is_masked_url_encoded_too(sample: tuple[str, str, str], prefix: str) -> None:
    _, secret, core = sample
    encoded = (
        secret.replace("%", "%25")
        .replace(" ", "%20")
        .replace(":", "%3A")
        .replace("/", "%2F")
        .replace("=", "%3D")
        .replace("@", "%40")
        .replace("\n", "%0A")
        .replace("'", "%27")
    )
    core_encoded = core.replace("/", "%2F").replace("=", "%3D")
    out = MASKER.session().apply(entry(f"GET /x?a=1&{prefix}{encoded}&b=2")).message
    assert core_encoded not in out, out


KEY_LINES = {
    "rsa": [
        "-----BEGIN RSA PRIVATE KEY-----",
        "Proc-Type: 4,ENCRYPTED",
        "DEK-Info: AES-128-CBC,3F17F5316E2BAC89A2A6A8D5B1A3C5E7",
        "",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo",
        "-----END RSA PRIVATE KEY-----",
    ],
    "openssh": [
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
        "QyNTUxOQAAACDvCEyDrDgPbxcMqn2M0x6y8sPPvq3L0HWz3mdMZWpJmgAAAJgS4Lw8EuC8",
        "-----END OPENSSH PRIVATE KEY-----",
    ],
    "pgp": [
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "Version: GnuPG v2",
        "Comment: deploy key",
        "",
        "lQOYBF0bTbkBCADDZJ1ZQkRr4yYwqUQpL1eN9n3p7zG2n8VfF5+8N0Eo2kqj7s6o",
        "mQINBF0bTbkBEADNqGfNQ6Q9p2W8Y4Yt3jX0bT2k8Vn3Q5yH9T2lQ0mN8oP4rS6t",
        "=Xw2Q",
        "-----END PGP PRIVATE KEY BLOCK-----",
    ],
}


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(sorted(KEY_LINES)),
    split=st.sampled_from(["", *CONTROLS[:8], "\x1b[32m", "\x1b]0;x\x07"]),
    indent=st.sampled_from(["", "  ", "\t"]),
)
def test_a_key_printed_one_line_per_entry_is_shown_in_no_format(
    kind: str, split: str, indent: str
) -> None:
    lines = KEY_LINES[kind]
    session = MASKER.session()
    masked = [session.apply(entry("+ cat key.pem"))]
    for line in lines:
        half = len(line) // 2
        masked.append(session.apply(entry(indent + line[:half] + split + line[half:])))
    masked.append(session.apply(entry("deployed")))
    rendered = render_all(masked)
    body = [line for line in lines if not line.startswith("-----") and len(line) > 12]
    for line in body:
        for start in range(0, len(line) - 12, 6):
            assert_hidden(line[start : start + 12], rendered)
    assert "deployed" in rendered["text"] and "END" in rendered["text"]


def might_match(builtin: Builtin, text: str) -> bool:
    """The masker's pre-filter for one built-in (``Masker._spans``): its pattern is tried only on
    a text that holds one of its needles (lowercased first where ``builtin.lower``)."""
    haystack = text.lower() if builtin.lower else text
    return any(n in haystack for n in builtin.needles)


# The pre-filter never disagrees with a pattern: every generated match holds a needle.
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_prefilter_says_yes_to_every_match_of_every_builtin(data: st.DataObject) -> None:
    for builtin in BUILTINS:
        match = data.draw(st.from_regex(re.compile(builtin.pattern, re.ASCII)), label=builtin.name)
        assert re.search(builtin.pattern, match, re.ASCII)
        assert might_match(builtin, match), (builtin.name, match)


def test_prefilter_says_yes_to_each_sample() -> None:
    for name, secret, _ in SAMPLES:
        assert any(
            might_match(b, secret) and re.search(b.pattern, secret, re.ASCII) for b in BUILTINS
        ), name


def test_session_type() -> None:
    assert isinstance(MASKER.session(), MaskSession)


escape_text = st.lists(
    st.sampled_from(
        CONTROLS
        + SEQUENCES
        + SWALLOWING
        + ["\x1b[", "\x1b(", "a", "b", " ", "é", "\n", "[", "m", "8"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(raw=escape_text)
def test_the_escape_map_rebuilds_every_view(raw: str) -> None:
    """The masker's map from views back to the text agrees with the views themselves."""
    text = drop_controls(raw)
    segments, plain_map, dual_map = map_escapes(text)
    shown = "".join(
        s.sgr if s.sgr is not None else text[s.raw : s.raw + s.length] for s in segments
    )
    assert shown == drop_sequences(text) == sanitize(raw)
    plain = "".join(text[s.raw : s.raw + s.length] for s in segments if s.sgr is None)
    assert plain == strip_sgr(shown)
    for i in range(len(plain)):
        assert text[plain_map.span(i, i + 1)[0]] == plain[i]
    # The other view: exact on plain text; inside a removed sequence only roughly (documented),
    # which is enough, since none of its characters is shown.
    in_plain = {p for s in segments if s.sgr is None for p in range(s.raw, s.raw + s.length)}
    dual = other_view(text)
    for i in range(len(dual)):
        at = dual_map.span(i, i + 1)[0]
        assert 0 <= at < len(text)
        assert text[at] == dual[i] or at not in in_plain
