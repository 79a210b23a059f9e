"""The page's CSS and JavaScript, served by the proxy itself under content-hashed names.

No CDN and no inline code: the Content-Security-Policy allows scripts and styles from ``'self'``
only.  A hashed name changes when the file does, so the files can be cached for a year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    body: bytes
    content_type: str


class Assets:
    def __init__(self) -> None:
        self._by_name: dict[str, Asset] = {}
        self.urls: dict[str, str] = {}
        for name in ("style.css", "app.js", "icon.svg", "icon-succeeded.svg", "icon-failed.svg"):
            body = resources.files("journal_proxy").joinpath("static", name).read_bytes()
            stem, _, ext = name.rpartition(".")
            digest = hashlib.sha256(body).hexdigest()[:12]
            hashed = f"{stem}.{digest}.{ext}"
            asset = Asset(f"/static/{hashed}", body, _TYPES["." + ext])
            self._by_name[hashed] = asset
            self.urls[name] = asset.url

    def get(self, hashed_name: str) -> Asset | None:
        return self._by_name.get(hashed_name)
