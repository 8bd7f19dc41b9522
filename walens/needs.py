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
        elif need.type not in provides or (need.property is not None and need.property not in provides[need.type]):
            out.append(need)
    return out


def describe(needs: Sequence[Need]) -> str:
    """``"AWS::X Prop (read by Properties.Prop.Y), AWS::Y"``: what is missing, one item each."""
    return ", ".join(f"{n.describe()} (read by {n.via})" if n.via != "resource" else n.describe() for n in needs)


# ---------------------------------------------------------------------------------------------
# The call plan: which resource types (and properties) a selection of rules reads, so the account
# scanner asks only for those.

_API = ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Model",
        "AWS::ApiGateway::UsagePlan", "AWS::WAFv2::WebACLAssociation")
_API_V2 = ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::Route",
           "AWS::ApiGatewayV2::Authorizer")
_WAF = ("AWS::WAFv2::WebACL", "AWS::WAFv2::WebACLAssociation")
_FN = "AWS::Lambda::Function"
_SOURCES = ("AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::SNS::Topic")
_IAM = ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
# Every relation key, with every type it may hold (a superset of RELATED_TYPES, for planning).
PLAN_RELATED: Mapping[str, tuple[str, ...]] = {
    **{key: (rtype,) for key, rtype in RELATED_TYPES.items()},
    "role_policies": _IAM, "policies": _IAM, "async_invokers": ("AWS::Lambda::Permission",),
    "source": _SOURCES, "stages": ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"),
    "methods": ("AWS::ApiGateway::Method",), "routes": ("AWS::ApiGatewayV2::Route",),
    "authorizers": ("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer"),
    "authorizer": ("AWS::ApiGateway::Authorizer", "AWS::ApiGatewayV2::Authorizer"),
    "api": ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"), "waf": _WAF,
}
# Every type a fact may read besides its resource's own properties (a superset, for planning). A fact a
# selected rule reads that is missing here plans every collector.
PLAN_FACTS: Mapping[str, tuple[str, ...]] = {
    "access_log": ("AWS::Logs::LogGroup",),
    "alarm_actions": ("AWS::SNS::Topic", _FN, "AWS::SQS::Queue", "AWS::ApiGateway::RestApi",
                      "AWS::StepFunctions::StateMachine", "AWS::CodeDeploy::DeploymentGroup"),
    "alarm_coverage": ("AWS::CloudWatch::Alarm", "AWS::CodeDeploy::DeploymentGroup", "AWS::Lambda::EventSourceMapping",
                       "AWS::Lambda::Alias", *_SOURCES),
    "api_authorization": (*_API, *_API_V2, "AWS::AppSync::GraphQLApi"),
    "api_exposure": (*_API, *_WAF),
    "api_invoker_kind": ("AWS::Lambda::Permission", "AWS::Lambda::Url", *_API, *_API_V2),
    "api_key_methods": _API,
    "async_sources": ("AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig", "AWS::SNS::Subscription",
                      "AWS::SNS::Topic", "AWS::Events::Rule", "AWS::ApiGateway::Method", "AWS::ApiGateway::RestApi"),
    "appsync_field_log_level": (),
    "broad_permissions": (*_IAM, _FN, "AWS::StepFunctions::StateMachine"),
    "catch_all_function": (*_API, *_API_V2, _FN),
    "data_trace": (),
    "environment_secrets": (),
    "esm_source_kind": _SOURCES,
    "external_layers": (),
    "image_scanning": (),
    "invoked_async": ("AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig"),
    "lambda_deployment": (_FN, "AWS::Lambda::Alias", "AWS::CloudWatch::Alarm", "AWS::CodeDeploy::Application",
                          "AWS::CodeDeploy::DeploymentConfig"),
    "lambda_role": (_FN, "AWS::StepFunctions::StateMachine"),
    "lambda_vpc_guardrail": (),
    "log_group_writers": (_FN,),
    "log_retention": ("AWS::Logs::LogGroup",),
    "memory_recommendation": (),
    "open_egress_security_groups": ("AWS::EC2::SecurityGroup",),
    "permission_exposure": (_FN,),
    "public_statements": (),
    "request_validation": _API,
    "reserved_concurrency_total": (_FN,),
    "role_shared_with": (_FN,),
    "runtime_lifecycle": (),
    "runtime_support": (),
    "sfn_tasks": (_FN,),
    "sns_redrive": ("AWS::SQS::Queue",),
    "service_role": (),
    "sqs_dead_letter_for": ("AWS::SQS::Queue", _FN, "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping",
                            "AWS::SNS::Subscription", "AWS::Events::Rule"),
    "sqs_redrive": ("AWS::SQS::Queue",),
    "sqs_visibility": ("AWS::SQS::Queue", _FN),
    "targets_without_dlq": ("AWS::SQS::Queue", _FN),
    "sync_invokers": ("AWS::Lambda::Permission", "AWS::Lambda::Url", "AWS::ApiGateway::Method", "AWS::ApiGateway::RestApi"),
    "task_integrations": (_FN,),
    "verbose_logging": ("AWS::Logs::LogGroup",),
    "vpc_guardrails": (*_IAM, "AWS::Organizations::Policy"),
    "vpc_only_targets": (),
    "waf_rate_limit": (*_WAF, "AWS::ApiGateway::Stage", "AWS::AppSync::GraphQLApi"),
    "waf_rate_limited": _WAF,
}
# Facts the account scanner's second phase sets (Logs Insights, CloudWatch metrics, Compute Optimizer).
ACTIVITY_FACTS = frozenset({"memory_recommendation", "memory_usage", "metrics", "compute_optimizer"})


@dataclass(frozen=True, slots=True)
class Plan:
    """What a selection of rules reads in an account: types, (type, property) pairs, facts. ``everything``
    when some read cannot be traced (a fact :data:`PLAN_FACTS` does not know): then every call is made."""

    types: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    facts: frozenset[str]
    everything: bool = False

    def wants(self, rtype: str, prop: str | None = None) -> bool:
        """Whether a selected rule reads resources of ``rtype`` (and their ``prop``)."""
        if self.everything:
            return True
        if prop is None:
            return rtype in self.types
        return (rtype, prop) in self.pairs

    def wants_activity(self) -> bool:
        """Whether a selected rule reads what functions did (the second phase)."""
        return self.everything or bool(self.facts & ACTIVITY_FACTS)


def plan(rules: Sequence[Any]) -> Plan:
    """The plan of the account-scope ``rules``."""
    types: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    facts: set[str] = set()
    everything = False
    for rule in rules:
        if "account" not in rule.scope:
            continue
        types.update(rule.resource_types)
        for expr in _expressions(rule):
            for path in reads(expr):
                if len(path) >= 2 and path[0] == "Properties":
                    pairs.update((t, path[1]) for t in rule.resource_types)
                elif len(path) >= 2 and path[0] == "related":
                    related = PLAN_RELATED.get(path[1])
                    if related is None:
                        everything = True
                        continue
                    types.update(related)
                    if len(path) >= 4 and path[2] == "Properties":
                        pairs.update((t, path[3]) for t in related)
                elif len(path) >= 2 and path[0] == "facts":
                    facts.add(path[1])
                    if path[1] in ACTIVITY_FACTS or path[1] == "defaulted":
                        continue
                    if path[1] not in PLAN_FACTS:
                        everything = True
                        continue
                    types.update(PLAN_FACTS[path[1]])
                    for rtype, prop in FACT_NEEDS.get(path[1], ()):
                        types.add(rtype)
                        if prop is not None:
                            pairs.add((rtype, prop))
    return Plan(frozenset(types), frozenset(pairs), frozenset(facts), everything)
