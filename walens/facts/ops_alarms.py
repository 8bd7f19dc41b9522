"""Alarm facts: which of a resource's key metrics have an alarm that notifies someone (OPS 1).

The key metrics per resource type follow the Serverless Lens OPS 1 improvement plan and the
whitepaper: function Errors and Throttles (IteratorAge when a Kinesis or DynamoDB stream feeds it,
DeadLetterErrors with a dead-letter queue, ProvisionedConcurrencySpilloverInvocations with provisioned
concurrency),
REST API 5XXError, HTTP API 5xx, state machine ExecutionsFailed, queue ApproximateAgeOfOldestMessage.
An alarm notifies when its actions are enabled and ``AlarmActions`` is non-empty, or when a composite
alarm combines it (the composite carries the actions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from walens.facts import fact, of_type, shared
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"
REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
QUEUE = "AWS::SQS::Queue"
ALARM = "AWS::CloudWatch::Alarm"
COMPOSITE = "AWS::CloudWatch::CompositeAlarm"
DEPLOYMENT_GROUP = "AWS::CodeDeploy::DeploymentGroup"

# (label shown in messages, metric names that satisfy it). CloudWatch metric names are case-sensitive,
# but HTTP APIs publish "5xx" where REST APIs publish "5XXError"; both are accepted for either.
_FUNCTION = [("Errors", ("Errors",)), ("Throttles", ("Throttles",))]
_STREAM = ("IteratorAge", ("IteratorAge",))
# An async function with a dead-letter queue, and one with provisioned concurrency.
_DEAD_LETTER = ("DeadLetterErrors", ("DeadLetterErrors",))
_SPILLOVER = ("ProvisionedConcurrencySpilloverInvocations", ("ProvisionedConcurrencySpilloverInvocations",))
_REQUIREMENTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    REST_API: [("5XXError", ("5XXError", "5xx"))],
    HTTP_API: [("5xx", ("5xx", "5XXError"))],
    STATE_MACHINE: [("ExecutionsFailed", ("ExecutionsFailed",))],
    QUEUE: [("ApproximateAgeOfOldestMessage", ("ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible"))],
}

_GETATT_ID = re.compile(r"^\{\{getatt:([^.}]+)\.")


def _props(r: Any) -> dict[str, Any]:
    props = r.get("Properties") if isinstance(r, dict) else getattr(r, "properties", None)
    return props if isinstance(props, dict) else {}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def alarm_metric_names(props: dict[str, Any]) -> list[Any]:
    """The metric names an alarm reads: ``MetricName`` and each ``Metrics[].MetricStat.Metric.MetricName``."""
    out: list[Any] = []
    if "MetricName" in props:
        out.append(props["MetricName"])
    metrics = props.get("Metrics")
    if isinstance(metrics, Unknown):
        out.append(metrics)
    for query in _as_list(metrics):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict) and "MetricName" in metric:
            out.append(metric["MetricName"])
    return out


def _names(alarm_id: str, props: dict[str, Any]) -> set[str]:
    """The strings that can name an alarm elsewhere in the template."""
    out = {"{{ref:" + alarm_id + "}}"}
    name = props.get("AlarmName")
    if isinstance(name, str) and name:
        out.add(name)
    return out


def _mentions(text: Any, alarm_id: str, names: set[str]) -> bool:
    if not isinstance(text, str):
        return False
    return "{{getatt:" + alarm_id + "." in text or any(n in text for n in names)


def alarm_users(alarm_id: str, props: dict[str, Any], inventory: Sequence[Resource]) -> list[str]:
    """Ids of composite alarms whose rule names the alarm and deployment groups that roll back on it."""
    names = _names(alarm_id, props)
    out: list[str] = []
    for r in of_type(inventory, COMPOSITE):
        if _mentions(_props(r).get("AlarmRule"), alarm_id, names):
            out.append(r.id)
    for r in of_type(inventory, DEPLOYMENT_GROUP):
        config = _props(r).get("AlarmConfiguration")
        alarms = config.get("Alarms") if isinstance(config, dict) else None
        for item in _as_list(alarms):
            value = item.get("Name") if isinstance(item, dict) else item
            m = _GETATT_ID.match(value) if isinstance(value, str) else None
            if isinstance(value, str) and (value in names or (m is not None and m.group(1) == alarm_id)):
                out.append(r.id)
                break
    return sorted(out)


def _notifies(alarm_id: str, props: dict[str, Any], inventory: Sequence[Resource]) -> bool | Unknown:
    """Whether the alarm tells someone when it fires (its own actions, or a composite alarm's)."""
    if any(_mentions(_props(r).get("AlarmRule"), alarm_id, _names(alarm_id, props))
           for r in of_type(inventory, COMPOSITE)):
        return True
    enabled = props.get("ActionsEnabled", True)
    if isinstance(enabled, Unknown):
        return enabled
    if enabled is False or (isinstance(enabled, str) and enabled.lower() == "false"):
        return False
    actions = props.get("AlarmActions")
    if isinstance(actions, Unknown):
        return actions
    return isinstance(actions, list) and len(actions) > 0


@fact("alarm_actions", types=[ALARM])
def alarm_actions(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Whether an alarm notifies anyone, and which composite alarms or deployment groups use it."""
    props = _props(resource)
    return {"notifies": _notifies(resource.id, props, inventory), "used_by": alarm_users(resource.id, props, inventory)}


def _is_stream_source(esm: dict[str, Any], by_id: dict[str, Resource]) -> bool:
    """Whether an event source mapping reads a Kinesis or DynamoDB stream (whose lag is IteratorAge)."""
    props = _props(esm)
    arn = props.get("EventSourceArn")
    if isinstance(arn, str):
        m = _GETATT_ID.match(arn)
        if m and m.group(1) in by_id:
            return by_id[m.group(1)].type in ("AWS::Kinesis::Stream", "AWS::DynamoDB::Table",
                                              "AWS::Kinesis::StreamConsumer")
        if arn.startswith("arn:") or ":kinesis:" in arn or ":dynamodb:" in arn:
            return ":kinesis:" in arn or (":dynamodb:" in arn and "/stream/" in arn)
    # The source is not known: Kinesis and DynamoDB mappings (and only they, besides Kafka and
    # DocumentDB, which name Topics or a cluster) require StartingPosition.
    return "StartingPosition" in props and "Topics" not in props and "DocumentDBEventSourceConfig" not in props


def _http_api_alarms(api: Resource, inventory: Sequence[Resource]) -> list[dict[str, Any]]:
    """Alarms on AWS/ApiGateway metrics whose ApiId dimension names this HTTP API (graph.py links REST only)."""
    keys = {"{{ref:" + api.id + "}}", "{{getatt:" + api.id + ".ApiId}}"}
    out = []
    for alarm in of_type(inventory, ALARM):
        props = _props(alarm)
        found = False
        for namespace, dims in _alarm_dimensions(props):
            if namespace != "AWS/ApiGateway":
                continue
            for dim in _as_list(dims):
                if isinstance(dim, dict) and dim.get("Name") == "ApiId" and dim.get("Value") in keys:
                    found = True
        if found:
            out.append({"id": alarm.id, "type": alarm.type, "Properties": props})
    return out


def _alarm_dimensions(props: dict[str, Any]) -> Iterable[tuple[Any, Any]]:
    yield props.get("Namespace"), props.get("Dimensions")
    for query in _as_list(props.get("Metrics")):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict):
            yield metric.get("Namespace"), metric.get("Dimensions")


def _by_id(inventory: Sequence[Resource]) -> dict[str, Resource]:
    return {r.id: r for r in inventory}


def requirements(resource: Resource, inventory: Sequence[Resource]) -> list[tuple[str, tuple[str, ...]]]:
    """(label, accepted metric names) of the metrics the resource should alarm on."""
    if resource.type != FUNCTION:
        return list(_REQUIREMENTS[resource.type])
    by_id = shared(inventory, "by_id", _by_id)
    out: list[tuple[str, tuple[str, ...]]] = list(_FUNCTION)
    if any(_is_stream_source(esm, by_id) for esm in resource.related.get("event_sources") or []):
        out.append(_STREAM)
    dlq = _props(resource).get("DeadLetterConfig")
    if isinstance(dlq, dict) and dlq.get("TargetArn") is not None:
        out.append(_DEAD_LETTER)
    if any(_props(alias).get("ProvisionedConcurrencyConfig") is not None
           for alias in resource.related.get("aliases") or []):
        out.append(_SPILLOVER)
    return out


@fact("alarm_coverage", types=[FUNCTION, REST_API, HTTP_API, STATE_MACHINE, QUEUE])
def alarm_coverage(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Key metrics with a notifying alarm (``covered``), without one (``missing``), and alarms that notify no one.

    ``missing`` is an Unknown when nothing is known to be missing but some alarm's metric or actions
    cannot be read from the template, so a rule reading it ends not_assessed.
    """
    if resource.type == HTTP_API:
        alarms = _http_api_alarms(resource, inventory)
    else:
        alarms = [a for a in resource.related.get("alarms") or [] if isinstance(a, dict)]
    wanted = requirements(resource, inventory)
    covered: list[str] = []
    missing: list[str] = []
    silent: list[str] = []
    undecided: list[tuple[str, str]] = []
    for label, accepted in wanted:
        accepted_lower = {m.lower() for m in accepted}
        state = "missing"
        reason = ""
        for alarm in alarms:
            props = _props(alarm)
            metrics = alarm_metric_names(props)
            unknown_metric = next((m for m in metrics if isinstance(m, Unknown)), None)
            matches = any(isinstance(m, str) and m.lower() in accepted_lower for m in metrics)
            if not matches:
                if unknown_metric is not None and state == "missing":
                    state, reason = "undecided", f"alarm {alarm['id']}: {unknown_metric.reason}"
                continue
            notifies = _notifies(str(alarm["id"]), props, inventory)
            if notifies is True:
                state = "covered"
                break
            if isinstance(notifies, Unknown):
                state, reason = "undecided", f"alarm {alarm['id']}: {notifies.reason}"
            elif state == "missing":
                state = "silent"
        if state == "covered":
            covered.append(label)
        elif state == "undecided":
            undecided.append((label, reason))
        else:
            missing.append(label)
            if state == "silent":
                silent.append(label)
    result: Any = missing
    if not missing and undecided:
        label, reason = undecided[0]
        result = Unknown(f"whether an alarm notifies on {label} is not known from the template ({reason})")
    return {"expected": [label for label, _ in wanted], "covered": covered, "missing": result,
            "without_actions": silent}
