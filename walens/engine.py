"""Evaluate rules on resource views, and assemble the review document."""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jmespath.exceptions
import jmespath.parser

from walens import __version__
from walens.errors import UsageError
from walens.jmes import Fn, compile_node, search_fn
from walens.model import MISSING_TEXT, Location, Resource, Severity, Status, Unknown, not_assessed_message
from walens.nodes import StrNode
from walens.rules import Rule
from walens.views import view as build_view

SCHEMA_VERSION = "1"
FAIL_ON = ("high", "medium", "low", "info", "never")
LANGS = ("en", "ja")
# AST nodes whose value, evaluated from the view's root, is something the expression reads.
_PATH_NODES = frozenset({"field", "subexpression", "index_expression"})


@dataclass(slots=True)
class Finding:
    """The outcome of one rule on one resource."""

    rule_id: str
    rule_name: str
    pillar: str
    lens_question: str
    lens_choice: str
    severity: str
    status: str
    resource: dict[str, Any]
    location: Location | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    fingerprint: str = ""
    # Set by walens.suppress / walens.baseline after evaluation (absent from the document when unset).
    suppression: dict[str, Any] | None = None
    baselined: bool = False
    example: str | None = None  # the remediation example that fits this resource, when not the default

    def to_dict(self) -> dict[str, Any]:
        """The finding as the review document carries it."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "pillar": self.pillar,
            "lens": {"question": self.lens_question, "choice": self.lens_choice},
            "severity": self.severity,
            "status": self.status,
            "resource": dict(self.resource),
            "location": self.location.to_dict() if self.location else None,
            "message": self.message,
            "params": dict(self.params),
            "reason": self.reason,
            "fingerprint": self.fingerprint,
        }
        if self.suppression is not None:
            out["suppression"] = dict(self.suppression)
        if self.baselined:
            out["baselined"] = True
        if self.example is not None:
            out["example"] = self.example
        return out


def fingerprint(rule_id: str, file: str, resource_id: str, detail: str = "") -> str:
    """sha256 of rule, file, resource (and a detail key when one rule can find several things on one
    resource): the same finding keeps it across runs, reformatting and line moves (no line in it).
    The pipeline passes ``file`` relative to the repository root (walens.config.relative_path)."""
    key = f"{rule_id}\x00{file}\x00{resource_id}" + (f"\x00{detail}" if detail else "")
    return hashlib.sha256(key.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Which paths an expression reads, so an Unknown there makes the result not_assessed.


def _steps(node: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A pure path as its atomic steps (``a.b[0].c`` → a, b, [0], c), or None if not a pure path."""
    kind = node.get("type")
    if kind == "field":
        return [node]
    if kind == "subexpression":
        out: list[dict[str, Any]] = []
        for child in node["children"]:
            steps = _steps(child)
            if steps is None:
                return None
            out.extend(steps)
        return out
    if kind == "index_expression":
        left, index = node["children"]
        head = _steps(left)
        if head is None or index.get("type") != "index":
            return None
        return [*head, index]
    return None


