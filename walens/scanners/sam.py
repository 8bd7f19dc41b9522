"""Read SAM natively: merge Globals and derive the CloudFormation resources rules read.

aws-sam-translator is the test oracle only (tests/test_sam_corpus.py); importing it costs ~0.9 s and
it needs network look-ups for managed policies, so the run-time path re-derives what rules need.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from walens.errors import InputError
from walens.model import CfnResource, Unknown

if TYPE_CHECKING:
    from walens.scanners.template import Template

SERVERLESS_PREFIX = "AWS::Serverless::"

# Properties SAM accepts in each Globals section (samtranslator/plugins/globals/globals.py).
GLOBAL_PROPERTIES: dict[str, frozenset[str]] = {
    "Function": frozenset({
        "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout",
        "VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
        "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath",
        "PermissionsBoundary", "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig",
        "AssumeRolePolicyDocument", "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn",
        "Architectures", "SnapStart", "EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig",
        "LoggingConfig", "RecursiveLoop", "SourceKMSKeyArn", "TenancyConfig", "DurableConfig",
        "CapacityProviderConfig", "FunctionScalingConfig", "PublishToLatestPublished",
        "VersionDeletionPolicy",
    }),
    "Api": frozenset({
        "Auth", "Name", "DefinitionUri", "CacheClusterEnabled", "CacheClusterSize", "MergeDefinitions",
        "Variables", "EndpointConfiguration", "MethodSettings", "BinaryMediaTypes",
        "MinimumCompressionSize", "Cors", "GatewayResponses", "AccessLogSetting", "CanarySetting",
        "TracingEnabled", "OpenApiVersion", "Domain", "AlwaysDeploy", "PropagateTags", "SecurityPolicy",
        "EndpointAccessMode",
    }),
    "HttpApi": frozenset({
        "Auth", "AccessLogSettings", "StageVariables", "Tags", "CorsConfiguration",
        "DefaultRouteSettings", "Domain", "RouteSettings", "FailOnWarnings", "PropagateTags",
    }),
    "SimpleTable": frozenset({"SSESpecification"}),
    "StateMachine": frozenset({"PropagateTags"}),
    "LayerVersion": frozenset({"PublishLambdaVersion"}),
    "CapacityProvider": frozenset({
        "VpcConfig", "OperatorRole", "Tags", "InstanceRequirements", "ScalingConfig", "KmsKeyArn",
        "PropagateTags", "LoggingConfig", "ManagedResourceTags",
    }),
    "WebSocketApi": frozenset({
        "AccessLogSettings", "ApiKeySelectionExpression", "DefaultRouteSettings",
        "DisableExecuteApiEndpoint", "DisableSchemaValidation", "Domain", "FailOnWarnings",
        "IpAddressType", "PropagateTags", "RouteSelectionExpression", "RouteSettings", "StageVariables",
        "Tags",
    }),
}
# SAM replaces, not concatenates, these lists (merge_strategy.CUSTOM_STRATEGIES).
_REPLACE_PATHS = frozenset({"Architectures"})

_INTRINSIC_KEYS = frozenset({
    "Ref", "Condition", "Fn::If", "Fn::Sub", "Fn::GetAtt", "Fn::Join", "Fn::Select", "Fn::Split",
    "Fn::FindInMap", "Fn::ImportValue", "Fn::Base64", "Fn::GetAZs", "Fn::Transform", "Fn::And",
    "Fn::Or", "Fn::Not", "Fn::Equals", "Fn::Cidr", "Fn::ToJsonString", "Fn::Length",
})


def is_intrinsic(value: Any) -> bool:
    """True when ``value`` is a one-key mapping naming a CloudFormation intrinsic function."""
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _INTRINSIC_KEYS


def alnum(text: str) -> str:
    """Keep only the ASCII letters and digits of ``text`` (SAM's logical-ID rule)."""
    return re.sub(r"[^A-Za-z0-9]", "", text)


def id_hash(data: Any) -> str:
    """SAM's LogicalIdGenerator suffix: the first 10 hex digits of SHA-1 over stable JSON."""
    if data is None or data == "":
        return ""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), sort_keys=True)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]  # noqa: S324 - an ID, not security


def managed_policy_arn(name: str) -> Any:
    """The ARN of an AWS managed policy, partition left to CloudFormation."""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{name}"}


@dataclass(slots=True)
class Source:
    """The authored SAM resource a generated resource comes from."""

    logical_id: str
    type: str
    line: int
    col: int
    condition: str | None


