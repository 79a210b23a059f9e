"""The page's static files: one content-hashed directory, ES modules that resolve inside it, and
the patterns app.js shares with the server held equal to the server's."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from journal_proxy.renderers import urls
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


def _js_constant(source: str, name: str) -> str:
    m = re.search(rf"^export const {name} = (.+);$", source, re.M)
    assert m, name
    return m.group(1)


def test_the_url_pattern_is_the_servers() -> None:
    """Live lines get their links from js/links.js, the server's from renderers/urls.py: the
    same expression, trimming and length limit, so a line looks the same whichever way it came."""
    links = (STATIC / "js" / "links.js").read_text()
    js_re = _js_constant(links, "URL_RE")
    assert js_re.startswith("/") and js_re.endswith("/g")
    assert js_re[1:-2].replace("\\/", "/") == urls.URL_RE.pattern.replace('\\"', '"')
    assert json.loads(_js_constant(links, "URL_TRAILING")) == urls._URL_TRAILING
    assert int(_js_constant(links, "MAX_URL")) == urls.MAX_URL


# No page function over 50 lines: ESLint checks it (max-lines-per-function, eslint.config.mjs),
# with a real JavaScript parser, in scripts/test.sh.
