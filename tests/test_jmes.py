"""walens.jmes compiles JMESPath to closures: it must compute exactly what jmespath's interpreter computes.

Two oracles: hand-written cases covering every AST node type and JMESPath's odd corners (truthiness,
``!0``, comparing 1 to true, projections over non-lists, functions with ``&expr``), and every rule
expression of the catalogue on every resource view of the SAM translator corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.visitor
import pytest

from corpus import linked_templates
from walens import jmes
from walens.model import Unknown
from walens.rules import load_rules
from walens.views import view

DATA: dict[str, Any] = {
    "a": {"b": {"c": [1, 2, {"d": "x"}], "e": 0, "f": True, "g": "", "h": [], "i": {}}},
    "list": [{"n": 3, "s": "b", "t": [1, [2, 3]]}, {"n": 1, "s": "a", "t": None}, {"n": 2, "s": "c"}, "str", 5],
    "map": {"k1": {"v": 1}, "k2": {"v": 2}, "k3": "plain"},
    "nums": [0, 1, 2, 3, 4, 5],
    "zero": 0, "one": 1, "yes": True, "no": False, "none": None, "text": "abc",
    "nested": [[1, 2], [3, [4]], 5, []],
}

EXPRESSIONS = [
    # fields, subexpressions, indexes and slices
    "a", "a.b", "a.b.c", "a.b.c[2].d", "a.b.c[0]", "a.b.c[-1]", "a.b.c[9]", "a.x.y.z", "text.x", "list.x",
    "list[0].n", "nums[1:4]", "nums[::2]", "nums[::-1]", "nums[-2:]", "text[0]", "a.b[0]", "a.b[1:]",
    # literals, identity, current
    "`1`", "`\"s\"`", "'raw'", "`[1, 2]`", "`{\"k\": null}`", "@", "a.b.e | @", "`null`",
    # comparators, including JMESPath's special cases for 0/1 against booleans and ordering of strings
    "zero == no", "one == yes", "zero == `0`", "a.b.f == `true`", "text == 'abc'", "text != 'x'",
    "one < `2`", "text < 'b'", "yes < `2`", "none < `1`", "nums == nums", "a.b.i == `{}`", "one >= one",
    "zero <= `0`", "one > zero", "list[0].n != `3`",
    # and / or / not with JMESPath truthiness (0 is true, "" [] {} false)
    "zero && 'yes'", "a.b.g && 'yes'", "a.b.h || 'fallback'", "a.b.i || a.b.e", "none || no", "!zero",
    "!one", "!a.b.g", "!a.b.h", "!none", "!yes", "!text", "!`0.0`",
    # projections: list, value, filter, flatten, over lists and non-lists
    "list[*].n", "list[*].t[0]", "map.*.v", "map.*", "text.*", "text[*]", "none[*].x", "list[?n > `1`].s",
    "list[?s == 'a'] | [0].n", "list[?t].n", "text[?x]", "nested[]", "nested[][]", "list[].t[]", "a.b.e[]",
    "list[*].t[]", "nums[?@ > `2`]", "map.*.v | [0]", "list[*].[n, s]", "list[*].{n: n, s: s}",
    # multi-select over null and values
    "[a.b.e, a.b.f]", "{x: a.b.e, y: none}", "none.[a, b]", "none.{a: a}", "a.b.[e, g]",
    # pipes
    "list | [0]", "list[*].n | [0]", "a | b | c | [1]",
    # functions, with exprefs
    "length(nums)", "length(text)", "length(map)", "max(nums)", "min(nums)", "sum(nums)", "avg(nums)",
    "sort(nums)", "reverse(nums)", "keys(map)", "values(map)", "contains(nums, `3`)",
    "contains(text, 'b')", "starts_with(text, 'a')", "ends_with(text, 'c')", "join(', ', ['a', 'b'])",
    "to_string(one)", "to_number('12')", "to_number(text)", "to_array(one)", "type(list)", "not_null(none, zero)",
    "abs(`-3`)", "ceil(`1.2`)", "floor(`1.8`)", "merge(a.b.i, `{\"z\": 1}`)", "map(&n, list[0:3])",
    "sort_by(list[0:3], &n)[*].s", "max_by(list[0:3], &n).s", "min_by(list[0:3], &s).n",
    "length(list[?n > `1`]) > `0`", "length((a.b.h || `[]`)[?x == 'y']) > `0`",
]

ERRORS = ["length(one)", "sort(list)", "abs(text)", "max_by(list, &s)", "sort_by(list[0:3], &t)", "unknown_fn(a)"]


def _interpreted(expr: str, data: Any) -> Any:
    return jmespath.visitor.TreeInterpreter().visit(jmespath.compile(expr).parsed, data)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_compiled_expression_matches_the_interpreter(expr: str) -> None:
    expected = _interpreted(expr, DATA)
    got = jmes.search_fn(jmespath.compile(expr))(DATA)
    assert got == expected and type(got) is type(expected), (expr, got, expected)


@pytest.mark.parametrize("expr", ERRORS)
def test_compiled_expression_raises_what_the_interpreter_raises(expr: str) -> None:
    try:
        jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError:
        pytest.skip("rejected at parse time")
    with pytest.raises(jmespath.exceptions.JMESPathError) as interpreted:
        _interpreted(expr, DATA)
    with pytest.raises(type(interpreted.value)):
        jmes.search_fn(jmespath.compile(expr))(DATA)


def test_every_ast_node_type_has_a_compiler_and_the_cases_use_it() -> None:
    interpreter_types = {name[len("visit_"):] for name in dir(jmespath.visitor.TreeInterpreter)
                         if name.startswith("visit_")}
    assert interpreter_types <= set(jmes._BUILDERS)

    used: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        used.add(node["type"])
        for child in node.get("children", []):
            if isinstance(child, dict):
                walk(child)

    for expr in EXPRESSIONS:
        walk(jmespath.compile(expr).parsed)
    assert interpreter_types <= used, interpreter_types - used


def test_unknown_values_behave_as_in_the_interpreter() -> None:
    data = {"p": Unknown("a parameter"), "q": {"r": Unknown("an import")}}
    for expr in ("p", "p.x", "q.r == 'x'", "q.r != 'x'", "!p", "p || 'd'", "p && 'd'", "q.*", "[p, q.r]"):
        assert jmes.search_fn(jmespath.compile(expr))(data) == _interpreted(expr, data), expr


@pytest.mark.corpus
def test_every_rule_expression_agrees_with_the_interpreter_on_every_corpus_view() -> None:
    rules = load_rules()
    expressions = {}
    for rule in rules:
        for parsed in (rule.when, rule.assert_, *rule.message_args.values()):
            if parsed is not None:
                expressions[parsed.expression] = (parsed, rule)
    interpreter = jmespath.visitor.TreeInterpreter()
    compared = 0
    mismatches: list[tuple[str, str, str]] = []
    for path, resources in linked_templates():
        for resource in resources:
            for parsed, rule in expressions.values():
                if resource.type not in rule.resource_types:
                    continue
                root = view(resource, dict(rule.params))
                try:
                    expected: Any = interpreter.visit(parsed.parsed, root)
                except Exception as exc:  # noqa: BLE001 - the oracle's exception is the expected outcome
                    expected = type(exc)
                try:
                    got: Any = jmes.search_fn(parsed)(root)
                except Exception as exc:  # noqa: BLE001
                    got = type(exc)
                compared += 1
                if got != expected:
                    mismatches.append((Path(path).name, resource.id, parsed.expression))
    assert compared > 50_000
    assert mismatches == []
