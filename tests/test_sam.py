"""Targeted cases for walens's native SAM expansion (walens/scanners/sam.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from walens.errors import InputError
from walens.model import CfnResource
from walens.scanners.sam import expand, merge_globals

FIXTURES = Path(__file__).parent / "fixtures" / "sam"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation short-form tags turned into long form (until the loader lands)."""


def _tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else ("Condition" if suffix == "Condition" else f"Fn::{suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def run(text: str) -> dict[str, CfnResource]:
    """Expand a SAM template given as YAML text; resources by logical ID."""
    resources = expand(yaml.load(text, Loader=_Loader))  # noqa: S506 - SafeLoader subclass
    by_id = {r.logical_id: r for r in resources}
    assert len(by_id) == len(resources), "duplicate logical IDs"
    return by_id


def of_type(resources: dict[str, CfnResource], type_: str) -> dict[str, CfnResource]:
    return {k: v for k, v in resources.items() if v.type == type_}


def methods(resources: dict[str, CfnResource]) -> set[tuple[str, str, str]]:
    return {(m.properties["ResourcePath"], m.properties["HttpMethod"], m.properties["AuthorizationType"])
            for m in of_type(resources, "AWS::ApiGateway::Method").values()}


FN = """
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: s3://bucket/key.zip
"""


def test_globals_merge_maps_append_lists_and_override_scalars() -> None:
    res = run("""
Globals:
  Function:
    MemorySize: 512
    Timeout: 10
    Tracing: Active
    Environment: {Variables: {A: "1", B: "2"}}
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:g:1]
    Architectures: [x86_64]
Resources:
  Fn:""" + FN + """      MemorySize: 1024
      Environment: {Variables: {B: "3", C: "4"}}
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:l:1]
      Architectures: [arm64]
  Plain:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Tracing, MemorySize]
    Properties: {Handler: app.handler, Runtime: python3.12, CodeUri: s3://bucket/key.zip}
""")
    fn = res["Fn"].properties
    assert fn["MemorySize"] == 1024
    assert fn["Timeout"] == 10
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["Environment"] == {"Variables": {"A": "1", "B": "3", "C": "4"}}
    assert fn["Layers"] == ["arn:aws:lambda:us-east-1:123456789012:layer:g:1",
                            "arn:aws:lambda:us-east-1:123456789012:layer:l:1"]
    assert fn["Architectures"] == ["arm64"]  # SAM replaces Architectures rather than appending
    plain = res["Plain"].properties
    assert "TracingConfig" not in plain and "MemorySize" not in plain
    assert plain["Timeout"] == 10


def test_merge_globals_treats_intrinsics_as_scalars() -> None:
    assert merge_globals({"Variables": {"A": 1}}, {"Fn::If": ["c", {}, {}]}) == {"Fn::If": ["c", {}, {}]}
    assert merge_globals([1], [2]) == [1, 2]
    assert merge_globals({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


def test_implicit_api_with_cognito_default_authorizer_and_none_override() -> None:
    res = run("""
Globals:
  Api:
    Auth:
      DefaultAuthorizer: Cognito
      Authorizers:
        Cognito: {UserPoolArn: !GetAtt Pool.Arn, AuthorizationScopes: [read]}
Resources:
  Pool: {Type: AWS::Cognito::UserPool}
  Fn:""" + FN + """      Events:
        Get: {Type: Api, Properties: {Path: /items, Method: get}}
        Health: {Type: Api, Properties: {Path: /health, Method: get, Auth: {Authorizer: NONE}}}
        Admin: {Type: Api, Properties: {Path: /admin, Method: post, Auth: {Authorizer: AWS_IAM}}}
""")
    assert res["ServerlessRestApi"].type == "AWS::ApiGateway::RestApi"
    assert res["ServerlessRestApiProdStage"].properties["StageName"] == "Prod"
    assert methods(res) == {("/items", "GET", "COGNITO_USER_POOLS"), ("/health", "GET", "NONE"),
                            ("/admin", "POST", "AWS_IAM")}
    get = next(m for m in of_type(res, "AWS::ApiGateway::Method").values()
               if m.properties["ResourcePath"] == "/items")
    assert get.properties["AuthorizerId"] == {"Ref": "ServerlessRestApiCognitoAuthorizer"}
    assert get.properties["AuthorizationScopes"] == ["read"]
    assert get.properties["Integration"]["Type"] == "AWS_PROXY"
    assert get.origin == "Fn" and get.origin_type == "AWS::Serverless::Function"
    authorizer = res["ServerlessRestApiCognitoAuthorizer"].properties
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": ["Pool", "Arn"]}]
    assert set(of_type(res, "AWS::Lambda::Permission")) == {
        "FnGetPermissionProd", "FnHealthPermissionProd", "FnAdminPermissionProd"}


def test_request_model_creates_validator_and_models() -> None:
    res = run("""
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Models:
        User: {type: object}
  Fn:""" + FN + """      Events:
        Post:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /users
            Method: post
            RequestModel: {Model: User, Required: true, ValidateBody: true}
            RequestParameters: [method.request.header.X-Id, {method.request.querystring.q: {Required: true}}]
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /users, Method: get}}
""")
    assert set(of_type(res, "AWS::ApiGateway::RequestValidator")) == {"ApiRequestValidatorBodyOnly"}
    validator = res["ApiRequestValidatorBodyOnly"].properties
    assert (validator["Name"], validator["ValidateRequestBody"], validator["ValidateRequestParameters"]) == (
        "body-only", True, False)
    post = res["ApiMethodUsersPost"].properties
    assert post["RequestValidatorId"] == {"Ref": "ApiRequestValidatorBodyOnly"}
    assert post["RequestModels"] == {"application/json": "User"}
    assert post["RequestParameters"] == {"method.request.header.X-Id": False,
                                         "method.request.querystring.q": True}
    assert "RequestValidatorId" not in res["ApiMethodUsersGet"].properties
    assert res["ApiModelUser"].properties["Schema"] == {"type": "object"}
    assert res["Apiv1Stage"].properties["StageName"] == "v1"


def test_request_model_not_in_models_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        run("""
Resources:
  Api: {Type: AWS::Serverless::Api, Properties: {StageName: v1}}
  Fn:""" + FN + """      Events:
        Post: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /, Method: post, RequestModel: {Model: X}}}
""")
    assert err.value.kind == "sam"
    assert "Fn" in err.value.message and "RequestModel 'X'" in err.value.message


def test_sqs_event_source_mapping_with_batch_settings() -> None:
    res = run("""
Resources:
  Queue: {Type: AWS::SQS::Queue}
  Fn:""" + FN + """      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 25
            MaximumBatchingWindowInSeconds: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 4}
""")
    assert res["FnJobs"].type == "AWS::Lambda::EventSourceMapping"
    assert res["FnJobs"].properties == {
        "FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "BatchSize": 25,
        "MaximumBatchingWindowInSeconds": 5, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 4}}
    role = res["FnRole"].properties
    assert {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"} in \
        role["ManagedPolicyArns"]
    assert res["Fn"].properties["Role"] == {"Fn::GetAtt": ["FnRole", "Arn"]}


def test_event_invoke_config_on_alias_with_generated_queue() -> None:
    res = run("""
Resources:
  Fn:""" + FN + """      AutoPublishAlias: live
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        MaximumEventAgeInSeconds: 120
        DestinationConfig:
          OnFailure: {Type: SQS}
          OnSuccess: {Type: SNS, Destination: arn:aws:sns:us-east-1:123456789012:ok}
""")
    assert res["FnEventInvokeConfig"].properties == {
        "FunctionName": {"Ref": "Fn"}, "Qualifier": "live", "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 120,
        "DestinationConfig": {
            "OnSuccess": {"Destination": "arn:aws:sns:us-east-1:123456789012:ok"},
            "OnFailure": {"Destination": {"Fn::GetAtt": ["FnEventInvokeConfigOnFailureQueue", "Arn"]}}}}
    assert res["FnEventInvokeConfigOnFailureQueue"].type == "AWS::SQS::Queue"
    assert res["FnAliaslive"].properties["Name"] == "live"


def test_function_url_and_public_permission() -> None:
    res = run("""
Resources:
  Fn:""" + FN + """      FunctionUrlConfig:
        AuthType: NONE
        Cors: {AllowOrigins: ["https://example.com"]}
""")
    assert res["FnUrl"].properties == {"TargetFunctionArn": {"Ref": "Fn"}, "AuthType": "NONE",
                                       "Cors": {"AllowOrigins": ["https://example.com"]}}
    assert res["FnUrlPublicPermissions"].properties["FunctionUrlAuthType"] == "NONE"


def test_deployment_preference_generates_deployment_group() -> None:
    res = run("""
Resources:
  Alarm: {Type: AWS::CloudWatch::Alarm}
  Fn:""" + FN + """      AutoPublishAlias: live
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref Alarm]
        Hooks: {PreTraffic: !Ref Hook}
""")
    group = res["FnDeploymentGroup"].properties
    assert group["DeploymentConfigName"] == {
        "Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": "Canary10Percent5Minutes"}]}
    assert group["AlarmConfiguration"] == {"Alarms": [{"Name": {"Ref": "Alarm"}}], "Enabled": True}
    assert group["Hooks"] == {"PreTraffic": {"Ref": "Hook"}}
    assert res["FnAliaslive"].properties["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    assert {"ServerlessDeploymentApplication", "CodeDeployServiceRole"} <= set(res)


def test_deployment_preference_disabled_generates_nothing() -> None:
    res = run("""
Resources:
  Fn:""" + FN + """      AutoPublishAlias: live
      DeploymentPreference: {Type: AllAtOnce, Enabled: false}
""")
    assert set(of_type(res, "AWS::CodeDeploy::DeploymentGroup")) == set()


def test_http_api_routes_with_jwt_default_and_explicit_none() -> None:
    res = run("""
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: prod
      AccessLogSettings: {DestinationArn: arn:aws:logs:us-east-1:123456789012:log-group:x, Format: $context.requestId}
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration: {issuer: https://issuer, audience: [a]}
            IdentitySource: $request.header.Authorization
  Fn:""" + FN + """      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /things, Method: GET}}
        Open: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /open, Method: GET, Auth: {Authorizer: NONE}}}
  Other:""" + FN + """      Events:
        Any: {Type: HttpApi}
""")
    routes = {(r.properties["RouteKey"], r.properties["AuthorizationType"])
              for r in of_type(res, "AWS::ApiGatewayV2::Route").values()}
    assert routes == {("GET /things", "JWT"), ("GET /open", "NONE"), ("$default", "NONE")}
    assert res["ApiprodStage"].properties["AccessLogSettings"]["Format"] == "$context.requestId"
    assert res["ServerlessHttpApiApiGatewayDefaultStage"].properties["StageName"] == "$default"
    assert res["ApiJwtAuthorizer"].properties["AuthorizerType"] == "JWT"


def test_definition_body_methods_and_definition_uri_unknown() -> None:
    res = run("""
Resources:
  Inline:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionBody:
        swagger: "2.0"
        x-amazon-apigateway-request-validators:
          all: {validateRequestBody: true, validateRequestParameters: true}
        x-amazon-apigateway-request-validator: all
        securityDefinitions:
          sigv4: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}
        paths:
          /a:
            get:
              security: [{sigv4: []}]
              x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: arn:x}
            post: {}
  External:
    Type: AWS::Serverless::Api
    Properties: {StageName: v1, DefinitionUri: s3://bucket/openapi.yaml}
""")
    assert methods(res) == {("/a", "GET", "AWS_IAM"), ("/a", "POST", "NONE")}
    get = res["InlineMethodAGet"].properties
    assert get["RequestValidatorId"] == {"Ref": "InlineRequestValidatorAll"}
    assert get["Integration"] == {"Type": "AWS_PROXY", "Uri": "arn:x", "IntegrationHttpMethod": "POST"}
    assert res["External"].metadata == {"WalensMethodsUnknown": "DefinitionUri points to an OpenAPI file in S3"}
    assert res["External"].properties["BodyS3Location"] == {"Bucket": "bucket", "Key": "openapi.yaml"}


def test_rest_api_properties_resource_policy_and_usage_plan() -> None:
    res = run("""
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      EndpointConfiguration: PRIVATE
      TracingEnabled: true
      MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimit: 10}]
      Auth:
        ApiKeyRequired: true
        ResourcePolicy: {IntrinsicVpceWhitelist: [vpce-1]}
        UsagePlan: {CreatePlan: x, CreateUsagePlan: PER_API, Throttle: {RateLimit: 5}}
""")
    api = res["Api"].properties
    assert api["EndpointConfiguration"] == {"Types": ["PRIVATE"]}
    deny = [s for s in api["Policy"]["Statement"] if s["Effect"] == "Deny"]
    assert deny == [{"Action": "execute-api:Invoke", "Resource": "execute-api:/*", "Effect": "Deny",
                     "Principal": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-1"]}}}]
    stage = res["ApiprodStage"].properties
    assert (stage["TracingEnabled"], stage["MethodSettings"][0]["ThrottlingRateLimit"]) == (True, 10)
    assert res["ApiUsagePlan"].properties["ApiStages"] == [{"ApiId": {"Ref": "Api"},
                                                            "Stage": {"Ref": "ApiprodStage"}}]
    assert res["ApiUsagePlan"].properties["Throttle"] == {"RateLimit": 5}
    assert {"ApiApiKey", "ApiUsagePlanKey"} <= set(res)


def test_push_events_sns_s3_schedule() -> None:
    res = run("""
Resources:
  Topic: {Type: AWS::SNS::Topic}
  Bucket: {Type: AWS::S3::Bucket}
  Fn:""" + FN + """      Events:
        Note: {Type: SNS, Properties: {Topic: !Ref Topic, FilterPolicy: {k: [v]}}}
        Buffered: {Type: SNS, Properties: {Topic: !Ref Topic, SqsSubscription: true}}
        Upload: {Type: S3, Properties: {Bucket: !Ref Bucket, Events: s3:ObjectCreated:*}}
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            DeadLetterConfig: {Type: SQS}
            RetryPolicy: {MaximumRetryAttempts: 2}
""")
    assert res["FnNote"].properties["Protocol"] == "lambda"
    assert res["FnNote"].properties["FilterPolicy"] == {"k": ["v"]}
    assert res["FnBuffered"].properties["Protocol"] == "sqs"
    assert res["FnBufferedEventSourceMapping"].properties["BatchSize"] == 10
    assert res["FnUploadPermission"].properties["Principal"] == "s3.amazonaws.com"
    assert res["Bucket"].properties["NotificationConfiguration"] == {"LambdaConfigurations": [
        {"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["Fn", "Arn"]}}]}
    target = res["FnTick"].properties["Targets"][0]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FnTickQueue", "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2}
    assert res["FnTick"].properties["ScheduleExpression"] == "rate(5 minutes)"


def test_state_machine_simple_table_layer() -> None:
    res = run("""
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: EXPRESS
      Tracing: {Enabled: true}
      Logging: {Level: ALL, Destinations: []}
      DefinitionUri: s3://bucket/sm.json
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties: {PrimaryKey: {Name: pk, Type: Number}, SSESpecification: {SSEEnabled: true}}
  Layer: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: s3://bucket/layer.zip}}
""")
    sm = res["Machine"].properties
    assert (sm["StateMachineType"], sm["TracingConfiguration"], sm["LoggingConfiguration"]["Level"]) == (
        "EXPRESS", {"Enabled": True}, "ALL")
    assert sm["RoleArn"] == {"Fn::GetAtt": ["MachineRole", "Arn"]}
    table = res["Table"].properties
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "N"}]
    assert (table["BillingMode"], table["SSESpecification"]) == ("PAY_PER_REQUEST", {"SSEEnabled": True})
    assert res["Layer"].type == "AWS::Lambda::LayerVersion"


class _MarkedDict(dict):  # type: ignore[type-arg]
    """A stand-in for the loader's DictNode: key marks only."""

    key_marks: dict[str, tuple[int, int]] = {}


def test_generated_resources_carry_origin_and_authored_line() -> None:
    data = yaml.load("Resources:\n  Fn:" + FN + "      Events:\n        Q: {Type: SQS, Properties: {Queue: q}}\n"
                     "  Other: {Type: AWS::SNS::Topic}\n", Loader=_Loader)  # noqa: S506
    marked = _MarkedDict(data["Resources"])
    marked.key_marks = {"Fn": (2, 3), "Other": (10, 3)}
    resources = expand({"Resources": marked})
    assert {(r.logical_id, r.origin, r.line, r.col) for r in resources} == {
        ("Fn", "Fn", 2, 3), ("FnQ", "Fn", 2, 3), ("FnRole", "Fn", 2, 3), ("Other", "Other", 10, 3)}


@pytest.mark.parametrize(("template", "needle"), [
    ("Resources:\n  Fn:" + FN + "      Events: [a]\n", "SAM resource Fn: 'Events' must be a mapping"),
    ("Resources:\n  Fn:" + FN + "      Events: {E: {Properties: {}}}\n",
     "SAM resource Fn: 'Events.E.Type' must be a string"),
    ("Resources:\n  Fn:" + FN + "      Events: {E: {Type: Carrier}}\n",
     "SAM resource Fn: Events.E: unsupported event Type 'Carrier'"),
    ("Resources:\n  Fn:" + FN + "      Policies: [42]\n", "SAM resource Fn: 'Policies' item 0"),
    ("Resources:\n  Fn:" + FN + "      DeadLetterQueue: {Type: Kafka, TargetArn: x}\n",
     "SAM resource Fn: 'DeadLetterQueue' needs Type"),
    ("Resources:\n  Fn:" + FN + "      DeploymentPreference: {Type: AllAtOnce}\n",
     "SAM resource Fn: 'DeploymentPreference' requires 'AutoPublishAlias'"),
    ("Globals:\n  Function:\n    Role: x\nResources: {}\n", "SAM Globals.Function.Role: not supported"),
    ("Resources:\n  Api: {Type: AWS::Serverless::Api, Properties: {StageName: v, Auth: [x]}}\n",
     "SAM resource Api: 'Auth' must be a mapping"),
    ("Resources:\n  Fn: [1]\n", "SAM resource Fn: resource must be a mapping"),
    ("Resources: []\n", "SAM template: 'Resources' must be a mapping"),
])
def test_invalid_shapes_raise_input_error_naming_the_resource(template: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        run(template)
    assert err.value.kind == "sam"
    assert needle in err.value.message


def test_fixture_application_expands_to_expected_resources() -> None:
    text = (FIXTURES / "app.yaml").read_text(encoding="utf-8")
    res = run(text)
    assert set(res) == {
        "Orders", "OrdersRole", "OrdersCreatePermissionProd", "OrdersVersion0cd245f156",
        "OrdersAliaslive", "OrdersEventInvokeConfig", "OrdersQueueEvent", "ServerlessRestApi",
        "ServerlessRestApiProdStage", "ServerlessRestApiMethodOrdersPost", "Queue", "OrdersTable"}
    assert res["OrdersRole"].metadata == {"SamPolicyTemplates": [{
        "Name": "DynamoDBCrudPolicy", "Parameters": {"TableName": {"Ref": "OrdersTable"}},
        "PolicyName": "OrdersRolePolicy0"}]}
    assert res["OrdersQueueEvent"].properties["FunctionName"] == {"Ref": "OrdersAliaslive"}
    assert res["Orders"].properties["TracingConfig"] == {"Mode": "Active"}
    assert res["ServerlessRestApiMethodOrdersPost"].origin == "Orders"


def test_expansion_imports_no_heavy_dependencies() -> None:
    import subprocess
    import sys

    code = ("import sys, walens.scanners.sam as s; "
            "s.expand({'Resources': {'F': {'Type': 'AWS::Serverless::Function', 'Properties': "
            "{'Events': {'A': {'Type': 'Api', 'Properties': {'Path': '/', 'Method': 'get'}}}}}}}); "
            "print(sorted(m for m in ('boto3', 'cfnlint', 'jinja2', 'samtranslator') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"


def test_inline_topic_subscriptions_become_subscriptions() -> None:
    """SNS creates a subscription for each entry of a topic's inline Subscription list (REL017, COST013 read them)."""
    from walens.scanners.sam import expand

    out = expand({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"Subscription": [
            {"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": ["Fn", "Arn"]}},
            {"Protocol": "email", "Endpoint": "ops@example.com"}]}},
        "Other": {"Type": "AWS::SNS::Topic", "Properties": {"Subscription": {"Ref": "Imported"}}},
    }})
    subs = [(r.logical_id, r.properties, r.origin) for r in out if r.type == "AWS::SNS::Subscription"]
    assert subs == [
        ("TopicSubscription1", {"TopicArn": {"Ref": "Topic"}, "Protocol": "lambda",
                                "Endpoint": {"Fn::GetAtt": ["Fn", "Arn"]}}, "Topic"),
        ("TopicSubscription2", {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "ops@example.com"},
         "Topic"),
    ]


def test_deployment_with_stage_name_creates_its_stage() -> None:
    """StageDescription's stage-wide settings become the /* * method settings of the stage it creates."""
    from walens.scanners.sam import expand

    out = expand({"Resources": {
        "Deploy": {"Type": "AWS::ApiGateway::Deployment", "Properties": {
            "RestApiId": {"Ref": "Api"}, "StageName": "prod", "StageDescription": {
                "TracingEnabled": True, "ThrottlingRateLimit": 10, "LoggingLevel": "ERROR",
                "MethodSettings": [{"ResourcePath": "/a", "HttpMethod": "GET", "CachingEnabled": True}]}}},
        "Snapshot": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
    }})
    stages = [(r.logical_id, r.properties, r.origin) for r in out if r.type == "AWS::ApiGateway::Stage"]
    assert stages == [("DeployStage", {
        "RestApiId": {"Ref": "Api"}, "StageName": "prod", "DeploymentId": {"Ref": "Deploy"}, "TracingEnabled": True,
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "ERROR", "ThrottlingRateLimit": 10},
                           {"ResourcePath": "/a", "HttpMethod": "GET", "CachingEnabled": True}]}, "Deploy")]
