"""Reliability facts for functions, their event sources and queues (Serverless Lens REL 1 and REL 2).

What a JMESPath cannot state: the kind of an event source named only by ARN, the SQS visibility
timeout measured against the function timeout, a redrive policy written as JSON text, evidence of an
idempotency store, synchronous function-to-function invocation, the template's total reserved
concurrency, and which non-scalable data stores (RDS, Aurora, ElastiCache) a function reaches.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from walens.facts import fact, of_type, shared
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"
ESM = "AWS::Lambda::EventSourceMapping"
QUEUE = "AWS::SQS::Queue"

_SOURCE_KINDS = {
    QUEUE: "sqs",
    "AWS::Kinesis::Stream": "kinesis",
    "AWS::Kinesis::StreamConsumer": "kinesis",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::MSK::Cluster": "kafka",
    "AWS::AmazonMQ::Broker": "mq",
    "AWS::DocDB::DBCluster": "docdb",
}
# The service segment of an event source ARN (arn:partition:<service>:...).
_ARN_SERVICES = {"sqs": "sqs", "kinesis": "kinesis", "dynamodb": "dynamodb", "kafka": "kafka", "mq": "mq",
                 "rds": "docdb"}
_PLACEHOLDER = re.compile(r"\{\{(?:ref|getatt):([^.}]+)")
_FUNCTION_ARN = re.compile(r":function:([^:]+)")
_ARN_SERVICE = re.compile(r"^arn:(?:\{\{[^}]*\}\}|[^:]*):([^:]+):")  # the partition may be {{AWS::Partition}}

_SOURCE_KIND = "WalensSourceKind"  # set by the SAM expansion (scanners/sam_function.SOURCE_KIND)

NONSCALABLE = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::ElastiCache::CacheCluster",
               "AWS::ElastiCache::ReplicationGroup")


def _props(r: Resource | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(r, Resource):
        return r.properties if isinstance(r.properties, dict) else {}
    if isinstance(r, dict):
        props = r.get("Properties")
        return props if isinstance(props, dict) else {}
    return {}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _number(value: Any) -> float | Unknown | None:
    """A CloudFormation number (int, float or numeric string); Unknown stays Unknown; else None."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return None


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a resolved value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _mentioned(value: Any) -> set[str]:
    """Logical IDs that ``{{ref:X}}`` / ``{{getatt:X.Attr}}`` placeholders inside ``value`` name."""
    return {m.group(1) for s in _strings(value) for m in _PLACEHOLDER.finditer(s)}


def _by_id(inventory: Sequence[Resource]) -> dict[str, Resource]:
    return {r.id: r for r in inventory}


# ---------------------------------------------------------------------------------------------
# Event sources


@fact("esm_source_kind", types=[ESM])
def esm_source_kind(resource: Resource, inventory: Sequence[Resource]) -> str | Unknown | None:
    """sqs | kinesis | dynamodb | kafka | mq | docdb for an event source mapping; None when unrecognised."""
    declared = resource.metadata.get(_SOURCE_KIND) if isinstance(resource.metadata, dict) else None
    if isinstance(declared, str):  # the SAM event type (MSK, SelfManagedKafka, SQS...) said it
        return declared
    source = resource.related.get("source")
    if isinstance(source, dict) and source.get("type") in _SOURCE_KINDS:
        return _SOURCE_KINDS[source["type"]]
    props = _props(resource)
    arn = props.get("EventSourceArn")
    if isinstance(arn, Unknown):
        return arn
    if isinstance(arn, str):
        ids = _mentioned(arn)
        by_id = _by_id(inventory)
        for logical_id in ids:
            target = by_id.get(logical_id)
            if target is not None and target.type in _SOURCE_KINDS:
                return _SOURCE_KINDS[target.type]
        m = _ARN_SERVICE.match(arn)
        if m and m.group(1) in _ARN_SERVICES:
            return _ARN_SERVICES[m.group(1)]
    if props.get("SelfManagedEventSource") is not None:
        return "kafka"
    return None