def _chain(node: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The prefixes of a pure path (``a.b[0].c`` → a, a.b, a.b[0], a.b[0].c), as ASTs from the root."""
    steps = _steps(node)
    if steps is None:
        return None
    # The interpreter applies a subexpression's children in turn, so any prefix of steps is a path.
    return [{"type": "subexpression", "children": steps[: i + 1]} for i in range(len(steps))]


# Nodes whose result's truthiness depends only on their children's truthiness (not on what a non-empty
# list or object holds): a path read directly under them, or as the whole condition, is read for truth.
_TRUTH_NODES = frozenset({"not_expression", "and_expression", "or_expression"})


def _root_paths(node: dict[str, Any], truth: bool = True) -> Iterator[tuple[list[dict[str, Any]], bool]]:
    """Every path the expression reads from the root, as its list of prefixes, and whether only the
    truthiness of its value counts (``!(related.consumers)``: a non-empty list is true whatever it holds)."""
    kind = node.get("type")
    if kind in _PATH_NODES:
        chain = _chain(node)
        if chain is not None:
            yield chain, truth
            return
    children = node.get("children") or []
    if kind in ("projection", "value_projection", "filter_projection", "pipe", "subexpression",
                "index_expression"):
        # Only the left side reads from the root; the rest reads each element (beneath the left side).
        if children:
            yield from _root_paths(children[0], False)
        return
    for child in children:
        if isinstance(child, dict):
            yield from _root_paths(child, truth and kind in _TRUTH_NODES)


@dataclass(frozen=True, slots=True)
class _Probe:
    """A compiled expression (walens.jmes), the root paths it reads, each as its compiled prefixes, and
    for each whether only its truthiness counts (then an Unknown beneath it cannot change the result)."""

    search: Fn
    paths: tuple[tuple[Fn, ...], ...]
    truth_only: tuple[bool, ...]


_PROBES: dict[str, _Probe] = {}


def _probe(expr: jmespath.parser.ParsedResult) -> _Probe:
    cached = _PROBES.get(expr.expression)
    if cached is None:
        read = list(_root_paths(expr.parsed))
        paths = tuple(tuple(compile_node(step) for step in chain) for chain, _ in read)
        cached = _PROBES[expr.expression] = _Probe(search_fn(expr), paths, tuple(truth for _, truth in read))
    return cached


# Leaves that cannot hold an Unknown: the walk below skips them without a call.
_LEAVES = frozenset({str, int, bool, float, type(None), StrNode})


def _unknown_beneath(value: Any, seen: dict[int, Unknown | None] | set[int]) -> Unknown | None:
    """The first Unknown inside ``value``. ``seen`` may be a dict kept across calls: containers shared
    between views (a role's policies in every function's view) are then walked once per evaluation."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (dict, list)):
        key = id(value)
        if key in seen:
            return seen[key] if isinstance(seen, dict) else None
        if isinstance(seen, dict):
            seen[key] = None  # in progress: a cycle finds nothing new
        else:
            seen.add(key)
        leaves = _LEAVES
        for item in value.values() if isinstance(value, dict) else value:
            if item.__class__ in leaves:
                continue
            found = _unknown_beneath(item, seen)
            if found is not None:
                if isinstance(seen, dict):
                    seen[key] = found
                return found
    return None


def _unknown_read(probe: _Probe, root: Mapping[str, Any], *, beneath: bool) -> Unknown | None:
    """An Unknown on a path the expression reads: at any prefix, or also beneath it when ``beneath``."""
    for chain, truth_only in zip(probe.paths, probe.truth_only):
        for i, step in enumerate(chain):
            value = step(root)
            if isinstance(value, Unknown):
                return value
            if beneath and not truth_only and i == len(chain) - 1:
                found = _unknown_beneath(value, set())
                if found is not None:
                    return found
    return None


class _Undecided(Exception):
    """The expression cannot be decided on this view (an Unknown, or data it cannot handle)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; 0 is true."""
    return not (value is None or value is False or (isinstance(value, (str, list, dict)) and not value))


def _decide(expr: jmespath.parser.ParsedResult, root: Mapping[str, Any], what: str, has_unknown: bool) -> bool:
    """Truthiness of ``expr`` on ``root``; _Undecided when it depends on an Unknown."""
    probe = _probe(expr)
    try:
        result = probe.search(root)
    except (jmespath.exceptions.JMESPathError, TypeError, ValueError) as exc:
        # jmespath's own functions raise TypeError on values they do not know (to_number(Unknown)).
        unknown = _unknown_read(probe, root, beneath=True) if has_unknown else None
        if unknown is not None:
            raise _Undecided(unknown.reason) from exc
        if not isinstance(exc, jmespath.exceptions.JMESPathError):
            raise
        # The template holds a shape the expression cannot handle (a string where a list belongs):
        # an input problem, reported as not assessed rather than guessed.
        raise _Undecided(f"cannot evaluate {what}: {' '.join(str(exc).split())}") from exc
    truthy = _truthy(result)
    unknown = _unknown_read(probe, root, beneath=not truthy) if has_unknown else None
    if unknown is not None or isinstance(result, Unknown):
        raise _Undecided((unknown or result).reason)
    return truthy


# ---------------------------------------------------------------------------------------------
# Messages


# A list in a message shows this many items, then how many more: an account where 1,000 functions share
# one role would otherwise put 999 ARNs into each of 1,000 messages (60 KB each, 120 MB in all).
MESSAGE_LIST_ITEMS = 10


_PLACEHOLDER = re.compile(r"\{\{(?:ref:|getatt:)?([^{}]+)\}\}")


def readable(text: str) -> str:
    """A resolved string as its author would read it: a reference placeholder alone is the logical ID
    (``{{ref:Queue}}`` → ``Queue``, ``{{getatt:Queue.Arn}}`` → ``Queue.Arn``); inside a longer string it
    reads like ``Fn::Sub`` (``arn:aws:lambda:{{AWS::Region}}:...`` → ``arn:aws:lambda:${AWS::Region}:...``)."""
    if "{{" not in text:
        return text
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        return whole.group(1)
    return _PLACEHOLDER.sub(lambda m: "${" + m.group(1) + "}", text)


def _display(value: Any) -> Any:
    """A message argument as text-friendly, JSON-safe data; None when it cannot be read."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, list):
        shown = ", ".join(_text(_display(v)) for v in value[:MESSAGE_LIST_ITEMS])
        more = len(value) - MESSAGE_LIST_ITEMS
        return f"{shown}, … (+{more})" if more > 0 else shown
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    return value


def _text(value: Any) -> Any:
    """A displayed argument as it goes into a message: None shows as MISSING_TEXT."""
    return MISSING_TEXT if value is None else value


class _Formatter(string.Formatter):
    """``str.format`` where ``{params.x}`` reads a dict key (rules validated every placeholder)."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        root, _, rest = field_name.partition(".")
        value: Any = kwargs[root]
        for part in rest.split(".") if rest else ():
            value = value.get(part) if isinstance(value, Mapping) else None
        return value, root


_FORMATTER = _Formatter()


def display_name(resource: Resource, lang: str = "en") -> str:
    """The name a message gives a resource: the physical name when written literally, else the logical ID;
    a child that means little alone is named with its parent (``label``)."""
    named = label(resource)
    return named[lang] if named else _own_name(resource.name, resource.id)


def _own_name(name: Any, rid: Any) -> str:
    if isinstance(name, str) and name and not name.startswith("{{"):
        return name
    return str(rid)


_STAGE_TYPES = frozenset({"AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"})
ESM_TYPE = "AWS::Lambda::EventSourceMapping"


def _arn_name(value: Any) -> str | None:
    """The short name in an ARN or a reference (a queue, stream, table, broker, cluster, function), else None."""
    if not isinstance(value, str) or not value:
        return None
    if not value.startswith("arn:"):
        return readable(value)
    parts = re.sub(r"\{\{AWS::\w+\}\}", "*", value).split(":", 5)  # pseudo parameters hold "::"
    rest = parts[5] if len(parts) > 5 else ""
    for sep in ("/", ":"):  # stream/NAME, table/NAME/stream/..., cluster/NAME/id, broker:NAME:id, function:NAME
        if sep in rest:
            return readable(rest.split(sep)[1]) or readable(value)
    return readable(rest) or readable(value)


def api_kind(resource: Resource) -> str | None:
    """"rest", "http" or "websocket" for an API Gateway resource (a V2 child reads its API's ProtocolType),
    else None: which of a rule's remediation examples fits it."""
    if resource.type.startswith("AWS::ApiGateway::"):
        return "rest"
    if not resource.type.startswith("AWS::ApiGatewayV2::"):
        return None
    props = resource.properties if isinstance(resource.properties, dict) else {}
    if resource.type != "AWS::ApiGatewayV2::Api":
        api = (resource.related or {}).get("api")
        props = api["Properties"] if isinstance(api, dict) and isinstance(api.get("Properties"), dict) else {}
    protocol = props.get("ProtocolType")
    return protocol.lower() if isinstance(protocol, str) and protocol.lower() in ("http", "websocket") else None


def label(resource: Resource) -> dict[str, str] | None:
    """A name that places a child resource, per language: "prod of API OrdersApi" for a stage,
    "orders → ProcessOrders" (source → function) for an event source mapping; None for other resources."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    related = resource.related or {}
    if resource.type in _STAGE_TYPES:
        api = related.get("api")
        if not isinstance(api, dict):
            return None
        stage = props.get("StageName")
        stage_name = stage if isinstance(stage, str) and stage else _own_name(resource.name, resource.id)
        stage_name, api_name = readable(stage_name), _own_name(api.get("name"), api.get("id"))
        return {"en": f"{stage_name} of API {api_name}", "ja": f"API {api_name} の {stage_name}"}
    if resource.type == ESM_TYPE:
        fn, source = related.get("function"), related.get("source")
        fn_name = (_own_name(fn.get("name"), fn.get("id")) if isinstance(fn, dict)
                   else _arn_name(props.get("FunctionName")))
        source_name = (_own_name(source.get("name"), source.get("id")) if isinstance(source, dict)
                       else _arn_name(props.get("EventSourceArn")))
        if not fn_name:
            return None
        text = f"{source_name} → {fn_name}" if source_name else f"→ {fn_name}"
        return {"en": text, "ja": text}
    return None


class _Params:
    """``{params.x}`` through ``str.format_map`` (C speed): attribute access reads the key, None if absent."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)

    def __format__(self, spec: str) -> str:
        return format(dict(self._values), spec)


def render_message(rule: Rule, lang: str, resource: Resource, args: Mapping[str, Any]) -> str:
    """The rule's message in ``lang`` for ``resource``; nothing escaped (reporters escape)."""
    text = rule.message.get(lang) or rule.message["en"]
    values: dict[str, Any] = {**rule.params, **{k: _text(v) for k, v in args.items()},
                              "params": _Params(rule.params),
                              "name": display_name(resource, lang), "id": resource.id, "type": resource.type}
    try:
        return text.format_map(values)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        # A custom rule's dotted placeholder on a message argument (``{arg.key}``): the general path.
        values["params"] = dict(rule.params)
        return _FORMATTER.vformat(text, (), values)


# ---------------------------------------------------------------------------------------------
# Evaluation


def _resource_dict(r: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "type": r.type, "name": r.name, "arn": r.arn, "account": r.account,
           "region": r.region, "origin": r.origin or r.id, "origin_type": r.origin_type or r.type}
    named = label(r)
    if named is not None:  # how messages name a stage or an event source mapping, per language
        out["label"] = named
    return out


def _argument(expr: jmespath.parser.ParsedResult, root: Mapping[str, Any], has_unknown: bool) -> Any:
    """A message argument's value; "(unknown)" when it cannot be evaluated on this view."""
    try:
        return _display(search_fn(expr)(root))
    except jmespath.exceptions.JMESPathError:
        return _display(Unknown("cannot evaluate"))
    except (TypeError, ValueError):
        if not has_unknown:
            raise
        return _display(Unknown("cannot evaluate"))


def _judge(rule: Rule, root: Mapping[str, Any], has_unknown: bool) -> tuple[str, str | None] | None:
    """(status, reason) of ``rule`` on a view, or None when the rule does not apply."""
    try:
        if rule.when is not None and not _decide(rule.when, root, "when", has_unknown):
            return None
        passed = _decide(rule.assert_, root, "assert", has_unknown)
    except _Undecided as exc:
        return Status.NOT_ASSESSED.value, exc.reason
    return (Status.PASS.value if passed else Status.FAIL.value), None


def evaluate(resources: Sequence[Resource], rules: Sequence[Rule], *, lang: str = "en",
             source: str = "template", file_key: str | None = None) -> list[Finding]:
    """Evaluate every rule in scope for ``source`` on every resource of its types.

    Only failing and not-assessed findings carry a message (and its arguments): a rule's message
    describes the problem, so a passing finding's is empty. ``file_key`` is the file name that goes
    into fingerprints (the pipeline passes it relative to the repository root); by default the
    resource's file, or its ARN for an account resource.
    """
    by_type: dict[str, list[Rule]] = {}
    for rule in rules:
        if source in rule.scope:
            for rtype in rule.resource_types:
                by_type.setdefault(rtype, []).append(rule)
    findings: list[Finding] = []
    walked: dict[int, Unknown | None] = {}  # ids stay valid: every view lives until the loop ends
    views = []
    passed, not_assessed = Status.PASS.value, Status.NOT_ASSESSED.value
    for resource in resources:
        applicable = by_type.get(resource.type)
        if not applicable:
            continue
        # Built once per resource; each rule swaps in its params (expressions never write to it).
        root = build_view(resource, {})
        # Most views hold no Unknown at all: one walk here spares probing every expression's paths.
        views.append(root)
        has_unknown = _unknown_beneath(root, walked) is not None
        where = file_key if file_key is not None else (
            resource.location.file if resource.location else (resource.arn or ""))
        described = _resource_dict(resource)
        kind = api_kind(resource)
        variant = f"example_{kind}" if kind else None
        for rule in applicable:
            root["params"] = rule.params
            outcome = _judge(rule, root, has_unknown)
            if outcome is None:
                continue
            status, reason = outcome
            if status == passed:
                message, params = "", dict(rule.params)
            elif status == not_assessed:
                # The rule's message states a problem, which is not established: say what was not judged.
                args = {key: _argument(expr, root, has_unknown) for key, expr in rule.message_args.items()}
                message = not_assessed_message(lang, display_name(resource, lang),
                                               rule.title.get(lang) or rule.title["en"], reason)
                params = {**rule.params, **args}
            else:
                args = {key: _argument(expr, root, has_unknown) for key, expr in rule.message_args.items()}
                message, params = render_message(rule, lang, resource, args), {**rule.params, **args}
            findings.append(Finding(
                rule_id=rule.id, rule_name=rule.name, pillar=rule.pillar, lens_question=rule.lens_question,
                lens_choice=rule.lens_choice, severity=rule.severity, status=status,
                resource=described, location=resource.location, message=message, params=params,
                reason=reason, fingerprint=fingerprint(rule.id, where, resource.id),
                example=variant if variant in rule.remediation else None,
            ))
    return findings


# ---------------------------------------------------------------------------------------------
# The review document


def _sort_key(f: Finding) -> tuple[str, int, str, str]:
    loc = f.location
    return (loc.file if loc else "", loc.line if loc else 0, f.rule_id, f.resource["id"])


def _practices() -> list[tuple[str, str, str, str]]:
    """(choice, question, pillar, check) of every best practice in walens.lens, in lens order."""
    from walens import lens

    return [(bp.id, bp.question, bp.pillar, str(bp.check)) for bp in lens.BEST_PRACTICES]


def lens_coverage(findings: Sequence[Finding], rules: Sequence[Rule],
                  practices: Sequence[tuple[str, str, str, str]] | None = None,
                  source: str = "template") -> list[dict[str, Any]]:
    """One entry per best practice: its coverage status, its rules and their results, the question to ask.

    Status and question follow ``walens.lens.assess``: risk / evidenced / needs_answer / not_applicable.
    ``rules`` lists the rules of the review (the loaded catalogue, selected) that run on ``source``.
    """
    from walens import lens

    if practices is None:
        practices = _practices()
    rule_ids: dict[str, list[str]] = {}
    for rule in rules:
        if source in rule.scope:
            rule_ids.setdefault(rule.lens_choice, []).append(rule.id)
    results: dict[str, Counter[str]] = {}
    failing: dict[str, set[str]] = {}
    for f in findings:
        results.setdefault(f.lens_choice, Counter())[f.status] += 1
        if f.status == Status.FAIL:
            failing.setdefault(f.lens_choice, set()).add(f.rule_id)
    out = []
    for choice, question, pillar, check in practices:
        counts = results.get(choice, Counter())
        ids = sorted(rule_ids.get(choice, []))
        status, reason = lens.assess(check, counts, len(ids))
        bp = lens.choice(choice) if lens.is_choice_id(choice) else None
        ask = lens.question_to_ask(bp, reason) if bp is not None else None
        out.append({"choice": choice, "question": question, "pillar": pillar,
                    "tier": str(bp.tier) if bp is not None else None, "check": check, "status": str(status),
                    "rules": ids, "results": dict(sorted(counts.items())),
                    "failing_rules": sorted(failing.get(choice, ())),
                    "ask": {"en": ask.en, "ja": ask.ja} if ask is not None else None, "answer": None})
    return out


def summarize(findings: Sequence[Finding], fail_on: str) -> dict[str, Any]:
    """Counts by status, and of failing findings by severity and pillar; whether the run fails."""
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on {fail_on!r}: expected one of {', '.join(FAIL_ON)}")
    failing = [f for f in findings if f.status == Status.FAIL]
    threshold = None if fail_on == "never" else Severity(fail_on).rank
    return {
        "by_status": dict(sorted(Counter(f.status for f in findings).items())),
        "by_severity": dict(sorted(Counter(f.severity for f in failing).items())),
        "by_pillar": dict(sorted(Counter(f.pillar for f in failing).items())),
        "fail_on": fail_on,
        # A baselined failure (walens.baseline) is listed but does not fail the run: only new ones do.
        "failed": threshold is not None and any(Severity(f.severity).rank >= threshold
                                                for f in failing if not f.baselined),
    }


def mark_incomplete(doc: dict[str, Any], strict: bool) -> None:
    """Count what the review could not judge in ``summary``; under ``strict`` any of it fails the run.

    ``summary.not_assessed`` counts the not-assessed findings (every finding is of a selected rule);
    ``summary.coverage`` the results judged and not, per pillar, and the best practices left not assessed;
    ``summary.gaps`` the calls that were denied or failed (a service the region does not offer is no gap
    in what was seen); ``summary.incomplete`` is true when ``strict`` and either is not zero (the CLI's
    exit code 5).
    """
    summary = doc["summary"]
    summary["not_assessed"] = sum(1 for f in doc.get("findings") or [] if f.get("status") == Status.NOT_ASSESSED)
    summary["gaps"] = sum(1 for g in doc.get("gaps") or [] if g.get("kind") != "not_offered")
    summary["strict"] = strict
    summary["incomplete"] = strict and bool(summary["not_assessed"] or summary["gaps"])
    # Coverage: how many results could be judged, per pillar, and how many best practices stayed not assessed.
    by_pillar: dict[str, dict[str, int]] = {}
    for f in doc.get("findings") or []:
        row = by_pillar.setdefault(str(f.get("pillar")), {"assessed": 0, "not_assessed": 0})
        row["not_assessed" if f.get("status") == Status.NOT_ASSESSED else "assessed"] += 1
    summary["coverage"] = {
        "assessed": sum(r["assessed"] for r in by_pillar.values()),
        "not_assessed": summary["not_assessed"],
        "by_pillar": dict(sorted(by_pillar.items())),
        "practices_not_assessed": sorted(str(e.get("choice")) for e in doc.get("lens") or []
                                         if e.get("status") == "not_assessed"),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def build_review(*, findings: Sequence[Finding], rules: Sequence[Rule], source: str,
                 inputs: Sequence[Mapping[str, Any]] | None, errors: Sequence[Mapping[str, Any]] = (),
                 skipped: Sequence[Mapping[str, Any]] = (), lang: str = "en", fail_on: str = "high",
                 started_at: datetime, finished_at: datetime, gaps: Sequence[Mapping[str, Any]] = (),
                 practices: Sequence[tuple[str, str, str, str]] | None = None) -> dict[str, Any]:
    """The review document (DESIGN.md, docs/ARCHITECTURE.md §8)."""
    if lang not in LANGS:
        raise UsageError(f"--lang {lang!r}: expected one of {', '.join(LANGS)}")
    ordered = sorted(findings, key=_sort_key)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "walens", "version": __version__, "rules_version": __version__},
        "scan": {
            "source": source,
            "inputs": [dict(i) for i in inputs] if inputs is not None else None,
            "accounts": [],
            "regions": [],
            "started_at": _iso(started_at),
            "finished_at": _iso(finished_at),
            "api_calls": {},
        },
        "lang": lang,
        "findings": [f.to_dict() for f in ordered],
        "lens": lens_coverage(ordered, rules, practices, source),
        "errors": [{"file": e.get("file"), "kind": e.get("kind"), "message": e.get("message"),
                    "line": e.get("line")} for e in errors],
        "skipped": [{"path": s.get("path"), "reason": s.get("reason")} for s in skipped],
        "gaps": [dict(g) for g in gaps],
        "rules": {rule.id: rule.to_doc() for rule in sorted(rules, key=lambda r: r.id)},
        "summary": summarize(ordered, fail_on),
    }
