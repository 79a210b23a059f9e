"""The page's vocabulary (``journal_proxy/renderers/classes.py``) against its three users.

Every class selector of ``style.css``, every class name the page's script adds or looks for, and
every class the server writes on real pages (rendered through the app from a real gatewayd, for
runs with colours, steps, groups, annotations, errors, warnings and links) is in the vocabulary;
every entry of the vocabulary is used, by the side it names.  The same for the ``data-*``
attributes and the ``jp:*`` events.

The script is read as text, by the calls that name classes: ``classList.*``, ``className =``,
``getElementsByClassName``, the selectors of ``querySelector(All)``/``closest``/``matches``, the
live line's ``cls`` (live.js), ``textPart("...")`` (links.js), and the server's own markup as the
block reader matches it (``class="..."`` in chunks.js).  A literal followed by ``+ value`` in a
class expression (``"l p" + priority``) is a prefix, which one of the vocabulary's patterns
must begin with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.local import procs
from journal_proxy.renderers import classes as vocab

from .conftest import closed_port
from .helpers_triage import Run

STATIC = Path(__file__).resolve().parent.parent / "journal_proxy" / "static"
CSS = re.sub(r"/\*.*?\*/", "", (STATIC / "style.css").read_text(), flags=re.S)
JS = "\n".join(p.read_text() for p in sorted(STATIC.rglob("*.js")))

_CLASS_SELECTOR = re.compile(r"\.(-?[A-Za-z_][\w-]*)")
_NAME = re.compile(r"-?[A-Za-z_][\w-]*")
_DOUBLE_QUOTED = re.compile(r'"([^"\\\n]*)"')
#: Calls whose first argument is a class name (or names) the script puts on an element.
_JS_ADDS = re.compile(r'(?:classList\.(?:add|toggle)|\btextPart)\(\s*"([^"]*)"')
#: Calls whose first argument is a class name the script looks for or takes off.
_JS_READS = re.compile(r'(?:classList\.(?:remove|contains)|getElementsByClassName)\(\s*"([^"]*)"')
#: A class attribute of the server's markup, as chunks.js's reader matches it.
_JS_MARKUP = re.compile(r'class="([^"]*)"')
#: An assignment of a class list: ``x.className = ...`` or live.js's ``cls = ...``/``cls += ...``.
_JS_CLASS_EXPRESSION = re.compile(r"(?:\.className|\bcls)\s*(?:\+=|=(?!=))\s*([^;\n]*)")
_JS_SELECTOR = re.compile(r'\.(?:querySelector|querySelectorAll|closest|matches)\(\s*"([^"]*)"')
#: chunks.js's list of the extra classes a line from the server may carry.
_JS_EXTRA = re.compile(r"\bEXTRA = new Set\(\[([^\]]*)\]\)")
_JS_DATASET = re.compile(r"\.dataset\.([A-Za-z]+)(\s*=(?!=))?")


def _known(name: str, names: dict[str, Any], patterns: dict[str, Any]) -> bool:
    return name in names or any(re.fullmatch(p, name) for p in patterns)


def _class_known(name: str) -> bool:
    return _known(name, vocab.CLASSES, vocab.CLASS_PATTERNS)


def _data_known(name: str) -> bool:
    return _known(name, vocab.DATA, vocab.DATA_PATTERNS)


def _used(
    names: dict[str, vocab.Term], patterns: dict[str, vocab.Term], seen: set[str]
) -> dict[str, str]:
    """Entries (names and patterns) that nothing in ``seen`` is, with their side."""
    unused = {n: t.side for n, t in names.items() if n not in seen}
    unused |= {p: t.side for p, t in patterns.items() if not any(re.fullmatch(p, s) for s in seen)}
    return unused


# The stylesheet.


def _rule_selectors(css: str) -> Iterator[str]:
    """The selector of every style rule, inside @media blocks too; at-rules' preludes and the
    declarations (where ``.5`` is a number, not a class) are left out."""
    stack: list[bool] = []  # for each open block: an at-rule's (holding rules)?
    start = 0
    for i, ch in enumerate(css):
        if ch == "{":
            prelude = css[start:i].strip()
            if not prelude.startswith("@"):
                yield prelude
            stack.append(prelude.startswith("@"))
        elif ch == "}":
            stack.pop()
        elif ch != ";" or (stack and not stack[-1]):
            continue
        start = i + 1


def _css_classes() -> set[str]:
    found: set[str] = set()
    for selector in _rule_selectors(CSS):
        found.update(_CLASS_SELECTOR.findall(re.sub(r"\[[^\]]*\]", "", selector)))
    return found


def _css_data() -> set[str]:
    found = set(re.findall(r"attr\((data-[a-z-]+)\)", CSS))
    for selector in _rule_selectors(CSS):
        found.update(re.findall(r"\[(data-[a-z-]+)", selector))
    return found


# The script.


@dataclass
class Script:
    """The class names the page's script puts on elements, and those it only looks for."""

    adds: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    @property
    def names(self) -> set[str]:
        return self.adds | self.reads


