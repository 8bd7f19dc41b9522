"""The names a rule may read beyond Properties: facts and relations per resource type, and the check of a
rule's expressions against them.

A rule reads ``facts.<name>`` and ``related.<relation>`` of its resource, and the facts of related
resources (``related.event_sources[].facts.esm_source_kind``). A misspelt name is not a JMESPath error:
it reads null on every resource, and the rule then fails (or passes) everywhere. So every field path of
``when``, ``assert`` and ``message_args`` is followed through the expression's syntax tree, and a name
that no fact or relation of the rule's resource types carries is a RuleError naming the file, the field,
the unknown name and the nearest known ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from walens.errors import RuleError


@dataclass(frozen=True)
class Vocabulary:
    """Facts (name -> types, None for every type) and relations (type -> name -> (target types or None:
    not resource views, whether a list))."""

    facts: Mapping[str, frozenset[str] | None]
    relations: Mapping[str, Mapping[str, tuple[tuple[str, ...] | None, bool]]]

    def facts_of(self, types: Iterable[str]) -> set[str]:
        """The facts set on at least one of ``types``."""
        wanted = set(types)
        return {name for name, on in self.facts.items() if on is None or on & wanted}

    def relations_of(self, types: Iterable[str]) -> dict[str, tuple[tuple[str, ...] | None, bool]]:
        """The relations of at least one of ``types`` (targets merged across types)."""
        out: dict[str, tuple[tuple[str, ...] | None, bool]] = {}
        for rtype in types:
            for name, (targets, many) in self.relations.get(rtype, {}).items():
                if name in out:
                    known, known_many = out[name]
                    targets = None if known is None or targets is None else tuple(dict.fromkeys((*known, *targets)))
                    many = many or known_many
                out[name] = (targets, many)
        return out


def vocabulary() -> Vocabulary:
    """The registered facts (walens.facts.registry) and relations (walens.graph.RELATIONS)."""
    from walens.facts import registry
    from walens.graph import RELATIONS

    relations: dict[str, dict[str, tuple[tuple[str, ...] | None, bool]]] = {}
    for rel in RELATIONS:
        relations.setdefault(rel.type, {})[rel.name] = (rel.targets, rel.many)
    return Vocabulary({name: info.types for name, info in registry().items()}, relations)


# What the walker knows of the value an expression node sees: a resource view of some types (``base``:
# a related resource's view, which has no ``related``), its ``facts`` or ``related`` mapping, a list of
# one of these, or nothing it can check (None).
@dataclass(frozen=True)
class _View:
    types: tuple[str, ...]
    base: bool = False


@dataclass(frozen=True)
class _Facts:
    types: tuple[str, ...]


@dataclass(frozen=True)
class _Related:
    types: tuple[str, ...]


@dataclass(frozen=True)
class _List:
    item: Any


@dataclass(frozen=True)
class _Bool:
    """The value of ``!x`` or a comparison: true or false, never a mapping."""

    source: str


# Functions whose expression argument (&expr) is applied to the items of their first (or, for map, second)
# argument.
_EXPREF_OVER = {"sort_by": 0, "min_by": 0, "max_by": 0, "group_by": 0, "map": 1}


class _Walker:
    def __init__(self, vocab: Vocabulary, path: str, field_name: str) -> None:
        self.vocab = vocab
        self.path = path
        self.field_name = field_name

    def fail(self, what: str, name: str, types: tuple[str, ...], known: Iterable[str], where: str) -> RuleError:
        near = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        return RuleError(f"field '{self.field_name}': unknown {what} '{name}' in '{where}.{name}': "
                         f"no {what} of that name for {', '.join(types)}{hint}", file=self.path)

    def field(self, name: str, cur: Any) -> Any:
        if isinstance(cur, _Bool):
            # `!facts.x` parses as `(!facts).x`: null on every resource, whatever facts.x holds.
            raise RuleError(f"field '{self.field_name}': '.{name}' reads a field of the true/false value of "
                            f"{cur.source}, which is always null (JMESPath applies '!' and comparisons before "
                            f"'.'): parenthesise, e.g. '!(facts.{name})'", file=self.path)
        if isinstance(cur, _View):
            if name == "facts":
                return _Facts(cur.types)
            if name == "related" and not cur.base:
                return _Related(cur.types)
            return None
        if isinstance(cur, _Facts):
            known = self.vocab.facts_of(cur.types)
            if name not in known:
                raise self.fail("fact", name, cur.types, known, "facts")
            return None
        if isinstance(cur, _Related):
            relations = self.vocab.relations_of(cur.types)
            if name not in relations:
                raise self.fail("relation", name, cur.types, relations, "related")
            targets, many = relations[name]
            if targets is None:
                return None
            view = _View(targets, base=True)
            return _List(view) if many else view
        return None

    def walk(self, node: Mapping[str, Any], cur: Any) -> Any:
        kind = node["type"]
        children = [c for c in node.get("children", []) if isinstance(c, Mapping)]
        if kind == "field":
            return self.field(str(node["value"]), cur)
        if kind in ("subexpression", "pipe"):
            for child in children:
                cur = self.walk(child, cur)
            return cur
        if kind == "index_expression":
            cur = self.walk(children[0], cur)
            for child in children[1:]:
                if child["type"] == "index":
                    cur = cur.item if isinstance(cur, _List) else None
                # a slice keeps the list
            return cur
        if kind in ("projection", "filter_projection"):
            left = self.walk(children[0], cur)
            item = left.item if isinstance(left, _List) else None
            if kind == "filter_projection":
                self.walk(children[2], item)
            right = self.walk(children[1], item)
            return _List(right)
        if kind == "flatten":
            inner = self.walk(children[0], cur)
            if isinstance(inner, _List) and isinstance(inner.item, _List):
                return inner.item
            return inner if isinstance(inner, _List) else None
        if kind == "value_projection":
            self.walk(children[0], cur)
            self.walk(children[1], None)
            return None
        if kind in ("current", "identity"):
            return cur
        if kind == "function_expression":
            shapes = [self.walk(c, cur) if c["type"] != "expref" else None for c in children]
            over = _EXPREF_OVER.get(str(node["value"]))
            for i, child in enumerate(children):
                if child["type"] == "expref":
                    source = shapes[over] if over is not None and over < len(shapes) else None
                    item = source.item if isinstance(source, _List) else None
                    self.walk(child["children"][0], item)
            return None
        if kind == "expref":
            self.walk(children[0], None)
            return None
        if kind in ("not_expression", "comparator"):
            for child in children:
                self.walk(child, cur)
            return _Bool("a '!' expression" if kind == "not_expression" else f"a comparison ({node['value']})")
        for child in children:  # comparators, and/or/not, multi-selects, key_val_pair, literals
            self.walk(child, cur)
        return None


def check_expression(parsed: Mapping[str, Any], types: tuple[str, ...], vocab: Vocabulary, path: str,
                     field_name: str) -> None:
    """Raise RuleError when ``parsed`` (a JMESPath AST over a view of ``types``) reads an unknown name."""
    _Walker(vocab, path, field_name).walk(parsed, _View(types))


def check_rule(rule: Any, vocab: Vocabulary) -> None:
    """Check every expression of ``rule`` (a walens.rules.Rule) against ``vocab``."""
    expressions = [("when", rule.when), ("assert", rule.assert_),
                   *((f"message_args.{k}", v) for k, v in rule.message_args.items())]
    for field_name, parsed in expressions:
        if parsed is not None:
            check_expression(parsed.parsed, rule.resource_types, vocab, rule.path, field_name)
