"""Security facts for API Gateway (REST, HTTP, WebSocket) and AppSync: who may call each operation.

Every fact here reports *operations* (``"POST /orders"``, ``"$connect"``) so that one rule can judge a
single ``AWS::ApiGateway::Method``/``AWS::ApiGatewayV2::Route`` and a whole API defined by an OpenAPI
``Body`` (plain CloudFormation writes no Method resources for those) with the same expression.
A value the template does not determine is an :class:`Unknown`, so the rule ends ``not_assessed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.facts.apigateway import BODY_VERBS, _body_operations, _openapi_validator, _operation_has_model, _status
from walens.model import Resource, Unknown

METHOD = "AWS::ApiGateway::Method"
REST_API = "AWS::ApiGateway::RestApi"
ROUTE = "AWS::ApiGatewayV2::Route"
HTTP_API = "AWS::ApiGatewayV2::Api"
APPSYNC = "AWS::AppSync::GraphQLApi"
_METHODS_UNKNOWN = "WalensMethodsUnknown"  # set by the SAM expansion when it cannot list an API's methods
_REF = re.compile(r"^\{\{ref:([^}]+)\}\}$")
_ROOT = re.compile(r"^\{\{getatt:[^.}]+\.RootResourceId\}\}$")


def _props(r: Resource | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(r, Resource):
        return r.properties if isinstance(r.properties, dict) else {}
    props = (r or {}).get("Properties")
    return props if isinstance(props, dict) else {}


def _true(value: Any) -> bool | Unknown:
    if isinstance(value, Unknown):
        return value
    return value is True or (isinstance(value, str) and value.lower() == "true")


# -- operations ------------------------------------------------------------------------------------


def _resource_path(resource_id: Any, inventory: Sequence[Resource]) -> str | None:
    """The path of an ``AWS::ApiGateway::Resource`` chain (``/orders/{id}``), None when it leaves the template."""
    by_id = {r.id: r for r in inventory if r.type == "AWS::ApiGateway::Resource"}
    parts: list[str] = []
    for _ in range(50):
        if isinstance(resource_id, str) and _ROOT.match(resource_id):
            return "/" + "/".join(reversed(parts))
        m = _REF.match(resource_id) if isinstance(resource_id, str) else None
        node = by_id.get(m.group(1)) if m else None
        if node is None:
            return None
        part = _props(node).get("PathPart")
        if not isinstance(part, str):
            return None
        parts.append(part)
        resource_id = _props(node).get("ParentId")
    return None


def method_operation(resource: Resource, inventory: Sequence[Resource]) -> str:
    """``"VERB /path"`` of a REST method (the verb alone when its path cannot be told)."""
    props = _props(resource)
    verb = props.get("HttpMethod")
    verb = verb.upper() if isinstance(verb, str) else "?"
    path = props.get("ResourcePath")  # written by the SAM expansion
    if not isinstance(path, str):
        path = _resource_path(props.get("ResourceId"), inventory)
    return f"{verb} {path}" if path else verb


def _route_protocol(resource: Resource) -> str | Unknown:
    """HTTP or WEBSOCKET for a route: its API's protocol, else what its route key implies."""
    api = resource.related.get("api")
    protocol = _props(api).get("ProtocolType") if api else None
    if isinstance(protocol, Unknown):
        return protocol
    if isinstance(protocol, str):
        return protocol.upper()
    if api is not None:
        return "HTTP"  # ProtocolType may be left out only with an OpenAPI Body, which WebSocket APIs cannot have
    key = _props(resource).get("RouteKey")
    if isinstance(key, Unknown):
        return key
    if key in ("$connect", "$disconnect"):
        return "WEBSOCKET"
    if isinstance(key, str) and " " in key:
        return "HTTP"
    return Unknown("the route's API is not in the template, so its protocol (HTTP or WebSocket) is unknown")


# -- authorization ---------------------------------------------------------------------------------


