"""API Gateway REST APIs: APIs, stages (method settings, tracing, WAF), resources and methods, validators,
authorizers, models, usage plans.

A child's reference to its API, validator or authorizer (``RestApiId``, ``RequestValidatorId``,
``AuthorizerId``, a usage plan's ``ApiStages[].ApiId``) holds the placeholder a template's ``Ref`` gives,
``{{ref:<resource id>}}``, so ``graph.link`` relates them unchanged; the service's own ID is in
``metadata.physical_id``.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import parse_json, pick

SERVICE = "apigateway"
REST_API = "AWS::ApiGateway::RestApi"
STAGE = "AWS::ApiGateway::Stage"
METHOD = "AWS::ApiGateway::Method"
VALIDATOR = "AWS::ApiGateway::RequestValidator"
AUTHORIZER = "AWS::ApiGateway::Authorizer"
MODEL = "AWS::ApiGateway::Model"
USAGE_PLAN = "AWS::ApiGateway::UsagePlan"
WAF_ASSOCIATION = "AWS::WAFv2::WebACLAssociation"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "GetRestApis": (REST_API, STAGE, METHOD, VALIDATOR, AUTHORIZER, MODEL),
    "GetAccount": (),
    "GetStages": (STAGE,),
    "GetResources": (METHOD,),
    "GetRequestValidators": (VALIDATOR,),
    "GetAuthorizers": (AUTHORIZER,),
    "GetModels": (MODEL,),
    "GetUsagePlans": (USAGE_PLAN,),
}
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "GetUsagePlans": [(REST_API, "related", "usage_plans"), (STAGE, "related", "usage_plans")],
}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    REST_API: frozenset({"Name", "Description", "ApiKeySourceType", "BinaryMediaTypes", "DisableExecuteApiEndpoint",
                         "MinimumCompressionSize", "EndpointConfiguration", "Policy"}),
    STAGE: frozenset({"RestApiId", "StageName", "DeploymentId", "Description", "TracingEnabled", "CacheClusterEnabled",
                      "CacheClusterSize", "Variables", "ClientCertificateId", "MethodSettings", "AccessLogSetting",
                      "CanarySetting"}),
    METHOD: frozenset({"RestApiId", "ResourceId", "ResourcePath", "HttpMethod", "AuthorizationType", "ApiKeyRequired", "RequestModels",
                       "RequestParameters", "OperationName", "AuthorizationScopes", "AuthorizerId",
                       "RequestValidatorId", "Integration"}),
    VALIDATOR: frozenset({"RestApiId", "Name", "ValidateRequestBody", "ValidateRequestParameters"}),
    AUTHORIZER: frozenset({"RestApiId", "Name", "Type", "ProviderARNs", "AuthorizerUri", "IdentitySource",
                           "AuthorizerResultTtlInSeconds", "IdentityValidationExpression", "AuthorizerCredentials"}),
    MODEL: frozenset({"RestApiId", "Name", "ContentType", "Description", "Schema"}),
    USAGE_PLAN: frozenset({"UsagePlanName", "Description", "ApiStages", "Throttle", "Quota"}),
    WAF_ASSOCIATION: frozenset({"ResourceArn", "WebACLArn"}),
}

# What a stage's method setting is called in CloudFormation's MethodSetting.
_SETTING_KEYS = {"metricsEnabled": "MetricsEnabled", "loggingLevel": "LoggingLevel",
                 "dataTraceEnabled": "DataTraceEnabled", "throttlingBurstLimit": "ThrottlingBurstLimit",
                 "throttlingRateLimit": "ThrottlingRateLimit", "cachingEnabled": "CachingEnabled",
                 "cacheTtlInSeconds": "CacheTtlInSeconds", "cacheDataEncrypted": "CacheDataEncrypted"}


def api_arn(ctx: Ctx, api_id: str) -> str:
    return f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api_id}"


def ref(resource_id: str) -> str:
    return "{{ref:" + resource_id + "}}"


def method_settings(settings: dict[str, Any] | None, account_throttle: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A stage's ``methodSettings`` map (``"~1pets/GET"`` -> {...}) as CloudFormation's MethodSettings list.

    A throttling value equal to the account-level default (what API Gateway reports when the stage sets
    none) or -1 is left out: the stage itself does not throttle.
    """
    out: list[dict[str, Any]] = []
    defaults = account_throttle or {}
    for key, setting in sorted((settings or {}).items()):
        path, _, verb = key.rpartition("/")
        resource_path = "/*" if path == "*" else path.replace("~1", "/")
        item: dict[str, Any] = {"ResourcePath": resource_path, "HttpMethod": verb}
        item.update(pick(setting, _SETTING_KEYS))
        for cfn_key, default_key in (("ThrottlingBurstLimit", "burstLimit"), ("ThrottlingRateLimit", "rateLimit")):
            value = item.get(cfn_key)
            if value is not None and (value == -1 or (defaults.get(default_key) is not None
                                                      and float(value) == float(defaults[default_key]))):
                del item[cfn_key]
        out.append(item)
    return out