@dataclass(slots=True)
class ApiEvent:
    """One (path, verb) a function or state machine event adds to a REST or HTTP API."""

    path: str
    method: str
    props: Mapping[str, Any]
    integration_uri: Any
    source: Source
    where: str  # "Events.<name>", for messages


@dataclass
class Expansion:
    """The state of one template's expansion."""

    data: Mapping[str, Any]
    resources: Mapping[str, Any]
    marks: Mapping[str, Any]
    parameters: Mapping[str, Any]
    globals: dict[str, dict[str, Any]]
    out: list[CfnResource] = field(default_factory=list)
    rest_events: dict[str, list[ApiEvent]] = field(default_factory=dict)
    http_events: dict[str, list[ApiEvent]] = field(default_factory=dict)
    s3_notifications: list[tuple[str, Mapping[str, Any], Any, Source, str]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    # Local DefinitionUri documents the loader read (scanners/includes.py): content or Unknown.
    local_files: Mapping[str, Any] = field(default_factory=dict)

    def local_definition(self, uri: Any) -> Any:
        """The content of a local ``DefinitionUri`` (a mapping or an Unknown), None for an S3 location."""
        return self.local_files.get(uri) if isinstance(uri, str) else None

    def add(self, logical_id: str, type_: str, properties: dict[str, Any], src: Source,
            metadata: dict[str, Any] | None = None) -> CfnResource:
        """Record a generated resource attributed to ``src``."""
        res = CfnResource(logical_id=logical_id, type=type_, properties=properties, origin=src.logical_id,
                          origin_type=src.type, line=src.line, col=src.col, metadata=metadata or {},
                          condition=src.condition)
        self.out.append(res)
        self.taken.add(logical_id)
        return res

    def literal(self, value: Any) -> Any:
        """Resolve ``{"Ref": Param}`` to the parameter's Default where SAM needs a literal."""
        if isinstance(value, Mapping) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
            param = self.parameters.get(value["Ref"])
            if isinstance(param, Mapping) and "Default" in param:
                return param["Default"]
        return value

    def serverless_type(self, ref: Any) -> str | None:
        """The ``AWS::Serverless::*`` type a ``Ref`` points to, if it points to one in this template."""
        target = ref_target(ref)
        res = self.resources.get(target) if target else None
        if isinstance(res, Mapping) and isinstance(res.get("Type"), str):
            return str(res["Type"])
        return None


def ref_target(value: Any) -> str | None:
    """The logical ID of ``{"Ref": X}``, else None."""
    if isinstance(value, Mapping) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return str(value["Ref"])
    return None


def sam_error(logical_id: str, problem: str, line: int = 0) -> InputError:
    """An InputError naming the SAM resource and what is wrong with it."""
    return InputError(f"SAM resource {logical_id}: {problem}", line=line or None, kind="sam")


def as_map(value: Any, logical_id: str, where: str, line: int = 0) -> Mapping[str, Any]:
    """``value`` as a mapping (None → empty), else InputError naming the field."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or is_intrinsic(value):
        raise sam_error(logical_id, f"'{where}' must be a mapping", line)
    return value


def as_list(value: Any, logical_id: str, where: str, line: int = 0) -> list[Any]:
    """``value`` as a list (None → empty; a scalar becomes a one-item list, as SAM allows)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping) and not is_intrinsic(value):
        raise sam_error(logical_id, f"'{where}' must be a list", line)
    return [value]


def merge_globals(global_value: Any, local_value: Any, path: str = "") -> Any:
    """SAM's Globals merge: maps merge recursively, lists concatenate, scalars and intrinsics: local wins."""
    def token(v: Any) -> str:
        if isinstance(v, Mapping):
            return "primitive" if is_intrinsic(v) else "dict"
        return "list" if isinstance(v, list) else "primitive"

    tg, tl = token(global_value), token(local_value)
    if tg != tl or tg == "primitive":
        return local_value
    if tg == "list":
        return local_value if path in _REPLACE_PATHS else list(global_value) + list(local_value)
    merged = dict(global_value)
    for key, val in local_value.items():
        child = f"{path}.{key}".lstrip(".")
        merged[key] = merge_globals(merged[key], val, child) if key in merged else val
    return merged


