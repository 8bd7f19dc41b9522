"""AppSync: GraphQL APIs (authorization modes, field logging, X-Ray, visibility, web ACL).

One ``ListGraphqlApis`` sweep per region carries everything the rules read (OPS013 X-Ray, OPS018 field
logging, SEC007 API-key-only access, REL009 WAF rate limiting). An API's ``wafWebAclArn`` becomes the
``AWS::WAFv2::WebACLAssociation`` a template would declare, with the ``{{getatt:<id>.Arn}}`` placeholders
a template's ``!GetAtt`` gives, so the web ACL facts relate them unchanged (the ``wafv2`` collector
reads the web ACL itself and emits the same association, deduplicated by id).
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import Ctx
from walens.scanners.account.shape import capitalize_keys, pick

SERVICE = "appsync"
GRAPHQL_API = "AWS::AppSync::GraphQLApi"
WAF_ASSOCIATION = "AWS::WAFv2::WebACLAssociation"

OPERATIONS: dict[str, tuple[str, ...]] = {"ListGraphqlApis": (GRAPHQL_API,)}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    GRAPHQL_API: frozenset({"Name", "AuthenticationType", "Visibility", "ApiType", "IntrospectionConfig",
                            "QueryDepthLimit", "ResolverCountLimit", "OwnerContact", "XrayEnabled", "LogConfig",
                            "UserPoolConfig", "OpenIDConnectConfig", "LambdaAuthorizerConfig", "EnhancedMetricsConfig",
                            "AdditionalAuthenticationProviders"}),
    WAF_ASSOCIATION: frozenset({"ResourceArn", "WebACLArn"}),
}


def getatt(resource_id: str) -> str:
    return "{{getatt:" + resource_id + ".Arn}}"


def association(resource_arn: str, web_acl_arn: str) -> Resource:
    """A web ACL's association with an AppSync API, as a template's ``AWS::WAFv2::WebACLAssociation``."""
    return Resource(id=f"{resource_arn}/webacl", type=WAF_ASSOCIATION, name=web_acl_arn.rsplit("/", 2)[-2],
                    arn=web_acl_arn, properties={"ResourceArn": getatt(resource_arn), "WebACLArn": getatt(web_acl_arn)})


def api_properties(api: dict[str, Any]) -> dict[str, Any]:
    """A ``ListGraphqlApis``/``GetGraphqlApi`` entry as ``AWS::AppSync::GraphQLApi`` properties."""
    props: dict[str, Any] = pick(api, {"name": "Name", "authenticationType": "AuthenticationType",
                                       "visibility": "Visibility", "apiType": "ApiType",
                                       "introspectionConfig": "IntrospectionConfig",
                                       "queryDepthLimit": "QueryDepthLimit", "resolverCountLimit": "ResolverCountLimit",
                                       "ownerContact": "OwnerContact"})
    props["XrayEnabled"] = bool(api.get("xrayEnabled", False))
    for key in ("logConfig", "userPoolConfig", "openIDConnectConfig", "lambdaAuthorizerConfig",
                "enhancedMetricsConfig"):
        if isinstance(api.get(key), dict) and api[key]:
            props[key[:1].upper() + key[1:]] = capitalize_keys(api[key])
    if api.get("additionalAuthenticationProviders"):
        props["AdditionalAuthenticationProviders"] = capitalize_keys(api["additionalAuthenticationProviders"])
    return props


def collect(ctx: Ctx) -> None:
    for api in ctx.pages("ListGraphqlApis", "graphqlApis"):
        arn = api.get("arn") or ctx.arn("appsync", f"apis/{api['apiId']}")
        ctx.add(Resource(id=arn, type=GRAPHQL_API, properties=api_properties(api), name=api.get("name"), arn=arn,
                         metadata={"physical_id": api.get("apiId")}))
        if api.get("wafWebAclArn"):
            ctx.add(association(arn, str(api["wafWebAclArn"])))
