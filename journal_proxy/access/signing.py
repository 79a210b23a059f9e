"""Signed, expiring links: ``/logs/<id>?exp=<unix seconds>&sig=<MAC>``.

The invocation ID stays the capability; the signature adds an end date and a kill switch for
whole generations of links (remove a key, and every link it signed stops working).  The MAC is
HMAC-SHA256 over a fixed label, the ID and the expiry, sent as unpadded base64url (43
characters).  It is compared as text, in constant time, against what each configured key makes:
comparing the encoded form means no second spelling of the same bytes is accepted.

Keys: a file of one key per line (blank lines and ``#`` comments skipped); the first line signs,
every line verifies, so a key is rotated by putting the new one first and deleting the old one
when its links may die.  ``$CREDENTIALS_DIRECTORY/link-keys`` (systemd ``LoadCredential=``) is
read before the configured file.  Keys never come from the command line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path

from journal_proxy.errors import ConfigError

CREDENTIAL_NAME = "link-keys"
#: A key is at least this many characters (``openssl rand -base64 32`` gives 44).
MIN_KEY_CHARS = 32
_LABEL = b"journal-proxy link v1\n"
_EXP_RE = re.compile(r"[1-9][0-9]{0,11}", re.ASCII)
_SIG_RE = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
_KEY_RE = re.compile(r"[\x21-\x7e]+", re.ASCII)
_DURATION_RE = re.compile(r"([1-9][0-9]{0,5})([smhdw])", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class LinkCheck(Enum):
    """What a link's ``exp``/``sig`` say, decided before any lookup."""

    UNSIGNED = "unsigned"  # neither parameter present
    VALID = "valid"
    EXPIRED = "expired"  # made by one of our keys, and its time has passed
    INVALID = "invalid"  # malformed, repeated, half present, or made by no key of ours


def mac(key: bytes, invocation_id: str, exp: int) -> str:
    """The ``sig`` for ``invocation_id`` until ``exp``, as unpadded base64url."""
    digest = hmac.new(key, _LABEL + f"{invocation_id}\n{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_query(key: bytes, invocation_id: str, exp: int) -> str:
    """``exp=...&sig=...``, ready to follow a ``?``."""
    return f"exp={exp}&sig={mac(key, invocation_id, exp)}"


def check(
    keys: Sequence[bytes],
    invocation_id: str,
    exps: Sequence[str],
    sigs: Sequence[str],
    now: float,
) -> tuple[LinkCheck, int]:
    """Check a link's ``exp``/``sig`` values (every occurrence, as the query parser gave them).

    Returns the verdict and the expiry (0 unless the signature is good).  The MAC is checked
    before the time, so a forged link is ``INVALID`` however old its ``exp`` says it is.
    """
    if not exps and not sigs:
        return LinkCheck.UNSIGNED, 0
    if len(exps) != 1 or len(sigs) != 1:
        return LinkCheck.INVALID, 0
    exp_text, sig = exps[0], sigs[0]
    if not _EXP_RE.fullmatch(exp_text) or not _SIG_RE.fullmatch(sig):
        return LinkCheck.INVALID, 0
    exp = int(exp_text)
    matched = False
    for key in keys:  # every key is tried: which one matched is not worth a timing difference
        matched |= hmac.compare_digest(mac(key, invocation_id, exp).encode(), sig.encode())
    if not matched:
        return LinkCheck.INVALID, 0
    return (LinkCheck.VALID if now < exp else LinkCheck.EXPIRED), exp


def link_query(exps: Sequence[str], sigs: Sequence[str]) -> str:
    """``?exp=...&sig=...`` to carry a request's signature on to the page's own links (Raw,
    Download, the live stream), or "" when the request has none of the right shape.  Only the
    two checked shapes are echoed, so nothing else from the query reaches the page."""
    if len(exps) != 1 or len(sigs) != 1:
        return ""
    if not _EXP_RE.fullmatch(exps[0]) or not _SIG_RE.fullmatch(sigs[0]):
        return ""
    return f"?exp={exps[0]}&sig={sigs[0]}"


def parse_duration(text: str) -> int:
    """``90s``, ``45m``, ``12h``, ``30d``, ``2w`` in seconds; a unit is required."""
    m = _DURATION_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h or 2w")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def parse_keys(text: str, where: str) -> tuple[bytes, ...]:
    """The keys in a key file's text; errors name the file and line, never the key."""
    keys: list[bytes] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not _KEY_RE.fullmatch(line) or len(line) < MIN_KEY_CHARS:
            raise ConfigError(
                f"link keys: {where} line {number} is not a key "
                f"(at least {MIN_KEY_CHARS} printable characters, no spaces)"
            )
        keys.append(line.encode())
    if not keys:
        raise ConfigError(f"link keys: {where} holds no key")
    return tuple(keys)


def load_keys(path: str | None, env: Mapping[str, str]) -> tuple[bytes, ...]:
    """``$CREDENTIALS_DIRECTORY/link-keys`` if it exists, else ``path``; () if neither is set."""
    candidates: list[Path] = []
    if env.get("CREDENTIALS_DIRECTORY"):
        credential = Path(env["CREDENTIALS_DIRECTORY"]) / CREDENTIAL_NAME
        if credential.exists():
            candidates.append(credential)
    if path:
        candidates.append(Path(path))
    if not candidates:
        return ()
    source = candidates[0]
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"link keys: cannot read {source}: {exc}") from exc
    return parse_keys(text, str(source))


def log_url(
    base: str,
    invocation_id: str,
    expires: str | None,
    keys_file: str | None,
    env: Mapping[str, str],
    now: float,
) -> str:
    """``base/<id>``, signed to expire ``expires`` (``30d``) from ``now`` if that is given.

    Used by ``journal-proxy url`` and ``notify-github``; raises ``ConfigError`` without a key and
    ``ValueError`` for a bad duration.
    """
    url = f"{base.rstrip('/')}/{invocation_id}"
    if expires is None:
        return url
    seconds = parse_duration(expires)
    keys = load_keys(keys_file, env)
    if not keys:
        raise ConfigError(
            "--expires needs a link key: LoadCredential=link-keys:... or --link-keys FILE"
        )
    return f"{url}?{signed_query(keys[0], invocation_id, int(now) + seconds)}"
