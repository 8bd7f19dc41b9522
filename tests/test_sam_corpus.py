"""walens's native SAM expansion against aws-sam-translator's output on its own test corpus."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from corpus import INPUT, OUTPUT
from walens.errors import InputError
from walens.scanners import sam_api
from walens.scanners.sam import expand

pytestmark = pytest.mark.corpus

# Generated resource types compared by logical ID, and the properties compared on each.
COMPARED: dict[str, tuple[str, ...]] = {
    "AWS::Lambda::Function": ("MemorySize", "Timeout", "Runtime", "TracingConfig", "Architectures",
                              "LoggingConfig", "VpcConfig", "ReservedConcurrentExecutions",
                              "DeadLetterConfig", "Environment"),
    "AWS::Lambda::EventSourceMapping": ("BatchSize", "FunctionResponseTypes", "DestinationConfig",
                                        "BisectBatchOnFunctionError", "MaximumRetryAttempts"),
    "AWS::ApiGateway::RestApi": ("EndpointConfiguration",),
    "AWS::ApiGateway::Stage": ("StageName", "MethodSettings", "TracingEnabled", "AccessLogSetting",
                               "CacheClusterEnabled"),
    "AWS::ApiGatewayV2::Api": (),
    "AWS::ApiGatewayV2::Stage": ("DefaultRouteSettings", "AccessLogSettings"),
    "AWS::StepFunctions::StateMachine": ("TracingConfiguration", "LoggingConfiguration"),
    "AWS::DynamoDB::Table": (),
    "AWS::Lambda::EventInvokeConfig": (),
    "AWS::Lambda::Url": (),
    "AWS::CodeDeploy::DeploymentGroup": (),
    "AWS::SNS::Subscription": (),
    "AWS::ApiGatewayV2::Route": ("AuthorizationType",),
}

# Inputs left out of the comparison, each with why.
EXCLUDED: dict[str, str] = {
    "implicit_api_with_serverless_rest_api_resource":
        "a Function named ServerlessRestApi: SAM silently replaces it with the implicit API; walens keeps it",
    "api_merge_definitions_with_any_method":
        "DefinitionBody has `swagger: 2` (a number): SAM drops the event paths, walens keeps them",
    "api_with_merge_definitions_null_paths":
        "DefinitionBody has `swagger: 2` (a number): SAM drops the event paths, walens keeps them",
    "api_with_any_method_in_swagger":
        "HttpApi events on a REST Api: SAM writes them into the REST body; walens does not attach them",
    "resource_with_invalid_type":
        "a resource Type that is a mapping: CloudFormation rejects it; walens reports an InputError",
    "unsupported_resources":
        "a resource without Type: CloudFormation rejects it; walens reports an InputError",
}

# Deliberate differences, normalised before comparing (one line of reason each):
# - AWS::ApiGatewayV2::Route: SAM writes HTTP API routes into the OpenAPI Body, walens emits Route
#   resources; walens's HTTP routes are compared with the translator's Body (test_methods_match_openapi),
#   not by logical ID.
# - AWS::ApiGateway::Method: likewise, REST methods are compared with the translator's Body paths.
# - AWS::SNS::Subscription from a topic's inline Subscription list: SNS creates those, not SAM (the
#   translator passes the topic through); walens models them for REL017/COST013, so they are left out.


def _unhash_versions(value: Any) -> Any:
    """Undo SAM's rewrite of ``!Ref Fn.Version`` into its hashed ``FnVersion<sha>`` logical ID."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and isinstance(value["Ref"], str):
            match = re.fullmatch(r"(.+)Version[0-9a-f]{10}", value["Ref"])
            if match:
                return {"Ref": f"{match.group(1)}.Version"}
        return {k: _unhash_versions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unhash_versions(v) for v in value]
    return value


def load_yaml(path: Path) -> Any:
    """Decode a template with cfn-lint's decoder (tests only: walens's loader lands separately)."""
    from cfnlint.decode import decode_str

    template, matches = decode_str(path.read_text(encoding="utf-8"))
    if template is None:
        raise InputError(f"{path.name}: {matches[0] if matches else 'undecodable'}", kind="yaml")
    return template


def load_output(name: str) -> Mapping[str, Any] | None:
    """The translator's CloudFormation for corpus input ``name``; None when it has none (an error case)."""
    import json

    path = OUTPUT / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    resources = data.get("Resources")
    return resources if isinstance(resources, Mapping) else None


def _not_compared(resource: Any) -> bool:
    if resource.type == "AWS::SNS::Subscription" and resource.origin_type == "AWS::SNS::Topic":
        return True  # an inline subscription of a plain topic (see the deliberate differences above)
    return resource.type == "AWS::ApiGatewayV2::Route" and resource.origin_type != "AWS::Serverless::WebSocketApi"


