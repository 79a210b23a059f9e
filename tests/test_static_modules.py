"""The page's static files: one content-hashed directory, ES modules that resolve inside it, and
the patterns app.js shares with the server held equal to the server's."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from journal_proxy.web.assets import Assets

STATIC = Path(__file__).parent.parent / "journal_proxy" / "static"
#: ``import ... from "./x.js"`` and ``export ... from "./x.js"`` in a module.
_IMPORT = re.compile(r"""^(?:import|export)\b[^"'\n;]*?from\s+["']([^"']+)["']""", re.M)


def test_every_static_file_is_served_from_one_hashed_directory() -> None:
    assets = Assets()
    assert re.fullmatch(r"[0-9a-f]{12}", assets.version)
    for path, url in assets.urls.items():
        assert url == f"/static/{assets.version}/{path}"
        served = assets.get(url.removeprefix("/static/"))
        assert served is not None and served.body == (STATIC / path).read_bytes()
    assert {"app.js", "style.css", "icon.svg"} <= set(assets.urls)
    assert assets.get("app.js") is None and assets.get(f"{assets.version}/../app.js") is None


def test_every_module_import_is_relative_and_served() -> None:
    """A module imports only files of the same hashed directory, by relative URL, so a page never
    mixes two versions and the CSP's 'self' covers every one."""
    assets = Assets()
    for path in assets.urls:
        if not path.endswith(".js"):
            continue
        for target in _IMPORT.findall((STATIC / path).read_text()):
            assert target.startswith("./") or target.startswith("../"), (path, target)
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            assert resolved in assets.urls, (path, target)
