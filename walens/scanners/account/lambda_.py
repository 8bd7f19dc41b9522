"""Lambda: functions, reserved concurrency, code signing, recursion, event invoke configs, event source mappings,
URLs, aliases, permissions.

List-level first (``ListFunctions`` carries most of a function's configuration, one
``ListEventSourceMappings`` sweep per region, code signing from ``ListCodeSigningConfigs`` plus
``ListFunctionsByCodeSigningConfig`` per config), then one task per function for what only a per-function
call shows. The first function's details run before the others start: an operation the endpoint does
not offer at all (an emulator) is then not asked again for every function; each function still gets its
Unknown and the gap its count. Environment variable values stay in memory for rules to inspect; they are
never written to the review (only names appear in findings).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from walens.model import Resource
from walens.scanners.account.core import NOT_FOUND_CODES, CallFailed, Ctx, Gap
from walens.scanners.account.ec2 import group_arn
from walens.scanners.account.shape import parse_json, pick

SERVICE = "lambda"
FUNCTION = "AWS::Lambda::Function"
ESM = "AWS::Lambda::EventSourceMapping"
EIC = "AWS::Lambda::EventInvokeConfig"
URL = "AWS::Lambda::Url"
ALIAS = "AWS::Lambda::Alias"
PERMISSION = "AWS::Lambda::Permission"
CODE_SIGNING = "AWS::Lambda::CodeSigningConfig"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ListFunctions": (FUNCTION, EIC, URL, ALIAS, PERMISSION),
    "ListEventSourceMappings": (ESM,),
    "GetAccountSettings": (),
    "GetFunctionConcurrency": (),
    "ListFunctionEventInvokeConfigs": (EIC,),
    "ListFunctionUrlConfigs": (URL,),
    "GetFunctionUrlConfig": (URL,),
    "ListAliases": (ALIAS,),
    "GetPolicy": (PERMISSION,),
    "ListCodeSigningConfigs": (CODE_SIGNING,),
    "ListFunctionsByCodeSigningConfig": (),
    "GetFunctionCodeSigningConfig": (),
    "GetFunctionRecursionConfig": (),
}
# When a region-wide listing fails, these relations of these types are unknown in that region.
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "ListEventSourceMappings": [(FUNCTION, "related", "event_sources"), ("AWS::SQS::Queue", "related", "consumers")],
}

_FUNCTION_KEYS = ("FunctionName", "Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize",
                  "PackageType", "Architectures", "KmsKeyArn")
_ESM_KEYS = ("EventSourceArn", "BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes",
             "StartingPosition", "StartingPositionTimestamp", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
             "MaximumRecordAgeInSeconds", "ParallelizationFactor", "TumblingWindowInSeconds", "DestinationConfig",
             "FilterCriteria", "ScalingConfig", "Topics", "Queues", "SelfManagedEventSource",
             "SourceAccessConfigurations", "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig",
             "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig")
# Everything function_properties() may set.
_FUNCTION_PROPERTIES = (*_FUNCTION_KEYS, "TracingConfig", "Environment", "VpcConfig", "DeadLetterConfig", "Layers",
                        "LoggingConfig", "EphemeralStorage", "SnapStart", "ImageConfig", "FileSystemConfigs",
                        "DurableConfig")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    FUNCTION: frozenset({*_FUNCTION_PROPERTIES, "ReservedConcurrentExecutions", "CodeSigningConfigArn",
                         "RecursiveLoop"}),
    ESM: frozenset({*_ESM_KEYS, "FunctionName", "Enabled"}),
    EIC: frozenset({"FunctionName", "Qualifier", "MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                    "DestinationConfig"}),
    URL: frozenset({"TargetFunctionArn", "AuthType", "Cors", "InvokeMode", "Qualifier"}),
    ALIAS: frozenset({"FunctionName", "Name", "FunctionVersion", "Description", "RoutingConfig"}),
    PERMISSION: frozenset({"FunctionName", "Action", "Principal", "SourceArn", "SourceAccount", "FunctionUrlAuthType",
                           "PrincipalOrgID", "EventSourceToken"}),
    CODE_SIGNING: frozenset({"Description", "AllowedPublishers", "CodeSigningPolicies"}),
}


def function_properties(cfg: dict[str, Any]) -> dict[str, Any]:
    """A ``GetFunctionConfiguration``/``ListFunctions`` entry as ``AWS::Lambda::Function`` properties."""
    props = pick(cfg, _FUNCTION_KEYS)
    if isinstance(cfg.get("TracingConfig"), dict):
        props["TracingConfig"] = pick(cfg["TracingConfig"], ("Mode",))
    variables = (cfg.get("Environment") or {}).get("Variables")
    if variables:
        props["Environment"] = {"Variables": dict(variables)}
    vpc = cfg.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):  # the API returns empty lists for a function outside any VPC
        props["VpcConfig"] = pick(vpc, ("SubnetIds", "SecurityGroupIds", "Ipv6AllowedForDualStack"))
        parts = str(cfg.get("FunctionArn") or "").split(":")
        if len(parts) > 4 and isinstance(props["VpcConfig"].get("SecurityGroupIds"), list):
            # As a template's !Ref names them: the security group resources (ec2) relate unchanged.
            props["VpcConfig"]["SecurityGroupIds"] = [
                "{{ref:" + group_arn(parts[1], parts[3], parts[4], str(g)) + "}}"
                for g in props["VpcConfig"]["SecurityGroupIds"]]
    target = (cfg.get("DeadLetterConfig") or {}).get("TargetArn")
    if target:
        props["DeadLetterConfig"] = {"TargetArn": target}
    if cfg.get("Layers"):
        props["Layers"] = [layer.get("Arn") for layer in cfg["Layers"] if isinstance(layer, dict)]
    if isinstance(cfg.get("LoggingConfig"), dict):
        props["LoggingConfig"] = pick(cfg["LoggingConfig"], ("LogFormat", "ApplicationLogLevel", "SystemLogLevel",
                                                              "LogGroup"))
        if props["LoggingConfig"].get("LogGroup") == f"/aws/lambda/{cfg.get('FunctionName')}":
            # The API names the default group; a template leaves it unset. Unset, it means the same to rules
            # (the group Lambda creates, without retention, if it does not exist yet).
            del props["LoggingConfig"]["LogGroup"]
    if isinstance(cfg.get("EphemeralStorage"), dict):
        props["EphemeralStorage"] = pick(cfg["EphemeralStorage"], ("Size",))
    if isinstance(cfg.get("DurableConfig"), dict):  # a durable function (REL022, PERF002 read it)
        props["DurableConfig"] = pick(cfg["DurableConfig"], ("ExecutionTimeout", "RetentionPeriodInDays"))
    if isinstance(cfg.get("SnapStart"), dict):
        props["SnapStart"] = pick(cfg["SnapStart"], ("ApplyOn",))
    image = (cfg.get("ImageConfigResponse") or {}).get("ImageConfig")
    if image:
        props["ImageConfig"] = pick(image, ("Command", "EntryPoint", "WorkingDirectory"))
    if cfg.get("FileSystemConfigs"):
        props["FileSystemConfigs"] = [pick(f, ("Arn", "LocalMountPath")) for f in cfg["FileSystemConfigs"]]
    return props


# Error codes of an endpoint without the operation (a bare HTTP status is an emulator's unknown route).
_NO_ROUTE = frozenset({"UnknownOperationException", "InvalidAction", "NotImplemented"})


class _Region:
    """What the function tasks of one region share: bulk answers, and operations the endpoint lacks."""

    def __init__(self) -> None:
        # function ARN -> code signing config ARN; None: unknown in bulk, ask per function.
        self.code_signing: dict[str, str] | None = None
        # Reserved concurrency of the region not yet found on a function; None: unknown, ask every function.
        self.unfound_reserved: int | None = None
        self._lock = threading.Lock()
        self._unsupported: dict[str, tuple[Gap, bool]] = {}  # operation -> (gap, recorded)

    def reservations_settled(self) -> bool:
        """Every reservation of the region is found: the other functions have none (or 0) reserved."""
        with self._lock:
            return self.unfound_reserved is not None and self.unfound_reserved <= 0

    def found_reserved(self, count: int) -> None:
        with self._lock:
            if self.unfound_reserved is not None:
                self.unfound_reserved -= count

    def ask(self, ctx: Ctx, operation: str, call: Any, *, record: bool = True) -> Any:
        """``call()`` unless ``operation`` already proved not supported by the endpoint in this region.

        Not supported (an unknown route, not a missing function) is a property of the endpoint, not of
        the function: later functions get the same failure without a call, counted in the same gap.
        """
        with self._lock:
            known = self._unsupported.get(operation)
        if known is not None:
            gap, recorded = known
            if recorded:
                gap = ctx.scope.collected.add_gap(dataclasses.replace(gap, count=1, rules=[]))
            raise CallFailed(gap)
        try:
            return call()
        except CallFailed as exc:
            code = exc.gap.error_code
            no_route = code.isdigit() or code in _NO_ROUTE
            if exc.gap.kind == "not_supported" and no_route and code not in NOT_FOUND_CODES:
                with self._lock:
                    self._unsupported.setdefault(operation, (exc.gap, record))
            raise


def collect(ctx: Ctx) -> None:
    if ctx.wants(ESM):
        ctx.spawn(_event_source_mappings, ctx)  # first: it runs even when the function listing is denied
    region = _Region()
    functions = []
    for cfg in ctx.pages("ListFunctions", "Functions"):
        functions.append(ctx.add(Resource(
            id=cfg["FunctionArn"], type=FUNCTION, properties=function_properties(cfg), name=cfg["FunctionName"],
            arn=cfg["FunctionArn"], metadata=pick(cfg, ("State", "LastUpdateStatus", "LastModified", "CodeSize")),
        )))
    signing = ctx.wants(FUNCTION, "CodeSigningConfigArn") and bool(functions)
    if signing or ctx.wants(CODE_SIGNING):
        # One listing serves both: the configs themselves (SEC017) and which function uses which (SEC016).
        region.code_signing = _code_signing(ctx, configs=ctx.wants(CODE_SIGNING), functions=signing)
    if not functions:
        return
    if not signing:
        region.code_signing = {}
    region.unfound_reserved = _reserved_total(ctx) if ctx.wants(FUNCTION, "ReservedConcurrentExecutions") else 0
    # Spawned tasks start after this one returns: the first function's details (run here) have by then
    # found any operation the endpoint lacks, whatever the number of workers.
    for fn in functions[1:]:
        ctx.spawn(_details, ctx, region, fn)
    _details(ctx, region, functions[0])


def _unqualified(function_arn: str) -> str:
    return ":".join(function_arn.split(":")[:7])


def _code_signing(ctx: Ctx, *, configs: bool = False, functions: bool = True) -> dict[str, str] | None:
    """Function ARN -> its code signing config ARN for the whole region; None when the listing failed.

    A function in no config's ``ListFunctionsByCodeSigningConfig`` has none. On any failure the function
    tasks ask ``GetFunctionCodeSigningConfig`` instead, which records its own gap if it fails too. With
    ``configs`` the configs themselves become ``AWS::Lambda::CodeSigningConfig`` resources, and a failed
    listing is a gap (nothing else would show them).
    """
    found: dict[str, str] = {}
    try:
        listed = ctx.pages("ListCodeSigningConfigs", "CodeSigningConfigs", record=False)
    except CallFailed as exc:
        if configs:
            ctx.scope.collected.add_gap(exc.gap)
        return None
    try:
        for config in listed:
            arn = config["CodeSigningConfigArn"]
            if configs:
                _code_signing_config(ctx, config)
            if functions:
                for function_arn in ctx.pages("ListFunctionsByCodeSigningConfig", "FunctionArns", record=False,
                                              CodeSigningConfigArn=arn):
                    found[_unqualified(str(function_arn))] = arn
    except (CallFailed, KeyError):
        return None
    return found


def _code_signing_config(ctx: Ctx, config: dict[str, Any]) -> None:
    arn = str(config["CodeSigningConfigArn"])
    props: dict[str, Any] = {}
    if config.get("Description"):
        props["Description"] = config["Description"]
    publishers = (config.get("AllowedPublishers") or {}).get("SigningProfileVersionArns")
    if publishers:
        props["AllowedPublishers"] = {"SigningProfileVersionArns": list(publishers)}
    policy = (config.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment")
    if policy:
        props["CodeSigningPolicies"] = {"UntrustedArtifactOnDeployment": policy}
    ctx.add(Resource(id=arn, type=CODE_SIGNING, properties=props, name=config.get("CodeSigningConfigId") or arn,
                     arn=arn))


def _reserved_total(ctx: Ctx) -> int | None:
    """The region's reserved concurrency in total (GetAccountSettings: limit minus unreserved), or None.

    Functions are asked GetFunctionConcurrency only until their reservations add up to it: in the many
    accounts that reserve nothing, no function is asked at all. (A function reserved at 0, a kill switch,
    takes nothing from the pool, so once the total is found it reads as no reservation.) On any failure
    every function is asked, as before, so nothing is lost and no gap is recorded.
    """
    try:
        answer = ctx.call("GetAccountSettings", record=False) or {}
    except CallFailed:
        return None
    limit = answer.get("AccountLimit") or {}
    total, unreserved = limit.get("ConcurrentExecutions"), limit.get("UnreservedConcurrentExecutions")
    if not isinstance(total, int) or not isinstance(unreserved, int) or isinstance(total, bool):
        return None
    return max(0, total - unreserved)


def _event_source_mappings(ctx: Ctx) -> None:
    for m in ctx.pages("ListEventSourceMappings", "EventSourceMappings"):
        props = pick(m, _ESM_KEYS)
        props["FunctionName"] = m.get("FunctionArn")
        props["Enabled"] = str(m.get("State", "Enabled")) not in ("Disabled", "Disabling")
        arn = m.get("EventSourceMappingArn") or ctx.arn("lambda", f"event-source-mapping:{m['UUID']}")
        ctx.add(Resource(id=arn, type=ESM, properties=props, name=m.get("UUID"), arn=arn,
                         metadata=pick(m, ("State", "StateTransitionReason", "LastProcessingResult"))))


def _read_property(ctx: Ctx, region: _Region, fn: Resource, operation: str, prop: str) -> None:
    """One per-function read whose answer carries the property under its own name: set when the answer
    has it, an Unknown when the call failed (the gap is recorded by ``ctx``)."""
    try:
        answer = region.ask(ctx, operation, lambda: ctx.call(operation, FunctionName=fn.name)) or {}
        if answer.get(prop):
            fn.properties[prop] = answer[prop]
    except CallFailed as exc:
        fn.properties[prop] = exc.unknown


def _details(ctx: Ctx, region: _Region, fn: Resource) -> None:
    # The call planner (ctx.wants): only what a selected rule reads is asked; the five detail reads have no
    # bulk form, so a full review costs about 5.3 calls per function and a security review about 2.
    name = fn.name
    if not region.reservations_settled():
        try:
            answer = region.ask(ctx, "GetFunctionConcurrency",
                                lambda: ctx.call("GetFunctionConcurrency", FunctionName=name)) or {}
            reserved = answer.get("ReservedConcurrentExecutions")
            if reserved is not None:
                fn.properties["ReservedConcurrentExecutions"] = reserved
                if isinstance(reserved, int):
                    region.found_reserved(reserved)
        except CallFailed as exc:
            fn.properties["ReservedConcurrentExecutions"] = exc.unknown
    if region.code_signing is not None:
        signing = region.code_signing.get(_unqualified(str(fn.arn)))
        if signing:
            fn.properties["CodeSigningConfigArn"] = signing
    else:
        _read_property(ctx, region, fn, "GetFunctionCodeSigningConfig", "CodeSigningConfigArn")
    if ctx.wants(FUNCTION, "RecursiveLoop"):
        _read_property(ctx, region, fn, "GetFunctionRecursionConfig", "RecursiveLoop")
    if ctx.wants(EIC):
        try:
            configs = region.ask(ctx, "ListFunctionEventInvokeConfigs", lambda: ctx.pages(
                "ListFunctionEventInvokeConfigs", "FunctionEventInvokeConfigs", FunctionName=name))
            for cfg in configs:
                _event_invoke_config(ctx, fn, cfg)
        except CallFailed as exc:
            ctx.unknown(fn, "related", "event_invoke_config", exc)
            ctx.unknown(fn, "facts", "invoked_async", exc)
    if ctx.wants(URL):
        try:
            for cfg in _url_configs(ctx, region, fn):
                _url(ctx, fn, cfg)
        except CallFailed as exc:
            ctx.unknown(fn, "related", "url", exc)
    if ctx.wants(ALIAS):
        try:
            aliases = region.ask(ctx, "ListAliases", lambda: ctx.pages("ListAliases", "Aliases", FunctionName=name))
            for alias in aliases:
                _alias(ctx, fn, alias)
        except CallFailed as exc:
            ctx.unknown(fn, "related", "aliases", exc)
    if ctx.wants(PERMISSION):
        try:
            policy = region.ask(ctx, "GetPolicy", lambda: ctx.call("GetPolicy", FunctionName=name, missing_ok=True))
            if policy:
                _permissions(ctx, fn, parse_json(policy.get("Policy")))
        except CallFailed as exc:
            for key in ("permissions", "async_invokers"):
                ctx.unknown(fn, "related", key, exc)
            ctx.unknown(fn, "facts", "invoked_async", exc)


def _qualifier(function_arn: str) -> str | None:
    parts = function_arn.split(":")
    return parts[7] if len(parts) > 7 else None


def _event_invoke_config(ctx: Ctx, fn: Resource, cfg: dict[str, Any]) -> None:
    arn = str(cfg.get("FunctionArn") or fn.arn)
    qualifier = _qualifier(arn) or "$LATEST"
    props: dict[str, Any] = {"FunctionName": fn.name, "Qualifier": qualifier,
                             **pick(cfg, ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"))}
    destinations = cfg.get("DestinationConfig") or {}
    dest = {k: pick(destinations.get(k), ("Destination",)) for k in ("OnSuccess", "OnFailure")
            if (destinations.get(k) or {}).get("Destination")}
    if dest:
        props["DestinationConfig"] = dest
    ctx.add(Resource(id=f"{fn.arn}:{qualifier}/event-invoke-config", type=EIC, properties=props,
                     name=f"{fn.name}:{qualifier}", arn=arn))


def _url_configs(ctx: Ctx, region: _Region, fn: Resource) -> list[dict[str, Any]]:
    try:
        return region.ask(ctx, "ListFunctionUrlConfigs", lambda: ctx.pages(  # type: ignore[no-any-return]
            "ListFunctionUrlConfigs", "FunctionUrlConfigs", FunctionName=fn.name, record=False), record=False)
    except CallFailed as exc:
        if exc.gap.kind != "not_supported":
            ctx.scope.collected.add_gap(exc.gap)
            raise
    # An endpoint without the list (an emulator): ask for the unqualified URL instead.
    answer = region.ask(ctx, "GetFunctionUrlConfig",
                        lambda: ctx.call("GetFunctionUrlConfig", FunctionName=fn.name, missing_ok=True))
    return [answer] if answer else []


def _url(ctx: Ctx, fn: Resource, cfg: dict[str, Any]) -> None:
    arn = str(cfg.get("FunctionArn") or fn.arn)
    qualifier = _qualifier(arn)
    props = {"TargetFunctionArn": arn, **pick(cfg, ("AuthType", "Cors"))}
    if cfg.get("InvokeMode"):
        props["InvokeMode"] = str(cfg["InvokeMode"]).upper()
    if qualifier:
        props["Qualifier"] = qualifier
    ctx.add(Resource(id=f"{arn}/url", type=URL, properties=props, name=f"{fn.name}{':' + qualifier if qualifier else ''}",
                     arn=arn, metadata=pick(cfg, ("FunctionUrl",))))


def _alias(ctx: Ctx, fn: Resource, alias: dict[str, Any]) -> None:
    props = {"FunctionName": fn.name, **pick(alias, ("Name", "FunctionVersion", "Description"))}
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    if weights:
        props["RoutingConfig"] = {"AdditionalVersionWeights": [
            {"FunctionVersion": v, "FunctionWeight": w} for v, w in sorted(weights.items())]}
    ctx.add(Resource(id=alias["AliasArn"], type=ALIAS, properties=props, name=alias.get("Name"), arn=alias["AliasArn"]))


def _condition_value(condition: Any, key: str) -> Any:
    """The value of condition key ``key`` (case-insensitive) under any operator."""
    if not isinstance(condition, dict):
        return None
    for block in condition.values():
        if isinstance(block, dict):
            for k, v in block.items():
                if isinstance(k, str) and k.lower() == key.lower():
                    return v[0] if isinstance(v, list) and len(v) == 1 else v
    return None


def _principal(value: Any) -> Any:
    if isinstance(value, dict):
        for key in ("Service", "AWS", "Federated"):
            if key in value:
                found = value[key]
                return found[0] if isinstance(found, list) and len(found) == 1 else found
    return value


def _permissions(ctx: Ctx, fn: Resource, policy: Any) -> None:
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    for i, stmt in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(stmt, dict) or stmt.get("Effect", "Allow") != "Allow":
            continue
        sid = str(stmt.get("Sid") or f"Statement{i}")
        condition = stmt.get("Condition")
        action = stmt.get("Action")
        props: dict[str, Any] = {"FunctionName": fn.name, "Action": action[0] if isinstance(action, list) and len(action) == 1 else action,
                                 "Principal": _principal(stmt.get("Principal"))}
        for cfn_key, cond_key in (("SourceArn", "AWS:SourceArn"), ("SourceAccount", "AWS:SourceAccount"),
                                  ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
                                  ("PrincipalOrgID", "aws:PrincipalOrgID"), ("EventSourceToken", "lambda:EventSourceToken")):
            value = _condition_value(condition, cond_key)
            if value is not None:
                props[cfn_key] = value
        ctx.add(Resource(id=f"{fn.arn}/permission/{sid}", type=PERMISSION, properties=props, name=sid, arn=fn.arn))
