"""The recognizers' catalogue (journal_proxy/triage/recognizers.toml) and its loader.

The rules are data that reviewers extend, so a fault in them must stop the import with the rule's
name rather than leave a rule that silently never matches: these tests feed :func:`load_rules`
small catalogues (the package's file is not touched) and check what it builds and refuses.
"""

from __future__ import annotations

import re

import pytest

from journal_proxy.errors import ConfigError
from journal_proxy.triage.recognizers import CAUSE, ECHO, RULES, load_rules

FRAGMENTS = """
[fragments]
lower = 'abc'
letters = '<<lower>>XYZ'
tail = '(?::|$)'
"""


def one(*rules: str) -> str:
    """A catalogue of :data:`FRAGMENTS` and these ``[[rule]]`` bodies."""
    return FRAGMENTS + "".join("\n[[rule]]\n" + rule + "\n" for rule in rules)


def test_a_rule_is_built_with_its_fragments_expanded_and_its_defaults() -> None:
    (rule,) = load_rules(
        one(
            'name = "x"\ngrade = "echo"\nfirst = \'<<letters>>!\'\n'
            "start = 'x\\d{0,3}<<tail>>'\nrequires = [': ']\ncont = '[ \\t]'\n"
        )
    )
    assert (rule.name, rule.level, rule.grade, rule.first) == ("x", "error", ECHO, "abcXYZ!")
    assert isinstance(rule.start, re.Pattern) and rule.start.pattern == r"x\d{0,3}(?::|$)"
    assert rule.cont is not None and rule.cont.pattern == r"[ \t]"
    assert (rule.requires, rule.needle, rule.end, rule.key) == ((": ",), "", None, None)


def test_a_start_test_names_a_python_test() -> None:
    (rule,) = load_rules(one('name = "e"\ngrade = "cause"\nfirst = \'a\'\nstart_test = "errno"\n'))
    assert rule.grade == CAUSE and rule.starts("mv: x: No such file or directory")
    assert not rule.starts("mv: x")


def test_a_literal_string_keeps_braces_and_angle_brackets_as_they_are() -> None:
    (rule,) = load_rules(
        one("name = \"s\"\ngrade = \"cause\"\nneedle = '<<< '\nstart = 'a{1,2}<<< '\n")
    )
    assert isinstance(rule.start, re.Pattern) and rule.start.pattern == "a{1,2}<<< "


FAULTS = [
    ("start = '<<java_frame>>'", "no fragment <<java_frame>>"),
    ("first = '<<upper>>'\nstart = 'x'", "no fragment <<upper>>"),
    ("start_test = 'nonesuch'", "no start_test 'nonesuch'"),
    ("start = '(a+)+'", "nested repetition"),
    ("start = '(x'", "invalid regular expression"),
    ("start = 'x'\ncont = '(?<=a+)'", "invalid regular expression"),
    ("start = 'x'\nstart_test = 'errno'", "one of start and start_test"),
    ("", "one of start and start_test"),
    ("start = 'x'\nconts = 'y'", "unknown key(s) conts"),
    ("start = 'x'\nlevel = 'fatal'", "level 'fatal'"),
    ("start = 'x'\nrequires = ': '", "requires must be a list of strings"),
]


@pytest.mark.parametrize(("fields", "message"), FAULTS)
def test_a_faulty_rule_stops_the_load_with_its_name(fields: str, message: str) -> None:
    first = "" if fields.startswith("first") else "first = 'a'\n"
    with pytest.raises(ConfigError) as caught:
        load_rules(one(f'name = "bad-rule"\ngrade = "cause"\n{first}{fields}\n'))
    assert "bad-rule" in str(caught.value) and message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (one("name = \"g\"\ngrade = \"fatal\"\nfirst = 'a'\nstart = 'x'"), "g: grade 'fatal'"),
        (one('name = "n"\ngrade = "cause"\nstart = \'x\''), "n: needs one of first and needle"),
        (
            one("name = \"n\"\ngrade = \"cause\"\nfirst = 'a'\nneedle = 'b'\nstart = 'x'"),
            "n: needs one of first and needle",
        ),
        (one("grade = \"cause\"\nfirst = 'a'\nstart = 'x'"), "a [[rule]] without a name"),
        (
            one(*["name = \"d\"\ngrade = \"cause\"\nfirst = 'a'\nstart = 'x'"] * 2),
            "rule names used twice: d",
        ),
        ("[fragments]\nx = '<<y>>'\n[[rule]]\nname = 'r'", "fragment x: no fragment <<y>>"),
        ("[fragments]\nX = 'a'\n[[rule]]\nname = 'r'", "fragment 'X' must be a-z_"),
        ("[[rules]]\nname = 'r'", "[[rule]] entries only"),
        ("start = 'x", "not TOML"),
    ],
)
def test_a_faulty_catalogue_stops_the_load(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_rules(text)


def test_the_package_catalogue_is_loaded_in_its_order() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)) >= 60
    # first match wins: the specific rules come before the catch-alls of their first characters
    assert names.index("maven-goal") < names.index("maven") < names.index("error")
    assert names.index("npm-exit") < names.index("npm")
    assert names[0] == "github-runner" and names[-1] == "cc-warning"
