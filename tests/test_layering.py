"""The house's shape.

- The packages follow a request's path, and each imports only the packages below it; below the
  web layer nothing imports aiohttp: import-linter contracts in ``pyproject.toml``, checked by
  ``lint-imports`` in the test command and here.
- No import cycle between modules, counting imports inside functions and under
  ``TYPE_CHECKING`` (``grimp``, which import-linter builds its graph with, reads them all).
- Importing a core package in a fresh interpreter loads no aiohttp: what runs, not only what the
  source says.
- No function is over 50 lines, but for the few on the allow-list below, each with its reason.
  An entry that is no longer needed is a warning: remove it.  Modules have no line cap: a module
  is as long as its concept (issue 28), and splitting one at a count left shims and cycles.
- A helper many tests use is defined once, in ``tests/helpers.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "journal_proxy"
TESTS = ROOT / "tests"

MAX_FUNCTION_LINES = 50

#: Functions allowed past MAX_FUNCTION_LINES ("name.py:function": "reason").  Empty: every
#: function fits.
FUNCTION_ALLOW: dict[str, str] = {}

#: The packages below the web layer (pyproject's forbidden contract names the same).
CORE = ("access", "upstream", "journal", "mask", "triage", "terminal", "renderers", "delivery")
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


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Pairs of modules that import each other, directly or through others."""
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if module < imported and graph.chain_exists(importer=imported, imported=module):
                found.append((module, imported))
    return found


def test_no_import_cycle_counting_imports_in_functions() -> None:
    graph = grimp.build_graph("journal_proxy")
    assert "journal_proxy.demo.run" in graph.find_modules_directly_imported_by(
        "journal_proxy.cli.main"
    ), "the graph must see imports inside functions"
    assert _cycles(graph) == []


@pytest.mark.parametrize("package", CORE)
def test_a_core_package_loads_no_aiohttp(package: str) -> None:
    probe = (
        f"import sys, journal_proxy.{package}, pkgutil, importlib\n"
        f"for m in pkgutil.walk_packages(journal_proxy.{package}.__path__, "
        f"'journal_proxy.{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'aiohttp'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


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
