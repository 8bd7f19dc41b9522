"""API Gateway facts: request validation per method, and how a REST API is exposed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource, Unknown

BODY_VERBS = frozenset({"POST", "PUT", "PATCH", "ANY"})
OPENAPI_VERBS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"})
VALIDATOR_EXT = "x-amazon-apigateway-request-validator"
VALIDATORS_EXT = "x-amazon-apigateway-request-validators"


def _props(r: Resource) -> dict[str, Any]:
    return r.properties if isinstance(r.properties, dict) else {}


def _status(takes_body: bool, validator: dict[str, bool] | None, models: bool) -> str:
    if validator is None:
        return "not_validated"
    # Body validation needs a model to validate against; a method with a body (by verb, or a GET that
    # declares a body model) is validated only when the body is; otherwise parameters are what is checked.
    if takes_body or models:
        return "validated" if validator["body"] and models else "not_validated"
    return "validated" if validator["parameters"] else "not_validated"


def _openapi_validator(body: dict[str, Any], operation: dict[str, Any]) -> dict[str, bool] | None:
    """The validator an OpenAPI operation selects (operation-level, else the API-wide default)."""
    name = operation.get(VALIDATOR_EXT, body.get(VALIDATOR_EXT))
    validators = body.get(VALIDATORS_EXT)
    if not isinstance(name, str) or not isinstance(validators, dict):
        return None
    spec = validators.get(name)
    if not isinstance(spec, dict):
        return None
    return {"body": spec.get("validateRequestBody") is True, "parameters": spec.get("validateRequestParameters") is True}


@fact("validates_request", types=["AWS::ApiGateway::Method"])
def validates_request(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Whether a REST method validates its requests (a validator, plus a model when it takes a body)."""
    props = _props(resource)
    verb = props.get("HttpMethod")
    takes_body = isinstance(verb, str) and verb.upper() in BODY_VERBS
    models = bool(props.get("RequestModels")) and not isinstance(props.get("RequestModels"), Unknown)
    related = resource.related.get("validator")
    validator: dict[str, bool] | None = None
    unknown = isinstance(verb, Unknown)
    if isinstance(related, dict):
        vprops = related.get("Properties") or {}
        body, params = vprops.get("ValidateRequestBody"), vprops.get("ValidateRequestParameters")
        unknown |= isinstance(body, Unknown) or isinstance(params, Unknown)
        validator = {"body": body is True, "parameters": params is True}
    elif VALIDATOR_EXT in props:
        # SAM expansion may carry the OpenAPI extension onto a Method generated from a Body.
        api = resource.related.get("api")
        api_body = ((api or {}).get("Properties") or {}).get("Body")
        if isinstance(api_body, dict):
            validator = _openapi_validator(api_body, {VALIDATOR_EXT: props[VALIDATOR_EXT]})
        unknown |= validator is None
    elif props.get("RequestValidatorId") is not None:
        unknown = True  # a validator imported or created elsewhere: cannot tell what it checks
    status = "unknown" if unknown else _status(takes_body, validator, models)
    return {"takes_body": takes_body, "validator": validator, "models": models, "status": status}


def _body_operations(body: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, VERB, operation) for each operation of an OpenAPI document in a RestApi ``Body``."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    paths = body.get("paths") if isinstance(body, dict) else None
    if not isinstance(paths, dict):
        return out
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for verb, op in item.items():
            if isinstance(verb, str) and verb.lower() in OPENAPI_VERBS and isinstance(op, dict):
                name = "ANY" if verb.lower() == "x-amazon-apigateway-any-method" else verb.upper()
                out.append((str(path), name, op))
    return out


def _authorizing_schemes(body: dict[str, Any]) -> set[str]:
    """Security schemes that authorize a caller: SigV4 (IAM) or an API Gateway authorizer, not an API key."""
    schemes: dict[str, Any] = {}
    for container in (body.get("securityDefinitions"), (body.get("components") or {}).get("securitySchemes")
                      if isinstance(body.get("components"), dict) else None):
        if isinstance(container, dict):
            schemes.update(container)
    return {name for name, spec in schemes.items() if isinstance(spec, dict) and (
        "x-amazon-apigateway-authorizer" in spec or spec.get("x-amazon-apigateway-authtype") == "awsSigv4")}


