"""Intrinsic resolution: exact values for each intrinsic, conditions, NoValue, Unknown reasons, defaults."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from walens.model import CfnResource, Location, Resource, Unknown
from walens.scanners.intrinsics import resolve_resources
from walens.views import DEFAULTS, base_view, view

DATA: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "prod"},
        "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"]},  # no default
        "Memory": {"Type": "Number", "Default": 512},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "subnet-a, subnet-b"},
        "Ssm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/setting"},
    },
    "Mappings": {"Sizes": {"prod": {"Mem": 1024, "Name": "big"}, "dev": {"Mem": 256}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "ProdAndDev": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
        "ProdOrDev": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "IsProd"}]},
        "StageIsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "Loop1": {"Condition": "Loop2"},
        "Loop2": {"Condition": "Loop1"},
        "ProdOrUndecided": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "StageIsProd"}]},
        "DevAndUndecided": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "StageIsProd"}]},
    },
    "Resources": {"Authored": {"Type": "AWS::Serverless::Api"}},
}


def _cfn(logical_id: str, rtype: str, props: dict[str, Any], **kw: Any) -> CfnResource:
    return CfnResource(logical_id, rtype, props, origin=kw.pop("origin", logical_id),
                       origin_type=kw.pop("origin_type", rtype), line=kw.pop("line", 7), col=3, **kw)


def _resolve(props: dict[str, Any], extra: list[CfnResource] | None = None) -> dict[str, Any]:
    """Resolve ``props`` on a neutral resource type (no defaults) next to ``extra`` resources."""
    cfn = [_cfn("Subject", "Custom::Thing", props)] + (extra or [])
    return {r.id: r for r in resolve_resources(DATA, cfn, "t.yaml")}["Subject"].properties


NAMED = [
    _cfn("NamedFn", "AWS::Lambda::Function", {"FunctionName": "orders-fn"}),
    _cfn("UnnamedFn", "AWS::Lambda::Function", {}),
    _cfn("SubNamedFn", "AWS::Lambda::Function", {"FunctionName": {"Fn::Sub": "${Env}-fn"}}),
    _cfn("Queue", "AWS::SQS::Queue", {"QueueName": "q"}),
    _cfn("Machine", "AWS::StepFunctions::StateMachine", {"StateMachineName": "sm"}),
    _cfn("LogGroup", "AWS::Logs::LogGroup", {"LogGroupName": "/aws/lambda/orders-fn"}),
    _cfn("Role", "AWS::IAM::Role", {"RoleName": "orders-role"}),
    _cfn("Table", "AWS::DynamoDB::Table", {"TableName": {"Fn::Join": ["-", [{"Ref": "Env"}, "t"]]}}),
    _cfn("SelfNamed", "AWS::Lambda::Function", {"FunctionName": {"Fn::Sub": "x-${SelfNamed}"}}),
]


@pytest.mark.parametrize(("node", "expected"), [
    ({"Ref": "Env"}, "prod"),
    ({"Ref": "Memory"}, 512),
    ({"Ref": "Subnets"}, ["subnet-a", "subnet-b"]),
    ({"Ref": "Stage"}, Unknown("parameter Stage has no default")),
    ({"Ref": "Ssm"}, Unknown("parameter Ssm is read from SSM parameter /app/setting")),
    ({"Ref": "AWS::Region"}, "{{AWS::Region}}"),
    ({"Ref": "AWS::AccountId"}, "{{AWS::AccountId}}"),
    ({"Ref": "Nowhere"}, Unknown("Ref: Nowhere is neither a parameter nor a resource")),
    ({"Ref": "Authored"}, "{{ref:Authored}}"),
    # Ref to a resource whose Ref returns its name: the literal name, else the placeholder.
    ({"Ref": "NamedFn"}, "orders-fn"),
    ({"Ref": "UnnamedFn"}, "{{ref:UnnamedFn}}"),
    ({"Ref": "SubNamedFn"}, "prod-fn"),
    ({"Ref": "LogGroup"}, "/aws/lambda/orders-fn"),
    ({"Ref": "Role"}, "orders-role"),
    ({"Ref": "Table"}, "prod-t"),
    ({"Ref": "SelfNamed"}, "x-{{ref:SelfNamed}}"),
    # Ref returns a URL / ARN for these: placeholder even with a literal name.
    ({"Ref": "Queue"}, "{{ref:Queue}}"),
    ({"Ref": "Machine"}, "{{ref:Machine}}"),
    ({"Fn::GetAtt": ["Role", "Arn"]}, "{{getatt:Role.Arn}}"),
    ({"Fn::GetAtt": "Queue.QueueName"}, "{{getatt:Queue.QueueName}}"),
    ({"Fn::GetAtt": ["Queue", {"Ref": "Env"}]}, "{{getatt:Queue.prod}}"),
    ({"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${NamedFn}"},
     "arn:{{AWS::Partition}}:lambda:{{AWS::Region}}:{{AWS::AccountId}}:function:orders-fn"),
    ({"Fn::Sub": "${Queue.Arn}/${!Literal}-${ Env }"}, "{{getatt:Queue.Arn}}/${Literal}-prod"),
    ({"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "Env"}, "B": {"Fn::FindInMap": ["Sizes", "prod", "Name"]}}]}, "prod-big"),
    ({"Fn::Sub": "x-${Stage}"}, Unknown("Fn::Sub: ${Stage}: parameter Stage has no default")),
    ({"Fn::Sub": 42}, Unknown("Fn::Sub: malformed argument")),
    ({"Fn::Join": ["", ["a", {"Ref": "Env"}, 3]]}, "aprod3"),
    ({"Fn::Join": [",", {"Ref": "Subnets"}]}, "subnet-a,subnet-b"),
    ({"Fn::Join": ["-", ["a", {"Ref": "AWS::NoValue"}, "b"]]}, "a-b"),
    ({"Fn::Join": ["-", ["a", {"Fn::ImportValue": "shared-vpc"}]]},
     Unknown("Fn::ImportValue: export shared-vpc is defined in another stack")),
    ({"Fn::Join": "x"}, Unknown("Fn::Join: malformed argument")),
    ({"Fn::Select": [1, {"Ref": "Subnets"}]}, "subnet-b"),
    ({"Fn::Select": ["0", ["x", "y"]]}, "x"),
    ({"Fn::Select": [5, ["x", "y"]]}, Unknown("Fn::Select: index 5 out of range")),
    ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "{{az:{{AWS::Region}}:0}}"),
    ({"Fn::Select": [2, {"Fn::Split": [":", {"Fn::GetAtt": ["Queue", "Arn"]}]}]}, Unknown("Fn::Select: index 2 out of range")),
    ({"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::Sub": "a/${Env}/c"}]}]}, "prod"),
    ({"Fn::Split": [",", "a,b,,c"]}, ["a", "b", "", "c"]),
    ({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Mem"]}, 1024),
    ({"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Mem"]},
     Unknown("Fn::FindInMap: Sizes has no entry {{AWS::Region}}/Mem")),
    ({"Fn::FindInMap": ["Sizes", "dev", "Name", {"DefaultValue": "small"}]}, "small"),
    ({"Fn::FindInMap": ["Nope", "a", "b"]}, Unknown("Fn::FindInMap: mapping Nope is not declared")),
    ({"Fn::Base64": {"Fn::Sub": "echo ${Env}"}}, base64.b64encode(b"echo prod").decode()),
    ({"Fn::GetAZs": ""}, Unknown("Fn::GetAZs: the Availability Zones depend on the account and region")),
    ({"Fn::ToJsonString": {"a": {"Ref": "Env"}, "b": [1, {"Ref": "AWS::NoValue"}]}}, '{"a":"prod","b":[1]}'),
    ({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}, Unknown("Fn::ToJsonString: parameter Stage has no default")),
    ({"Fn::Length": {"Ref": "Subnets"}}, 2),
    ({"Fn::ImportValue": {"Fn::Sub": "${Env}-vpc"}}, Unknown("Fn::ImportValue: export prod-vpc is defined in another stack")),
    ({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, Unknown("Fn::Cidr is not evaluated")),
    ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
    ({"Fn::If": ["IsDev", "big", "small"]}, "small"),
    ({"Fn::If": ["StageIsProd", "same", "same"]}, "same"),
    ({"Fn::If": ["StageIsProd", "a", "b"]},
     Unknown("Fn::If: condition StageIsProd cannot be decided from parameter defaults")),
    ({"Fn::If": ["InUsEast1", "a", "b"]}, Unknown("Fn::If: condition InUsEast1 cannot be decided from parameter defaults")),
    ({"Fn::If": ["Loop1", "a", "b"]}, Unknown("Fn::If: condition Loop1 cannot be decided from parameter defaults")),
    ({"Fn::If": ["ProdAndDev", "a", "b"]}, "b"),
    ({"Fn::If": ["ProdOrDev", "a", "b"]}, "a"),
    ({"Fn::If": ["ProdOrUndecided", "a", "b"]}, "a"),
    ({"Fn::If": ["DevAndUndecided", "a", "b"]}, "b"),
    ({"Fn::If": "IsProd"}, Unknown("Fn::If: malformed argument")),
    # Nested: If → Sub → FindInMap.
    ({"Fn::If": ["IsProd", {"Fn::Sub": ["${M}MB", {"M": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Mem"]}}]}, "x"]},
     "1024MB"),
    ("{{resolve:ssm:/app/param:1}}", "{{resolve:ssm:/app/param:1}}"),
])
def test_intrinsic_values(node: Any, expected: Any) -> None:
    assert _resolve({"V": node}, NAMED)["V"] == expected


def test_novalue_removes_keys_and_list_items() -> None:
    props = _resolve({
        "Gone": {"Ref": "AWS::NoValue"},
        "IfGone": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "c"]}, "d"],
        "Nested": {"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}},
    })
    assert props == {"List": ["a", "d"], "Nested": {"Keep": 1}}


def test_deep_nesting_and_cycles_never_raise() -> None:
    deep: Any = "leaf"
    for _ in range(3000):
        deep = {"Fn::Join": ["", [deep]]}
    value = _resolve({"V": deep})["V"]
    assert value == Unknown("nesting deeper than 100 levels")
    plain: Any = "leaf"
    for _ in range(3000):
        plain = {"k": plain}
    node = _resolve({"V": plain})["V"]
    for _ in range(50):
        node = node["k"]
    assert isinstance(node, dict)
    cyc = [_cfn("A", "AWS::Lambda::Function", {"FunctionName": {"Ref": "B"}}),
           _cfn("B", "AWS::Lambda::Function", {"FunctionName": {"Ref": "A"}})]
    by_id = {r.id: r for r in resolve_resources(DATA, cyc, "t.yaml")}
    # A circular name (invalid in CloudFormation) ends at the placeholder of the first name reopened.
    assert (by_id["A"].name, by_id["B"].name) == ("{{ref:B}}", "{{ref:B}}")


def test_conditions_drop_only_false_resources() -> None:
    cfn = [
        _cfn("ProdOnly", "Custom::X", {}, condition="IsProd"),
        _cfn("DevOnly", "Custom::X", {}, condition="IsDev"),
        _cfn("Undecided", "Custom::X", {}, condition="StageIsProd"),
        _cfn("Undeclared", "Custom::X", {}, condition="NoSuchCondition"),
    ]
    assert [r.id for r in resolve_resources(DATA, cfn, "t.yaml")] == ["ProdOnly", "Undecided", "Undeclared"]


def test_resource_fields_name_location_origin() -> None:
    cfn = [
        _cfn("FnA", "AWS::Lambda::Function", {"FunctionName": "a-fn", "MemorySize": {"Ref": "Memory"}},
             origin="Api", origin_type="AWS::Serverless::Function", line=12, metadata={"Note": {"Ref": "Env"}}),
        _cfn("FnB", "AWS::Lambda::Function", {"Timeout": 10, "TracingConfig": {}, "LoggingConfig": {"LogFormat": "JSON"}},
             condition="IsProd"),
        _cfn("FnC", "AWS::Lambda::Function", {"FunctionName": {"Fn::ImportValue": "x"}}),
    ]
    a, b, c = resolve_resources(DATA, cfn, "app.yaml")
    assert (a.name, a.location, a.origin, a.origin_type, a.metadata) == (
        "a-fn", Location("app.yaml", 12, 3), "Api", "AWS::Serverless::Function", {"Note": "prod"})
    assert a.properties == {"FunctionName": "a-fn", "MemorySize": 512, "Timeout": 3, "Architectures": ["x86_64"],
                            "TracingConfig": {"Mode": "PassThrough"}, "PackageType": "Zip",
                            "EphemeralStorage": {"Size": 512}, "LoggingConfig": {"LogFormat": "Text"}}
    assert a.facts["defaulted"] == ["Timeout", "Architectures", "TracingConfig.Mode", "PackageType",
                                    "EphemeralStorage.Size", "LoggingConfig.LogFormat"]
    assert b.facts["defaulted"] == ["MemorySize", "Architectures", "TracingConfig.Mode", "PackageType",
                                    "EphemeralStorage.Size"]
    assert (b.name, b.condition, b.properties["TracingConfig"]) == ("{{ref:FnB}}", "IsProd", {"Mode": "PassThrough"})
    # A name that cannot be determined is no name: the placeholder stands in.
    assert c.name == "{{ref:FnC}}"
    assert c.properties["FunctionName"] == Unknown("Fn::ImportValue: export x is defined in another stack")


def test_defaults_do_not_overwrite_unknowns_and_cover_other_types() -> None:
    cfn = [
        _cfn("Fn", "AWS::Lambda::Function", {"TracingConfig": {"Fn::ImportValue": "t"}, "MemorySize": {"Ref": "Stage"}}),
        _cfn("Stage1", "AWS::ApiGateway::Stage", {"TracingEnabled": True}),
        _cfn("Api", "AWS::ApiGateway::RestApi", {}),
        _cfn("Q", "AWS::SQS::Queue", {"VisibilityTimeout": 60}),
        _cfn("Sm", "AWS::StepFunctions::StateMachine", {}),
        _cfn("Esm", "AWS::Lambda::EventSourceMapping", {}),
    ]
    fn, stage, api, queue, sm, esm = resolve_resources(DATA, cfn, "t.yaml")
    assert fn.properties["TracingConfig"] == Unknown("Fn::ImportValue: export t is defined in another stack")
    assert fn.properties["MemorySize"] == Unknown("parameter Stage has no default")
    assert "TracingConfig.Mode" not in fn.facts["defaulted"] and "MemorySize" not in fn.facts["defaulted"]
    assert stage.properties == {"TracingEnabled": True, "CacheClusterEnabled": False}
    assert stage.facts["defaulted"] == ["CacheClusterEnabled"]
    assert api.properties == {"EndpointConfiguration": {"Types": ["EDGE"]}}
    assert (queue.properties["VisibilityTimeout"], queue.properties["MessageRetentionPeriod"]) == (60, 345600)
    assert sm.properties == {"StateMachineType": "STANDARD"}
    assert "BatchSize" not in esm.properties
    # Defaults are copied, never shared between resources.
    assert DEFAULTS["AWS::Lambda::Function"]["Architectures"] == ["x86_64"]


def test_views() -> None:
    r = Resource(id="Fn", type="AWS::Lambda::Function", properties={"MemorySize": 256}, origin="Fn",
                 origin_type="AWS::Serverless::Function", name="fn", related={"role": None}, facts={"x": 1})
    assert base_view(r) == {"id": "Fn", "type": "AWS::Lambda::Function", "name": "fn", "source": "template",
                            "origin": "Fn", "origin_type": "AWS::Serverless::Function", "arn": None,
                            "account": None, "region": None, "Properties": {"MemorySize": 256},
                            "Metadata": {}, "facts": {"x": 1}}
    v = view(r, {"max": 3})
    assert (v["related"], v["params"], "related" in base_view(r)) == ({"role": None}, {"max": 3}, False)
