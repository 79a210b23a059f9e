"""The page's CSS, JavaScript modules and icons, served by the proxy itself from a content-hashed
directory.

No CDN and no inline code: the Content-Security-Policy allows scripts and styles from ``'self'``
only.  Every file is served as ``/static/<hash>/<path>``, where the hash covers every static file
(names and bytes): a change to any file moves them all, so each can be cached for a year, and the
page's ES modules import each other by relative URLs (``./js/live.js``) that stay in the same
directory, the same version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file as served: read once at start-up, so a request costs a lookup."""

    url: str
    body: bytes
    content_type: str


def _static_files(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    """Every servable file under ``folder`` by its relative path (``js/live.js``), in name order."""
    found: dict[str, bytes] = {}
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        path = prefix + item.name
        if item.is_dir():
            found.update(_static_files(item, path + "/"))
        elif "." + item.name.rpartition(".")[2] in _TYPES:
            found[path] = item.read_bytes()
    return found


#: Hex digits of the directory's SHA-256 in the URL: enough that two versions never meet.
_HASH_DIGITS = 12


def _digest(files: dict[str, bytes]) -> str:
    """The version of the whole static directory: each path and body, length-prefixed so no two
    different directories hash alike."""
    h = hashlib.sha256()
    for path, body in files.items():
        for part in (path.encode(), body):
            h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()[:_HASH_DIGITS]


class Assets:
    """The static directory under its content hash, for the page's links and ``/static/``."""

    def __init__(self) -> None:
        files = _static_files(resources.files("journal_proxy").joinpath("static"))
        #: The hashed directory's name, shared by every file.
        self.version = _digest(files)
        self._by_name: dict[str, Asset] = {}
        #: Each file's URL by its path under ``static/`` (``app.js``, ``js/live.js``).
        self.urls: dict[str, str] = {}
        for path, body in files.items():
            name = f"{self.version}/{path}"
            asset = Asset(f"/static/{name}", body, _TYPES["." + path.rpartition(".")[2]])
            self._by_name[name] = asset
            self.urls[path] = asset.url

    def get(self, name: str) -> Asset | None:
        """The file at ``/static/<name>``, where ``name`` is ``<hash>/<path>``; None otherwise."""
        return self._by_name.get(name)