def _scheme_kind(scheme: Any) -> str:
    """``auth`` for a scheme that authorizes a caller, ``key`` for an API key, ``other`` otherwise."""
    if not isinstance(scheme, dict):
        return "other"
    kind = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
    if "x-amazon-apigateway-authorizer" in scheme or kind in ("awssigv4", "cognito_user_pools", "custom"):
        return "auth"
    if scheme.get("type") in ("oauth2", "openIdConnect"):
        return "auth"
    if scheme.get("type") == "apiKey":
        return "key"
    return "other"


def _schemes(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    components = body.get("components")
    for container in (body.get("securityDefinitions"),
                      components.get("securitySchemes") if isinstance(components, dict) else None):
        if isinstance(container, dict):
            out.update(container)
    return out


def _body_authorization(body: dict[str, Any]) -> list[tuple[str, bool, bool]]:
    """(operation, authorized, api key required) for each operation of an OpenAPI document but OPTIONS."""
    schemes = _schemes(body)
    default = body.get("security")
    out = []
    for path, verb, op in _body_operations(body):
        if verb == "OPTIONS":
            continue
        requirements = op.get("security", default)
        authorized = key = False
        for req in requirements if isinstance(requirements, list) else []:
            if not isinstance(req, dict):
                continue
            kinds = {_scheme_kind(schemes.get(name)) for name in req}
            # One requirement object lists schemes that must *all* be satisfied; alternatives are separate objects.
            authorized |= "auth" in kinds
            key |= "key" in kinds
        out.append((f"{verb} {path}", authorized, key))
    return out


def _summary(ops: list[tuple[str, Any, Any]]) -> dict[str, Any]:
    """The auth summary of (operation, authorized, api key required) triples, Unknowns carried through."""
    checked: list[str] | Unknown = []
    anonymous: list[str] | Unknown = []
    keyed: list[str] | Unknown = []
    key_only: list[str] | Unknown = []
    for op, authorized, key in ops:
        if isinstance(key, Unknown):
            checked = keyed = key
            continue
        if key:
            if isinstance(keyed, list):
                keyed.append(op)
            if isinstance(authorized, Unknown):
                key_only = authorized
            elif not authorized and isinstance(key_only, list):
                key_only.append(op)
            continue
        if isinstance(checked, list):
            checked.append(op)
        if isinstance(authorized, Unknown):
            anonymous = authorized
        elif not authorized and isinstance(anonymous, list):
            anonymous.append(op)
    return {"checked": checked, "anonymous": anonymous, "keyed": keyed, "key_only": key_only}


def _empty() -> dict[str, Any]:
    return {"checked": [], "anonymous": [], "keyed": [], "key_only": []}


def _all(value: Unknown) -> dict[str, Any]:
    return {"checked": value, "anonymous": value, "keyed": value, "key_only": value}


def _methods_unknown(resource: Resource) -> Unknown | None:
    reason = resource.metadata.get(_METHODS_UNKNOWN) if isinstance(resource.metadata, dict) else None
    return Unknown(str(reason)) if reason else None


@fact("api_authorization", types=[METHOD, ROUTE, REST_API, HTTP_API, APPSYNC])
def api_authorization(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Which operations accept callers without authorization, or with only an API key.

    ``checked``: operations judged for authorization (OPTIONS and key-protected ones excluded);
    ``anonymous``: those of them with no authorizer, IAM or JWT; ``keyed``: operations that require an
    API key; ``key_only``: those of them with nothing else. An API (RestApi, ApiGatewayV2 Api) is judged
    here only when no Method/Route resource describes it, i.e. from its OpenAPI ``Body`` (or a quick-create
    ``Target``); otherwise its methods or routes are judged one by one.
    """
    props = _props(resource)
    if resource.type == METHOD:
        verb = props.get("HttpMethod")
        if isinstance(verb, Unknown):
            return _all(verb)
        if isinstance(verb, str) and verb.upper() == "OPTIONS":
            return _empty()  # CORS preflight carries no credentials
        auth = props.get("AuthorizationType", "NONE")
        authorized = auth if isinstance(auth, Unknown) else str(auth).upper() != "NONE"
        return _summary([(method_operation(resource, inventory), authorized, _true(props.get("ApiKeyRequired")))])
    if resource.type == ROUTE:
        protocol = _route_protocol(resource)
        key = props.get("RouteKey")
        if isinstance(protocol, Unknown) or isinstance(key, Unknown):
            return _all(protocol if isinstance(protocol, Unknown) else key)  # type: ignore[arg-type]
        if protocol == "WEBSOCKET" and key != "$connect":
            return _empty()  # only $connect can be authorized on a WebSocket API
        if protocol == "HTTP" and isinstance(key, str) and key.upper().startswith("OPTIONS "):
            return _empty()
        auth = props.get("AuthorizationType", "NONE")
        authorized = auth if isinstance(auth, Unknown) else str(auth).upper() != "NONE"
        api_key = _true(props.get("ApiKeyRequired")) if protocol == "WEBSOCKET" else False
        return _summary([(str(key), authorized, api_key)])
    if resource.type == APPSYNC:
        kinds = [props.get("AuthenticationType")]
        extra = props.get("AdditionalAuthenticationProviders")
        if isinstance(extra, Unknown):
            return _all(extra)
        for provider in extra if isinstance(extra, list) else []:
            kinds.append(provider.get("AuthenticationType") if isinstance(provider, dict) else None)
        unknown = next((k for k in kinds if isinstance(k, Unknown)), None)
        if unknown is not None:
            return _all(unknown)
        if "API_KEY" not in kinds:
            return _empty()
        return _summary([("GraphQL API", any(k != "API_KEY" for k in kinds), True)])
    # A whole API: judged from its definition only when no Method/Route resource describes it.
    children = resource.related.get("methods" if resource.type == REST_API else "routes")
    if children:
        return _empty()
    if resource.type == HTTP_API:
        api_protocol = props.get("ProtocolType")
        if isinstance(api_protocol, str) and api_protocol.upper() == "WEBSOCKET":
            return _empty()
        if props.get("Target") is not None:
            # Quick create: API Gateway adds a $default route (or RouteKey) that has no authorization.
            key = props.get("RouteKey", "$default")
            return _summary([(key if isinstance(key, str) else "$default", False, False)])
    body = props.get("Body")
    if isinstance(body, Unknown):
        return _all(body)
    if isinstance(body, dict):
        return _summary(_body_authorization(body))
    unknown = _methods_unknown(resource)
    if unknown is None and props.get("BodyS3Location") is not None:
        unknown = Unknown("the OpenAPI definition is in S3 (BodyS3Location)")
    return _all(unknown) if unknown is not None else _empty()


# -- request validation ----------------------------------------------------------------------------


def _body_operation(api: dict[str, Any] | None, path: Any, verb: str) -> dict[str, Any] | None:
    """The OpenAPI operation of the method's API Body for (path, verb), if the API has one."""
    body = _props(api).get("Body")
    if not isinstance(body, dict) or not isinstance(path, str):
        return None
    for op_path, op_verb, op in _body_operations(body):
        if op_path == path and op_verb == verb:
            return op
    return None


@fact("request_validation", types=[METHOD, REST_API])
def request_validation(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Operations that take a body (``checked``) and those of them API Gateway does not validate.

    Validated means: a request validator with ``ValidateRequestBody`` plus a model for the body, from
    an ``AWS::ApiGateway::RequestValidator`` and ``RequestModels``, SAM's ``RequestModel`` with
    ``ValidateBody``, or OpenAPI ``x-amazon-apigateway-request-validator(s)`` with a body schema.
    """
    props = _props(resource)
    if resource.type == REST_API:
        if resource.related.get("methods"):
            return {"checked": [], "unvalidated": []}
        body = props.get("Body")
        if isinstance(body, Unknown):
            return {"checked": body, "unvalidated": body}
        if not isinstance(body, dict):
            unknown = _methods_unknown(resource)
            if unknown is None and props.get("BodyS3Location") is not None:
                unknown = Unknown("the OpenAPI definition is in S3 (BodyS3Location)")
            return {"checked": unknown, "unvalidated": unknown} if unknown else {"checked": [], "unvalidated": []}
        checked, unvalidated = [], []
        for path, body_verb, body_op in _body_operations(body):
            if body_verb not in BODY_VERBS:
                continue
            name = f"{body_verb} {path}"
            checked.append(name)
            if _status(True, _openapi_validator(body, body_op), _operation_has_model(body_op)) != "validated":
                unvalidated.append(name)
        return {"checked": checked, "unvalidated": unvalidated}
    verb = props.get("HttpMethod")
    if isinstance(verb, Unknown):
        return {"checked": verb, "unvalidated": verb}
    if not isinstance(verb, str) or verb.upper() not in BODY_VERBS:
        return {"checked": [], "unvalidated": []}
    name = method_operation(resource, inventory)
    api = resource.related.get("api")
    op = _body_operation(api, props.get("ResourcePath"), verb.upper())
    models = props.get("RequestModels")
    if isinstance(models, Unknown):
        return {"checked": [name], "unvalidated": models}
    has_model = bool(models) or (op is not None and _operation_has_model(op))
    validator: dict[str, bool] | None = None
    related = resource.related.get("validator")
    if isinstance(related, dict):
        vprops = _props(related)
        body_flag, params_flag = vprops.get("ValidateRequestBody"), vprops.get("ValidateRequestParameters")
        for flag in (body_flag, params_flag):
            if isinstance(flag, Unknown):
                return {"checked": [name], "unvalidated": flag}
        validator = {"body": _true(body_flag) is True, "parameters": _true(params_flag) is True}
    elif isinstance(props.get("RequestValidatorId"), Unknown):
        return {"checked": [name], "unvalidated": props["RequestValidatorId"]}
    elif props.get("RequestValidatorId") is not None:
        unknown = Unknown("the method's request validator is not defined in the template")
        return {"checked": [name], "unvalidated": unknown}
    elif op is not None or isinstance(_props(api).get("Body"), dict):
        api_body = _props(api).get("Body")  # a dict: op comes from it when not None
        validator = _openapi_validator(api_body if isinstance(api_body, dict) else {}, op or {})
    validated = _status(True, validator, has_model) == "validated"
    return {"checked": [name], "unvalidated": [] if validated else [name]}


# -- hints -----------------------------------------------------------------------------------------


def _lambda_uri(uri: Any) -> bool:
    return isinstance(uri, str) and ":lambda:path/" in uri


def _route_integration(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | None:
    props = _props(resource)
    inline = props.get("Integration")  # the SAM expansion writes the Lambda proxy integration inline
    if isinstance(inline, dict):
        return {"type": inline.get("Type"), "uri": inline.get("Uri")}
    target = props.get("Target")
    m = re.search(r"\{\{ref:([^}]+)\}\}", target) if isinstance(target, str) else None
    if m:
        for r in inventory:
            if r.id == m.group(1) and r.type == "AWS::ApiGatewayV2::Integration":
                p = _props(r)
                return {"type": p.get("IntegrationType"), "uri": p.get("IntegrationUri")}
    return None


def _catch_all_path(path: str) -> bool:
    return path in ("/{proxy+}", "$default")


@fact("catch_all_function", types=[METHOD, ROUTE])
def catch_all_function(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Whether a Lambda proxy integration serves a catch-all route (``ANY /{proxy+}`` or ``$default``)."""
    props = _props(resource)
    if resource.type == METHOD:
        integration = props.get("Integration")
        itype = integration.get("Type") if isinstance(integration, dict) else None
        uri = integration.get("Uri") if isinstance(integration, dict) else None
        operation = method_operation(resource, inventory)
        verb, _, path = operation.partition(" ")
    else:
        integration = _route_integration(resource, inventory)
        itype = integration.get("type") if integration else None
        uri = integration.get("uri") if integration else None
        key = props.get("RouteKey")
        operation = key if isinstance(key, str) else "?"
        verb, _, path = operation.partition(" ") if " " in operation else ("ANY", "", operation)
    if isinstance(itype, Unknown):
        return {"lambda_proxy": itype, "catch_all": itype, "operation": operation}
    lambda_proxy = isinstance(itype, str) and itype.upper() == "AWS_PROXY" and (_lambda_uri(uri) or uri is None)
    if resource.type == ROUTE and _route_protocol(resource) == "WEBSOCKET":
        lambda_proxy = False
    catch_all = verb.upper() == "ANY" and _catch_all_path(path)
    return {"lambda_proxy": lambda_proxy, "catch_all": catch_all, "operation": operation}
