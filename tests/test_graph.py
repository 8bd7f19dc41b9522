"""graph.link: exact relations on a hand-written CFN + SAM-derived template; lambda facts on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus import OUTPUT
from walens import graph
from walens.facts import apigateway, lambda_
from walens.model import CfnResource, Resource
from walens.scanners.intrinsics import resolve_resources

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "graph" / "app.yaml"


def _cfn(data: dict[str, Any]) -> list[CfnResource]:
    out = []
    for i, (logical_id, spec) in enumerate(data["Resources"].items()):
        origin, origin_type = spec.get("x-origin", [logical_id, spec.get("Type")])
        out.append(CfnResource(logical_id, spec.get("Type"), spec.get("Properties") or {}, origin=origin,
                               origin_type=origin_type, line=i + 1, col=3, condition=spec.get("Condition")))
    return out


@pytest.fixture(scope="module")
def linked() -> dict[str, Resource]:
    data = yaml.safe_load(FIXTURE.read_text())
    resources = resolve_resources(data, _cfn(data), str(FIXTURE))
    graph.link(resources)
    return {r.id: r for r in resources}


def ids(value: Any) -> Any:
    """Related views reduced to their ids (a list keeps its order, a single view its id)."""
    if isinstance(value, list):
        return [v["id"] if isinstance(v, dict) and "type" in v else v for v in value]
    return value["id"] if isinstance(value, dict) and "type" in value else value


def relations(r: Resource) -> dict[str, Any]:
    return {k: ids(v) for k, v in r.related.items()}


def test_condition_false_resource_is_gone(linked: dict[str, Resource]) -> None:
    assert "DevOnlyFn" not in linked


def test_function_relations(linked: dict[str, Resource]) -> None:
    assert relations(linked["OrdersFn"]) == {
        "log_group": "OrdersLogGroup",
        "role": "OrdersFnRole",
        "event_invoke_config": "OrdersEventInvokeConfig",
        "url": None,
        "deployment_group": "OrdersFnDeploymentGroup",
        "role_policies": ["ExtraPolicy", "SharedManaged", "OrdersFnRole.Policies[0]"],
        "event_sources": [],
        # A permission on the alias counts for the function it qualifies.
        "async_invokers": [{"service": "events", "id": "NightlyRule"}, {"service": "sns", "id": "Topic"},
                           {"service": "scheduler", "id": "OrdersSchedule"}],
        "permissions": ["OrdersApiPermission", "AliasRulePermission"],
        "aliases": ["OrdersFnAliaslive"],
        "alarms": ["OrdersErrors"],
    }
    assert relations(linked["WorkerFn"]) == {
        "log_group": "WorkerLogGroup",
        "role": "OrdersFnRole",
        "event_invoke_config": None,
        "url": None,
        "deployment_group": None,
        "role_policies": ["ExtraPolicy", "SharedManaged", "OrdersFnRole.Policies[0]"],
        "event_sources": ["WorkerFnJobs"],
        "async_invokers": [{"service": "s3", "id": "Uploads"}, {"service": "events", "id": "NightlyRule"}],
        "permissions": ["WorkerS3Permission"],
        "aliases": [],
        "alarms": [],
    }
    logged = relations(linked["LoggedFn"])
    assert (logged["log_group"], logged["role"], logged["url"], logged["async_invokers"]) == (
        "CentralLogs", "LiteralRole", "LoggedFnUrl", [])


def test_related_views_are_base_views(linked: dict[str, Resource]) -> None:
    role_view = linked["OrdersFn"].related["role"]
    assert set(role_view) == {"id", "type", "name", "source", "origin", "origin_type", "arn", "account",
                              "region", "Properties", "Metadata", "facts"}
    assert role_view["origin"] == "OrdersFn"
    assert linked["OrdersFn"].related["role_policies"][2] == {
        "id": "OrdersFnRole.Policies[0]", "type": "AWS::IAM::Role.Policy", "name": "inline-read",
        "Properties": {"PolicyName": "inline-read", "PolicyDocument": {
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}
    # The whole graph serialises: related views never contain related views.
    json.dumps([r.related for r in linked.values()], default=repr)


def test_queue_and_event_source_relations(linked: dict[str, Resource]) -> None:
    assert relations(linked["Queue"]) == {"dlq": "Dlq", "consumers": ["WorkerFn"], "alarms": ["QueueAge"]}
    assert relations(linked["Dlq"]) == {"dlq": None, "consumers": [], "alarms": []}
    assert relations(linked["WorkerFnJobs"]) == {"function": "WorkerFn", "source": "Queue"}


def test_rest_api_relations(linked: dict[str, Resource]) -> None:
    assert relations(linked["Api"]) == {
        "waf": "WafAssociation",
        "stages": ["ApiStage"],
        "methods": ["PostMethod", "GetMethod", "OptionsMethod"],
        "authorizers": ["Authorizer"],
        "validators": ["Validator"],
        "models": ["OrderModel"],
        "usage_plans": ["Plan"],
        "alarms": ["ApiErrors"],
    }
    assert relations(linked["ApiStage"]) == {"api": "Api", "waf": "WafAssociation", "usage_plans": ["Plan"]}
    assert relations(linked["PostMethod"]) == {"api": "Api", "validator": "Validator", "authorizer": "Authorizer"}
    assert relations(linked["GetMethod"]) == {"api": "Api", "validator": None, "authorizer": None}


def test_http_api_and_state_machine_relations(linked: dict[str, Resource]) -> None:
    assert relations(linked["HttpApi"]) == {"stages": ["HttpStage"], "routes": ["HttpRoute"], "authorizers": ["HttpAuth"]}
    assert relations(linked["HttpStage"]) == {"api": "HttpApi"}
    assert relations(linked["HttpRoute"]) == {"api": "HttpApi", "authorizer": "HttpAuth"}
    assert relations(linked["Machine"]) == {"log_group": "MachineLogs", "role": "MachineRole", "alarms": ["MachineFailed"]}
    assert relations(linked["OrdersFnRole"]) == {"policies": ["ExtraPolicy", "SharedManaged", "OrdersFnRole.Policies[0]"]}


def test_lambda_facts(linked: dict[str, Resource]) -> None:
    inventory = list(linked.values())
    assert {fid: lambda_.role_shared_with(linked[fid], inventory) for fid in ("OrdersFn", "WorkerFn", "LoggedFn")} == {
        "OrdersFn": ["WorkerFn"], "WorkerFn": ["OrdersFn"], "LoggedFn": []}
    assert {fid: lambda_.invoked_async(linked[fid], inventory) for fid in ("OrdersFn", "WorkerFn", "LoggedFn")} == {
        "OrdersFn": True, "WorkerFn": True, "LoggedFn": False}


def test_apigateway_facts_on_linked_template(linked: dict[str, Resource]) -> None:
    inventory = list(linked.values())
    assert apigateway.validates_request(linked["PostMethod"], inventory) == {
        "takes_body": True, "validator": {"body": True, "parameters": False}, "models": True, "status": "validated"}
    assert apigateway.validates_request(linked["GetMethod"], inventory) == {
        "takes_body": False, "validator": None, "models": False, "status": "not_validated"}
    assert apigateway.api_exposure(linked["Api"], inventory) == {
        "endpoint_types": ["EDGE"], "public": True, "has_authorizer_everywhere": False, "protected": True,
        "unauthorized_methods": ["GetMethod"], "waf": True, "private_policy_scoped_to_vpce": None,
        "restricted_by_policy": False}


def _corpus(name: str) -> list[Resource]:
    data = json.loads((OUTPUT / f"{name}.json").read_text())
    cfn = [CfnResource(k, v["Type"], v.get("Properties") or {}, origin=k, origin_type=v["Type"], line=1,
                       condition=v.get("Condition")) for k, v in data["Resources"].items()]
    resources = resolve_resources(data, cfn, name)
    graph.link(resources)
    return resources


@pytest.mark.corpus
def test_translator_output_sqs_and_sns_events() -> None:
    """SAM's own CloudFormation for a function with SQS and SNS events links as SAM wired it."""
    by_id = {r.id: r for r in _corpus("function_with_sns_event_source_all_parameters")}
    fn = by_id["MyAwesomeFunction"]
    # The topic lives outside the template: permission and subscription agree on its ARN.
    assert relations(fn)["async_invokers"] == [
        {"service": "sns", "id": "arn:aws:sns:us-west-2:987654321098:key/dec86919-7219-4e8d-8871-7f1609df2c7f"}]
    assert relations(fn)["role"] == "MyAwesomeFunctionRole"
    assert relations(fn)["permissions"] == ["MyAwesomeFunctionNotificationTopicPermission"]
    assert relations(fn)["role_policies"] == []
