"""AWS WAF (v2, REGIONAL scope): web ACLs with their rules, and what each protects.

``ListWebACLs`` sweep per region, ``GetWebACL`` per web ACL (its ``Rules``: REL008 looks for a rate-based
rule), and ``ListResourcesForWebACL`` per web ACL for API Gateway stages and AppSync APIs: each
protected resource becomes the ``AWS::WAFv2::WebACLAssociation`` a template would declare, with the
ids the ``apigateway`` collector (a stage's ``webAclArn``) and the ``appsync`` collector (an API's
``wafWebAclArn``) give it, so the associations they see too are one resource (``finalize``), the
public-API rule (SEC002) sees the web ACL through the stage, and the web ACL facts see what it protects.
CloudFront (GLOBAL scope) web ACLs protect no regional API and are not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from walens.model import Resource
from walens.scanners.account.appsync import association as appsync_association
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import pick

SERVICE = "wafv2"
WEB_ACL = "AWS::WAFv2::WebACL"
ASSOCIATION = "AWS::WAFv2::WebACLAssociation"
GRAPHQL_API = "AWS::AppSync::GraphQLApi"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ListWebACLs": (WEB_ACL, ASSOCIATION),
    "GetWebACL": (),
    "ListResourcesForWebACL": (ASSOCIATION,),
}
# Without the web ACL listing, whether a rate-based rule protects an AppSync API cannot be known.
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "ListWebACLs": [(GRAPHQL_API, "facts", "waf_rate_limited")],
}
# ListResourcesForWebACL's ResourceType for what the lens rules judge.
_RESOURCE_TYPES = ("API_GATEWAY", "APPSYNC")
# Error "codes" botocore fills in from the HTTP status when the body is not an AWS error document.
_NO_AWS_ERROR = frozenset({"500", "501"})
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    WEB_ACL: frozenset({"Scope", "Name", "Description", "DefaultAction", "Rules", "VisibilityConfig",
                        "CustomResponseBodies", "CaptchaConfig", "ChallengeConfig", "TokenDomains",
                        "AssociationConfig"}),
    ASSOCIATION: frozenset({"ResourceArn", "WebACLArn"}),
}


def web_acl_properties(acl: dict[str, Any]) -> dict[str, Any]:
    """``GetWebACL``'s ``WebACL`` as ``AWS::WAFv2::WebACL`` properties (the API already speaks CloudFormation's names)."""
    props: dict[str, Any] = {"Scope": "REGIONAL", **pick(acl, ("Name", "Description", "DefaultAction", "Rules",
                                                               "VisibilityConfig", "CustomResponseBodies",
                                                               "CaptchaConfig", "ChallengeConfig", "TokenDomains",
                                                               "AssociationConfig"))}
    if not props.get("Description"):
        props.pop("Description", None)
    return props


def rest_stage_association(stage_arn: str, web_acl_arn: str) -> Resource:
    """The association as ``apigateway`` builds it from a stage's ``webAclArn`` (same id, same properties)."""
    return Resource(id=f"{stage_arn}/webacl", type=ASSOCIATION, name=web_acl_arn.rsplit("/", 2)[-2], arn=web_acl_arn,
                    properties={"ResourceArn": stage_arn, "WebACLArn": web_acl_arn})


def _follow(ctx: Ctx, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item under ``key``, following ``NextMarker`` (WAFv2 listings have no botocore paginator)."""
    items: list[Any] = []
    marker: str | None = None
    while True:
        page: dict[str, Any] = {"NextMarker": marker} if marker else {}
        answer = ctx.call(operation, **params, **page) or {}
        items.extend(answer.get(key) or [])
        marker = answer.get("NextMarker")
        if not marker or not answer.get(key):
            return items


def collect(ctx: Ctx) -> None:
    for summary in _follow(ctx, "ListWebACLs", "WebACLs", Scope="REGIONAL", Limit=100):
        ctx.spawn(_web_acl, ctx, summary)


def _web_acl(ctx: Ctx, summary: dict[str, Any]) -> None:
    arn = summary["ARN"]
    name = summary.get("Name")
    try:
        answer = ctx.call("GetWebACL", Name=name, Scope="REGIONAL", Id=summary["Id"], missing_ok=True)
    except CallFailed as exc:
        answer = None
        ctx.add(Resource(id=arn, type=WEB_ACL, name=name, arn=arn,
                         properties={"Name": name, "Scope": "REGIONAL", "Rules": exc.unknown}))
    else:
        if answer is None:
            return  # deleted between the listing and now
        acl = answer.get("WebACL") or {}
        ctx.add(Resource(id=arn, type=WEB_ACL, properties=web_acl_properties(acl), name=name, arn=arn,
                         metadata=pick(acl, ("Capacity",))))
    for kind in _RESOURCE_TYPES:
        try:
            resources = ctx.pages("ListResourcesForWebACL", "ResourceArns", WebACLArn=arn, ResourceType=kind,
                                  record=False)
        except CallFailed as exc:
            if exc.gap.kind == "not_supported" or exc.gap.error_code in _NO_AWS_ERROR:
                # An emulator without the call (moto's server answers an HTML 500 with no AWS error code):
                # the stage's webAclArn and the AppSync API's wafWebAclArn (read by their own collectors)
                # still show the association.
                continue
            ctx.scope.collected.add_gap(exc.gap)
            continue
        for resource_arn in resources:
            if "/restapis/" in resource_arn and "/stages/" in resource_arn:
                ctx.add(rest_stage_association(resource_arn, arn))
            elif ":appsync:" in resource_arn:
                ctx.add(appsync_association(resource_arn, arn))


def finalize(resources: Sequence[Resource]) -> list[Resource]:
    """One association per protected resource: the one ``apigateway``/``appsync`` saw and this one are the same."""
    seen: set[str] = set()
    out = []
    for r in resources:
        if r.type == ASSOCIATION and r.source == "account":
            if r.id in seen:
                continue
            seen.add(r.id)
        out.append(r)
    return out
