"""Operational excellence facts: alarm coverage, logging settings, rollout, literal configuration (exact results)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from walens import graph
from walens.facts import ops_alarms, ops_config, ops_deploy, ops_logging
from walens.model import CfnResource, Resource, Unknown
from walens.pipeline import inventory
from walens.scanners.intrinsics import resolve_resources


def _linked(resources: dict[str, tuple[str, dict[str, Any]]], parameters: dict[str, Any] | None = None
            ) -> dict[str, Resource]:
    cfn = [CfnResource(k, t, p, origin=k, origin_type=t, line=1) for k, (t, p) in resources.items()]
    out = resolve_resources({"Parameters": parameters or {}}, cfn, "t.yaml")
    graph.link(out)
    return {r.id: r for r in out}


def _sam(tmp_path: Path, body: str) -> dict[str, Resource]:
    path = tmp_path / "t.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\n" + body, encoding="utf-8")
    return {r.id: r for r in inventory([str(path)]).resources}


def _alarm(namespace: str, metric: str, dim: str, value: Any, **props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::CloudWatch::Alarm", {"Namespace": namespace, "MetricName": metric,
                                      "Dimensions": [{"Name": dim, "Value": value}], **props}


FN = ("AWS::Lambda::Function", {"FunctionName": "orders", "Runtime": "python3.13", "Handler": "a.b",
                                "Role": "arn:aws:iam::111122223333:role/r", "Code": {"ZipFile": "x"}})
TOPIC = ["arn:aws:sns:us-east-1:111122223333:ops"]


def _coverage(linked: dict[str, Resource], rid: str) -> dict[str, Any]:
    return ops_alarms.alarm_coverage(linked[rid], list(linked.values()))


def test_function_coverage_counts_only_alarms_that_notify() -> None:
    linked = _linked({
        "Fn": FN,
        "Errors": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders", AlarmActions=TOPIC),
        "Throttles": _alarm("AWS/Lambda", "Throttles", "FunctionName", {"Ref": "Fn"}),
    })
    assert _coverage(linked, "Fn") == {"expected": ["Errors", "Throttles"], "covered": ["Errors"],
                                       "missing": ["Throttles"], "without_actions": ["Throttles"]}


def test_composite_alarm_makes_its_children_notify() -> None:
    linked = _linked({
        "Fn": FN,
        "Errors": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders"),
        "Throttles": _alarm("AWS/Lambda", "Throttles", "FunctionName", "orders", AlarmName="orders-throttles"),
        "Both": ("AWS::CloudWatch::CompositeAlarm", {
            "AlarmRule": {"Fn::Sub": "ALARM(${Errors}) OR ALARM(orders-throttles)"}, "AlarmActions": TOPIC}),
    })
    assert _coverage(linked, "Fn")["missing"] == []
    inventory_ = list(linked.values())
    assert ops_alarms.alarm_actions(linked["Errors"], inventory_) == {"notifies": True, "used_by": ["Both"]}


def test_stream_consumer_needs_iterator_age() -> None:
    linked = _linked({
        "Fn": FN,
        "Stream": ("AWS::Kinesis::Stream", {"ShardCount": 1}),
        "Map": ("AWS::Lambda::EventSourceMapping", {"FunctionName": {"Ref": "Fn"},
                                                    "EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                                                    "StartingPosition": "LATEST"}),
        "Queue": ("AWS::SQS::Queue", {}),
        "QueueMap": ("AWS::Lambda::EventSourceMapping", {"FunctionName": {"Ref": "Fn"},
                                                         "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}}),
    })
    assert _coverage(linked, "Fn")["expected"] == ["Errors", "Throttles", "IteratorAge"]


def test_unknown_actions_make_missing_unknown_only_when_nothing_is_known_missing() -> None:
    params = {"Topics": {"Type": "CommaDelimitedList"}}
    linked = _linked({
        "Fn": FN,
        "Errors": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders", AlarmActions={"Ref": "Topics"}),
        "Throttles": _alarm("AWS/Lambda", "Throttles", "FunctionName", "orders", AlarmActions={"Ref": "Topics"}),
    }, params)
    missing = _coverage(linked, "Fn")["missing"]
    assert isinstance(missing, Unknown) and "Errors" in missing.reason
    linked = _linked({
        "Fn": FN,
        "Errors": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders", AlarmActions={"Ref": "Topics"}),
    }, params)
    assert _coverage(linked, "Fn")["missing"] == ["Throttles"]


def test_http_api_queue_and_state_machine_metrics() -> None:
    linked = _linked({
        "Http": ("AWS::ApiGatewayV2::Api", {"Name": "h", "ProtocolType": "HTTP"}),
        "Http5xx": _alarm("AWS/ApiGateway", "5xx", "ApiId", {"Ref": "Http"}, AlarmActions=TOPIC),
        "Queue": ("AWS::SQS::Queue", {"QueueName": "q"}),
        "Depth": _alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q", AlarmActions=TOPIC),
        "Machine": ("AWS::StepFunctions::StateMachine", {"RoleArn": "arn:aws:iam::1:role/r", "Definition": {}}),
        "TimedOut": _alarm("AWS/States", "ExecutionsTimedOut", "StateMachineArn", {"Ref": "Machine"},
                           AlarmActions=TOPIC),
    })
    assert _coverage(linked, "Http")["missing"] == []
    assert _coverage(linked, "Queue")["covered"] == ["ApproximateAgeOfOldestMessage"]
    assert _coverage(linked, "Machine")["missing"] == ["ExecutionsFailed"]


def test_alarm_actions_disabled_and_deployment_group_use() -> None:
    linked = _linked({
        "Off": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders", ActionsEnabled="false", AlarmActions=TOPIC),
        "Rollback": _alarm("AWS/Lambda", "Errors", "FunctionName", "orders"),
        "Group": ("AWS::CodeDeploy::DeploymentGroup", {
            "ApplicationName": "app", "ServiceRoleArn": "r",
            "AlarmConfiguration": {"Enabled": True, "Alarms": [{"Name": {"Ref": "Rollback"}}]}}),
    })
    inv = list(linked.values())
    assert ops_alarms.alarm_actions(linked["Off"], inv) == {"notifies": False, "used_by": []}
    assert ops_alarms.alarm_actions(linked["Rollback"], inv) == {"notifies": False, "used_by": ["Group"]}


@pytest.mark.parametrize(("stype", "props", "expected"), [
    ("AWS::ApiGateway::Stage",
     {"AccessLogSetting": {"DestinationArn": "arn:x", "Format": ' {"a":"$context.requestId"}'}},
     {"enabled": True, "format": "json"}),
    ("AWS::ApiGatewayV2::Stage", {"AccessLogSettings": {"DestinationArn": "arn:x", "Format": "$context.requestId"}},
     {"enabled": True, "format": "text"}),
    ("AWS::ApiGatewayV2::Stage", {"AccessLogSettings": {"DestinationArn": "arn:x"}}, {"enabled": True, "format": None}),
    ("AWS::ApiGateway::Stage", {}, {"enabled": False, "format": None}),
    ("AWS::ApiGateway::Stage", {"AccessLogSettings": {"DestinationArn": "arn:x"}}, {"enabled": False, "format": None}),
])
def test_access_log(stype: str, props: dict[str, Any], expected: dict[str, Any]) -> None:
    linked = _linked({"S": (stype, props)})
    assert ops_logging.access_log(linked["S"], []) == expected


def test_data_trace_on_stage_deployment_and_v2_stage() -> None:
    linked = _linked({
        "Stage": ("AWS::ApiGateway::Stage", {"MethodSettings": [
            {"ResourcePath": "/*", "HttpMethod": "*", "DataTraceEnabled": False},
            {"ResourcePath": "/~1orders", "HttpMethod": "POST", "DataTraceEnabled": "true"}]}),
        "Deploy": ("AWS::ApiGateway::Deployment", {"RestApiId": "a", "StageDescription": {"DataTraceEnabled": True}}),
        "V2": ("AWS::ApiGatewayV2::Stage", {"ApiId": "a", "StageName": "s",
                                            "DefaultRouteSettings": {"DataTraceEnabled": False},
                                            "RouteSettings": {"$connect": {"DataTraceEnabled": True}}}),
        "Unknown": ("AWS::ApiGateway::Stage", {"MethodSettings": [{"DataTraceEnabled": {"Ref": "Trace"}}]}),
    }, {"Trace": {"Type": "String"}})
    assert ops_logging.data_trace(linked["Stage"], [])["enabled_on"] == ["POST /~1orders"]
    assert ops_logging.data_trace(linked["Deploy"], [])["enabled_on"] == ["* /*"]
    assert ops_logging.data_trace(linked["V2"], [])["enabled_on"] == ["$connect"]
    assert isinstance(ops_logging.data_trace(linked["Unknown"], [])["enabled_on"], Unknown)


def test_appsync_field_log_level(tmp_path: Path) -> None:
    schema = "      SchemaInline: 'type Query { a: String }'\n      Auth: { Type: AWS_IAM }\n"
    body = "Resources:\n" + "".join(
        f"  {name}:\n    Type: AWS::Serverless::GraphQLApi\n    Properties:\n{schema}{extra}"
        for name, extra in (("Default", ""), ("Disabled", "      Logging: false\n"),
                            ("Map", "      Logging: { CloudWatchLogsRoleArn: arn:aws:iam::1:role/r }\n"),
                            ("Error", "      Logging: { FieldLogLevel: ERROR }\n")))
    body += "  Cfn:\n    Type: AWS::AppSync::GraphQLApi\n    Properties: { Name: c, AuthenticationType: AWS_IAM }\n"
    res = _sam(tmp_path, body)
    names = ("Default", "Disabled", "Map", "Error", "Cfn")
    assert {k: ops_logging.appsync_field_log_level(res[k], []) for k in names} == {
        "Default": "ALL", "Disabled": "NONE", "Map": "ALL", "Error": "ERROR", "Cfn": "NONE"}


def _group(**props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::CodeDeploy::DeploymentGroup", {"ApplicationName": {"Ref": "App"}, "ServiceRoleArn": "r", **props}


def test_lambda_deployment() -> None:
    linked = _linked({
        "App": ("AWS::CodeDeploy::Application", {"ComputePlatform": "Lambda"}),
        "Server": ("AWS::CodeDeploy::Application", {"ComputePlatform": "Server"}),
        "Canary": ("AWS::CodeDeploy::DeploymentConfig", {"ComputePlatform": "Lambda",
                                                         "TrafficRoutingConfig": {"Type": "TimeBasedCanary"}}),
        "AllAtOnce": _group(DeploymentConfigName="CodeDeployDefault.LambdaAllAtOnce"),
        "Custom": _group(DeploymentConfigName={"Ref": "Canary"},
                         AlarmConfiguration={"Alarms": [{"Name": "a"}], "Enabled": True}),
        "NoConfig": _group(),
        "External": _group(DeploymentConfigName="team-config"),
        "Ec2": ("AWS::CodeDeploy::DeploymentGroup", {"ApplicationName": {"Ref": "Server"}, "ServiceRoleArn": "r",
                                                     "DeploymentConfigName": "CodeDeployDefault.AllAtOnce"}),
    })
    inv = list(linked.values())
    facts = {k: ops_deploy.lambda_deployment(linked[k], inv) for k in ("AllAtOnce", "Custom", "NoConfig", "External",
                                                                         "Ec2")}
    assert facts["AllAtOnce"] == {"lambda": True, "config": "CodeDeployDefault.LambdaAllAtOnce",
                                  "all_at_once": True, "rollback_alarms": []}
    assert (facts["Custom"]["all_at_once"], facts["Custom"]["rollback_alarms"]) == (False, ["a"])
    assert isinstance(facts["NoConfig"]["all_at_once"], Unknown)
    assert isinstance(facts["External"]["all_at_once"], Unknown)
    assert facts["Ec2"]["lambda"] is False


def test_sam_deployment_type_through_intrinsic_maps_to_predefined(tmp_path: Path) -> None:
    res = _sam(tmp_path, """
