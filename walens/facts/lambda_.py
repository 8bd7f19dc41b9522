"""Lambda facts: role sharing, invocation (async and sync), runtime support, published versions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from walens.facts import fact, of_type, shared
from walens.graph import lambda_integrations
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"
_REST_API = "AWS::ApiGateway::RestApi"
_V2_API = "AWS::ApiGatewayV2::Api"
_PLACEHOLDER = re.compile(r"\{\{(?:ref|getatt):([^.}]+)")


def _role_key(fn: Resource) -> str | None:
    """What identifies a function's role: the linked role's id, else the literal Role value."""
    role = fn.related.get("role")
    if isinstance(role, dict):
        return "id:" + str(role["id"])
    value = fn.properties.get("Role") if isinstance(fn.properties, dict) else None
    return "arn:" + value if isinstance(value, str) else None


@fact("role_shared_with", types=[FUNCTION])
def role_shared_with(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """The ids of the other functions that use the same execution role, sorted."""
    key = _role_key(resource)
    if key is None:
        return []
    return [rid for rid in shared(inventory, "functions_by_role", _functions_by_role).get(key, ())
            if rid != resource.id]


def _functions_by_role(inventory: Sequence[Resource]) -> dict[str, list[str]]:
    """Role key -> the sorted ids of the functions using it."""
    groups: dict[str, list[str]] = {}
    for r in of_type(inventory, FUNCTION):
        key = _role_key(r)
        if key is not None:
            groups.setdefault(key, []).append(r.id)
    for ids in groups.values():
        ids.sort()
    return groups


@fact("invoked_async", types=[FUNCTION])
def invoked_async(resource: Resource, inventory: Sequence[Resource]) -> bool:
    """Whether something invokes the function asynchronously (async invokers or an EventInvokeConfig)."""
    related: dict[str, Any] = resource.related
    return bool(related.get("async_invokers")) or related.get("event_invoke_config") is not None


@fact("async_sources", types=[FUNCTION])
def async_sources(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Who invokes the function asynchronously, once each: ``"<service> <invoker>"`` sorted.

    A permission that names no source (no SourceArn) stands for its service only when nothing else of
    that service is known, so an SNS topic's subscription and its permission are one source.
    """
    invokers = [i for i in resource.related.get("async_invokers") or [] if isinstance(i, dict)]
    permissions = {p.get("id") for p in resource.related.get("permissions") or [] if isinstance(p, dict)}
    named = {i.get("service") for i in invokers if i.get("id") not in permissions}
    out = {f"{i.get('service')} {i.get('id')}" for i in invokers
           if i.get("id") not in permissions or i.get("service") not in named}
    if not out and resource.related.get("event_invoke_config") is not None:
        out.add("EventInvokeConfig")
    return sorted(out)


_RUNTIME_FAMILIES = ("nodejs", "python", "java", "dotnet", "ruby", "provided", "go")
# Runtimes Lambda never offered on arm64 (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html):
# the ones retired before Graviton support arrived in 2021, Amazon Linux 1 runtimes and go1.x.
_X86_ONLY = frozenset({
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "python2.7", "python3.6",
    "python3.7", "java8", "go1.x", "provided", "ruby2.5", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
})
# SnapStart: Java 11 and later, Python 3.12 and later, .NET 8 and later (cfn-lint E2530/I2530 agree).
_NO_SNAPSTART = frozenset({"java8", "java8.al2", "dotnet5.0", "dotnet6", "dotnet7", "python3.7", "python3.8",
                           "python3.9", "python3.10", "python3.11"})


def runtime_family(runtime: Any) -> str | None:
    """The language of a Lambda runtime id (``python3.13`` → ``python``), None if unrecognised."""
    if not isinstance(runtime, str):
        return None
    return next((f for f in _RUNTIME_FAMILIES if runtime.startswith(f)), None)


