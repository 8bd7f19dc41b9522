"""API Gateway v2 (HTTP and WebSocket APIs): APIs, stages, routes, authorizers.

References to the API and authorizers hold ``{{ref:<resource id>}}`` as in ``apigateway``.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import pick

SERVICE = "apigatewayv2"
API = "AWS::ApiGatewayV2::Api"
STAGE = "AWS::ApiGatewayV2::Stage"
ROUTE = "AWS::ApiGatewayV2::Route"
AUTHORIZER = "AWS::ApiGatewayV2::Authorizer"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "GetApis": (API, STAGE, ROUTE, AUTHORIZER),
    "GetStages": (STAGE,),
    "GetRoutes": (ROUTE,),
    "GetAuthorizers": (AUTHORIZER,),
}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    API: frozenset({"Name", "ProtocolType", "Description", "DisableExecuteApiEndpoint", "RouteSelectionExpression",
                    "ApiKeySelectionExpression", "CorsConfiguration"}),
    STAGE: frozenset({"ApiId", "StageName", "AutoDeploy", "DeploymentId", "Description", "StageVariables",
                      "DefaultRouteSettings", "RouteSettings", "AccessLogSettings"}),
    ROUTE: frozenset({"ApiId", "RouteKey", "AuthorizationType", "ApiKeyRequired", "AuthorizationScopes",
                      "OperationName", "Target", "AuthorizerId"}),
    AUTHORIZER: frozenset({"ApiId", "Name", "AuthorizerType", "IdentitySource", "JwtConfiguration", "AuthorizerUri",
                           "AuthorizerPayloadFormatVersion", "EnableSimpleResponses",
                           "AuthorizerResultTtlInSeconds"}),
}

_ROUTE_SETTINGS = ("DetailedMetricsEnabled", "LoggingLevel", "DataTraceEnabled", "ThrottlingBurstLimit",
                   "ThrottlingRateLimit")


def _ref(resource_id: str) -> str:
    return "{{ref:" + resource_id + "}}"


def collect(ctx: Ctx) -> None:
    for api in ctx.pages("GetApis", "Items"):
        arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/apis/{api['ApiId']}"
        props = pick(api, ("Name", "ProtocolType", "Description", "DisableExecuteApiEndpoint",
                           "RouteSelectionExpression", "ApiKeySelectionExpression", "IpAddressType"))
        if api.get("CorsConfiguration"):
            props["CorsConfiguration"] = api["CorsConfiguration"]
        resource = ctx.add(Resource(id=arn, type=API, properties=props, name=api.get("Name"), arn=arn,
                                    metadata=pick(api, {"ApiId": "physical_id", "ApiEndpoint": "ApiEndpoint"})))
        ctx.spawn(_children, ctx, resource, api["ApiId"])


def _children(ctx: Ctx, api: Resource, api_id: str) -> None:
    api_ref = _ref(api.id)
    try:
        for stage in ctx.pages("GetStages", "Items", ApiId=api_id):
            name = stage["StageName"]
            rid = f"{api.id}/stages/{name}"
            props: dict[str, Any] = {"ApiId": api_ref, "StageName": name, **pick(stage, (
                "AutoDeploy", "Description", "DeploymentId", "StageVariables", "ClientCertificateId"))}
            props["DefaultRouteSettings"] = pick(stage.get("DefaultRouteSettings"), _ROUTE_SETTINGS)
            if stage.get("RouteSettings"):
                props["RouteSettings"] = {k: pick(v, _ROUTE_SETTINGS) for k, v in stage["RouteSettings"].items()}
            if (stage.get("AccessLogSettings") or {}).get("DestinationArn"):
                props["AccessLogSettings"] = pick(stage["AccessLogSettings"], ("DestinationArn", "Format"))
            ctx.add(Resource(id=rid, type=STAGE, properties=props, name=name, arn=rid, metadata={"physical_id": name}))
    except CallFailed as exc:
        ctx.unknown(api, "related", "stages", exc)
    try:
        routes = ctx.pages("GetRoutes", "Items", ApiId=api_id)
    except CallFailed as exc:
        ctx.unknown(api, "related", "routes", exc)
        routes = []
    authorizers: dict[str, str] = {}
    # Only an API whose routes name an authorizer needs the call.
    if any(r.get("AuthorizerId") for r in routes):
        try:
            for a in ctx.pages("GetAuthorizers", "Items", ApiId=api_id):
                rid = f"{api.id}/authorizers/{a['AuthorizerId']}"
                authorizers[a["AuthorizerId"]] = rid
                ctx.add(Resource(id=rid, type=AUTHORIZER, name=a.get("Name"), arn=rid,
                                 metadata={"physical_id": a["AuthorizerId"]},
                                 properties={"ApiId": api_ref, **pick(a, (
                                     "Name", "AuthorizerType", "AuthorizerUri", "IdentitySource", "JwtConfiguration",
                                     "AuthorizerPayloadFormatVersion", "EnableSimpleResponses",
                                     "AuthorizerResultTtlInSeconds", "AuthorizerCredentialsArn"))}))
        except CallFailed as exc:
            ctx.unknown(api, "related", "authorizers", exc)
    for route in routes:
        rid = f"{api.id}/routes/{route['RouteId']}"
        props = {"ApiId": api_ref, **pick(route, ("RouteKey", "AuthorizationType", "ApiKeyRequired",
                                                  "AuthorizationScopes", "Target", "OperationName",
                                                  "RequestParameters", "RequestModels"))}
        if route.get("AuthorizerId"):
            props["AuthorizerId"] = _ref(authorizers.get(route["AuthorizerId"],
                                                          f"{api.id}/authorizers/{route['AuthorizerId']}"))
        props.setdefault("AuthorizationType", "NONE")
        ctx.add(Resource(id=rid, type=ROUTE, properties=props, name=f"{api.name} {route.get('RouteKey')}", arn=rid,
                         metadata={"physical_id": route["RouteId"]}))