@fact("sqs_visibility", types=[ESM])
def sqs_visibility(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | Unknown | None:
    """For an SQS mapping whose queue and function are in the template: the queue's visibility timeout,
    the function timeout, the batching window and ``ratio`` = (visibility − window) / timeout."""
    source, fn = resource.related.get("source"), resource.related.get("function")
    if not isinstance(source, dict) or source.get("type") != QUEUE or not isinstance(fn, dict):
        return None
    numbers: list[int | float] = []
    for raw, what in ((_props(source).get("VisibilityTimeout", 30), "the queue's VisibilityTimeout"),
                      (_props(fn).get("Timeout", 3), "the function's Timeout"),
                      (_props(resource).get("MaximumBatchingWindowInSeconds", 0), "MaximumBatchingWindowInSeconds")):
        value = _number(raw)
        if isinstance(value, Unknown):
            return value
        if value is None:
            return Unknown(f"{what} is not a number")
        numbers.append(value)
    visibility, timeout, window = numbers
    if timeout <= 0:
        return Unknown("the function's Timeout is not positive")
    return {"visibility": visibility, "timeout": timeout, "batching_window": window,
            "ratio": round((visibility - window) / timeout, 2)}


def redrive_policy(value: Any) -> dict[str, Any] | Unknown | None:
    """A queue's RedrivePolicy as a mapping (CloudFormation accepts JSON text too); None when absent."""
    if isinstance(value, Unknown) or value is None:
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return Unknown("RedrivePolicy is not valid JSON")
    if not isinstance(value, dict):
        return Unknown("RedrivePolicy is not a mapping")
    target = value.get("deadLetterTargetArn")
    if isinstance(target, Unknown):
        return target
    return {"dead_letter_target": target, "max_receive_count": value.get("maxReceiveCount")}


@fact("sqs_redrive", types=[QUEUE])
def sqs_redrive(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | Unknown | None:
    """``{dead_letter_target, max_receive_count}`` of the queue's redrive policy; None when it has none."""
    return redrive_policy(_props(resource).get("RedrivePolicy"))


# Properties under which a resource names where its failed messages, events or records go: an SQS redrive
# policy, a function's or target's DeadLetterConfig, an OnFailure destination, SAM's DeadLetterQueue.
_FAILURE_KEYS = frozenset({"RedrivePolicy", "DeadLetterConfig", "OnFailure", "DeadLetterQueue"})


def _failure_targets(value: Any, inside: bool = False) -> Iterator[str]:
    """Every string under a failure-destination key of a resolved value (JSON redrive policies parsed)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _failure_targets(item, inside or key in _FAILURE_KEYS)
    elif isinstance(value, list):
        for item in value:
            yield from _failure_targets(item, inside)
    elif isinstance(value, str) and inside:
        if value.startswith("{"):
            try:
                yield from _failure_targets(json.loads(value), True)
                return
            except ValueError:
                pass
        yield value


def _dead_letter_users(inventory: Sequence[Resource]) -> dict[str, list[str]]:
    """Each string that can name a queue (placeholder target, ARN, last ARN segment) -> the resources
    that send their failures to it."""
    out: dict[str, list[str]] = {}
    for r in inventory:
        for target in set(_failure_targets(_props(r))):
            keys = {m.group(1) for m in _PLACEHOLDER.finditer(target)} | {target, target.rsplit(":", 1)[-1]}
            for key in keys:
                out.setdefault(key, []).append(r.id)
    return out


@fact("sqs_dead_letter_for", types=[QUEUE])
def sqs_dead_letter_for(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """The resources that use this queue as their dead-letter queue or on-failure destination, sorted
    (``["RedriveAllowPolicy"]`` when the queue only declares which queues may use it as one)."""
    users = shared(inventory, "dead_letter_users", _dead_letter_users)
    keys = {resource.id}
    for name in (resource.name, resource.arn):
        if isinstance(name, str):
            keys.update({name, name.rsplit(":", 1)[-1]})
    found = sorted({uid for key in keys for uid in users.get(key, ()) if uid != resource.id})
    if not found and _props(resource).get("RedriveAllowPolicy") is not None:
        return ["RedriveAllowPolicy"]
    return found


@fact("sns_redrive", types=["AWS::SNS::Subscription"])
def sns_redrive(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | Unknown | None:
    """``{dead_letter_target, max_receive_count}`` of the subscription's redrive policy; None when it has none."""
    return redrive_policy(_props(resource).get("RedrivePolicy"))


# ---------------------------------------------------------------------------------------------
# Idempotency (REL 2, duplicate events): a hint only


def _ttl_tables(inventory: Sequence[Resource]) -> dict[str, Resource]:
    """DynamoDB tables with TTL enabled, under each string that can name them."""
    out: dict[str, Resource] = {}
    for r in inventory:
        if r.type != "AWS::DynamoDB::Table":
            continue
        ttl = _props(r).get("TimeToLiveSpecification")
        if isinstance(ttl, dict) and ttl.get("Enabled") in (True, "true", "True"):
            out["{{ref:" + r.id + "}}"] = r
            if isinstance(r.name, str):
                out[r.name] = r
    return out


@fact("idempotency_evidence", types=[FUNCTION])
def idempotency_evidence(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """Environment variables that point to an idempotency store: a name containing IDEMPOTEN, or a value
    naming a DynamoDB table with TTL (the Powertools idempotency layout)."""
    env = _props(resource).get("Environment")
    if isinstance(env, Unknown):
        return env
    variables = env.get("Variables") if isinstance(env, dict) else None
    if isinstance(variables, Unknown):
        return variables
    if not isinstance(variables, dict):
        return []
    tables = _ttl_tables(inventory)
    out = []
    for name, value in variables.items():
        if "IDEMPOTEN" in str(name).upper():
            out.append(str(name))
        elif isinstance(value, str) and (value in tables or any(
                "{{ref:" + t.id + "}}" in value or "{{getatt:" + t.id + "." in value for t in tables.values())):
            out.append(str(name))
    return sorted(set(out))


# ---------------------------------------------------------------------------------------------
# Synchronous function chains (REL 2, orchestration): a hint only


def _documents(policy_view: Any) -> list[Any]:
    props = _props(policy_view)
    doc = props.get("PolicyDocument")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return []
    return [doc] if isinstance(doc, dict) else []


def _invoke_action(actions: Any) -> bool:
    """Whether an Action list grants lambda:InvokeFunction through a Lambda-specific pattern (not ``*``)."""
    return any(isinstance(a, str) and a.lower().startswith("lambda:")
               and fnmatch.fnmatchcase("lambda:invokefunction", a.lower()) for a in _as_list(actions))


def _function_targets(value: Any, functions: dict[str, Resource], names: dict[str, Resource]) -> set[str]:
    out: set[str] = set()
    for text in _strings(value):
        if text == "*" or text.endswith(":function:*"):
            out.add("*")
            continue
        for logical_id in _mentioned(text):
            if logical_id in functions:
                out.add(logical_id)
        m = _FUNCTION_ARN.search(text)
        name = m.group(1) if m else text
        if name in names:
            out.add(names[name].id)
    return out


def _functions_by_id_and_name(inventory: Sequence[Resource]) -> tuple[dict[str, Resource], dict[str, Resource]]:
    functions = {r.id: r for r in of_type(inventory, FUNCTION)}
    names = {r.name: r for r in functions.values() if isinstance(r.name, str) and not r.name.startswith("{{")}
    return functions, names


@fact("invokes_functions", types=[FUNCTION])
def invokes_functions(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Other functions of the template (or ``*``) the function's role may invoke with lambda:InvokeFunction."""
    functions, names = shared(inventory, "functions_by_id_and_name", _functions_by_id_and_name)
    targets: set[str] = set()
    for policy in resource.related.get("role_policies") or []:
        for doc in _documents(policy):
            for stmt in _as_list(doc.get("Statement")):
                if isinstance(stmt, dict) and stmt.get("Effect") == "Allow" and _invoke_action(stmt.get("Action")):
                    targets |= _function_targets(stmt.get("Resource"), functions, names)
    role = resource.related.get("role")
    metadata = role.get("Metadata") if isinstance(role, dict) else None
    for template in _as_list(metadata.get("SamPolicyTemplates") if isinstance(metadata, dict) else None):
        if isinstance(template, dict) and template.get("Name") == "LambdaInvokePolicy":
            params = template.get("Parameters")
            name = params.get("FunctionName") if isinstance(params, dict) else None
            if isinstance(name, dict) and isinstance(name.get("Ref"), str):
                name = "{{ref:" + name["Ref"] + "}}"  # policy-template parameters are kept as written
            targets |= _function_targets(name, functions, names)
    targets.discard(resource.id)
    # A function that is this function's asynchronous destination is invoked by Lambda, not by its code
    # (SAM grants the role lambda:InvokeFunction on it for that).
    config = resource.related.get("event_invoke_config")
    destinations = _props(config).get("DestinationConfig")
    targets -= _function_targets(destinations, functions, names) - {"*"}
    return sorted(targets)


# ---------------------------------------------------------------------------------------------
# Concurrency (REL 1 non-scalable resources, REL 2 burst scaling)


@fact("reserved_concurrency_total", types=[FUNCTION])
def reserved_concurrency_total(resource: Resource, inventory: Sequence[Resource]) -> int | float | Unknown:
    """The sum of ReservedConcurrentExecutions over every function of the template (or account view)."""
    return shared(inventory, "reserved_concurrency_total", _reserved_total)  # type: ignore[no-any-return]


def _reserved_total(inventory: Sequence[Resource]) -> int | float | Unknown:
    total: int | float = 0
    for r in of_type(inventory, FUNCTION):
        value = _number(_props(r).get("ReservedConcurrentExecutions"))
        if isinstance(value, Unknown):
            return Unknown(f"ReservedConcurrentExecutions of {r.id}: {value.reason}")
        total += value or 0
    return total


def _lookup(value: Any, index: dict[str, Resource], *types: str) -> Resource | None:
    if not isinstance(value, str):
        return None
    for logical_id in _mentioned(value):
        r = index.get("id:" + logical_id)
        if r is not None and r.type in types:
            return r
    r = index.get("name:" + value)
    return r if r is not None and r.type in types else None


def _index(inventory: Sequence[Resource]) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for r in inventory:
        out["id:" + r.id] = r
        if isinstance(r.name, str) and not r.name.startswith("{{"):
            out.setdefault("name:" + r.name, r)
    return out


def _str_set(value: Any) -> set[str]:
    return {v for v in _as_list(value) if isinstance(v, str)}


def _network(subnets: set[str], groups: set[str], index: dict[str, Resource]) -> set[str]:
    """The VPC ids (as written) that the template's subnets and security groups say they belong to."""
    vpcs: set[str] = set()
    for value in subnets | groups:
        r = _lookup(value, index, "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup")
        vpc = _props(r).get("VpcId") if r is not None else None
        if isinstance(vpc, str):
            vpcs.add(vpc)
    return vpcs


def _store_network(store: Resource, index: dict[str, Resource]) -> tuple[set[str], set[str]]:
    """(subnet ids, security group ids) of an RDS or ElastiCache resource, through its subnet group."""
    props = _props(store)
    if store.type.startswith("AWS::RDS::"):
        group = _lookup(props.get("DBSubnetGroupName"), index, "AWS::RDS::DBSubnetGroup")
        sgs = _str_set(props.get("VPCSecurityGroups")) | _str_set(props.get("VpcSecurityGroupIds"))
    else:
        group = _lookup(props.get("CacheSubnetGroupName"), index, "AWS::ElastiCache::SubnetGroup")
        sgs = _str_set(props.get("VpcSecurityGroupIds")) | _str_set(props.get("SecurityGroupIds"))
    return (_str_set(_props(group).get("SubnetIds")) if group is not None else set()), sgs


def _ingress_sources(groups: set[str], inventory: Sequence[Resource], index: dict[str, Resource]) -> set[str]:
    """Security groups allowed into ``groups`` (inline SecurityGroupIngress and SecurityGroupIngress resources)."""
    sources: set[str] = set()
    targets = {g.id for v in groups if (g := _lookup(v, index, "AWS::EC2::SecurityGroup")) is not None}
    for r in inventory:
        props = _props(r)
        if r.type == "AWS::EC2::SecurityGroup" and r.id in targets:
            for rule in _as_list(props.get("SecurityGroupIngress")):
                if isinstance(rule, dict):
                    sources |= _str_set(rule.get("SourceSecurityGroupId"))
        elif r.type == "AWS::EC2::SecurityGroupIngress":
            group = _lookup(props.get("GroupId"), index, "AWS::EC2::SecurityGroup")
            if group is not None and group.id in targets:
                sources |= _str_set(props.get("SourceSecurityGroupId"))
    return sources


def _proxied(inventory: Sequence[Resource], index: dict[str, Resource]) -> dict[str, str]:
    """Database id → the RDS Proxy in front of it (through DBProxyTargetGroup)."""
    out: dict[str, str] = {}
    for r in inventory:
        if r.type != "AWS::RDS::DBProxyTargetGroup":
            continue
        props = _props(r)
        proxy = _lookup(props.get("DBProxyName"), index, "AWS::RDS::DBProxy")
        for key in ("DBClusterIdentifiers", "DBInstanceIdentifiers"):
            for value in _as_list(props.get(key)):
                db = _lookup(value, index, "AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
                if db is not None:
                    out[db.id] = proxy.id if proxy is not None else r.id
    return out


def _nonscalable_stores(inventory: Sequence[Resource]) -> list[Resource]:
    return [r for r in inventory if r.type in NONSCALABLE
            and not (r.type == "AWS::RDS::DBInstance" and _props(r).get("DBClusterIdentifier"))]


@fact("nonscalable_downstreams", types=[FUNCTION])
def nonscalable_downstreams(resource: Resource, inventory: Sequence[Resource]) -> list[dict[str, Any]]:
    """RDS, Aurora and ElastiCache resources of the template the function reaches: by reference from its
    properties (environment...), or, for a VPC function, unless their network is known to be another VPC.
    Each is ``{id, type, via: reference|vpc, proxy}`` (``proxy``: the RDS Proxy in front, if any)."""
    stores = shared(inventory, "nonscalable_stores", _nonscalable_stores)
    if not stores:
        return []
    index = shared(inventory, "index_by_id_and_name", _index)
    props = _props(resource)
    mentioned = _mentioned(props)
    vpc_config = props.get("VpcConfig")
    fn_subnets: set[str] = set()
    fn_groups: set[str] = set()
    fn_vpcs: set[str] = set()
    in_vpc = isinstance(vpc_config, dict) and bool(vpc_config.get("SubnetIds"))
    if isinstance(vpc_config, dict) and in_vpc:
        fn_subnets, fn_groups = _str_set(vpc_config.get("SubnetIds")), _str_set(vpc_config.get("SecurityGroupIds"))
        fn_vpcs = _network(fn_subnets, fn_groups, index)
    proxies = _proxied(inventory, index)
    out = []
    for store in stores:
        if store.id in mentioned:
            via = "reference"
        elif in_vpc:
            subnets, groups = _store_network(store, index)
            vpcs = _network(subnets, groups, index)
            related = (fn_subnets & subnets or fn_groups & groups
                       or fn_groups & _ingress_sources(groups, inventory, index) or fn_vpcs & vpcs)
            if not related and fn_vpcs and vpcs:
                continue  # both networks known, and they differ
            via = "vpc"
        else:
            continue
        proxy = proxies.get(store.id) if via != "reference" else None
        out.append({"id": store.id, "type": store.type, "via": via, "proxy": proxy})
    return out


# ---------------------------------------------------------------------------------------------
# Event delivery (REL 2): EventBridge rule targets


@fact("targets_without_dlq", types=["AWS::Events::Rule"])
def targets_without_dlq(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """The Ids of the rule's targets without ``DeadLetterConfig.Arn``; Unknown when none is known to lack
    one but some target's DLQ is unresolvable."""
    missing: list[str] = []
    unknown: Unknown | None = None
    for i, target in enumerate(_as_list(_props(resource).get("Targets"))):
        if isinstance(target, Unknown):
            unknown = target
            continue
        if not isinstance(target, dict):
            continue
        dlq = target.get("DeadLetterConfig")
        arn = dlq.get("Arn") if isinstance(dlq, dict) else dlq
        if isinstance(arn, Unknown):
            unknown = arn
        elif arn is None:
            target_id = target.get("Id")
            missing.append(target_id if isinstance(target_id, str) else f"Targets[{i}]")
    if not missing and unknown is not None:
        return unknown
    return missing