@fact("runtime_support", types=[FUNCTION])
def runtime_support(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """The runtime's language family and whether Lambda offers it on arm64 and with SnapStart.

    Each value is an Unknown when the runtime is, and None for container images and unknown runtimes.
    """
    props = resource.properties if isinstance(resource.properties, dict) else {}
    runtime = props.get("Runtime")
    if isinstance(runtime, Unknown):
        return {"family": runtime, "arm64": runtime, "snapstart": runtime}
    family = runtime_family(runtime)
    if props.get("PackageType") == "Image" or family is None or not isinstance(runtime, str):  # a family: a str
        return {"family": None, "arm64": None, "snapstart": None}
    snapstart = family in ("java", "python", "dotnet") and not runtime.startswith("dotnetcore") \
        and runtime not in _NO_SNAPSTART
    return {"family": family, "arm64": runtime not in _X86_ONLY, "snapstart": snapstart}


@fact("published_versions", types=[FUNCTION])
def published_versions(resource: Resource, inventory: Sequence[Resource]) -> bool:
    """Whether the template publishes versions of the function (an AWS::Lambda::Version or an alias)."""
    if resource.related.get("aliases"):
        return True
    keys = {"{{ref:" + resource.id + "}}", "{{getatt:" + resource.id + ".Arn}}"}
    if isinstance(resource.name, str):
        keys.add(resource.name)
    return any(isinstance(r.properties, dict) and r.properties.get("FunctionName") in keys
               for r in of_type(inventory, "AWS::Lambda::Version"))


def _api_integrations(inventory: Sequence[Resource]) -> dict[str, set[bool]]:
    """Function reference (logical id or name) -> whether each REST integration of it (Method resources and
    OpenAPI bodies) is asynchronous."""
    out: dict[str, set[bool]] = {}
    for api in [*of_type(inventory, "AWS::ApiGateway::Method"), *of_type(inventory, _REST_API)]:
        for ref, is_async in lambda_integrations(api):
            m = _PLACEHOLDER.match(ref)
            key = m.group(1) if m else ref.rsplit(":function:", 1)[-1].split(":", 1)[0]
            out.setdefault(key, set()).add(is_async)
    return out


def _only_async_api(fn: Resource, inventory: Sequence[Resource]) -> bool:
    """Every REST method that integrates the function invokes it asynchronously (X-Amz-Invocation-Type 'Event')."""
    index = shared(inventory, "lambda_api_integrations", _api_integrations)
    flags: set[bool] = index.get(fn.id, set()) | (index.get(fn.name, set()) if isinstance(fn.name, str) else set())
    return flags == {True}


@fact("sync_invokers", types=[FUNCTION])
def sync_invokers(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Services the template lets invoke the function synchronously and wait: ``apigateway``, ``url``, ``elb``."""
    out: set[str] = set()
    for perm in resource.related.get("permissions") or []:
        props = perm.get("Properties") if isinstance(perm, dict) else None
        principal = props.get("Principal") if isinstance(props, dict) else None
        if isinstance(principal, str) and principal.startswith("apigateway.") \
                and not _only_async_api(resource, inventory):
            out.add("apigateway")
        elif isinstance(principal, str) and principal.startswith("elasticloadbalancing."):
            out.add("elb")
    if resource.related.get("url") is not None:
        out.add("url")
    return sorted(out)



@fact("api_invoker_kind", types=[FUNCTION])
def api_invoker_kind(resource: Resource, inventory: Sequence[Resource]) -> str | Unknown | None:
    """``rest`` or ``http``: which kind of API Gateway API waits for the function (REST and WebSocket
    integrations time out at 29 s, HTTP API ones at 30 s); None when no API invokes it synchronously.

    A permission whose SourceArn names no API of the template leaves the kind open; that matters only for
    a Timeout above 29 s and at most 30 s, which is then an Unknown, otherwise ``rest``.
    """
    if "apigateway" not in sync_invokers(resource, inventory):
        return None
    by_id = shared(inventory, "by_id", lambda inv: {r.id: r for r in inv})
    kinds: set[str] = set()
    undetermined = False
    for perm in resource.related.get("permissions") or []:
        props = perm.get("Properties") if isinstance(perm, dict) else None
        principal = props.get("Principal") if isinstance(props, dict) else None
        if not (isinstance(props, dict) and isinstance(principal, str) and principal.startswith("apigateway.")):
            continue
        source = props.get("SourceArn")
        apis = [by_id[m.group(1)] for m in _PLACEHOLDER.finditer(source) if m.group(1) in by_id] \
            if isinstance(source, str) else []
        apis = [a for a in apis if a.type in (_REST_API, _V2_API)]
        if not apis:
            undetermined = True
        for api in apis:
            http = api.type == _V2_API and str(api.properties.get("ProtocolType", "")).upper() == "HTTP"
            kinds.add("http" if http else "rest")
    index = shared(inventory, "lambda_api_integrations", _api_integrations)
    if False in index.get(resource.id, set()):
        kinds.add("rest")
    if "rest" in kinds:
        return "rest"
    if kinds and not undetermined:
        return "http"
    timeout = resource.properties.get("Timeout") if isinstance(resource.properties, dict) else None
    if isinstance(timeout, Unknown):
        return timeout
    if isinstance(timeout, (int, float, str)) and not isinstance(timeout, bool):
        try:
            if 29 < float(timeout) <= 30:
                return Unknown("whether a REST (29 s) or an HTTP API (30 s) invokes the function "
                               "is not in the template")
        except ValueError:
            pass
    return "rest"