def _class_literals(expression: str) -> Iterator[tuple[str, bool]]:
    """The string literals of a class expression that are classes (not the operand of a
    comparison), each with whether it ends in a prefix (``"l p" + priority``)."""
    for m in _DOUBLE_QUOTED.finditer(expression):
        before, after = expression[: m.start()], expression[m.end() :]
        if re.search(r"[=!]==?\s*$", before) or re.match(r"\s*[=!]==?", after):
            continue
        glued = bool(m.group(1)) and not m.group(1).endswith(" ")
        yield m.group(1), glued and bool(re.match(r"\s*\+\s*[A-Za-z_$]", after))


def _js_classes() -> Script:
    script = Script()
    for m in _JS_ADDS.finditer(JS):
        script.adds.update(m.group(1).split())
    for m in _JS_READS.finditer(JS):
        script.reads.update(m.group(1).split())
    for m in _JS_MARKUP.finditer(JS):
        script.reads.update(w for w in m.group(1).split() if _NAME.fullmatch(w))
    for m in _JS_EXTRA.finditer(JS):
        script.adds.update(_DOUBLE_QUOTED.findall(m.group(1)))
    for m in _JS_SELECTOR.finditer(JS):
        script.reads.update(_CLASS_SELECTOR.findall(re.sub(r"\[[^\]]*\]", "", m.group(1))))
    for m in _JS_CLASS_EXPRESSION.finditer(JS):
        for literal, prefix in _class_literals(m.group(1)):
            words = literal.split()
            if prefix:
                script.prefixes.add(words.pop())
            script.adds.update(words)
    return script


def _kebab(camel: str) -> str:
    return "data-" + re.sub(r"[A-Z]", lambda m: "-" + m.group().lower(), camel)


def _js_data() -> tuple[set[str], set[str]]:
    """data-* attributes the script writes, and those it reads (by ``dataset.name``)."""
    writes: set[str] = set()
    reads: set[str] = set()
    for m in _JS_DATASET.finditer(JS):
        (writes if m.group(2) else reads).add(_kebab(m.group(1)))
    return writes, reads


# The server's pages.


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.classes: set[str] = set()
        self.data: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "class":
                self.classes.update((value or "").split())
            elif name.startswith("data-"):
                self.data.add(name)


def _failed() -> Run:
    """Steps, groups of every style, annotations, a traceback, every priority, SGR, links."""
    run = Run().command("prepare.sh", 100)
    run.lines("::group::Fetch", "fetched https://example.com/a?b=1.", "::endgroup::")
    run.lines("+++ Expanded", "inside", "~~~ Quiet", "inside", "--- Collapsed", "inside")
    for priority in range(8):
        run.line(f"priority {priority}", priority=priority)
    run.command("deploy.sh", 200)
    run.line("\x1b[1;2;3;4;9mattributes\x1b[0m \x1b[7mreverse\x1b[0m")
    run.line("\x1b[31;42mbasic\x1b[0m \x1b[91;102mbright\x1b[0m \x1b[38;5;200;48;5;17mxterm")
    run.line("\x1b[38;2;255;128;0mtrue colour\x1b[0m see https://example.org/\x1b[1mbold\x1b[0m")
    run.line("::warning file=site/a.py,line=3::disk almost full")
    run.line("::error file=site/build.py,line=42,col=5,title=Build broke::KeyError: 'theme'")
    run.lines("Traceback (most recent call last):", '  File "x.py", line 1, in <module>')
    run.line("ValueError: bad config")
    return run.control_failed(status=2, command="start")


#: A failed, a succeeded and a running run (started, no line yet).
RUNS = (_failed(), Run().lines("one line").succeeded(), Run())


