"""Relations between the resources of one template (docs/ARCHITECTURE.md §4).

References were resolved to placeholders (``{{ref:X}}``, ``{{getatt:X.Arn}}``) or literal names, so a
relation is an equality lookup in an index built once per template; ARNs assembled with ``Fn::Sub``
are matched by the name segment they end in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from walens.model import Resource
from walens.views import base_view

FUNCTION = "AWS::Lambda::Function"
ROLE = "AWS::IAM::Role"
LOG_GROUP = "AWS::Logs::LogGroup"
QUEUE = "AWS::SQS::Queue"
REST_API = "AWS::ApiGateway::RestApi"
REST_STAGE = "AWS::ApiGateway::Stage"
HTTP_API = "AWS::ApiGatewayV2::Api"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"

# Service principals whose invocations of a function are asynchronous (Lambda "Invoking functions
# asynchronously": S3, SNS, EventBridge, CloudWatch Logs, SES, IoT, Config, CodeCommit...).
ASYNC_PRINCIPALS = frozenset({"s3", "sns", "events", "logs", "ses", "iot", "config", "codecommit", "cloudformation"})

_GETATT = re.compile(r"\{\{getatt:([^.}]+)\.([^}]+)\}\}")
_REF = re.compile(r"\{\{ref:([^}]+)\}\}")
_FUNCTION_ARN = re.compile(r":function:([^:]+)")
_ROLE_ARN = re.compile(r":role/(?:.*/)?([^/]+)$")
_REST_STAGE_ARN = re.compile(r"/restapis/([^/]+)/stages/([^/]+)")
_REST_API_ARN = re.compile(r"/restapis/([^/]+)")



@dataclass(frozen=True)
class Relation:
    """A key of ``related``: on which type, to which types (None: not resource views), one or a list."""

    name: str
    type: str
    targets: tuple[str, ...] | None
    many: bool
    description: str


_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role.Policy")
_WAF = ("AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::WebACLAssociation")
_ALARMS = ("AWS::CloudWatch::Alarm",)
_ESM_SOURCES = (QUEUE, "AWS::Kinesis::Stream", "AWS::DynamoDB::Table", "AWS::MSK::Cluster", "AWS::AmazonMQ::Broker",
                "AWS::DocDB::DBCluster")


def _rel(rtype: str, name: str, targets: tuple[str, ...] | None, description: str, *, many: bool = False) -> Relation:
    return Relation(name, rtype, targets, many, description)


# Every relation link() fills (docs/ARCHITECTURE.md §4): rule expressions are checked against them when
# rules load (walens.vocabulary). A single relation is null when absent, a list [].
RELATIONS: tuple[Relation, ...] = (
    _rel(FUNCTION, "log_group", (LOG_GROUP,), "The log group the function writes to."),
    _rel(FUNCTION, "role", (ROLE,), "The execution role."),
    _rel(FUNCTION, "event_invoke_config", ("AWS::Lambda::EventInvokeConfig",), "Its asynchronous invocation config."),
    _rel(FUNCTION, "url", ("AWS::Lambda::Url",), "Its function URL."),
    _rel(FUNCTION, "deployment_group", ("AWS::CodeDeploy::DeploymentGroup",), "The CodeDeploy group deploying it."),
    _rel(FUNCTION, "role_policies", _POLICIES, "The policies of its execution role.", many=True),
    _rel(FUNCTION, "event_sources", ("AWS::Lambda::EventSourceMapping",), "Event source mappings.", many=True),
    _rel(FUNCTION, "async_invokers", None, "Services invoking it asynchronously: {service, id}.", many=True),
    _rel(FUNCTION, "permissions", ("AWS::Lambda::Permission",), "Resource-based permissions.", many=True),
    _rel(FUNCTION, "aliases", ("AWS::Lambda::Alias",), "Its aliases.", many=True),
    _rel(FUNCTION, "alarms", _ALARMS, "Alarms on its metrics.", many=True),
    _rel(REST_API, "waf", _WAF, "The web ACL association of the API or a stage."),
    _rel(REST_API, "stages", (REST_STAGE,), "Its stages.", many=True),
    _rel(REST_API, "methods", ("AWS::ApiGateway::Method",), "Its methods.", many=True),
    _rel(REST_API, "authorizers", ("AWS::ApiGateway::Authorizer",), "Its authorizers.", many=True),
    _rel(REST_API, "validators", ("AWS::ApiGateway::RequestValidator",), "Its request validators.", many=True),
    _rel(REST_API, "models", ("AWS::ApiGateway::Model",), "Its models.", many=True),
    _rel(REST_API, "usage_plans", ("AWS::ApiGateway::UsagePlan",), "Usage plans naming it.", many=True),
    _rel(REST_API, "alarms", _ALARMS, "Alarms on its metrics.", many=True),
    _rel(REST_STAGE, "api", (REST_API,), "Its REST API."),
    _rel(REST_STAGE, "waf", _WAF, "The web ACL association of the stage."),
    _rel(REST_STAGE, "usage_plans", ("AWS::ApiGateway::UsagePlan",), "Usage plans naming the stage.", many=True),
    _rel("AWS::ApiGateway::Method", "api", (REST_API,), "Its REST API."),
    _rel("AWS::ApiGateway::Method", "validator", ("AWS::ApiGateway::RequestValidator",), "Its request validator."),
    _rel("AWS::ApiGateway::Method", "authorizer", ("AWS::ApiGateway::Authorizer",), "Its authorizer."),
    _rel(HTTP_API, "stages", ("AWS::ApiGatewayV2::Stage",), "Its stages.", many=True),
    _rel(HTTP_API, "routes", ("AWS::ApiGatewayV2::Route",), "Its routes.", many=True),
    _rel(HTTP_API, "authorizers", ("AWS::ApiGatewayV2::Authorizer",), "Its authorizers.", many=True),
    _rel("AWS::ApiGatewayV2::Stage", "api", (HTTP_API,), "Its HTTP or WebSocket API."),
    _rel("AWS::ApiGatewayV2::Route", "api", (HTTP_API,), "Its HTTP or WebSocket API."),
    _rel("AWS::ApiGatewayV2::Route", "authorizer", ("AWS::ApiGatewayV2::Authorizer",), "Its authorizer."),
    _rel(QUEUE, "dlq", (QUEUE,), "Its dead-letter queue."),
    *(_rel(source, "consumers", (FUNCTION,), "Functions reading it through event source mappings.", many=True)
      for source in _ESM_SOURCES),
    _rel(QUEUE, "alarms", _ALARMS, "Alarms on its metrics.", many=True),
    _rel(STATE_MACHINE, "log_group", (LOG_GROUP,), "The log group it logs to."),
    _rel(STATE_MACHINE, "role", (ROLE,), "Its execution role."),
    _rel(STATE_MACHINE, "alarms", _ALARMS, "Alarms on its metrics.", many=True),
    _rel(ROLE, "policies", _POLICIES, "Inline, attached and managed policies.", many=True),
    _rel("AWS::Lambda::EventSourceMapping", "function", (FUNCTION,), "The function it invokes."),
    _rel("AWS::Lambda::EventSourceMapping", "source", _ESM_SOURCES, "The queue or stream it reads."),
)

# Single relations (None when absent) and list relations ([] when absent), per type.
RELATION_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
for _r in RELATIONS:
    _single, _lists = RELATION_KEYS.get(_r.type, ((), ()))
    RELATION_KEYS[_r.type] = (_single, (*_lists, _r.name)) if _r.many else ((*_single, _r.name), _lists)
del _r, _single, _lists


class _Index:
    """Every resource under each string that can name it: ``{{ref:X}}``, its physical name, its id."""

    def __init__(self, resources: list[Resource]) -> None:
        self.by_id: dict[str, Resource] = {}
        self.by_key: dict[str, list[Resource]] = {}
        self.by_type: dict[str, list[Resource]] = {}
        for r in resources:
            self.by_id[r.id] = r
            self.by_type.setdefault(r.type, []).append(r)
            keys = {"{{ref:" + r.id + "}}"}
            if isinstance(r.name, str):
                keys.add(r.name)
            for key in keys:
                self.by_key.setdefault(key, []).append(r)

    def of_type(self, *types: str) -> Iterable[Resource]:
        for t in types:
            yield from self.by_type.get(t, ())

    def find(self, value: Any, *types: str) -> Resource | None:
        """The resource of one of ``types`` that ``value`` (placeholder, name or ARN) denotes."""
        if not isinstance(value, str) or not value:
            return None
        m = _GETATT.fullmatch(value)
        if m:
            r = self.by_id.get(m.group(1))
            return r if r is not None and r.type in types else None
        for r in self.by_key.get(value, ()):
            if r.type in types:
                return r
        for candidate in _name_segments(value):
            if candidate == value:
                continue
            found = self.find(candidate, *types)
            if found is not None:
                return found
        return None


def _function(idx: _Index, value: Any) -> Resource | None:
    """The function ``value`` denotes, directly or through an alias or version of it."""
    fn = idx.find(value, FUNCTION)
    if fn is None:
        qualified = idx.find(value, "AWS::Lambda::Alias", "AWS::Lambda::Version")
        if qualified is not None:
            fn = idx.find(_props(qualified).get("FunctionName"), FUNCTION)
    return fn


def _name_segments(value: str) -> list[str]:
    """Names an ARN may end in: function name, role name, last ':' or '/' segment."""
    out: list[str] = []
    for pattern in (_FUNCTION_ARN, _ROLE_ARN):
        m = pattern.search(value)
        if m:
            out.append(m.group(1))
    if value.startswith("arn:"):
        out.append(re.split(r"[:/]", value)[-1])
    return out


def _related(r: Resource) -> dict[str, Any]:
    single, lists = RELATION_KEYS.get(r.type, ((), ()))
    for key in single:
        r.related.setdefault(key, None)
    for key in lists:
        r.related.setdefault(key, [])
    return r.related


def _append(r: Resource, key: str, item: Any) -> None:
    bucket = r.related.setdefault(key, [])
    if item not in bucket:
        bucket.append(item)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _props(r: Resource) -> dict[str, Any]:
    return r.properties if isinstance(r.properties, dict) else {}


def link(resources: list[Resource]) -> None:
    """Fill ``related`` of every resource per docs/ARCHITECTURE.md §4."""
    idx = _Index(resources)
    views = {r.id: base_view(r) for r in resources}
    for r in resources:
        _related(r)
    _link_functions(idx, views)
    _link_roles(idx, views)
    _link_event_sources(idx, views)
    _link_async_invokers(idx, views)
    _link_rest_apis(idx, views)
    _link_http_apis(idx, views)
    _link_queues(idx, views)
    _link_state_machines(idx, views)
    _link_alarms(idx, views)


def _link_functions(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    log_groups: dict[str, Resource] = {}
    for lg in idx.of_type(LOG_GROUP):
        name = _props(lg).get("LogGroupName")
        if isinstance(name, str):
            log_groups.setdefault(name, lg)
    # Plain CloudFormation ties a group to an alias only through the alias's UpdatePolicy, which
    # resources do not carry; a SAM-generated group shares its function's origin.
    deployment_groups = {dg.origin: dg for dg in idx.of_type("AWS::CodeDeploy::DeploymentGroup") if dg.origin != dg.id}
    for fn in idx.of_type(FUNCTION):
        props = _props(fn)
        logging = props.get("LoggingConfig")
        log_group = None
        if isinstance(logging, dict):
            log_group = idx.find(logging.get("LogGroup"), LOG_GROUP)
        if log_group is None:
            for name in ("/aws/lambda/" + str(fn.name), "/aws/lambda/{{ref:" + fn.id + "}}"):
                log_group = log_groups.get(name)
                if log_group is not None:
                    break
        fn.related["log_group"] = views[log_group.id] if log_group else None
        role = idx.find(props.get("Role"), ROLE)
        fn.related["role"] = views[role.id] if role else None
        if fn.origin and fn.origin in deployment_groups:
            fn.related["deployment_group"] = views[deployment_groups[fn.origin].id]
    for kind, key, prop in (("AWS::Lambda::EventInvokeConfig", "event_invoke_config", "FunctionName"),
                            ("AWS::Lambda::Url", "url", "TargetFunctionArn")):
        for res in idx.of_type(kind):
            target = _function(idx, _props(res).get(prop))
            if target is not None:
                target.related[key] = views[res.id]
    for alias in idx.of_type("AWS::Lambda::Alias"):
        target = idx.find(_props(alias).get("FunctionName"), FUNCTION)
        if target is not None:
            _append(target, "aliases", views[alias.id])


def _link_roles(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for pol in idx.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for value in _as_list(_props(pol).get("Roles")):
            role = idx.find(value, ROLE)
            if role is not None:
                _append(role, "policies", views[pol.id])
    for role in idx.of_type(ROLE):
        props = _props(role)
        for arn in _as_list(props.get("ManagedPolicyArns")):
            managed = idx.find(arn, "AWS::IAM::ManagedPolicy")
            if managed is not None:
                _append(role, "policies", views[managed.id])
        for i, inline in enumerate(_as_list(props.get("Policies"))):
            if isinstance(inline, dict):
                _append(role, "policies", {
                    "id": f"{role.id}.Policies[{i}]", "type": "AWS::IAM::Role.Policy",
                    "name": inline.get("PolicyName"), "Properties": inline,
                })
    for fn in idx.of_type(FUNCTION):
        role_view = fn.related.get("role")
        if role_view is not None:
            fn.related["role_policies"] = list(idx.by_id[role_view["id"]].related.get("policies", []))


def _link_event_sources(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for esm in idx.of_type("AWS::Lambda::EventSourceMapping"):
        props = _props(esm)
        fn = _function(idx, props.get("FunctionName"))
        source = idx.find(props.get("EventSourceArn"), *_ESM_SOURCES)
        if fn is not None:
            _append(fn, "event_sources", views[esm.id])
            esm.related["function"] = views[fn.id]
        if source is not None:
            esm.related["source"] = views[source.id]
            if fn is not None:
                _append(source, "consumers", views[fn.id])


def _link_async_invokers(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for perm in idx.of_type("AWS::Lambda::Permission"):
        props = _props(perm)
        fn = _function(idx, props.get("FunctionName"))
        if fn is None:
            continue
        _append(fn, "permissions", views[perm.id])
        principal = props.get("Principal")
        if not isinstance(principal, str) or not principal.endswith((".amazonaws.com", "{{AWS::URLSuffix}}")):
            continue
        service = principal.split(".", 1)[0]
        if service in ASYNC_PRINCIPALS:
            invoker = _invoker_id(idx, props.get("SourceArn")) or perm.id
            _append(fn, "async_invokers", {"service": service, "id": invoker})
    for sub in idx.of_type("AWS::SNS::Subscription"):
        props = _props(sub)
        if str(props.get("Protocol", "")).lower() != "lambda":
            continue
        fn = _function(idx, props.get("Endpoint"))
        if fn is not None:
            _append(fn, "async_invokers", {"service": "sns", "id": _invoker_id(idx, props.get("TopicArn")) or sub.id})
    for rule in idx.of_type("AWS::Events::Rule"):
        for target in _as_list(_props(rule).get("Targets")):
            fn = _function(idx, target.get("Arn")) if isinstance(target, dict) else None
            if fn is not None:
                _append(fn, "async_invokers", {"service": "events", "id": rule.id})
    for schedule in idx.of_type("AWS::Scheduler::Schedule"):
        target = _props(schedule).get("Target")
        fn = _function(idx, target.get("Arn")) if isinstance(target, dict) else None
        if fn is not None:
            _append(fn, "async_invokers", {"service": "scheduler", "id": schedule.id})
    _link_async_api_methods(idx)


_INVOCATION_TYPE = "integration.request.header.X-Amz-Invocation-Type"
_LAMBDA_URI = re.compile(r":lambda:path/[^/]+/functions/(.+)/invocations$")


def lambda_integration(method_props: Any) -> tuple[str, bool] | None:
    """(the function reference inside the Lambda integration URI, whether API Gateway invokes it
    asynchronously) of an ``AWS::ApiGateway::Method``; None when it does not integrate a function.

    A non-proxy integration that maps the header ``X-Amz-Invocation-Type`` to ``'Event'`` makes Lambda
    queue the request and API Gateway answer at once
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-integration-async.html).
    """
    integration = method_props.get("Integration") if isinstance(method_props, dict) else None
    if not isinstance(integration, dict):
        return None
    uri = integration.get("Uri")
    m = _LAMBDA_URI.search(uri) if isinstance(uri, str) else None
    if m is None:
        return None
    params = integration.get("RequestParameters")
    value = params.get(_INVOCATION_TYPE) if isinstance(params, dict) else None
    return m.group(1), isinstance(value, str) and value.strip("'\"") == "Event"


def lambda_integrations(resource: Resource) -> list[tuple[str, bool]]:
    """``lambda_integration`` of a REST method, or of every operation of a REST API's OpenAPI ``Body``
    (``x-amazon-apigateway-integration``: a plain CloudFormation API lists no Method resources)."""
    props = _props(resource)
    if resource.type == "AWS::ApiGateway::Method":
        found = lambda_integration(props)
        return [found] if found is not None else []
    body = props.get("Body") if resource.type == REST_API else None
    paths = body.get("paths") if isinstance(body, dict) else None
    out: list[tuple[str, bool]] = []
    for item in paths.values() if isinstance(paths, dict) else ():
        for operation in item.values() if isinstance(item, dict) else ():
            raw = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if isinstance(raw, dict):
                found = lambda_integration({"Integration": {"Uri": raw.get("uri"),
                                                            "RequestParameters": raw.get("requestParameters")}})
                if found is not None:
                    out.append(found)
    return out


def _link_async_api_methods(idx: _Index) -> None:
    for res in idx.of_type("AWS::ApiGateway::Method", REST_API):
        api = res if res.type == REST_API else idx.find(_props(res).get("RestApiId"), REST_API)
        for ref, is_async in lambda_integrations(res):
            fn = _function(idx, ref) if is_async else None
            if fn is not None:
                _append(fn, "async_invokers", {"service": "apigateway", "id": api.id if api is not None else res.id})


def _invoker_id(idx: _Index, source_arn: Any) -> str | None:
    """The logical id of the invoking resource, else its literal ARN (so SNS permission and subscription agree)."""
    if not isinstance(source_arn, str):
        return None
    for pattern in (_GETATT, _REF):
        m = pattern.search(source_arn)
        if m and m.group(1) in idx.by_id:
            return m.group(1)
    found = idx.find(source_arn, "AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::Events::Rule", "AWS::Logs::LogGroup")
    if found is not None:
        return found.id
    return source_arn if "{{" not in source_arn else None


def _link_rest_apis(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    stages_by_api: dict[str, dict[str, Resource]] = {}
    children = (("AWS::ApiGateway::Stage", "stages"), ("AWS::ApiGateway::Method", "methods"),
                ("AWS::ApiGateway::Authorizer", "authorizers"), ("AWS::ApiGateway::RequestValidator", "validators"),
                ("AWS::ApiGateway::Model", "models"))
    for kind, key in children:
        for child in idx.of_type(kind):
            api = idx.find(_props(child).get("RestApiId"), REST_API)
            if api is None:
                continue
            _append(api, key, views[child.id])
            if kind in (REST_STAGE, "AWS::ApiGateway::Method"):
                child.related["api"] = views[api.id]
            if kind == REST_STAGE:
                stage_name = _props(child).get("StageName")
                bucket = stages_by_api.setdefault(api.id, {})
                for name in (stage_name, child.name, "{{ref:" + child.id + "}}"):
                    if isinstance(name, str):
                        bucket.setdefault(name, child)
    for method in idx.of_type("AWS::ApiGateway::Method"):
        props = _props(method)
        validator = idx.find(props.get("RequestValidatorId"), "AWS::ApiGateway::RequestValidator")
        method.related["validator"] = views[validator.id] if validator else None
        authorizer = idx.find(props.get("AuthorizerId"), "AWS::ApiGateway::Authorizer")
        method.related["authorizer"] = views[authorizer.id] if authorizer else None
    for plan in idx.of_type("AWS::ApiGateway::UsagePlan"):
        for api_stage in _as_list(_props(plan).get("ApiStages")):
            if not isinstance(api_stage, dict):
                continue
            api = idx.find(api_stage.get("ApiId"), REST_API)
            if api is None:
                continue
            _append(api, "usage_plans", views[plan.id])
            stage = stages_by_api.get(api.id, {}).get(api_stage.get("Stage"))  # type: ignore[arg-type]
            if stage is not None:
                _append(stage, "usage_plans", views[plan.id])
    for assoc in idx.of_type("AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::WebACLAssociation"):
        arn = _props(assoc).get("ResourceArn")
        if not isinstance(arn, str):
            continue
        m = _REST_STAGE_ARN.search(arn) or _REST_API_ARN.search(arn)
        api = idx.find(m.group(1), REST_API) if m else None
        if api is None:
            continue
        api.related["waf"] = views[assoc.id]
        if m is not None and m.re is _REST_STAGE_ARN:
            stage = stages_by_api.get(api.id, {}).get(m.group(2))
            if stage is not None:
                stage.related["waf"] = views[assoc.id]


def _link_http_apis(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for kind, key in (("AWS::ApiGatewayV2::Stage", "stages"), ("AWS::ApiGatewayV2::Route", "routes"),
                      ("AWS::ApiGatewayV2::Authorizer", "authorizers")):
        for child in idx.of_type(kind):
            api = idx.find(_props(child).get("ApiId"), HTTP_API)
            if api is None:
                continue
            _append(api, key, views[child.id])
            if kind != "AWS::ApiGatewayV2::Authorizer":
                child.related["api"] = views[api.id]
    for route in idx.of_type("AWS::ApiGatewayV2::Route"):
        authorizer = idx.find(_props(route).get("AuthorizerId"), "AWS::ApiGatewayV2::Authorizer")
        route.related["authorizer"] = views[authorizer.id] if authorizer else None


def _link_queues(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for queue in idx.of_type(QUEUE):
        redrive = _props(queue).get("RedrivePolicy")
        if isinstance(redrive, str):
            try:
                redrive = json.loads(redrive)  # older templates write the policy as a JSON string
            except ValueError:
                redrive = None
        if isinstance(redrive, dict):
            dlq = idx.find(redrive.get("deadLetterTargetArn"), QUEUE)
            queue.related["dlq"] = views[dlq.id] if dlq else None


def _link_state_machines(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    for sm in idx.of_type(STATE_MACHINE):
        props = _props(sm)
        role = idx.find(props.get("RoleArn"), ROLE)
        sm.related["role"] = views[role.id] if role else None
        logging = props.get("LoggingConfiguration")
        for dest in _as_list(logging.get("Destinations") if isinstance(logging, dict) else None):
            group = dest.get("CloudWatchLogsLogGroup") if isinstance(dest, dict) else None
            lg = idx.find(group.get("LogGroupArn"), LOG_GROUP) if isinstance(group, dict) else None
            if lg is not None:
                sm.related["log_group"] = views[lg.id]
                break


# Which dimension of which namespace names which resource type.
_ALARM_DIMENSIONS: dict[tuple[str, str], str] = {
    ("AWS/Lambda", "FunctionName"): FUNCTION,
    ("AWS/ApiGateway", "ApiName"): REST_API,
    ("AWS/SQS", "QueueName"): QUEUE,
    ("AWS/States", "StateMachineArn"): STATE_MACHINE,
}


def _alarm_metrics(props: dict[str, Any]) -> Iterable[tuple[Any, Any]]:
    yield props.get("Namespace"), props.get("Dimensions")
    for query in _as_list(props.get("Metrics")):
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        metric = stat.get("Metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict):
            yield metric.get("Namespace"), metric.get("Dimensions")


def _link_alarms(idx: _Index, views: dict[str, dict[str, Any]]) -> None:
    # A REST API's metrics name it by its Name, which is not its Ref; index names per type once.
    api_names = {str(_props(a).get("Name")): a for a in idx.of_type(REST_API) if isinstance(_props(a).get("Name"), str)}
    for alarm in idx.of_type("AWS::CloudWatch::Alarm"):
        for namespace, dimensions in _alarm_metrics(_props(alarm)):
            for dim in _as_list(dimensions):
                if not isinstance(dim, dict):
                    continue
                kind = _ALARM_DIMENSIONS.get((namespace, dim.get("Name")))  # type: ignore[arg-type]
                if kind is None:
                    continue
                value = dim.get("Value")
                target = idx.find(value, kind)
                if target is None and kind == REST_API and isinstance(value, str):
                    target = api_names.get(value)
                if target is not None and target.type == kind:
                    _append(target, "alarms", views[alarm.id])
