"""JMESPath ASTs compiled to Python closures, with the results of jmespath's own TreeInterpreter.

The interpreter walks the AST on every search: a dict lookup per node to find the visit method,
then the method re-reads the node's type, value and children. Rules evaluate a few hundred
thousand short expressions on a folder of templates, and that walk was a third of the rule
engine's time. Compiling each AST once into nested closures does the same work without the walk.

Every node type of jmespath 1.x is compiled, each a transcription of the matching ``visit_*``
method in ``jmespath.visitor`` (same truthiness, same comparisons, same handling of non-list
projections); functions are jmespath's own (``Functions.call_function``), and an ``&expr``
argument is handed to them as the interpreter's own ``_Expression``, so ``sort_by``/``max_by``
behave identically. ``tests/test_jmes.py`` checks the two agree on every rule expression
over every resource view of the corpus, and on jmespath's compliance-style cases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jmespath.parser
import jmespath.visitor
from jmespath.visitor import _equals, _Expression, _is_actual_number, _is_comparable

Fn = Callable[[Any], Any]

_INTERPRETER = jmespath.visitor.TreeInterpreter()
_FUNCTIONS = _INTERPRETER._functions
_ORDERING = jmespath.visitor.TreeInterpreter.COMPARATOR_FUNC
_COMPILED: dict[str, Fn] = {}


def _is_false(value: Any) -> bool:
    # jmespath.visitor.TreeInterpreter._is_false, kept as equality checks on purpose.
    return value == "" or value == [] or value == {} or value is None or value is False


def search_fn(expr: jmespath.parser.ParsedResult) -> Fn:
    """The compiled form of a parsed expression (memoised by its text)."""
    fn = _COMPILED.get(expr.expression)
    if fn is None:
        fn = _COMPILED[expr.expression] = compile_node(expr.parsed)
    return fn


def compile_node(node: dict[str, Any]) -> Fn:
    """A function of the current value computing what TreeInterpreter.visit(node, value) computes."""
    kind = node["type"]
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise NotImplementedError(kind)
    return builder(node)


def _field_chain(node: dict[str, Any]) -> list[str] | None:
    """The keys of a path made of fields only (``a.b.c``), else None."""
    if node["type"] == "field":
        return [node["value"]]
    if node["type"] == "subexpression":
        keys: list[str] = []
        for child in node["children"]:
            sub = _field_chain(child)
            if sub is None:
                return None
            keys.extend(sub)
        return keys
    return None


def _field(node: dict[str, Any]) -> Fn:
    key = node["value"]

    def field(value: Any) -> Any:
        try:
            return value.get(key)
        except AttributeError:
            return None

    return field


def _path(keys: list[str]) -> Fn:
    if len(keys) == 1:
        return _field({"value": keys[0]})
    if len(keys) == 2:
        first, second = keys

        def path2(value: Any) -> Any:
            try:
                value = value.get(first)
                return value.get(second)
            except AttributeError:
                return None

        return path2

    def path(value: Any) -> Any:
        # Each .get on a non-mapping raises AttributeError, which the interpreter turns into None at
        # that step; None.get raises too, so every later step is None as well.
        try:
            for key in keys:
                value = value.get(key)
        except AttributeError:
            return None
        return value

    return path


def _chain(node: dict[str, Any]) -> Fn:
    """subexpression, index_expression and pipe: apply the children in turn."""
    keys = _field_chain(node) if node["type"] == "subexpression" else None
    if keys is not None:
        return _path(keys)
    steps = [compile_node(child) for child in node["children"]]
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _comparator(node: dict[str, Any]) -> Fn:
    op = node["value"]
    left, right = (compile_node(child) for child in node["children"])
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    func = _ORDERING[op]

    def ordering(value: Any) -> Any:
        lhs = left(value)
        rhs = right(value)
        if not (_is_comparable(lhs) and _is_comparable(rhs)):
            return None
        return func(lhs, rhs)

    return ordering


def _current(node: dict[str, Any]) -> Fn:
    return lambda value: value


def _expref(node: dict[str, Any]) -> Fn:
    expression = _Expression(node["children"][0], _INTERPRETER)
    return lambda value: expression


def _function(node: dict[str, Any]) -> Fn:
    name = node["value"]
    args = [compile_node(child) for child in node["children"]]
    call = _FUNCTIONS.call_function
    if len(args) == 1:
        (only,) = args
        return lambda value: call(name, [only(value)])
    return lambda value: call(name, [arg(value) for arg in args])


def _filter_projection(node: dict[str, Any]) -> Fn:
    base_fn, project, condition = (compile_node(child) for child in node["children"])

    def filter_projection(value: Any) -> Any:
        base = base_fn(value)
        if not isinstance(base, list):
            return None
        collected = []
        for element in base:
            if not _is_false(condition(element)):
                current = project(element)
                if current is not None:
                    collected.append(current)
        return collected

    return filter_projection


def _flatten(node: dict[str, Any]) -> Fn:
    base_fn = compile_node(node["children"][0])

    def flatten(value: Any) -> Any:
        base = base_fn(value)
        if not isinstance(base, list):
            return None
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flatten


def _index(node: dict[str, Any]) -> Fn:
    position = node["value"]

    def index(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return index


def _slice(node: dict[str, Any]) -> Fn:
    part = slice(*node["children"])

    def slice_(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        return value[part]

    return slice_


def _key_val_pair(node: dict[str, Any]) -> Fn:
    return compile_node(node["children"][0])


def _literal(node: dict[str, Any]) -> Fn:
    constant = node["value"]
    return lambda value: constant


def _multi_select_dict(node: dict[str, Any]) -> Fn:
    pairs = [(child["value"], compile_node(child)) for child in node["children"]]

    def multi_select_dict(value: Any) -> Any:
        if value is None:
            return None
        return {key: fn(value) for key, fn in pairs}

    return multi_select_dict


def _multi_select_list(node: dict[str, Any]) -> Fn:
    items = [compile_node(child) for child in node["children"]]

    def multi_select_list(value: Any) -> Any:
        if value is None:
            return None
        return [fn(value) for fn in items]

    return multi_select_list


def _or(node: dict[str, Any]) -> Fn:
    left, right = (compile_node(child) for child in node["children"])

    def or_(value: Any) -> Any:
        matched = left(value)
        if _is_false(matched):
            matched = right(value)
        return matched

    return or_


def _and(node: dict[str, Any]) -> Fn:
    left, right = (compile_node(child) for child in node["children"])

    def and_(value: Any) -> Any:
        matched = left(value)
        if _is_false(matched):
            return matched
        return right(value)

    return and_


def _not(node: dict[str, Any]) -> Fn:
    inner = compile_node(node["children"][0])

    def not_(value: Any) -> Any:
        original = inner(value)
        if _is_actual_number(original) and original == 0:
            return False  # !0 is false in JMESPath
        return not original

    return not_


def _collect(elements: Any, project: Fn) -> list[Any]:
    """The projection of each element, nulls left out (visit_projection / visit_value_projection)."""
    collected = []
    for element in elements:
        current = project(element)
        if current is not None:
            collected.append(current)
    return collected


def _projection(node: dict[str, Any]) -> Fn:
    base_fn, project = (compile_node(child) for child in node["children"])

    def projection(value: Any) -> Any:
        base = base_fn(value)
        if not isinstance(base, list):
            return None
        return _collect(base, project)

    return projection


def _value_projection(node: dict[str, Any]) -> Fn:
    base_fn, project = (compile_node(child) for child in node["children"])

    def value_projection(value: Any) -> Any:
        base = base_fn(value)
        try:
            values = base.values()
        except AttributeError:
            return None
        return _collect(values, project)

    return value_projection


_BUILDERS: dict[str, Callable[[dict[str, Any]], Fn]] = {
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "field": _field,
    "comparator": _comparator,
    "current": _current,
    "identity": _current,
    "expref": _expref,
    "function_expression": _function,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "index": _index,
    "slice": _slice,
    "key_val_pair": _key_val_pair,
    "literal": _literal,
    "multi_select_dict": _multi_select_dict,
    "multi_select_list": _multi_select_list,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
    "projection": _projection,
    "value_projection": _value_projection,
}
