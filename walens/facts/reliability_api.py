"""Reliability facts for APIs (Serverless Lens REL 1): methods that require API keys, and WAF rate limits.

A REST API requires API keys on methods with ``ApiKeyRequired: true`` (SAM ``Auth.ApiKeyRequired``),
or, in an OpenAPI ``Body``, on operations whose security requirement names an ``apiKey`` scheme. WAF
rate limiting is a rate-based rule in a web ACL associated with the API (directly, or through a rule
group of the same template).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource, Unknown

REST_API = "AWS::ApiGateway::RestApi"
WEB_ACL = "AWS::WAFv2::WebACL"
GRAPHQL_API = "AWS::AppSync::GraphQLApi"
OPENAPI_VERBS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"})
_PLACEHOLDER = re.compile(r"\{\{(?:ref|getatt):([^.}]+)")


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


def _api_key_schemes(body: dict[str, Any]) -> set[str]:
    schemes: dict[str, Any] = {}
    components = body.get("components")
    for container in (body.get("securityDefinitions"),
                      components.get("securitySchemes") if isinstance(components, dict) else None):
        if isinstance(container, dict):
            schemes.update(container)
    # Authorizers and SigV4 are declared as apiKey schemes too; an API key is the x-api-key header without them.
    return {name for name, spec in schemes.items() if isinstance(spec, dict) and spec.get("type") == "apiKey"
            and str(spec.get("name", "")).lower() == "x-api-key"
            and "x-amazon-apigateway-authorizer" not in spec and "x-amazon-apigateway-authtype" not in spec}


def _body_key_operations(body: Any) -> list[str]:
    """``VERB /path`` of the OpenAPI operations whose security requirement uses an apiKey scheme."""
    if not isinstance(body, dict) or not isinstance(body.get("paths"), dict):
        return []
    schemes = _api_key_schemes(body)
    if not schemes:
        return []
    default = body.get("security")
    out = []
    for path, item in body["paths"].items():
        if not isinstance(item, dict):
            continue
        for verb, op in item.items():
            if not (isinstance(verb, str) and verb.lower() in OPENAPI_VERBS and isinstance(op, dict)):
                continue
            requirements = op.get("security", default)
            if any(isinstance(req, dict) and any(name in schemes for name in req) for req in _as_list(requirements)):
                name = "ANY" if verb.lower() == "x-amazon-apigateway-any-method" else verb.upper()
                out.append(f"{name} {path}")
    return out


@fact("api_key_methods", types=[REST_API])
def api_key_methods(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """The methods (ids, or ``VERB /path`` of the OpenAPI Body) that require an API key."""
    methods = resource.related.get("methods") or []
    out: list[str] = []
    unknown: Unknown | None = None
    for method in methods:
        required = _props(method).get("ApiKeyRequired")
        if required is True or (isinstance(required, str) and required.lower() == "true"):
            verb, path = _props(method).get("HttpMethod"), _props(method).get("ResourcePath")
            # SAM-derived methods carry their path; a CloudFormation method is named by its logical ID.
            out.append(f"{verb} {path}" if isinstance(verb, str) and isinstance(path, str) else str(method.get("id")))
        elif isinstance(required, Unknown):
            unknown = required
    if not methods:
        out = _body_key_operations(_props(resource).get("Body"))
    if not out and unknown is not None:
        return unknown
    return out


def _mentioned(value: Any) -> set[str]:
    return set(_PLACEHOLDER.findall(value)) if isinstance(value, str) else set()


def _rate_based(rules: Any, groups: dict[str, Resource]) -> list[str] | Unknown:
    """Names of the rate-based rules among ``rules``, following rule-group references of the template."""
    if isinstance(rules, Unknown):
        return rules
    out: list[str] = []
    for rule in _as_list(rules):
        statement = rule.get("Statement") if isinstance(rule, dict) else None
        if not isinstance(statement, dict):
            continue
        name = str(rule.get("Name"))
        if "RateBasedStatement" in statement:
            out.append(name)
        reference = statement.get("RuleGroupReferenceStatement")
        arn = reference.get("Arn") if isinstance(reference, dict) else None
        for logical_id in _mentioned(arn):
            group = groups.get(logical_id)
            inner = _rate_based(_props(group).get("Rules"), {}) if group is not None else []
            if isinstance(inner, list) and inner:
                out.append(f"{name} ({', '.join(inner)})")
    return out


def _association_targets(acl: Resource, inventory: Sequence[Resource]) -> list[dict[str, str]]:
    """What the web ACL's associations in the template protect: REST APIs (stages) and AppSync APIs."""
    by_id = {r.id: r for r in inventory}
    out: list[dict[str, str]] = []
    for assoc in inventory:
        if assoc.type != "AWS::WAFv2::WebACLAssociation":
            continue
        props = _props(assoc)
        acl_arn = props.get("WebACLArn")
        if acl.id not in _mentioned(acl_arn) and not (isinstance(acl.arn, str) and acl_arn == acl.arn):
            continue
        target = props.get("ResourceArn")
        if not isinstance(target, str):
            continue
        kind = None
        if "/restapis/" in target:
            kind = "apigateway"
        elif ":appsync:" in target:
            kind = "appsync"
        for logical_id in _mentioned(target):
            r = by_id.get(logical_id)
            if r is not None and r.type == GRAPHQL_API:
                kind = "appsync"
            elif r is not None and r.type in (REST_API, "AWS::ApiGateway::Stage"):
                kind = "apigateway"
        if kind is not None:
            out.append({"kind": kind, "association": assoc.id})
    return out


@fact("waf_rate_limit", types=[WEB_ACL])
def waf_rate_limit(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """``{protects: [{kind, association}], rate_based_rules: [...]}`` of a WAFv2 web ACL."""
    groups = {r.id: r for r in inventory if r.type == "AWS::WAFv2::RuleGroup"}
    return {"protects": _association_targets(resource, inventory),
            "rate_based_rules": _rate_based(_props(resource).get("Rules"), groups)}


@fact("waf_rate_limited", types=[GRAPHQL_API])
def waf_rate_limited(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | Unknown:
    """``{web_acls: [...], rate_based: bool}``: the template's web ACLs associated with this AppSync API,
    and whether one of them has a rate-based rule."""
    acls: list[str] = []
    rate_based = False
    unknown: Unknown | None = None
    web_acls = {r.id: r for r in inventory if r.type == WEB_ACL}
    groups = {r.id: r for r in inventory if r.type == "AWS::WAFv2::RuleGroup"}
    for assoc in inventory:
        if assoc.type != "AWS::WAFv2::WebACLAssociation":
            continue
        props = _props(assoc)
        if resource.id not in _mentioned(props.get("ResourceArn")):
            continue
        for logical_id in _mentioned(props.get("WebACLArn")):
            acl = web_acls.get(logical_id)
            if acl is None:
                continue
            acls.append(acl.id)
            rules = _rate_based(_props(acl).get("Rules"), groups)
            if isinstance(rules, Unknown):
                unknown = rules
            elif rules:
                rate_based = True
    if not rate_based and unknown is not None:
        return unknown
    return {"web_acls": sorted(acls), "rate_based": rate_based}
