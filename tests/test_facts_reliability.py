"""Reliability facts (walens.facts.reliability_lambda, walens.facts.reliability_api): exact results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from walens.facts.reliability_lambda import redrive_policy
from walens.model import Resource, Unknown
from walens.pipeline import inventory

FN = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.13", "Handler": "a.b", "CodeUri": "."}}
CFN_FN = {"Type": "AWS::Lambda::Function", "Properties": {
    "Runtime": "python3.13", "Handler": "a.b", "Role": "arn:aws:iam::1:role/r", "Code": {"ZipFile": "x"}}}


def _fn(**props: Any) -> dict[str, Any]:
    return {"Type": FN["Type"], "Properties": {**FN["Properties"], **props}}


def _resources(tmp_path: Path, resources: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Resource]:
    doc: dict[str, Any] = {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}
    if params:
        doc["Parameters"] = params
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    batch = inventory([str(path)])
    assert batch.errors == []
    return {r.id: r for r in batch.resources}


# ---------------------------------------------------------------------------------------------
# Event sources


def test_esm_source_kind(tmp_path: Path) -> None:
    esm = "AWS::Lambda::EventSourceMapping"
    res = _resources(tmp_path, {
        "Fn": CFN_FN,
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
        "Consumer": {"Type": "AWS::Kinesis::StreamConsumer",
                     "Properties": {"ConsumerName": "c", "StreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}}},
        "Linked": {"Type": esm, "Properties": {"FunctionName": {"Ref": "Fn"},
                                                "EventSourceArn": {"Fn::GetAtt": ["Stream", "Arn"]}}},
        "ViaConsumer": {"Type": esm, "Properties": {"FunctionName": {"Ref": "Fn"},
                                                     "EventSourceArn": {"Fn::GetAtt": ["Consumer", "ConsumerARN"]}}},
        "TableArn": {"Type": esm, "Properties": {
            "FunctionName": {"Ref": "Fn"},
            "EventSourceArn": "arn:aws:dynamodb:us-east-1:1:table/t/stream/2024-01-01T00:00:00.000"}},
        "QueueArn": {"Type": esm, "Properties": {"FunctionName": {"Ref": "Fn"},
                                                  "EventSourceArn": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:1:q"}}},
        "Kafka": {"Type": esm, "Properties": {"FunctionName": {"Ref": "Fn"}, "Topics": ["t"],
                                               "SelfManagedEventSource": {"Endpoints": {"KafkaBootstrapServers": ["b:9092"]}}}},
        "Imported": {"Type": esm, "Properties": {"FunctionName": {"Ref": "Fn"},
                                                  "EventSourceArn": {"Fn::ImportValue": "stream-arn"}}},
    })
    kinds = {k: res[k].facts["esm_source_kind"] for k in
             ("Linked", "ViaConsumer", "TableArn", "QueueArn", "Kafka")}
    assert kinds == {"Linked": "kinesis", "ViaConsumer": "kinesis", "TableArn": "dynamodb", "QueueArn": "sqs",
                     "Kafka": "kafka"}
    assert isinstance(res["Imported"].facts["esm_source_kind"], Unknown)


def test_esm_source_kind_from_the_sam_event_type(tmp_path: Path) -> None:
    """A SAM event names its source even when the ARN is a parameter without a default."""
    events = {
        "Msk": {"Type": "MSK", "Properties": {"Stream": {"Ref": "Arn"}, "Topics": ["t"],
                                              "StartingPosition": "LATEST"}},
        "Kinesis": {"Type": "Kinesis", "Properties": {"Stream": {"Ref": "Arn"}, "StartingPosition": "LATEST"}},
        "Queue": {"Type": "SQS", "Properties": {"Queue": {"Ref": "Arn"}}},
        "Mq": {"Type": "MQ", "Properties": {"Broker": {"Ref": "Arn"}, "Queues": ["q"],
                                            "SourceAccessConfigurations": [{"Type": "BASIC_AUTH", "URI": "x"}]}},
    }
    res = _resources(tmp_path, {"Fn": _fn(Events=events)}, params={"Arn": {"Type": "String"}})
    kinds = {name: res[f"Fn{name}"].facts["esm_source_kind"] for name in events}
    assert kinds == {"Msk": "kafka", "Kinesis": "kinesis", "Queue": "sqs", "Mq": "mq"}


def test_sqs_visibility(tmp_path: Path) -> None:
    res = _resources(tmp_path, {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "100"}},
        "DefaultQueue": {"Type": "AWS::SQS::Queue"},
        "Worker": _fn(Timeout=20, Events={"Q": {"Type": "SQS", "Properties": {
            "Queue": {"Fn::GetAtt": ["Queue", "Arn"]}, "MaximumBatchingWindowInSeconds": 10}}}),
        "Defaults": _fn(Events={"Q": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["DefaultQueue", "Arn"]}}}}),
        "External": _fn(Events={"Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:other"}}}),
        "Unknown": _fn(Timeout={"Ref": "T"}, Events={"Q": {"Type": "SQS", "Properties": {
            "Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}}}),
    }, params={"T": {"Type": "Number"}})
    assert res["WorkerQ"].facts["sqs_visibility"] == {"visibility": 100, "timeout": 20, "batching_window": 10,
                                                      "ratio": 4.5}
    assert res["DefaultsQ"].facts["sqs_visibility"] == {"visibility": 30, "timeout": 3, "batching_window": 0,
                                                        "ratio": 10.0}
    assert res["ExternalQ"].facts["sqs_visibility"] is None
    assert isinstance(res["UnknownQ"].facts["sqs_visibility"], Unknown)


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    ({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 3},
     {"dead_letter_target": "arn:aws:sqs:us-east-1:1:dlq", "max_receive_count": 3}),
    ('{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"}',
     {"dead_letter_target": "arn:aws:sqs:us-east-1:1:dlq", "max_receive_count": None}),
    ({"maxReceiveCount": 3}, {"dead_letter_target": None, "max_receive_count": 3}),
    ("{not json", Unknown("RedrivePolicy is not valid JSON")),
    ({"deadLetterTargetArn": Unknown("import")}, Unknown("import")),
])
def test_redrive_policy(value: Any, expected: Any) -> None:
    assert redrive_policy(value) == expected


def test_queue_and_subscription_redrive(tmp_path: Path) -> None:
    res = _resources(tmp_path, {
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 5}}},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
    })
    assert res["Queue"].facts["sqs_redrive"] == {"dead_letter_target": "{{getatt:Dlq.Arn}}", "max_receive_count": 5}
    assert res["Dlq"].facts["sqs_redrive"] is None
    assert res["Sub"].facts["sns_redrive"] == {"dead_letter_target": "{{getatt:Dlq.Arn}}", "max_receive_count": None}


def test_targets_without_dlq(tmp_path: Path) -> None:
    dlq = {"Arn": "arn:aws:sqs:us-east-1:1:dlq"}
    res = _resources(tmp_path, {
        "Mixed": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 hour)", "Targets": [
            {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:1:a", "DeadLetterConfig": dlq},
            {"Id": "b", "Arn": "arn:aws:sqs:us-east-1:1:b"},
            {"Id": "c", "Arn": "arn:aws:sqs:us-east-1:1:c", "DeadLetterConfig": {"Arn": {"Fn::ImportValue": "x"}}}]}},
        "Imported": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 hour)", "Targets": [
            {"Id": "c", "Arn": "arn:aws:sqs:us-east-1:1:c", "DeadLetterConfig": {"Arn": {"Fn::ImportValue": "x"}}}]}},
        "Covered": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 hour)", "Targets": [
            {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:1:a", "DeadLetterConfig": dlq}]}},
    })
    assert res["Mixed"].facts["targets_without_dlq"] == ["b"]
    assert isinstance(res["Imported"].facts["targets_without_dlq"], Unknown)
    assert res["Covered"].facts["targets_without_dlq"] == []


# ---------------------------------------------------------------------------------------------
# Hints: idempotency, synchronous chains


def test_idempotency_evidence(tmp_path: Path) -> None:
    ttl = {"AttributeName": "exp", "Enabled": True}
    table = {"BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
             "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
    res = _resources(tmp_path, {
        "TtlTable": {"Type": "AWS::DynamoDB::Table", "Properties": {**table, "TimeToLiveSpecification": ttl}},
        "NamedTable": {"Type": "AWS::DynamoDB::Table",
                       "Properties": {**table, "TableName": "keys", "TimeToLiveSpecification": ttl}},
        "PlainTable": {"Type": "AWS::DynamoDB::Table", "Properties": table},
        "ByRef": _fn(Environment={"Variables": {"STORE": {"Ref": "TtlTable"}, "OTHER": {"Ref": "PlainTable"}}}),
        "ByName": _fn(Environment={"Variables": {"T": "keys", "IDEMPOTENCY_DISABLED": "false"}}),
        "ByArn": _fn(Environment={"Variables": {"ARN": {"Fn::GetAtt": ["TtlTable", "Arn"]}}}),
        "Plain": _fn(Environment={"Variables": {"T": {"Ref": "PlainTable"}}}),
        "Bare": _fn(),
    })
    evidence = {k: res[k].facts["idempotency_evidence"] for k in ("ByRef", "ByName", "ByArn", "Plain", "Bare")}
    assert evidence == {"ByRef": ["STORE"], "ByName": ["IDEMPOTENCY_DISABLED", "T"], "ByArn": ["ARN"],
                        "Plain": [], "Bare": []}


def test_invokes_functions(tmp_path: Path) -> None:
    invoke = {"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                             "Resource": {"Fn::GetAtt": ["Callee", "Arn"]}}]}
    res = _resources(tmp_path, {
        "Callee": _fn(FunctionName="callee"),
        "Inline": _fn(Policies=[invoke]),
        "Template": _fn(Policies=[{"LambdaInvokePolicy": {"FunctionName": {"Ref": "Callee"}}}]),
        "ByName": _fn(Policies=[{"Statement": [{"Effect": "Allow", "Action": ["lambda:Invoke*"],
                                                "Resource": "arn:aws:lambda:us-east-1:1:function:callee"}]}]),
        "Wildcard": _fn(Policies=[{"Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}]),
        # Full admin is not read as function chaining, and a Deny grants nothing.
        "Admin": _fn(Policies=[{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                                              {"Effect": "Deny", "Action": "lambda:InvokeFunction",
                                               "Resource": {"Fn::GetAtt": ["Callee", "Arn"]}}]}]),
        # An asynchronous destination is invoked by Lambda, not by the code.
        "WithDestination": _fn(EventInvokeConfig={"DestinationConfig": {"OnFailure": {
            "Type": "Lambda", "Destination": {"Fn::GetAtt": ["Callee", "Arn"]}}}}),
    })
    targets = {k: res[k].facts["invokes_functions"] for k in
               ("Inline", "Template", "ByName", "Wildcard", "Admin", "WithDestination", "Callee")}
    assert targets == {"Inline": ["Callee"], "Template": ["Callee"], "ByName": ["Callee"], "Wildcard": ["*"],
                       "Admin": [], "WithDestination": [], "Callee": []}


# ---------------------------------------------------------------------------------------------
# Concurrency


def test_reserved_concurrency_total(tmp_path: Path) -> None:
    res = _resources(tmp_path, {"A": _fn(ReservedConcurrentExecutions=100),
                                "B": _fn(ReservedConcurrentExecutions="50"), "C": _fn()})
    assert {r.facts["reserved_concurrency_total"] for r in res.values() if "reserved_concurrency_total" in r.facts} == {150}
    res = _resources(tmp_path, {"A": _fn(ReservedConcurrentExecutions={"Ref": "P"}), "B": _fn()},
                     params={"P": {"Type": "Number"}})
    assert isinstance(res["B"].facts["reserved_concurrency_total"], Unknown)


VPC_TEMPLATE: dict[str, Any] = {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
    "Vpc2": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
    "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.1.0/24"}},
    "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.2.0/24"}},
    "SubnetC": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc2"}, "CidrBlock": "10.1.1.0/24"}},
    "DbGroup": {"Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {"DBSubnetGroupDescription": "d", "SubnetIds": [{"Ref": "SubnetA"}]}},
    "Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"Engine": "aurora-mysql", "DBSubnetGroupName": {"Ref": "DbGroup"}}},
    # A member instance of the cluster is not reported separately.
    "DbWriter": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "Db"},
                                                                 "DBInstanceClass": "db.r6g.large", "Engine": "aurora-mysql"}},
    "Proxy": {"Type": "AWS::RDS::DBProxy", "Properties": {"DBProxyName": "p", "EngineFamily": "MYSQL",
                                                          "RoleArn": "arn:aws:iam::1:role/p", "Auth": [],
                                                          "VpcSubnetIds": [{"Ref": "SubnetA"}]}},
    "ProxyTargets": {"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": {
        "DBProxyName": {"Ref": "Proxy"}, "TargetGroupName": "default", "DBClusterIdentifiers": [{"Ref": "Db"}]}},
    "CacheGroup": {"Type": "AWS::ElastiCache::SubnetGroup",
                   "Properties": {"Description": "c", "SubnetIds": [{"Ref": "SubnetC"}]}},
    "Cache": {"Type": "AWS::ElastiCache::CacheCluster", "Properties": {
        "Engine": "redis", "CacheNodeType": "cache.t4g.micro", "NumCacheNodes": 1,
        "CacheSubnetGroupName": {"Ref": "CacheGroup"}}},
}


def test_nonscalable_downstreams(tmp_path: Path) -> None:
    res = _resources(tmp_path, {
        **VPC_TEMPLATE,
        # Same VPC as the database (another subnet), not the cache's VPC: the database, behind its proxy.
        "InVpc": _fn(VpcConfig={"SubnetIds": [{"Ref": "SubnetB"}], "SecurityGroupIds": []}),
        # References the cluster endpoint directly: by reference, so the proxy does not count.
        "Direct": _fn(Environment={"Variables": {"HOST": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}),
        # In the cache's subnet.
        "CacheUser": _fn(VpcConfig={"SubnetIds": [{"Ref": "SubnetC"}], "SecurityGroupIds": []}),
        # VPC unknown (subnet from a parameter): same template is enough for the heuristic.
        "Unplaced": _fn(VpcConfig={"SubnetIds": ["subnet-123"], "SecurityGroupIds": []}),
        "NoVpc": _fn(),
    })
    got = {k: res[k].facts["nonscalable_downstreams"] for k in ("InVpc", "Direct", "CacheUser", "Unplaced", "NoVpc")}
    db = {"id": "Db", "type": "AWS::RDS::DBCluster"}
    cache = {"id": "Cache", "type": "AWS::ElastiCache::CacheCluster"}
    assert got == {
        "InVpc": [{**db, "via": "vpc", "proxy": "Proxy"}],
        "Direct": [{**db, "via": "reference", "proxy": None}],
        "CacheUser": [{**cache, "via": "vpc", "proxy": None}],
        "Unplaced": [{**db, "via": "vpc", "proxy": "Proxy"}, {**cache, "via": "vpc", "proxy": None}],
        "NoVpc": [],
    }


def test_nonscalable_downstream_through_security_group_ingress(tmp_path: Path) -> None:
    res = _resources(tmp_path, {
        "FnSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "f", "VpcId": "vpc-1"}},
        "DbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d", "VpcId": "vpc-2",
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                      "SourceSecurityGroupId": {"Fn::GetAtt": ["FnSg", "GroupId"]}}]}},
        "OtherSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "o", "VpcId": "vpc-1"}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "DBInstanceClass": "db.t4g.micro",
            "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSg", "GroupId"]}]}},
        "Allowed": _fn(VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": [{"Fn::GetAtt": ["FnSg", "GroupId"]}]}),
        # Its VPC (vpc-1) and the database's (vpc-2) are both known and differ.
        "Elsewhere": _fn(VpcConfig={"SubnetIds": ["subnet-1"],
                                    "SecurityGroupIds": [{"Fn::GetAtt": ["OtherSg", "GroupId"]}]}),
    })
    assert res["Allowed"].facts["nonscalable_downstreams"] == [
        {"id": "Db", "type": "AWS::RDS::DBInstance", "via": "vpc", "proxy": None}]
    assert res["Elsewhere"].facts["nonscalable_downstreams"] == []


# ---------------------------------------------------------------------------------------------
# APIs


def test_api_key_methods(tmp_path: Path) -> None:
    body = {"openapi": "3.0.1", "info": {"title": "t"},
            "components": {"securitySchemes": {"key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                                               "iam": {"type": "apiKey", "name": "Authorization", "in": "header",
                                                       "x-amazon-apigateway-authtype": "awsSigv4"}}},
            "security": [{"key": []}],
            "paths": {"/a": {"get": {}, "post": {"security": []}},
                      "/b": {"x-amazon-apigateway-any-method": {"security": [{"iam": []}]}}}}
    res = _resources(tmp_path, {
        "Sam": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod", "Auth": {"ApiKeyRequired": True}}},
        "Handler": _fn(Events={"E": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "Sam"}, "Path": "/x",
                                                                   "Method": "post"}}}),
        "Body": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "b", "Body": body}},
        "Plain": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "p"}},
        "PlainMethod": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Plain"}, "ResourceId": "abc", "HttpMethod": "GET", "ApiKeyRequired": "true"}},
    })
    assert res["Sam"].facts["api_key_methods"] == ["POST /x"]
    # SigV4 (and authorizers) are declared as apiKey schemes too, but are not API keys.
    assert res["Body"].facts["api_key_methods"] == ["GET /a"]
    assert res["Plain"].facts["api_key_methods"] == ["PlainMethod"]


ACL_BASE = {"Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}}
RATE_RULE = {"Name": "rate", "Priority": 0, "Action": {"Block": {}},
             "Statement": {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}},
             "VisibilityConfig": ACL_BASE["VisibilityConfig"]}


def test_waf_rate_limit_and_appsync(tmp_path: Path) -> None:
    def assoc(acl: str, target: Any) -> dict[str, Any]:
        return {"Type": "AWS::WAFv2::WebACLAssociation",
                "Properties": {"WebACLArn": {"Fn::GetAtt": [acl, "Arn"]}, "ResourceArn": target}}

    res = _resources(tmp_path, {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "a"}},
        "Graph": {"Type": "AWS::AppSync::GraphQLApi", "Properties": {"Name": "g", "AuthenticationType": "AWS_IAM"}},
        "Graph2": {"Type": "AWS::AppSync::GraphQLApi", "Properties": {"Name": "g2", "AuthenticationType": "AWS_IAM"}},
        "RateAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": {**ACL_BASE, "Rules": [RATE_RULE]}},
        "PlainAcl": {"Type": "AWS::WAFv2::WebACL", "Properties": ACL_BASE},
        "A1": assoc("RateAcl", {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod"}),
        "A2": assoc("RateAcl", {"Fn::GetAtt": ["Graph", "Arn"]}),
        "A3": assoc("PlainAcl", {"Fn::GetAtt": ["Graph2", "Arn"]}),
    })
    assert res["RateAcl"].facts["waf_rate_limit"] == {
        "protects": [{"kind": "apigateway", "association": "A1"}, {"kind": "appsync", "association": "A2"}],
        "rate_based_rules": ["rate"]}
    assert res["PlainAcl"].facts["waf_rate_limit"] == {
        "protects": [{"kind": "appsync", "association": "A3"}], "rate_based_rules": []}
    assert res["Graph"].facts["waf_rate_limited"] == {"web_acls": ["RateAcl"], "rate_based": True}
    assert res["Graph2"].facts["waf_rate_limited"] == {"web_acls": ["PlainAcl"], "rate_based": False}


def test_async_sources_once_each(tmp_path: Path) -> None:
    """SNS (subscription and a permission without SourceArn), EventBridge and an API: one entry per source."""
    res = _resources(tmp_path, {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Fn": CFN_FN,
        "Sub": {"Type": "AWS::SNS::Subscription", "Properties": {
            "Protocol": "lambda", "TopicArn": {"Ref": "Topic"}, "Endpoint": {"Fn::GetAtt": ["Fn", "Arn"]}}},
        "SnsPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"}, "Principal": "sns.amazonaws.com"}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {
            "EventPattern": {"source": ["x"]}, "Targets": [{"Id": "t", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}]}},
        "ApiPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Fn"}, "Principal": "apigateway.amazonaws.com"}},
        "Lonely": CFN_FN,
        "LonelyPermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "Lonely"}, "Principal": "s3.amazonaws.com"}},
    })
    assert res["Fn"].facts["async_sources"] == ["events Rule", "sns Topic"]
    assert res["Fn"].facts["sync_invokers"] == ["apigateway"]
    assert res["Lonely"].facts["async_sources"] == ["s3 LonelyPermission"]


def test_api_event_integration_is_asynchronous(tmp_path: Path) -> None:
    """X-Amz-Invocation-Type 'Event' on a method's integration: async for REL003, not a waiting API for PERF005."""
    uri = {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations"}

    def method(fn: str, event: bool) -> dict[str, Any]:
        integration: dict[str, Any] = {"Type": "AWS", "IntegrationHttpMethod": "POST",
                                       "Uri": {"Fn::Sub": uri["Fn::Sub"] % fn}}
        if event:
            integration["RequestParameters"] = {"integration.request.header.X-Amz-Invocation-Type": "'Event'"}
        return {"Type": "AWS::ApiGateway::Method", "Properties": {
            "RestApiId": {"Ref": "Api"}, "ResourceId": "r", "HttpMethod": "POST", "AuthorizationType": "NONE",
            "Integration": integration}}

    def permission(fn: str) -> dict[str, Any]:
        return {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": fn}, "Principal": "apigateway.amazonaws.com"}}

    res = _resources(tmp_path, {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "a"}},
        "Queued": CFN_FN, "QueuedMethod": method("Queued", True), "QueuedPermission": permission("Queued"),
        "Both": CFN_FN, "BothAsync": method("Both", True), "BothSync": method("Both", False),
        "BothPermission": permission("Both"),
    })
    assert res["Queued"].related["async_invokers"] == [{"service": "apigateway", "id": "Api"}]
    assert res["Queued"].facts["sync_invokers"] == []
    assert res["Both"].facts["async_sources"] == ["apigateway Api"]
    assert res["Both"].facts["sync_invokers"] == ["apigateway"]


def test_sqs_dead_letter_for(tmp_path: Path) -> None:
    """Which resources send their failures to a queue: redrive policies (object or JSON text), DeadLetterConfig,
    OnFailure destinations; a RedriveAllowPolicy marks a dead-letter queue too."""
    res = _resources(tmp_path, {
        "Dlq": {"Type": "AWS::SQS::Queue"},
        "Named": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "named-dlq"}},
        "Source": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}}},
        "Text": {"Type": "AWS::SQS::Queue", "Properties": {
            "RedrivePolicy": '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:named-dlq", "maxReceiveCount": 3}'}},
        "Fn": {**CFN_FN, "Properties": {**CFN_FN["Properties"],
                                        "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
        "Allowing": {"Type": "AWS::SQS::Queue", "Properties": {"RedriveAllowPolicy": {"redrivePermission": "allowAll"}}},
        "Plain": {"Type": "AWS::SQS::Queue"},
    })
    got = {q: res[q].facts["sqs_dead_letter_for"] for q in ("Dlq", "Named", "Source", "Allowing", "Plain")}
    assert got == {"Dlq": ["Fn", "Source"], "Named": ["Text"], "Source": [], "Allowing": ["RedriveAllowPolicy"],
                   "Plain": []}