def _policy_scoped_to_vpce(policy: Any) -> bool:
    """Whether some statement of a resource policy conditions on aws:SourceVpce or aws:SourceVpc."""
    if not isinstance(policy, dict):
        return False
    statements = policy.get("Statement")
    for stmt in statements if isinstance(statements, list) else [statements]:
        cond = stmt.get("Condition") if isinstance(stmt, dict) else None
        if isinstance(cond, dict):
            for block in cond.values():
                if isinstance(block, dict) and any(
                        isinstance(k, str) and k.lower() in ("aws:sourcevpce", "aws:sourcevpc") for k in block):
                    return True
    return False


def _methods_unknown(resource: Resource, body: Any, props: dict[str, Any]) -> Unknown | None:
    """Why the API's methods cannot be listed (an OpenAPI body in S3 or an intrinsic), None if they can."""
    if isinstance(body, Unknown):
        return body
    reason = resource.metadata.get("WalensMethodsUnknown") if isinstance(resource.metadata, dict) else None
    if isinstance(reason, str):  # set by the SAM expansion (scanners/sam_api.py)
        return Unknown(reason)
    if props.get("BodyS3Location") is not None:
        return Unknown("the API's OpenAPI definition is in S3 (BodyS3Location)")
    return None


# Condition keys that pin a caller to a network, an account or an organization.
_CALLER_KEYS = frozenset({"aws:sourceip", "aws:vpcsourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:principalorgid",
                          "aws:principalaccount", "aws:sourceaccount", "aws:principalarn", "aws:principalorgpaths"})
_INVOKE = frozenset({"execute-api:invoke", "execute-api:*", "*"})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _caller_conditions(stmt: dict[str, Any]) -> list[str]:
    """The condition operators of a statement that test a caller key (``aws:SourceIp``, ``aws:SourceVpc``...)."""
    cond = stmt.get("Condition")
    if not isinstance(cond, dict):
        return []
    return [str(op) for op, block in cond.items()
            if isinstance(block, dict) and any(isinstance(k, str) and k.lower() in _CALLER_KEYS for k in block)]


def _anyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, dict) and _listed(principal.get("AWS")) == ["*"])


def _policy_restricts_callers(policy: Any) -> bool | Unknown:
    """Whether a REST API's resource policy keeps anonymous callers out of the whole API: a Deny for anyone
    unless they come from listed IPs, VPCs, VPC endpoints, accounts or an organization (SAM's
    ``ResourcePolicy`` allow-lists), or Allow statements that all name principals or such conditions."""
    if isinstance(policy, Unknown):
        return policy
    if not isinstance(policy, dict):
        return False
    statements = [st for st in _listed(policy.get("Statement")) if isinstance(st, dict)]
    invoking = [st for st in statements
                if any(isinstance(a, str) and a.lower() in _INVOKE for a in _listed(st.get("Action")))]
    whole_api = ("*", "execute-api:/*")
    for st in invoking:
        if (st.get("Effect") == "Deny" and _anyone(st.get("Principal"))
                and any(r in whole_api or (isinstance(r, str) and r.endswith(":/*")) for r in _listed(st.get("Resource")))
                and any("not" in op.lower() for op in _caller_conditions(st))):
            return True
    allows = [st for st in invoking if st.get("Effect") == "Allow"]
    return bool(allows) and all(
        (st.get("Principal") is not None and not _anyone(st.get("Principal")))
        or any("not" not in op.lower() for op in _caller_conditions(st)) for st in allows)


def _private_policy_scoped(props: dict[str, Any]) -> bool | Unknown:
    """Whether a private API's resource policy is scoped to a VPC endpoint or VPC: the ``Policy`` property,
    else the OpenAPI body's ``x-amazon-apigateway-policy``; not known when the body is a file in S3."""
    policy = props.get("Policy")
    if isinstance(policy, Unknown):
        return policy
    body = props.get("Body")
    if policy is None and isinstance(body, dict):
        policy = body.get("x-amazon-apigateway-policy")
    if policy is None and props.get("BodyS3Location") is not None:
        return Unknown("the OpenAPI file in S3 may carry the resource policy (x-amazon-apigateway-policy)")
    return _policy_scoped_to_vpce(policy)