def compare_file(name: str) -> list[str] | None:
    """Differences between walens and the translator on one corpus input (None: nothing to compare)."""
    ours = expand(load_yaml(INPUT / f"{name}.yaml"))
    theirs = load_output(name)
    if theirs is None:
        return None
    mine = {r.logical_id: r for r in ours if r.type in COMPARED and not _not_compared(r)}
    other = {lid: r for lid, r in theirs.items() if isinstance(r, Mapping) and r.get("Type") in COMPARED}
    diffs: list[str] = []
    for lid in sorted(set(mine) - set(other)):
        diffs.append(f"extra {lid} ({mine[lid].type})")
    for lid in sorted(set(other) - set(mine)):
        diffs.append(f"missing {lid} ({other[lid]['Type']})")
    for lid in sorted(set(mine) & set(other)):
        if mine[lid].type != other[lid]["Type"]:
            diffs.append(f"{lid}: type {mine[lid].type} != {other[lid]['Type']}")
            continue
        their_props = other[lid].get("Properties") or {}
        for prop in COMPARED[mine[lid].type]:
            a, b = mine[lid].properties.get(prop), _unhash_versions(their_props.get(prop))
            if a != b:
                diffs.append(f"{lid}.{prop}: walens {a!r} != translator {b!r}")
    diffs.extend(compare_methods(ours, theirs))
    return diffs


def _translator_operations(theirs: Mapping[str, Any], api_type: str) -> dict[str, set[tuple[str, str, str]]]:
    result: dict[str, set[tuple[str, str, str]]] = {}
    for lid, res in theirs.items():
        if not isinstance(res, Mapping) or res.get("Type") != api_type:
            continue
        body = (res.get("Properties") or {}).get("Body")
        if not isinstance(body, Mapping):
            continue
        schemes = sam_api._security_schemes(body)
        ops = set()
        for path, verb, _, security in sam_api._body_operations(body):
            kind = sam_api._body_auth(security, schemes)[0]
            ops.add((path, sam_api._verb(verb), kind))
        result[lid] = ops
    return result


def compare_methods(ours: list[Any], theirs: Mapping[str, Any]) -> list[str]:
    """(path, verb, AuthorizationType) per API: walens's Method/Route resources vs the translator's Body."""
    diffs: list[str] = []
    for api_type, res_type in (("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Method"),
                               ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route")):
        expected = _translator_operations(theirs, api_type)
        generated = {r.logical_id for r in ours if r.type == api_type and r.origin_type.startswith("AWS::Serverless::")}
        for api_id, ops in expected.items():
            if api_id not in generated:
                continue  # a plain CloudFormation API: walens lists methods only for SAM APIs
            got: set[tuple[str, str, str]] = set()
            for res in ours:
                if res.type != res_type or res.properties.get("RestApiId", res.properties.get("ApiId")) != {
                        "Ref": api_id}:
                    continue
                if res_type == "AWS::ApiGateway::Method":
                    got.add((res.properties["ResourcePath"], res.properties["HttpMethod"],
                             res.properties["AuthorizationType"]))
                else:
                    key = res.properties["RouteKey"]
                    verb, _, path = key.partition(" ") if key != "$default" else ("ANY", "", "$default")
                    got.add((path, verb, res.properties["AuthorizationType"]))
            if got != ops:
                diffs.append(f"{api_id} operations: walens-only {sorted(got - ops)}, "
                             f"translator-only {sorted(ops - got)}")
    return diffs


INPUTS = sorted(p.stem for p in INPUT.glob("*.yaml"))
VALID = [n for n in INPUTS if not n.startswith("error_")]


@pytest.mark.parametrize("name", VALID)
def test_expansion_matches_translator(name: str) -> None:
    if name in EXCLUDED:
        pytest.skip(EXCLUDED[name])
    assert compare_file(name) in ([], None)


@pytest.mark.parametrize("name", INPUTS)
def test_expand_raises_only_input_error(name: str) -> None:
    data = load_yaml(INPUT / f"{name}.yaml")
    try:
        expand(data)
    except InputError as error:
        assert error.kind == "sam"
        assert error.message.startswith("SAM ")


def test_valid_inputs_walens_rejects_are_exactly_the_malformed_ones() -> None:
    rejected = set()
    for name in VALID:
        try:
            expand(load_yaml(INPUT / f"{name}.yaml"))
        except InputError:
            rejected.add(name)
    assert rejected == {"resource_with_invalid_type", "unsupported_resources"}
