"""What a rule needs to see, read from its expressions: resource types and their properties.

A rule reads ``Properties.X`` of its own resource types, ``related.<key>...`` (a resource of the type the
graph relates under that key) and ``facts.<name>`` (computed from what :data:`FACT_NEEDS` lists). The
account scanner checks these needs against what its collectors declare they provide (``PROVIDES``):
a rule whose needs no chosen collector provides ends ``not_assessed``, naming the missing data, instead
of silently passing or never applying (walens.scanners.account.unprovided). Template mode needs no
check: a template holds every property its author wrote.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The type a relation key holds, where the key means one type (graph.link; docs/ARCHITECTURE.md §4).
# Keys that hold several types (stages of a REST or an HTTP API, an ESM's source) are left out: a need is
# recorded only where it is certain.
RELATED_TYPES: Mapping[str, str] = {
    "log_group": "AWS::Logs::LogGroup",
    "role": "AWS::IAM::Role",
    "event_sources": "AWS::Lambda::EventSourceMapping",
    "consumers": "AWS::Lambda::EventSourceMapping",
    "event_invoke_config": "AWS::Lambda::EventInvokeConfig",
    "permissions": "AWS::Lambda::Permission",
    "url": "AWS::Lambda::Url",
    "aliases": "AWS::Lambda::Alias",
    "deployment_group": "AWS::CodeDeploy::DeploymentGroup",
    "alarms": "AWS::CloudWatch::Alarm",
    "usage_plans": "AWS::ApiGateway::UsagePlan",
    "validators": "AWS::ApiGateway::RequestValidator",
    "validator": "AWS::ApiGateway::RequestValidator",
    "models": "AWS::ApiGateway::Model",
    "dlq": "AWS::SQS::Queue",
    "function": "AWS::Lambda::Function",
}

# What a fact is computed from, beyond the resource's own properties: (type, property or None for the
# type itself). A fact that reads resources nothing in an account lists can never be true there.
FACT_NEEDS: Mapping[str, tuple[tuple[str, str | None], ...]] = {
    "open_egress_security_groups": (("AWS::EC2::SecurityGroup", "SecurityGroupEgress"),),
    "vpc_only_targets": (("AWS::RDS::DBInstance", None),),
    "image_scanning": (("AWS::ECR::Repository", "ImageScanningConfiguration"),),
    "reserved_concurrency_total": (("AWS::Lambda::Function", "ReservedConcurrentExecutions"),),
    "log_retention": (("AWS::Logs::LogGroup", "RetentionInDays"),),
    "log_group_writers": (("AWS::Lambda::Function", None),),
    "alarm_coverage": (("AWS::CloudWatch::Alarm", None),),
    "waf_rate_limited": (("AWS::WAFv2::WebACL", "Rules"),),
    "sqs_visibility": (("AWS::SQS::Queue", "VisibilityTimeout"),),
}

# Facts that need any one of several inputs: a VPC guardrail may be an IAM policy or an SCP.
FACT_NEEDS_ANY: Mapping[str, tuple[tuple[str, str | None], ...]] = {
    "vpc_guardrails": (("AWS::IAM::Role", "Policies"), ("AWS::Organizations::Policy", "Content")),
}


@dataclass(frozen=True, slots=True)
class Need:
    """One piece of data a rule reads: a resource type, and a property of it (None: the type itself)."""

    type: str
    property: str | None
    via: str  # the expression path (or fact) that reads it, for the reason a person reads
    alternatives: tuple[tuple[str, str | None], ...] = ()  # any of these meets the need too

    def describe(self) -> str:
        items = [(self.type, self.property), *self.alternatives]
        return " or ".join(f"{t} {p}" if p else t for t, p in items)


def _paths(node: Any, ctx: tuple[str, ...] | None) -> tuple[tuple[str, ...] | None, list[tuple[str, ...]]]:
    """(the path the node's value comes from, or None; every path it reads), relative to ``ctx``.

    List indexes and projections are transparent: ``related.aliases[?Properties.X]`` reads
    ``related.aliases.Properties.X``.
    """
    if not isinstance(node, dict):
        return None, []
    kind = node.get("type")
    children = [c for c in node.get("children") or [] if isinstance(c, dict)]
    if kind == "field":
        if ctx is None:
            return None, []
        path = (*ctx, str(node.get("value")))
        return path, [path]
    if kind in ("current", "identity", "index", "slice"):
        return ctx, []
    if kind in ("subexpression", "index_expression", "pipe"):
        result, reads = ctx, []
        for child in children:
            result, more = _paths(child, result)
            reads += more
        return result, reads
    if kind in ("projection", "value_projection", "filter_projection"):
        left, reads = _paths(children[0], ctx) if children else (None, [])
        result = left
        for child in children[1:]:
            value, more = _paths(child, left)
            reads += more
            if child is children[1]:
                result = value
        return result, reads
    if kind == "flatten":
        return _paths(children[0], ctx) if children else (None, [])
    reads = []
    for child in children:
        reads += _paths(child, ctx)[1]
    return None, reads


def reads(expr: Any) -> list[tuple[str, ...]]:
    """Every path a compiled JMESPath expression (``jmespath.parser.ParsedResult``) reads from the view root."""
    return _paths(expr.parsed, ())[1]


def _expressions(rule: Any) -> Iterator[Any]:
    if rule.when is not None:
        yield rule.when
    yield rule.assert_
    yield from rule.message_args.values()


def rule_needs(rule: Any) -> list[Need]:
    """What ``rule`` reads beyond its own resource types: properties, related resources, fact inputs."""
    found: dict[tuple[str, str | None], Need] = {}

    def add(rtype: str, prop: str | None, via: str) -> None:
        found.setdefault((rtype, prop), Need(rtype, prop, via))

    for expr in _expressions(rule):
        for path in reads(expr):
            via = ".".join(path)
            if len(path) >= 2 and path[0] == "Properties":
                for rtype in rule.resource_types:
                    add(rtype, path[1], via)
            elif len(path) >= 2 and path[0] == "related" and path[1] in RELATED_TYPES:
                rtype = RELATED_TYPES[path[1]]
                if len(path) >= 4 and path[2] == "Properties":
                    add(rtype, path[3], via)
                else:
                    add(rtype, None, via)
            elif len(path) >= 2 and path[0] == "facts":
                for rtype, prop in FACT_NEEDS.get(path[1], ()):
                    add(rtype, prop, f"facts.{path[1]}")
                options = FACT_NEEDS_ANY.get(path[1])
                if options:
                    (rtype, prop), rest = options[0], options[1:]
                    found.setdefault((rtype, prop), Need(rtype, prop, f"facts.{path[1]}", tuple(rest)))
    return list(found.values())


def missing(rule: Any, provides: Mapping[str, frozenset[str]]) -> list[Need]:
    """The needs of ``rule`` that ``provides`` (type -> properties its collectors fill) does not meet.

    None of the rule's own types provided: the rule has nothing to judge (all its types are returned).
    """
    own = [t for t in rule.resource_types if t in provides]
    if not own:
        return [Need(t, None, "resource") for t in rule.resource_types]
    out: list[Need] = []
    single = len(rule.resource_types) == 1
    for need in rule_needs(rule):
        if any(t in provides and (p is None or p in provides[t]) for t, p in need.alternatives):
            continue
        if need.type in rule.resource_types and need.property is not None:
            # A multi-type rule reads each property on the type it is for, which its expressions do not
            # say: only a single-type rule's own properties are checked.
            if single and need.property not in provides[need.type]:
                out.append(need)
        elif need.type not in provides:
            out.append(need)
        elif need.property is not None and need.property not in provides[need.type]:
            out.append(need)
    return out


def describe(needs: Sequence[Need]) -> str:
    """``"AWS::X Prop (read by Properties.Prop.Y), AWS::Y"``: what is missing, one item each."""
    return ", ".join(f"{n.describe()} (read by {n.via})" if n.via != "resource" else n.describe() for n in needs)
