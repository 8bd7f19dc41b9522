"""EventBridge: event buses (their resource policies), rules and their targets.

``ListEventBuses`` (it carries each bus's policy), ``ListRules`` per bus and ``ListTargetsByRule`` per
rule. A rule becomes ``AWS::Events::Rule`` with its ``Targets`` (``DeadLetterConfig.Arn``,
``RetryPolicy``) as a template writes them, so REL015 judges it and a function it targets gets the rule
as an asynchronous invoker; a bus with a policy is the ``AWS::Events::EventBus`` SEC023 reads. Rules
that an AWS service manages for itself (``ManagedBy``) are left out: their owner cannot change them.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import parse_json, pick

SERVICE = "events"
BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ListEventBuses": (BUS, RULE),
    "ListRules": (RULE,),
    "ListTargetsByRule": (),
}

_TARGET_KEYS = ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer", "KinesisParameters",
                "RunCommandParameters", "EcsParameters", "BatchParameters", "SqsParameters", "HttpParameters",
                "RedshiftDataParameters", "SageMakerPipelineParameters", "DeadLetterConfig", "RetryPolicy",
                "AppSyncParameters")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    BUS: frozenset({"Name", "Description", "Policy"}),
    RULE: frozenset({"Name", "Description", "ScheduleExpression", "State", "RoleArn", "EventBusName", "EventPattern",
                     "Targets"}),
}


def _follow(ctx: Ctx, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item under ``key``, following ``NextToken`` (these listings have no botocore paginator)."""
    items: list[Any] = []
    token: str | None = None
    while True:
        page: dict[str, Any] = {"NextToken": token} if token else {}
        answer = ctx.call(operation, **params, **page) or {}
        items.extend(answer.get(key) or [])
        token = answer.get("NextToken")
        if not token:
            return items


def rule_properties(rule: dict[str, Any]) -> dict[str, Any]:
    """A ``ListRules`` entry as ``AWS::Events::Rule`` properties (targets added separately)."""
    props = pick(rule, ("Name", "Description", "ScheduleExpression", "State", "RoleArn", "EventBusName"))
    if rule.get("EventPattern"):
        props["EventPattern"] = parse_json(rule["EventPattern"])
    return props


def target_properties(target: dict[str, Any]) -> dict[str, Any]:
    """A ``ListTargetsByRule`` entry as an item of ``AWS::Events::Rule`` ``Targets``."""
    out = pick(target, _TARGET_KEYS)
    if not (out.get("DeadLetterConfig") or {}).get("Arn"):
        out.pop("DeadLetterConfig", None)
    return out


def collect(ctx: Ctx) -> None:
    for bus in _follow(ctx, "ListEventBuses", "EventBuses"):
        name = bus["Name"]
        arn = bus.get("Arn") or ctx.arn("events", f"event-bus/{name}")
        props: dict[str, Any] = {"Name": name, **pick(bus, ("Description",))}
        if bus.get("Policy"):
            props["Policy"] = parse_json(bus["Policy"])
        ctx.add(Resource(id=arn, type=BUS, properties=props, name=name, arn=arn))
        ctx.spawn(_rules, ctx, name)


def _rules(ctx: Ctx, bus: str) -> None:
    for rule in _follow(ctx, "ListRules", "Rules", EventBusName=bus):
        if rule.get("ManagedBy"):
            continue
        arn = rule["Arn"]
        resource = ctx.add(Resource(id=arn, type=RULE, properties=rule_properties(rule), name=rule["Name"], arn=arn))
        ctx.spawn(_targets, ctx, resource, bus)


def _targets(ctx: Ctx, rule: Resource, bus: str) -> None:
    try:
        targets = _follow(ctx, "ListTargetsByRule", "Targets", Rule=rule.name, EventBusName=bus)
    except CallFailed as exc:
        rule.properties["Targets"] = exc.unknown
        return
    if targets:
        rule.properties["Targets"] = [target_properties(t) for t in targets]