@pytest.fixture(scope="module")
def gatewayd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.Gatewayd]:
    """conftest's gatewayd (behind its relay, which make_proxy uses), over these runs only."""
    directory = tmp_path_factory.mktemp("vocabulary")
    export = b"".join(bytes(run.out) for run in RUNS)
    procs.write_journal(directory, "vocabulary", export)
    gw = procs.Gatewayd(directory)
    yield gw
    gw.stop()


async def _server_markup(make_proxy: Any, gatewayd: procs.Gatewayd) -> _Markup:
    """The classes and data-* attributes of the RUNS' pages and of an error page; a second
    journal server that cannot be asked adds its note."""
    proxy = await make_proxy(upstream=[gatewayd.url, f"http://127.0.0.1:{closed_port()}"])
    markup = _Markup()
    missing = "0" * 32
    for inv in [run.inv for run in RUNS] + [missing]:
        resp = await proxy.get(f"/logs/{inv}", headers={"Accept": "text/html"})
        # Not found in one server, the other not asked: the error page of a 502.
        assert resp.status == (502 if inv == missing else 200), inv
        markup.feed(await resp.text())
    return markup


def _unknown(names: Iterable[str], known: Callable[[str], bool]) -> list[str]:
    return sorted(n for n in names if not known(n))


def _wrong_sides(names: dict[str, vocab.Term], server: set[str], script: set[str]) -> list[str]:
    """Entries whose side is not who writes them: the server's pages, the script, or both."""
    wrong = []
    for name, term in names.items():
        sides = {vocab.SERVER} if name in server else set()
        sides |= {vocab.JS} if name in script else set()
        expected = {vocab.BOTH: {vocab.SERVER, vocab.JS}}.get(term.side, {term.side})
        if sides != expected:
            wrong.append(f"{name}: {term.side}, written by {sorted(sides)}")
    return wrong


# The tests.


def test_every_class_the_stylesheet_styles_is_in_the_vocabulary() -> None:
    classes = _css_classes()
    assert {"l", "chunk", "p4", "f255", "g0", "s-failed", "fold"} <= classes  # the parser reads
    assert "5" not in classes and "3" not in classes  # declarations (".5", ".3") are not read
    assert _unknown(classes, _class_known) == []


def test_every_class_the_script_names_is_in_the_vocabulary() -> None:
    script = _js_classes()
    assert {"hit", "lazy", "chunk", "top", "unit", "fo", "gx", "al", "sys"} <= script.names
    assert script.prefixes == {"p", "s-"}
    assert _unknown(script.names, _class_known) == []
    assert [
        p for p in script.prefixes if not any(q.startswith(p) for q in vocab.CLASS_PATTERNS)
    ] == []


async def test_every_class_the_server_writes_is_in_the_vocabulary(
    make_proxy: Any, gatewayd: procs.Gatewayd
) -> None:
    markup = await _server_markup(make_proxy, gatewayd)
    assert {"ec", "gq", "gx", "gm", "rf", "rg", "f9", "g10", "f200"} <= markup.classes
    assert _unknown(markup.classes, _class_known) == []
    assert _unknown(markup.data, _data_known) == []


async def test_every_entry_is_used_by_the_side_it_names(
    make_proxy: Any, gatewayd: procs.Gatewayd
) -> None:
    server = (await _server_markup(make_proxy, gatewayd)).classes
    script = _js_classes()
    seen = server | script.names | _css_classes()
    assert _used(vocab.CLASSES, vocab.CLASS_PATTERNS, seen) == {}
    assert _wrong_sides(vocab.CLASSES, server, script.adds) == []


async def test_every_data_attribute_is_in_the_vocabulary_and_used(
    make_proxy: Any, gatewayd: procs.Gatewayd
) -> None:
    server = (await _server_markup(make_proxy, gatewayd)).data
    writes, reads = _js_data()
    assert {"data-meta", "data-headers", "data-n"} <= writes
    assert {"data-cause-last", "data-error-lines"} <= reads
    assert _unknown(writes | reads | _css_data(), _data_known) == []
    assert _used(vocab.DATA, vocab.DATA_PATTERNS, server | writes | reads | _css_data()) == {}
    assert _wrong_sides(vocab.DATA, server, writes) == []


def test_every_event_is_in_the_vocabulary_sent_and_heard() -> None:
    named = set(re.findall(r'"(jp:[a-z]+)"', JS))
    sent = set(re.findall(r'new CustomEvent\(\s*"(jp:[a-z]+)"', JS))
    heard = set(re.findall(r'addEventListener\(\s*"(jp:[a-z]+)"', JS))
    assert named == sent == heard == set(vocab.EVENTS)
