"""The built-in secret shapes, their needles, and the first look that skips most lines.

Each shape is a linear pattern: it starts at a literal (``ghp_``, ``eyJ``, ``://``,
``PRIVATE KEY``...), where starts could overlap only one per run of token characters is tried
(JWT), and repeats are bounded, possessive and never nested.  Each shape also matches URL-encoded
(``%3D``, ``%20``, ``+`` for a space, ``%2F``), since secrets end up in logged URLs and form
bodies.  :mod:`journal_proxy.mask.masker` runs them; :mod:`journal_proxy.mask.keys` follows a private
key's body from its header.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: A field with more matches than this is hidden whole: each match is Python work, and a line
#: with hundreds of secrets in it is an attack on the masker, not a deploy's accident.
MAX_SPANS = 256


class TooManySpans(Exception):
    """More than MAX_SPANS matches (or private-key candidates) in one field."""


# Pieces of the built-in patterns.
_SP = r"(?:[ \t]|%20|\+)"  # a space
_QUOTE = r"(?:[\"'`]|%2[27]|\\[\"'])?"  # an optional quote, also URL-encoded or escaped
_SEP = r"(?:=>|[:=]|%3[AaDd])"  # name/value separator
_VALUE = r"(?P<s>[^\s\"'`,;&<>\\]{1,4096}+)"  # a header or setting's value, up to a delimiter
_DASH = r"(?:-|%2[Dd])"
#: The end of a private key's header (``PRIVATE KEY-----``), shared with :mod:`journal_proxy.mask.keys`.
HEADER_TAIL = rf"PRIVATE{_SP}KEY(?:{_SP}BLOCK)?(?:{_DASH}|[ ]){{0,8}}"
_KEY_VALUE = rf"{_QUOTE}{_SP}{{0,8}}{_SEP}{_SP}{{0,8}}{_QUOTE}"


class Builtin(NamedTuple):
    """A built-in shape.  ``needles``: strings of which every match contains at least one
    (lowercased first when ``lower``), the cheap pre-filter; ``tests/test_mask_property.py``
    checks against generated matches that the pre-filter can never disagree with the pattern.
    When a pattern has a group named ``s``, only that group is masked."""

    name: str
    pattern: str
    needles: tuple[str, ...]
    lower: bool = False


#: The name of the one shape whose match is followed further (:func:`journal_proxy.mask.keys.key_spans`).
PRIVATE_KEY = "private-key"

BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "github-token", r"gh[pousr]_[A-Za-z0-9]{20,255}+", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    ),
    Builtin("github-pat", r"github_pat_[A-Za-z0-9_]{20,255}+", ("github_pat_",)),
    Builtin("aws-access-key", r"(?:AKIA|ASIA)[A-Z0-9]{16}", ("AKIA", "ASIA")),
    Builtin(
        "aws-secret-key",
        rf"(?i:secret[_-]?access[_-]?key){_KEY_VALUE}{_VALUE}",
        ("secret",),
        lower=True,
    ),
    Builtin(
        "slack-token",
        r"x(?:ox[abposre]|app|oxe\.xox[abposr])-[A-Za-z0-9-]{10,255}+",
        ("xox", "xapp"),
    ),
    Builtin(
        "slack-webhook",
        r"hooks\.slack\.com(?:/|%2[Ff])(?:services|workflows|triggers)(?:/|%2[Ff])"
        r"(?P<s>[A-Za-z0-9_%/-]{8,512}+)",
        ("hooks.slack.com",),
    ),
    # One start per run of base64url characters (the look-behind): ``-eyJ-eyJ...`` would
    # otherwise start a 4096-character scan at every ``eyJ``.  ``%3DeyJ`` (URL-encoded) starts too.
    Builtin(
        "jwt",
        r"eyJ(?:(?<![A-Za-z0-9_-]eyJ)|(?<=%[0-9A-Fa-f]{2}eyJ))"
        r"[A-Za-z0-9_-]{4,4096}+\.[A-Za-z0-9_-]{4,4096}+\.[A-Za-z0-9_-]{0,4096}+",
        ("eyJ",),
    ),
    Builtin(
        "authorization-header",
        rf"(?i:authorization){_KEY_VALUE}(?:(?i:bearer|basic|token|digest){_SP}{{1,8}})?{_VALUE}",
        ("authorization",),
        lower=True,
    ),
    Builtin("url-password", r"://[^\s:/@]{0,256}+:(?P<s>[^\s@/]{1,256}+)@", ("://",)),
    Builtin(
        "url-password-encoded",
        r"%3[Aa]%2[Ff]%2[Ff](?:[^\s:/@%]|%(?!3[Aa]|40|2[Ff])[0-9A-Fa-f]{2}){0,256}+%3[Aa]"
        r"(?P<s>(?:[^\s@/%]|%(?!40|2[Ff])[0-9A-Fa-f]{2}){1,256}+)%40",
        ("%3a%2f%2f",),
        lower=True,
    ),
    # Tokens of the services a deploy talks to, each by its documented prefix (GitLab, npm, PyPI,
    # Docker Hub, Stripe, Google, OpenAI and Anthropic, Vault, DigitalOcean, SendGrid).
    Builtin(
        "gitlab-token",
        r"gl(?:pat|dt|rt|cbt|ptt|ft|imt|oas|soat|agent)-[A-Za-z0-9_-]{20,255}+",
        ("gl",),
    ),
    Builtin("npm-token", r"npm_[A-Za-z0-9]{36,255}+", ("npm_",)),
    Builtin("pypi-token", r"pypi-AgE[A-Za-z0-9_-]{32,4096}+", ("pypi-",)),
    Builtin("docker-hub-token", r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{20,255}+", ("dckr_",)),
    Builtin("stripe-key", r"(?:sk|rk)_live_[A-Za-z0-9]{20,255}+", ("_live_",)),
    Builtin("google-api-key", r"AIza[A-Za-z0-9_-]{35}", ("AIza",)),
    Builtin(
        "ai-api-key",
        r"sk-(?:(?:ant-[a-z]{3,8}[0-9]{2}-|proj-|svcacct-|admin-)[A-Za-z0-9_-]{20,255}+"
        r"|[A-Za-z0-9]{48}(?![A-Za-z0-9]))",
        ("sk-",),
    ),
    Builtin("vault-token", r"hv[sbr]\.[A-Za-z0-9_-]{24,255}+", ("hvs.", "hvb.", "hvr.")),
    Builtin("digitalocean-token", r"do[por]_v1_[a-f0-9]{64}", ("_v1_",)),
    Builtin("sendgrid-key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", ("SG.",)),
    # A password or token set in a command line or the environment: ``--password=...``,
    # ``password: ...``, ``DB_PASSWORD='...'``, ``NPM_TOKEN=...``, ``API_KEY: ...``.  Only the
    # value is masked; a name alone (``Password authentication failed``) is not a setting.
    Builtin(
        "password-setting",
        rf"(?i:passw(?:or)?d){_KEY_VALUE}{_VALUE}",
        ("passw",),
        lower=True,
    ),
    Builtin(
        "secret-flag",
        r"--(?:[a-z0-9]{1,32}+-){0,3}+(?:token|secret|api-key|apikey|password)(?:=|[ \t]{1,8}+)"
        + _VALUE,
        ("token", "secret", "api", "password"),
    ),
    Builtin(
        "token-setting",
        rf"(?:TOKEN|SECRET|API_?KEY)(?:_[A-Z0-9]{{1,32}}+){{0,4}}+{_KEY_VALUE}{_VALUE}",
        ("token", "secret", "api"),
        lower=True,
    ),
    # The header only (which stays readable): what is masked is from its end to the END line,
    # or to the end of the text, and then the key goes on in the next entries (MaskSession).
    Builtin(PRIVATE_KEY, rf"BEGIN[A-Z0-9 +%]{{0,40}}?{HEADER_TAIL}", ("BEGIN",)),
)


def could_hold_builtin(text: str) -> bool:
    """The first look, for all built-ins at once: False only if no needle of any built-in is in
    ``text`` (tests check it against every needle).  Most log lines hold none, and a chain of
    substring tests is several times cheaper than a loop over the needles or one regex.  The
    needles with an underscore are looked for only in a line that has one: 88% of the lines of
    real CI logs (the development corpus of ../shared/failures) have none."""
    if (
        "gh" in text
        or (
            "_" in text
            and (
                "github_pat_" in text
                or "npm_" in text
                or "dckr_" in text
                or "_live_" in text
                or "_v1_" in text
            )
        )
        or "AKIA" in text
        or "ASIA" in text
        or "xox" in text
        or "xapp" in text
        or "hooks.slack.com" in text
        or "eyJ" in text
        or "://" in text
        or "BEGIN" in text
        or "gl" in text
        or "pypi-" in text
        or "sk-" in text
        or "hv" in text
        or "SG." in text
        or "AIza" in text
    ):
        return True
    lowered = text.lower()
    return (
        "secret" in lowered
        or "authorization" in lowered
        or "%3a%2f%2f" in lowered
        or "passw" in lowered
        or "token" in lowered
        or "api" in lowered
    )


def add_spans(rx: re.Pattern[str], text: str, spans: list[tuple[int, int]]) -> None:
    """Append the spans to mask that ``rx`` finds (group ``s`` if it has one)."""
    group = "s" if "s" in rx.groupindex else 0
    for m in rx.finditer(text):
        a, b = m.span(group)
        if b > a:
            spans.append((a, b))
            if len(spans) > MAX_SPANS:
                raise TooManySpans