Parameters:
  Kind: { Type: String, Default: AllAtOnce }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: a.b
      CodeUri: s3://b/k.zip
      AutoPublishAlias: live
      DeploymentPreference:
        Type: !Sub ${Kind}
""")
    fact = ops_deploy.lambda_deployment(res["FnDeploymentGroup"], list(res.values()))
    assert (fact["config"], fact["all_at_once"]) == ("CodeDeployDefault.LambdaAllAtOnce", True)
    assert ops_deploy.rollout(res["Fn"], list(res.values())) == "codedeploy"


def test_rollout_weighted_none_and_unknown() -> None:
    base = {"Fn": FN, "V": ("AWS::Lambda::Version", {"FunctionName": {"Ref": "Fn"}})}
    weighted = _linked({**base, "A": ("AWS::Lambda::Alias", {
        "FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": "1",
        "RoutingConfig": {"AdditionalVersionWeights": [{"FunctionVersion": "2", "FunctionWeight": 0.1}]}})})
    assert ops_deploy.rollout(weighted["Fn"], list(weighted.values())) == "weighted"
    alias = ("AWS::Lambda::Alias", {"FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": "1"})
    plain = _linked({**base, "A": alias})
    assert ops_deploy.rollout(plain["Fn"], list(plain.values())) == "none"
    linear = _group(DeploymentConfigName="CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    with_group = _linked({**base, "A": alias, "G": linear})
    assert isinstance(ops_deploy.rollout(with_group["Fn"], list(with_group.values())), Unknown)


def test_literal_account_ids_and_endpoints() -> None:
    linked = _linked({"Fn": ("AWS::Lambda::Function", {
        "Role": "arn:aws:iam::111122223333:role/r",
        "Layers": ["arn:aws:lambda:us-east-1:017000801446:layer:Powertools:3"],
        "DeadLetterConfig": {"TargetArn": {"Fn::Sub": "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:dlq"}},
        "Environment": {"Variables": {
            "PAYMENTS": "https://user:secret@payments.example.com/v1", "LOCAL": "http://localhost:2773",
            "BUILT": {"Fn::Sub": "https://${AWS::Region}.example.com"}, "TABLE": "orders",
            "TOPIC": "arn:aws:sns:eu-west-1:444455556666:t"}},
    })})
    assert ops_config.literal_account_ids(linked["Fn"], []) == {
        "accounts": ["111122223333", "444455556666"], "properties": ["Role", "Environment.Variables.TOPIC"]}
    assert ops_config.literal_endpoints(linked["Fn"], []) == ["PAYMENTS"]


def test_dead_letter_queue_and_provisioned_concurrency_add_metrics() -> None:
    linked = _linked({
        "Fn": ("AWS::Lambda::Function", {**FN[1], "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:1:dlq"}}),
        "Live": ("AWS::Lambda::Alias", {"FunctionName": {"Ref": "Fn"}, "Name": "live", "FunctionVersion": "1",
                                        "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}),
    })
    assert _coverage(linked, "Fn")["expected"] == [
        "Errors", "Throttles", "DeadLetterErrors", "ProvisionedConcurrencySpilloverInvocations"]