def collect(ctx: Ctx) -> None:
    apis = ctx.pages("GetRestApis", "items")
    throttle: dict[str, Any] | None = None
    if apis:
        try:
            throttle = (ctx.call("GetAccount") or {}).get("throttleSettings")
        except CallFailed:
            throttle = None  # recorded; throttling values are then taken as the stage reports them
    for api in apis:
        arn = api_arn(ctx, api["id"])
        endpoint = api.get("endpointConfiguration") or {}
        props: dict[str, Any] = {"Name": api.get("name"), **pick(api, {
            "description": "Description", "apiKeySource": "ApiKeySourceType", "binaryMediaTypes": "BinaryMediaTypes",
            "disableExecuteApiEndpoint": "DisableExecuteApiEndpoint",
            "minimumCompressionSize": "MinimumCompressionSize"})}
        if endpoint:
            props["EndpointConfiguration"] = pick(endpoint, {"types": "Types", "vpcEndpointIds": "VpcEndpointIds"})
        if api.get("policy"):
            props["Policy"] = parse_json(api["policy"])
        rest_api = ctx.add(Resource(id=arn, type=REST_API, properties=props, name=api.get("name"), arn=arn,
                                    metadata={"physical_id": api["id"]}))
        ctx.spawn(_api_children, ctx, rest_api, api["id"], throttle)
    ctx.spawn(_usage_plans, ctx)


def _api_children(ctx: Ctx, api: Resource, api_id: str, throttle: dict[str, Any] | None) -> None:
    api_ref = ref(api.id)
    try:
        for stage in ctx.pages("GetStages", "item", restApiId=api_id):
            _stage(ctx, api, api_id, stage, throttle)
    except CallFailed as exc:
        ctx.unknown(api, "related", "stages", exc)
        ctx.unknown(api, "related", "waf", exc)
        ctx.unknown(api, "facts", "api_exposure", exc)
    validators: dict[str, str] = {}
    try:
        for v in ctx.pages("GetRequestValidators", "items", restApiId=api_id):
            rid = f"{api.id}/requestvalidators/{v['id']}"
            validators[v["id"]] = rid
            ctx.add(Resource(id=rid, type=VALIDATOR, name=v.get("name"), arn=rid, metadata={"physical_id": v["id"]},
                             properties={"RestApiId": api_ref, **pick(v, {
                                 "name": "Name", "validateRequestBody": "ValidateRequestBody",
                                 "validateRequestParameters": "ValidateRequestParameters"})}))
    except CallFailed as exc:
        ctx.unknown(api, "related", "validators", exc)
        validators_failed: CallFailed | None = exc
    else:
        validators_failed = None
    authorizers: dict[str, str] = {}
    try:
        for a in ctx.pages("GetAuthorizers", "items", restApiId=api_id):
            rid = f"{api.id}/authorizers/{a['id']}"
            authorizers[a["id"]] = rid
            ctx.add(Resource(id=rid, type=AUTHORIZER, name=a.get("name"), arn=rid, metadata={"physical_id": a["id"]},
                             properties={"RestApiId": api_ref, **pick(a, {
                                 "name": "Name", "type": "Type", "authorizerUri": "AuthorizerUri",
                                 "identitySource": "IdentitySource", "providerARNs": "ProviderARNs",
                                 "authorizerResultTtlInSeconds": "AuthorizerResultTtlInSeconds",
                                 "authorizerCredentials": "AuthorizerCredentials"})}))
    except CallFailed as exc:
        ctx.unknown(api, "related", "authorizers", exc)
    try:
        for m in ctx.pages("GetModels", "items", restApiId=api_id):
            rid = f"{api.id}/models/{m['name']}"
            props = {"RestApiId": api_ref, **pick(m, {"name": "Name", "contentType": "ContentType",
                                                      "description": "Description"})}
            if m.get("schema"):
                props["Schema"] = parse_json(m["schema"])
            ctx.add(Resource(id=rid, type=MODEL, properties=props, name=m.get("name"), arn=rid,
                             metadata={"physical_id": m.get("id")}))
    except CallFailed as exc:
        ctx.unknown(api, "related", "models", exc)
    try:
        resources = ctx.pages("GetResources", "items", restApiId=api_id, embed=["methods"])
    except CallFailed as exc:
        ctx.unknown(api, "related", "methods", exc)
        ctx.unknown(api, "facts", "api_exposure", exc)
        return
    for res in resources:
        for verb, method in sorted((res.get("resourceMethods") or {}).items()):
            _method(ctx, api, res, verb, method or {}, validators, authorizers, validators_failed)