@fact("api_exposure", types=["AWS::ApiGateway::RestApi"])
def api_exposure(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """How a REST API is exposed: endpoint types, authorization on every method, WAF, private policy.

    ``protected``: a WAF web ACL, a resource policy that keeps anonymous callers out, or an authorizer on
    every method (an Unknown when they cannot be listed).
    """
    props = _props(resource)
    endpoint = props.get("EndpointConfiguration")
    types = endpoint.get("Types") if isinstance(endpoint, dict) else None
    endpoint_types = [t for t in types if isinstance(t, str)] if isinstance(types, list) else []
    private = endpoint_types == ["PRIVATE"]
    unauthorized: list[str] = []
    for method in resource.related.get("methods") or []:
        mprops = method.get("Properties") or {}
        verb = mprops.get("HttpMethod")
        if isinstance(verb, str) and verb.upper() == "OPTIONS":
            continue  # CORS preflight is unauthenticated by design
        if mprops.get("AuthorizationType", "NONE") == "NONE":
            # "GET /orders" where the path is known (SAM's events, an account's resources), else the logical ID.
            path = mprops.get("ResourcePath") or (method.get("Metadata") or {}).get("path")
            known = isinstance(verb, str) and isinstance(path, str)
            unauthorized.append(f"{str(verb).upper()} {path}" if known else method["id"])
    body = props.get("Body")
    if not resource.related.get("methods") and isinstance(body, dict):
        authorizing = _authorizing_schemes(body)
        default_security = body.get("security")
        for path, verb, op in _body_operations(body):
            if verb == "OPTIONS":
                continue
            requirements = op.get("security", default_security)
            if not any(isinstance(req, dict) and any(name in authorizing for name in req)
                       for req in (requirements if isinstance(requirements, list) else [])):
                unauthorized.append(f"{verb} {path}")
    # graph.link sets the API's `waf` for an association with the API or with any of its stages.
    waf = resource.related.get("waf") is not None
    everywhere: bool | Unknown = not unauthorized
    if not resource.related.get("methods") and not isinstance(body, dict):
        everywhere = _methods_unknown(resource, body, props) or everywhere
    restricted = _policy_restricts_callers(props.get("Policy"))
    # SEC002: a WAF or a resource policy that keeps anonymous callers out settles it even when the methods
    # are unknown; otherwise an authorizer on every method (an Unknown when they cannot be listed, or when
    # some method is open and the policy cannot be read).
    protected: bool | Unknown = True if waf or restricted is True else everywhere
    if protected is False and isinstance(restricted, Unknown):
        protected = restricted
    return {
        "endpoint_types": endpoint_types,
        "public": bool(endpoint_types) and not private,
        "has_authorizer_everywhere": everywhere,  # an Unknown when the methods cannot be listed
        "protected": protected,
        "unauthorized_methods": unauthorized,
        "waf": waf,
        "private_policy_scoped_to_vpce": _private_policy_scoped(props) if private else None,
        "restricted_by_policy": restricted,
    }


def _operation_has_model(op: dict[str, Any]) -> bool:
    """Whether an OpenAPI operation declares a body schema (Swagger 2 `in: body`, OpenAPI 3 `requestBody`)."""
    for param in op.get("parameters") or []:
        if isinstance(param, dict) and param.get("in") == "body" and param.get("schema"):
            return True
    content = (op.get("requestBody") or {}).get("content") if isinstance(op.get("requestBody"), dict) else None
    return isinstance(content, dict) and any(isinstance(c, dict) and c.get("schema") for c in content.values())


@fact("body_request_validation", types=["AWS::ApiGateway::RestApi"])
def body_request_validation(resource: Resource, inventory: Sequence[Resource]) -> dict[str, dict[str, Any]]:
    """Per ``"VERB /path"`` of the API's OpenAPI ``Body``, the same verdict as ``validates_request``."""
    body = _props(resource).get("Body")
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(body, dict):
        return out
    for path, verb, op in _body_operations(body):
        if verb == "OPTIONS":
            continue
        takes_body = verb in BODY_VERBS
        validator = _openapi_validator(body, op)
        models = _operation_has_model(op)
        out[f"{verb} {path}"] = {"takes_body": takes_body, "validator": validator, "models": models,
                                 "status": _status(takes_body, validator, models)}
    return out
