"""Performance facts: Step Functions task integrations, runtime support, versions, sync invokers (exact results)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walens import graph
from walens.facts import lambda_, perf_integrations
from walens.model import CfnResource, Resource, Unknown
from walens.scanners.intrinsics import resolve_resources


def _linked(resources: dict[str, tuple[str, dict[str, Any]]], parameters: dict[str, Any] | None = None
            ) -> dict[str, Resource]:
    cfn = [CfnResource(k, t, p, origin=k, origin_type=t, line=1) for k, (t, p) in resources.items()]
    out = resolve_resources({"Parameters": parameters or {}}, cfn, "t.yaml")
    graph.link(out)
    return {r.id: r for r in out}


def _fn(**props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::Lambda::Function", {"Runtime": "python3.13", "Handler": "a.b", "Role": "r",
                                     "Code": {"ZipFile": "x"}, **props}


DEFINITION = {"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "P"},
    "P": {"Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {
        "B": {"Type": "Task", "Resource": "${SaveArn}", "End": True}}}]},
    "M": {"Type": "Map", "Next": "W", "ItemProcessor": {"StartAt": "C", "States": {
        "C": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}}}},
    "W": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:1:activity:approve", "End": True},
}}


def test_task_integrations_walks_branches_and_substitutions() -> None:
    linked = _linked({
        "Save": _fn(),
        "Dict": ("AWS::StepFunctions::StateMachine", {
            "Definition": DEFINITION, "DefinitionSubstitutions": {"SaveArn": {"Fn::GetAtt": ["Save", "Arn"]}}}),
        "Text": ("AWS::StepFunctions::StateMachine", {
            "DefinitionString": {"Fn::Sub": json.dumps(DEFINITION).replace("${SaveArn}", "${Save.Arn}")}}),
        "S3": ("AWS::StepFunctions::StateMachine", {"DefinitionS3Location": {"Bucket": "b", "Key": "k"}}),
    })
    inv = list(linked.values())
    expected = {"tasks": 4, "lambda": 2, "service": 1, "activity": 1, "unknown": 0}
    assert perf_integrations.task_integrations(linked["Dict"], inv) == expected
    assert perf_integrations.task_integrations(linked["Text"], inv) == expected
    assert isinstance(perf_integrations.task_integrations(linked["S3"], inv), Unknown)


@pytest.mark.parametrize(("runtime", "expected"), [
    ("python3.13", {"family": "python", "arm64": True, "snapstart": True}),
    ("python3.9", {"family": "python", "arm64": True, "snapstart": False}),
    ("python3.7", {"family": "python", "arm64": False, "snapstart": False}),
    ("java8.al2", {"family": "java", "arm64": True, "snapstart": False}),
    ("java21", {"family": "java", "arm64": True, "snapstart": True}),
    ("dotnetcore3.1", {"family": "dotnet", "arm64": True, "snapstart": False}),
    ("go1.x", {"family": "go", "arm64": False, "snapstart": False}),
    ("cobol", {"family": None, "arm64": None, "snapstart": None}),
])
def test_runtime_support(runtime: str, expected: dict[str, Any]) -> None:
    linked = _linked({"Fn": _fn(Runtime=runtime)})
    assert lambda_.runtime_support(linked["Fn"], []) == expected


def test_runtime_support_unknown_and_image() -> None:
    linked = _linked({"P": _fn(Runtime={"Ref": "R"}), "I": _fn(PackageType="Image")}, {"R": {"Type": "String"}})
    assert all(isinstance(v, Unknown) for v in lambda_.runtime_support(linked["P"], []).values())
    assert lambda_.runtime_support(linked["I"], []) == {"family": None, "arm64": None, "snapstart": None}


def test_published_versions_and_sync_invokers() -> None:
    linked = _linked({
        "Versioned": _fn(),
        "V": ("AWS::Lambda::Version", {"FunctionName": {"Ref": "Versioned"}}),
        "Plain": _fn(),
        "Perm": ("AWS::Lambda::Permission", {"FunctionName": {"Ref": "Plain"}, "Action": "lambda:InvokeFunction",
                                             "Principal": "apigateway.amazonaws.com"}),
        "Url": ("AWS::Lambda::Url", {"TargetFunctionArn": {"Fn::GetAtt": ["Plain", "Arn"]}, "AuthType": "AWS_IAM"}),
    })
    inv = list(linked.values())
    assert (lambda_.published_versions(linked["Versioned"], inv), lambda_.published_versions(linked["Plain"], inv)) \
        == (True, False)
    assert lambda_.sync_invokers(linked["Plain"], inv) == ["apigateway", "url"]
    assert lambda_.sync_invokers(linked["Versioned"], inv) == []


def test_api_invoker_kind_rest_waits_29_http_30() -> None:
    def permission(fn: str, source: Any = None) -> tuple[str, dict[str, Any]]:
        props = {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": fn},
                 "Principal": "apigateway.amazonaws.com"}
        if source is not None:
            props["SourceArn"] = {"Fn::Sub": "arn:aws:execute-api:${AWS::Region}:1:${%s}/*" % source}
        return "AWS::Lambda::Permission", props

    linked = _linked({
        "Rest": ("AWS::ApiGateway::RestApi", {"Name": "r"}),
        "Http": ("AWS::ApiGatewayV2::Api", {"Name": "h", "ProtocolType": "HTTP"}),
        "Socket": ("AWS::ApiGatewayV2::Api", {"Name": "s", "ProtocolType": "WEBSOCKET"}),
        "OnRest": _fn(Timeout=30), "OnRestPermission": permission("OnRest", "Rest"),
        "OnHttp": _fn(Timeout=30), "OnHttpPermission": permission("OnHttp", "Http"),
        "OnSocket": _fn(Timeout=30), "OnSocketPermission": permission("OnSocket", "Socket"),
        "OnBoth": _fn(Timeout=30), "OnBothHttp": permission("OnBoth", "Http"), "OnBothRest": permission("OnBoth", "Rest"),
        "Anywhere30": _fn(Timeout=30), "Anywhere30Permission": permission("Anywhere30"),
        "Anywhere300": _fn(Timeout=300), "Anywhere300Permission": permission("Anywhere300"),
        "Quiet": _fn(Timeout=300),
    })

    def kind(fid: str) -> Any:
        return lambda_.api_invoker_kind(linked[fid], list(linked.values()))

    assert [kind(f) for f in ("OnRest", "OnHttp", "OnSocket", "OnBoth", "Anywhere300", "Quiet")] == [
        "rest", "http", "rest", "rest", "rest", None]
    assert isinstance(kind("Anywhere30"), Unknown)  # 30 s passes an HTTP API and fails a REST API