def _stage(ctx: Ctx, api: Resource, api_id: str, stage: dict[str, Any], throttle: dict[str, Any] | None) -> None:
    name = stage["stageName"]
    arn = f"{api.id}/stages/{name}"
    props: dict[str, Any] = {"RestApiId": ref(api.id), "StageName": name, **pick(stage, {
        "deploymentId": "DeploymentId", "description": "Description", "tracingEnabled": "TracingEnabled",
        "cacheClusterEnabled": "CacheClusterEnabled", "cacheClusterSize": "CacheClusterSize",
        "variables": "Variables", "clientCertificateId": "ClientCertificateId"})}
    props["MethodSettings"] = method_settings(stage.get("methodSettings"), throttle)
    logs = stage.get("accessLogSettings") or {}
    if logs.get("destinationArn"):
        props["AccessLogSetting"] = pick(logs, {"destinationArn": "DestinationArn", "format": "Format"})
    if isinstance(stage.get("canarySettings"), dict):
        props["CanarySetting"] = pick(stage["canarySettings"], {
            "percentTraffic": "PercentTraffic", "deploymentId": "DeploymentId", "useStageCache": "UseStageCache"})
    ctx.add(Resource(id=arn, type=STAGE, properties=props, name=name, arn=arn,
                     metadata={"physical_id": name, "api_id": api_id}))
    if stage.get("webAclArn"):
        # The stage's web ACL, as the association a template would declare (graph: api.waf, stage.waf).
        ctx.add(Resource(id=f"{arn}/webacl", type=WAF_ASSOCIATION, name=str(stage["webAclArn"]).rsplit("/", 2)[-2:][0],
                         arn=stage["webAclArn"], properties={"ResourceArn": arn, "WebACLArn": stage["webAclArn"]}))


def _method(ctx: Ctx, api: Resource, res: dict[str, Any], verb: str, method: dict[str, Any],
            validators: dict[str, str], authorizers: dict[str, str], validators_failed: CallFailed | None) -> None:
    path = res.get("path") or "/"
    rid = f"{api.id}/resources/{res['id']}/methods/{verb}"
    # ResourcePath as the SAM expansion writes it: facts read a method's path from it (SEC019's catch-all).
    props: dict[str, Any] = {"RestApiId": ref(api.id), "ResourceId": res["id"], "ResourcePath": path,
                             "HttpMethod": verb, **pick(method, {
        "authorizationType": "AuthorizationType", "apiKeyRequired": "ApiKeyRequired",
        "requestModels": "RequestModels", "requestParameters": "RequestParameters",
        "operationName": "OperationName", "authorizationScopes": "AuthorizationScopes"})}
    if method.get("authorizerId"):
        props["AuthorizerId"] = ref(authorizers.get(method["authorizerId"], f"{api.id}/authorizers/{method['authorizerId']}"))
    validator = method.get("requestValidatorId")
    if validator:
        if validators_failed is not None:
            props["RequestValidatorId"] = validators_failed.unknown
        else:
            props["RequestValidatorId"] = ref(validators.get(validator, f"{api.id}/requestvalidators/{validator}"))
    integration = method.get("methodIntegration") or {}
    if integration:
        props["Integration"] = pick(integration, {
            "type": "Type", "uri": "Uri", "httpMethod": "IntegrationHttpMethod", "timeoutInMillis": "TimeoutInMillis",
            "credentials": "Credentials", "connectionType": "ConnectionType", "passthroughBehavior": "PassthroughBehavior"})
    ctx.add(Resource(id=rid, type=METHOD, properties=props, name=f"{api.name} {verb} {path}", arn=rid,
                     metadata={"path": path}))


def _usage_plans(ctx: Ctx) -> None:
    for plan in ctx.pages("GetUsagePlans", "items"):
        arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/usageplans/{plan['id']}"
        props: dict[str, Any] = {"UsagePlanName": plan.get("name"), **pick(plan, {"description": "Description"})}
        stages = []
        for s in plan.get("apiStages") or []:
            item: dict[str, Any] = {"ApiId": ref(api_arn(ctx, s["apiId"])), "Stage": s.get("stage")}
            if s.get("throttle"):
                item["Throttle"] = {path: pick(t, {"burstLimit": "BurstLimit", "rateLimit": "RateLimit"})
                                    for path, t in s["throttle"].items()}
            stages.append(item)
        props["ApiStages"] = stages
        if plan.get("throttle"):
            props["Throttle"] = pick(plan["throttle"], {"burstLimit": "BurstLimit", "rateLimit": "RateLimit"})
        if plan.get("quota"):
            props["Quota"] = pick(plan["quota"], {"limit": "Limit", "offset": "Offset", "period": "Period"})
        ctx.add(Resource(id=arn, type=USAGE_PLAN, properties=props, name=plan.get("name"), arn=arn,
                         metadata={"physical_id": plan["id"]}))
