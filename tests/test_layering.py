"""The house's shape, read from the source with ``ast``: dependencies point one way, and nothing
grows past what a reader takes in at once.

- Only the web layer (``journal_proxy/web/``) reads a request: nothing else imports
  ``aiohttp.web``, except what runs it (``server.py``, ``cli.py``) and the test support that
  starts it (``localjournal``, ``localprocs``, ``demo``).
- Nothing below the web layer imports it: only ``server.py``, ``cli.py``, ``demo.py`` and the
  package's ``__init__`` (the public ``make_app``) may.
- The core (validate, parse, verify, merge, status, mask, render, cache, triage) imports no aiohttp
  at all, not even through another module of ours.
- ``settings`` is plain data: it does not import the masker (nor, through it, anything else).
- No function is over 50 lines, but for the few on the allow-list below, each with its reason.
  An entry that is no longer needed is a warning: remove it.  Modules have no line cap: a module
  is as long as its concept (issue 28), and splitting one at a count left shims and cycles.
- A helper many tests use is defined once, in ``tests/helpers.py``.
"""

from __future__ import annotations

import ast
import warnings
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "journal_proxy"
TESTS = ROOT / "tests"

MAX_FUNCTION_LINES = 50

#: Functions allowed past MAX_FUNCTION_LINES ("name.py:function": "reason").  Empty: every
#: function fits.  (ansi.py:_apply and renderers/html.py:start were here until they were split.)
FUNCTION_ALLOW: dict[str, str] = {}

#: Besides journal_proxy/web/, who may import aiohttp.web (read a request).
WEB_SERVER_SIDE = {
    "journal_proxy.server": "runs the web app",
    "journal_proxy.cli": "runs server.py",
    "journal_proxy.logs": "the access logger aiohttp calls with each request (runs beside server.py)",
    "journal_proxy.localjournal": "test support: starts the proxy",
    "journal_proxy.localprocs": "test support: starts the proxy",
    "journal_proxy.demo": "runs the proxy on a demo journal",
}
#: Outside journal_proxy/web/, who may import journal_proxy.web.
WEB_IMPORTERS = {"journal_proxy", "journal_proxy.server", "journal_proxy.cli", "journal_proxy.demo"}
#: The core: plain values in, plain values out; no aiohttp anywhere below it.
CORE = (
    "ids",
    "export_format",
    "verify",
    "lifecycle",
    "merge",
    "mask",
    "mask_shapes",
    "mask_keys",
    "mask_views",
    "patterns",
    "ansi",
    "styles",
    "links",
    "renderers",
    "renderers.text",
    "renderers.jsonl",
    "renderers.sse",
    "renderers.html",
    "cache",
    "types",
    "entry",
    "limits",
    "steps",
    "triage",
    "settings",
)
#: Helpers many tests use: defined in tests/helpers.py and nowhere else.
SHARED_HELPERS = {
    "exchange",
    "exchange_blocking",
    "get_blocking",
    "raw_get",
    "status_of",
    "split_response",
    "readline",
    "recv_until",
    "sse_events",
    "eventually",
    "wait_until",
}


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


@cache
def _imports(module: str) -> frozenset[str]:
    """Every module ``module`` imports, anywhere in it (lazy imports in functions too), by
    absolute name; ``from x import y`` counts ``x`` and, when it is a module, ``x.y``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _ours(module: str) -> set[str]:
    return {name for name in _imports(module) if name in MODULES}


def _closure(module: str) -> set[str]:
    """``module`` and every module of ours it imports, directly or not."""
    seen, todo = {module}, [module]
    while todo:
        for name in _ours(todo.pop()) - seen:
            seen.add(name)
            todo.append(name)
    return seen


def _in_web(module: str) -> bool:
    return module == "journal_proxy.web" or module.startswith("journal_proxy.web.")


def _reads_requests(module: str) -> bool:
    return any(
        name == "aiohttp.web" or name.startswith(("aiohttp.web.", "aiohttp.web_", "aiohttp.abc"))
        for name in _imports(module)
    )


def _aiohttp(module: str) -> set[str]:
    return {name for name in _imports(module) if name.split(".")[0] == "aiohttp"}


def test_the_import_reader_sees_what_it_must() -> None:
    """The checks below are only as good as the import reader: it must see these."""
    assert "aiohttp.web" in _imports("journal_proxy.web.app")
    assert "journal_proxy.web" in _imports("journal_proxy.server")
    assert "journal_proxy.demo" in _imports("journal_proxy.cli")  # imported inside a function
    assert "journal_proxy.settings" in _imports("journal_proxy.verify")
    assert "journal_proxy.hub_registry" in _imports("journal_proxy.web.state")  # from ..x import
    assert _reads_requests("journal_proxy.web.routes")
    assert "journal_proxy.ansi" in _closure("journal_proxy.mask")  # through mask_views


def test_only_the_web_layer_reads_requests() -> None:
    readers = {m for m in MODULES if _reads_requests(m) and not _in_web(m)}
    assert readers <= set(WEB_SERVER_SIDE), sorted(readers - set(WEB_SERVER_SIDE))


def test_nothing_below_the_web_layer_imports_it() -> None:
    importers = {
        m for m in MODULES if not _in_web(m) and any(_in_web(name) for name in _imports(m))
    }
    assert importers <= WEB_IMPORTERS, sorted(importers - WEB_IMPORTERS)


def test_the_core_imports_no_aiohttp_even_indirectly() -> None:
    for core in CORE:
        module = f"journal_proxy.{core}"
        assert module in MODULES, f"{module}: listed as core but not found"
        pulled = {m: sorted(_aiohttp(m)) for m in _closure(module) if _aiohttp(m)}
        assert not pulled, f"{module} reaches aiohttp through {pulled}"


def test_settings_are_plain_data() -> None:
    """The masker (and anything else that acts) is built from the settings where it is used."""
    reached = _closure("journal_proxy.settings") - {"journal_proxy.settings"}
    assert not {m for m in reached if m.split(".")[1].startswith("mask")}, reached
    assert "journal_proxy.patterns" not in reached


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from its first decorator to its last line."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return (node.end_lineno or node.lineno) - start + 1


def _sizes() -> dict[str, int]:
    """Lines per function (``module.py:name``, nested and methods by name)."""
    functions: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = f"{name}:{node.name}"
                functions[key] = max(functions.get(key, 0), _length(node))
    return functions


def _warn_stale(allowed: dict[str, str], too_long: dict[str, int], name: str) -> None:
    """An entry no longer needed is a warning, not a failure: the modules it names are split by
    other hands, and their change should not have to wait for this list."""
    stale = sorted(set(allowed) - set(too_long))
    if stale:
        warnings.warn(f"within the limit now, remove from {name}: {stale}", stacklevel=2)


def test_no_function_over_50_lines_but_the_allowed() -> None:
    functions = _sizes()
    too_long = {f: n for f, n in functions.items() if n > MAX_FUNCTION_LINES}
    assert set(too_long) <= set(FUNCTION_ALLOW), {
        f: n for f, n in too_long.items() if f not in FUNCTION_ALLOW
    }
    _warn_stale(FUNCTION_ALLOW, too_long, "FUNCTION_ALLOW")


def test_shared_test_helpers_are_defined_once_in_helpers_py() -> None:
    elsewhere = []
    for path in sorted(TESTS.glob("*.py")):
        if path.name == "helpers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name in SHARED_HELPERS or node.name.lstrip("_") in SHARED_HELPERS
            ):
                elsewhere.append(f"{path.name}:{node.lineno} {node.name}")
    assert not elsewhere, f"use tests/helpers.py instead: {elsewhere}"