def _parse_globals(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    raw = data.get("Globals")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("SAM Globals: must be a mapping", kind="sam")
    result: dict[str, dict[str, Any]] = {}
    for section, props in raw.items():
        if section not in GLOBAL_PROPERTIES:
            raise InputError(f"SAM Globals: unsupported section '{section}'", kind="sam")
        if props is None:
            continue
        if not isinstance(props, Mapping):
            raise InputError(f"SAM Globals.{section}: must be a mapping", kind="sam")
        for key in props:
            if key not in GLOBAL_PROPERTIES[section]:
                raise InputError(f"SAM Globals.{section}.{key}: not supported in Globals", kind="sam")
        result[section] = dict(props)
    return result


def resource_properties(exp: Expansion, logical_id: str, resource: Mapping[str, Any],
                        line: int) -> dict[str, Any]:
    """The resource's Properties with the Globals of its type merged in (honouring IgnoreGlobals)."""
    props = resource.get("Properties")
    if props is None:
        props = {}
    if not isinstance(props, Mapping) or is_intrinsic(props):
        raise sam_error(logical_id, "'Properties' must be a mapping", line)
    section = str(resource["Type"])[len(SERVERLESS_PREFIX):]
    glob = dict(exp.globals.get(section, {}))
    ignore = resource.get("IgnoreGlobals")
    if ignore == "*":
        glob = {}
    elif isinstance(ignore, list):
        for key in ignore:
            if key not in glob:
                raise sam_error(logical_id, f"'IgnoreGlobals' names '{key}', which Globals does not set", line)
            del glob[key]
    elif ignore is not None:
        raise sam_error(logical_id, "'IgnoreGlobals' must be '*' or a list", line)
    if not glob:
        return dict(props)
    return dict(merge_globals(copy.deepcopy(glob), dict(props)))


def tag_list(tags: Any, sam_tag: tuple[str, str] | None = None) -> list[Any] | Any:
    """SAM's Tags map as CloudFormation's [{Key, Value}] list, SAM's own tag first."""
    result: list[Any] = []
    if sam_tag:
        result.append({"Key": sam_tag[0], "Value": sam_tag[1]})
    if isinstance(tags, Mapping) and not is_intrinsic(tags):
        result.extend({"Key": k, "Value": v} for k, v in tags.items())
    elif tags is not None:
        return tags
    return result


def s3_location(uri: Any, bucket_key: str, key_key: str, version_key: str) -> Any:
    """An ``s3://bucket/key`` string or {Bucket, Key, Version} map in CloudFormation's key names."""
    if isinstance(uri, str):
        match = re.match(r"^s3://([^/]+)/(.+)$", uri)
        if match:
            return {bucket_key: match.group(1), key_key: match.group(2)}
        return uri  # a local path: `sam build`/`package` rewrites it before deployment
    if isinstance(uri, Mapping) and not is_intrinsic(uri):
        loc = {bucket_key: uri.get("Bucket"), key_key: uri.get("Key")}
        if "Version" in uri:
            loc[version_key] = uri["Version"]
        return loc
    return uri


def expand(data: Mapping[str, Any] | Template) -> list[CfnResource]:
    """Expand a template's top-level mapping (or a loader ``Template``) into CloudFormation resources."""
    from walens.scanners import sam_api, sam_function  # split modules; import here to avoid a cycle

    local_files: Mapping[str, Any] = {}
    if not isinstance(data, Mapping):
        local_files = getattr(data, "local_files", None) or {}
        data = getattr(data, "data", data)  # a scanners.template.Template
    if not isinstance(data, Mapping):
        raise InputError("SAM template: top level must be a mapping", kind="sam")
    resources = data.get("Resources")
    if not isinstance(resources, Mapping):
        raise InputError("SAM template: 'Resources' must be a mapping", kind="sam")
    params = data.get("Parameters")
    exp = Expansion(data=data, resources=resources, marks=getattr(resources, "key_marks", {}) or {},
                    parameters=params if isinstance(params, Mapping) else {},
                    globals=_parse_globals(data), local_files=local_files)

    apis: list[tuple[str, Mapping[str, Any], Source]] = []
    for logical_id, resource in resources.items():
        mark = exp.marks.get(logical_id, (0, 0))
        line, col = (mark[0], mark[1]) if isinstance(mark, tuple) and len(mark) == 2 else (0, 0)
        if not isinstance(resource, Mapping):
            raise sam_error(str(logical_id), "resource must be a mapping", line)
        rtype = resource.get("Type")
        if not isinstance(rtype, str):
            raise sam_error(str(logical_id), "'Type' must be a string", line)
        condition = resource.get("Condition") if isinstance(resource.get("Condition"), str) else None
        metadata = resource.get("Metadata")
        metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
        src = Source(str(logical_id), rtype, line, col, condition)
        handler = _HANDLERS.get(rtype)
        if handler is None:
            props = resource.get("Properties")
            exp.taken.add(str(logical_id))
            exp.out.append(CfnResource(
                logical_id=str(logical_id), type=rtype,
                properties=dict(props) if isinstance(props, Mapping) else {},
                origin=str(logical_id), origin_type=rtype, line=line, col=col, metadata=metadata,
                condition=condition))
            if rtype == "AWS::SNS::Topic" and isinstance(props, Mapping):
                _inline_subscriptions(exp, src, props.get("Subscription"))
            elif rtype == "AWS::ApiGateway::Deployment" and isinstance(props, Mapping):
                _deployment_stage(exp, src, props)
            continue
        props = resource_properties(exp, src.logical_id, resource, line)
        if rtype in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
            apis.append((rtype, props, src))  # after functions: their events add paths
            continue
        if handler == "function":
            sam_function.expand_function(exp, src, props, metadata)
        elif handler == "statemachine":
            sam_function.expand_state_machine(exp, src, props, metadata)
        elif handler == "table":
            _expand_simple_table(exp, src, props, metadata)
        elif handler == "layer":
            _expand_layer(exp, src, props, metadata)
        elif handler == "websocket":
            sam_api.expand_websocket_api(exp, src, props, metadata)
        else:  # kept as written: SAM passes these through or generates nothing rules read
            exp.add(src.logical_id, rtype, props, src, metadata)
    for rtype, props, src in apis:
        if rtype == "AWS::Serverless::Api":
            sam_api.expand_rest_api(exp, src, props, explicit=True)
        else:
            sam_api.expand_http_api(exp, src, props, explicit=True)
    sam_api.expand_implicit_apis(exp)
    _apply_s3_notifications(exp)
    return exp.out


# StageDescription keys that are the stage's own properties, and those that are its stage-wide
# (/* *) method settings (AWS::ApiGateway::Deployment StageDescription, CloudFormation User Guide).
_STAGE_KEYS = ("AccessLogSetting", "CacheClusterEnabled", "CacheClusterSize", "CanarySetting",
               "ClientCertificateId", "Description", "DocumentationVersion", "TracingEnabled", "Variables", "Tags")
_STAGE_WIDE_SETTINGS = ("LoggingLevel", "MetricsEnabled", "DataTraceEnabled", "ThrottlingBurstLimit",
                        "ThrottlingRateLimit", "CachingEnabled", "CacheTtlInSeconds", "CacheDataEncrypted")


def _deployment_stage(exp: Expansion, src: Source, props: Mapping[str, Any]) -> None:
    """The ``AWS::ApiGateway::Stage`` a Deployment with ``StageName`` creates, so stage rules judge it.

    ``StageDescription`` holds the stage's settings: its stage-wide ones become the ``/*`` ``*`` entry of
    MethodSettings, followed by its own MethodSettings.
    """
    name = props.get("StageName")
    if name is None:
        return
    stage: dict[str, Any] = {"RestApiId": props.get("RestApiId"), "StageName": name,
                             "DeploymentId": {"Ref": src.logical_id}}
    desc = props.get("StageDescription")
    if isinstance(desc, Mapping) and is_intrinsic(desc):
        unknown = Unknown("the deployment's StageDescription is an intrinsic function")
        for key in ("AccessLogSetting", "CacheClusterEnabled", "TracingEnabled", "MethodSettings"):
            stage[key] = unknown
    elif isinstance(desc, Mapping):
        stage.update({key: desc[key] for key in _STAGE_KEYS if desc.get(key) is not None})
        wide = {key: desc[key] for key in _STAGE_WIDE_SETTINGS if desc.get(key) is not None}
        settings = desc.get("MethodSettings")
        entries: list[Any] = [{"ResourcePath": "/*", "HttpMethod": "*", **wide}] if wide else []
        if isinstance(settings, list):
            entries.extend(settings)
        if settings is not None and not isinstance(settings, list):
            stage["MethodSettings"] = Unknown("the deployment's StageDescription.MethodSettings is not a list")
        elif entries:
            stage["MethodSettings"] = entries
    lid = f"{src.logical_id}Stage"
    while lid in exp.taken or lid in exp.resources:
        lid += "X"
    exp.add(lid, "AWS::ApiGateway::Stage", stage, src)


def _inline_subscriptions(exp: Expansion, src: Source, subscriptions: Any) -> None:
    """A topic's inline ``Subscription`` list as the ``AWS::SNS::Subscription`` resources SNS creates.

    Rules about subscriptions (REL017, COST013) judge them too: an inline subscription cannot carry a
    RedrivePolicy or a FilterPolicy, so rules see exactly what it is.
    """
    if not isinstance(subscriptions, list):
        return
    for n, item in enumerate(subscriptions, start=1):
        if not isinstance(item, Mapping) or is_intrinsic(item):
            continue
        lid = f"{src.logical_id}Subscription{n}"
        while lid in exp.taken or lid in exp.resources:
            lid += "X"
        props = {"TopicArn": {"Ref": src.logical_id}, "Protocol": item.get("Protocol"),
                 "Endpoint": item.get("Endpoint")}
        exp.add(lid, "AWS::SNS::Subscription", props, src)


def _apply_s3_notifications(exp: Expansion) -> None:
    # SAM writes an S3 event into the bucket's NotificationConfiguration (push.S3._depend_on_lambda_permissions).
    buckets = {r.logical_id: r for r in exp.out if r.type == "AWS::S3::Bucket"}
    for bucket_id, ev, target_arn, src, event_name in exp.s3_notifications:
        bucket = buckets.get(bucket_id)
        if bucket is None:
            continue
        notification = bucket.properties.get("NotificationConfiguration", {})
        if not isinstance(notification, Mapping) or is_intrinsic(notification):
            continue
        configs = notification.get("LambdaConfigurations", [])
        if not isinstance(configs, list):
            continue
        # copies: the pass-through bucket shares nested values with the authored template
        configs = list(configs)
        bucket.properties["NotificationConfiguration"] = {**notification, "LambdaConfigurations": configs}
        for s3_event in as_list(ev.get("Events"), src.logical_id, f"Events.{event_name}.Events", src.line):
            config: dict[str, Any] = {"Event": s3_event, "Function": target_arn}
            if ev.get("Filter") is not None:
                config["Filter"] = ev["Filter"]
            configs.append(config)


_HANDLERS: dict[str, str] = {
    "AWS::Serverless::Function": "function",
    "AWS::Serverless::StateMachine": "statemachine",
    "AWS::Serverless::SimpleTable": "table",
    "AWS::Serverless::LayerVersion": "layer",
    "AWS::Serverless::Api": "api",
    "AWS::Serverless::HttpApi": "httpapi",
    "AWS::Serverless::Application": "asis",
    "AWS::Serverless::Connector": "asis",
    "AWS::Serverless::GraphQLApi": "asis",
    "AWS::Serverless::CapacityProvider": "asis",
    "AWS::Serverless::WebSocketApi": "websocket",
}


_DYNAMO_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def _expand_simple_table(exp: Expansion, src: Source, props: Mapping[str, Any],
                         metadata: dict[str, Any]) -> None:
    key = as_map(props.get("PrimaryKey"), src.logical_id, "PrimaryKey", src.line) or {
        "Name": "id", "Type": "String"}
    key_type = key.get("Type")
    attr_type = _DYNAMO_TYPES.get(key_type, key_type) if isinstance(key_type, str) else key_type
    table: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": key.get("Name"), "AttributeType": attr_type}],
        "KeySchema": [{"AttributeName": key.get("Name"), "KeyType": "HASH"}],
    }
    if props.get("ProvisionedThroughput") is not None:
        table["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    else:
        table["BillingMode"] = "PAY_PER_REQUEST"
    for name in ("SSESpecification", "TableName", "PointInTimeRecoverySpecification"):
        if props.get(name) is not None:
            table[name] = props[name]
    if props.get("Tags") is not None:
        table["Tags"] = tag_list(props["Tags"])
    exp.add(src.logical_id, "AWS::DynamoDB::Table", table, src, metadata)


def _expand_layer(exp: Expansion, src: Source, props: Mapping[str, Any], metadata: dict[str, Any]) -> None:
    # SAM renames the layer <Id><hash> and rewrites every Ref to it; walens keeps the authored ID so
    # references in the template still match.
    layer: dict[str, Any] = {"LayerName": props.get("LayerName", src.logical_id)}
    if props.get("ContentUri") is not None:
        layer["Content"] = s3_location(props["ContentUri"], "S3Bucket", "S3Key", "S3ObjectVersion")
    for name in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
        if props.get(name) is not None:
            layer[name] = props[name]
    exp.add(src.logical_id, "AWS::Lambda::LayerVersion", layer, src, metadata)
