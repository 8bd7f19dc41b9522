"""Security facts (walens.facts.security_api, walens.facts.security_lambda): exact results, and the
opt-in of SEC008 through its parameter."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from walens import engine, facts, graph
from walens.facts import security_api, security_lambda
from walens.model import CfnResource, Location, Resource, Unknown
from walens.pipeline import scan_templates
from walens.rules import load_rules
from walens.scanners.intrinsics import resolve_resources


def _linked(resources: dict[str, tuple[str, dict[str, Any]]], parameters: dict[str, Any] | None = None
            ) -> dict[str, Resource]:
    cfn = [CfnResource(k, t, p, origin=k, origin_type=t, line=1) for k, (t, p) in resources.items()]
    out = resolve_resources({"Parameters": parameters or {}}, cfn, "t.yaml")
    graph.link(out)
    return {r.id: r for r in out}


# -- names and values ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "secret"), [
    ("DB_PASSWORD", True), ("dbPassword", True), ("STRIPE_API_KEY", True), ("apiKey", True),
    ("GITHUB_TOKEN", True), ("OAUTH_CLIENT_SECRET", True), ("PRIVATE_KEY", True), ("JWT_SIGNING_KEY", True),
    ("DB_SECRET_ARN", False), ("API_KEY_NAME", False), ("TOKEN_TTL", False), ("PASSWORD_MIN_LENGTH", False),
    ("SECRETS_EXTENSION_HTTP_PORT", False), ("TABLE_NAME", False), ("KEY", False), ("PWD", False),
])
def test_is_secret_name(name: str, secret: bool) -> None:
    assert security_lambda.is_secret_name(name) is secret


@pytest.mark.parametrize(("name", "static"), [
    ("AWS_ACCESS_KEY_ID", True), ("MY_AWS_SECRET_ACCESS_KEY", True), ("awsAccessKey", True),
    ("ACCESS_KEY_ID", True), ("AWS_SESSION_TOKEN", True), ("MINIO_ACCESS_KEY_NAME", False), ("API_KEY", False),
])
def test_is_static_key_name(name: str, static: bool) -> None:
    assert security_lambda.is_static_key_name(name) is static


def test_value_kind() -> None:
    kind = security_lambda.value_kind
    assert kind("s3cr3t") == "literal"
    assert kind("{{resolve:secretsmanager:db:SecretString:password}}") == "reference"
    assert kind("{{ref:DbSecret}}") == "reference"
    assert kind("arn:aws:secretsmanager:us-east-1:1:secret:x") == "reference"
    assert kind("/app/prod/db") == "reference"
    assert kind("") == "empty" and kind(True) == "empty" and kind(12) == "empty" and kind("false") == "empty"
    assert kind(Unknown("parameter Db has no default")) == "parameter"
    other = Unknown("Fn::ImportValue: export of another stack")
    assert kind(other) == other


def _function(variables: Any, **props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::Lambda::Function", {"Role": "arn:aws:iam::1:role/r", "Environment": {"Variables": variables},
                                     **props}


def test_environment_secrets_names_never_values() -> None:
    res = _linked({
        "Key": ("AWS::IAM::AccessKey", {"UserName": "u"}),
        "Fn": _function({
            "DB_PASSWORD": "hunter2", "URL": "https://user:pa55@example.com/x", "OK_URL": "https://example.com",
            "SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x", "AWS_KEY": "AKIAIOSFODNN7EXAMPLE",
            "K": {"Fn::GetAtt": ["Key", "SecretAccessKey"]}, "AWS_SECRET_ACCESS_KEY": "",
        }),
    })
    facts.compute(list(res.values()))
    got = res["Fn"].facts["environment_secrets"]
    assert got == {"literal": ["DB_PASSWORD", "URL"], "static_keys": ["AWS_KEY", "K"]}
    assert "hunter2" not in repr(got) and "AKIA" not in repr(got)


def test_environment_secrets_unknown() -> None:
    unknown = Unknown("Fn::ImportValue: export of another stack")
    fn = Resource("Fn", "AWS::Lambda::Function", {"Environment": {"Variables": {"API_TOKEN": unknown, "X": "y"}}})
    assert security_lambda.environment_secrets(fn, [fn]) == {"literal": unknown, "static_keys": []}
    # A definite literal wins over an undecided one.
    fn.properties["Environment"]["Variables"]["DB_PASSWORD"] = "pw"
    assert security_lambda.environment_secrets(fn, [fn])["literal"] == ["DB_PASSWORD"]
    whole = Resource("Fn", "AWS::Lambda::Function", {"Environment": unknown})
    assert security_lambda.environment_secrets(whole, [whole]) == {"literal": unknown, "static_keys": unknown}


def test_secret_parameters_reads_the_authored_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n"
        "  DbPassword: {Type: String}\n"
        "  Hidden: {Type: String, NoEcho: true}\n"
        "  Plain: {Type: String}\n"
        "  FromSsm: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /app/token}\n"
        "Globals:\n"
        "  Function:\n"
        "    Environment: {Variables: {GLOBAL_TOKEN: !Ref Plain}}\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: a.b\n"
        "      Runtime: python3.13\n"
        "      CodeUri: s/\n"
        "      Environment:\n"
        "        Variables:\n"
        "          URL: !Sub 'postgres://u:${DbPassword}@h/d'\n"
        "          PASSWORD: !Ref Hidden\n"
        "          API_TOKEN: !Ref FromSsm\n"
        "          STAGE: !Ref Plain\n", encoding="utf-8")
    doc = scan_templates([str(path)], select=["SEC010"])
    [finding] = doc["findings"]
    assert finding["status"] == "fail"
    assert finding["message"].endswith(": DbPassword, Plain")
    # The same template on stdin (no file to read again) gets the same verdict: the fact reads the loaded
    # model, and a file changed after loading does not change it either.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes()), encoding="utf-8"))
    path.write_text("Resources: {}\n", encoding="utf-8")
    [piped] = scan_templates(["-"], select=["SEC010"])["findings"]
    assert (piped["status"], piped["message"]) == (finding["status"], finding["message"])
    assert piped["location"]["file"] == "<stdin>"
    # A resource built without its template (nothing authored to read): undecided, never a pass.
    fn = Resource("Fn", "AWS::Lambda::Function", {"Environment": {"Variables": {"A": "b"}}},
                  location=Location("t.yaml", 1))
    assert isinstance(security_lambda.secret_parameters(fn, [fn]), Unknown)


def test_deploy_time_secrets_names_no_echo_parameters_and_dynamic_references(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n"
        "  Hidden: {Type: String, NoEcho: true}\n"
        "  Shown: {Type: String, Default: x}\n"
        "Globals:\n"
        "  Function:\n"
        "    Environment: {Variables: {GLOBAL_KEY: !Ref Hidden}}\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: a.b\n"
        "      Runtime: python3.13\n"
        "      CodeUri: s/\n"
        "      Environment:\n"
        "        Variables:\n"
        "          JOINED: !Join ['', [a, !Ref Hidden]]\n"
        "          RESOLVED: '{{resolve:secretsmanager:s:SecretString:p}}'\n"
        "          PLAIN: !Ref Shown\n", encoding="utf-8")
    doc = scan_templates([str(path)], select=["SEC027"])
    [finding] = doc["findings"]
    assert finding["status"] == "fail"
    assert finding["message"].endswith(": GLOBAL_KEY (NoEcho parameter Hidden), JOINED (NoEcho parameter Hidden), "
                                       "RESOLVED (Secrets Manager dynamic reference)")
    fn = Resource("Fn", "AWS::Lambda::Function", {"Environment": {"Variables": {"A": "b"}}},
                  location=Location("<stdin>", 1))
    assert isinstance(security_lambda.deploy_time_secrets(fn, [fn]), Unknown)
    assert security_lambda.deploy_time_secrets(Resource("Fn", "AWS::Lambda::Function", {}), []) == []


# -- VPC -------------------------------------------------------------------------------------------

GUARDRAIL = ("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": [
    {"Effect": "Deny", "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"], "Resource": "*",
     "Condition": {"Null": {"lambda:VpcIds": "true"}}}]}})


def test_vpc_guardrails_and_opt_in_parameter() -> None:
    res = _linked({"Guard": GUARDRAIL, "Fn": _function({})})
    facts.compute(list(res.values()))
    assert res["Fn"].facts["vpc_guardrails"] == ["Guard"]
    rule = next(r for r in load_rules() if r.id == "SEC008")
    plain = _linked({"Fn": _function({})})
    facts.compute(list(plain.values()))
    # Default parameters and no guardrail: the rule does not apply.
    assert engine.evaluate(list(plain.values()), [rule]) == []
    # Opted in by the parameter: a function without VpcConfig fails.
    [finding] = engine.evaluate(list(plain.values()), [rule.with_params({"require_vpc": True})])
    assert finding.status == "fail" and "the require_vpc parameter" in finding.message


def test_vpc_only_targets() -> None:
    res = _linked({
        "Db": ("AWS::RDS::DBInstance", {"Engine": "postgres"}),
        "PublicDb": ("AWS::RDS::DBInstance", {"Engine": "postgres", "PubliclyAccessible": True}),
        "Bucket": ("AWS::S3::Bucket", {}),
        "Fn": _function({"A": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
                         "B": {"Fn::GetAtt": ["PublicDb", "Endpoint.Address"]}, "C": {"Ref": "Bucket"}}),
    })
    facts.compute(list(res.values()))
    assert res["Fn"].facts["vpc_only_targets"] == ["Db"]


def test_open_egress_security_groups() -> None:
    res = _linked({
        "Default": ("AWS::EC2::SecurityGroup", {"GroupDescription": "d"}),
        "Open6": ("AWS::EC2::SecurityGroup", {"GroupDescription": "o", "SecurityGroupEgress": [
            {"IpProtocol": "-1", "CidrIpv6": "::/0"}]}),
        "Tight": ("AWS::EC2::SecurityGroup", {"GroupDescription": "t"}),
        "TightEgress": ("AWS::EC2::SecurityGroupEgress", {"GroupId": {"Fn::GetAtt": ["Tight", "GroupId"]},
                                                           "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                                           "CidrIp": "10.0.0.0/8"}),
        # Every TCP port to anywhere is as open as protocol -1; HTTPS to anywhere is a port, not everything.
        "AllTcp": ("AWS::EC2::SecurityGroup", {"GroupDescription": "a", "SecurityGroupEgress": [
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "CidrIp": "0.0.0.0/0"}]}),
        "Https": ("AWS::EC2::SecurityGroup", {"GroupDescription": "h", "SecurityGroupEgress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}),
        "Fn": _function({}, VpcConfig={"SubnetIds": ["s"], "SecurityGroupIds": [
            {"Ref": "Default"}, {"Fn::GetAtt": ["Open6", "GroupId"]}, {"Ref": "Tight"}, "sg-external",
            {"Ref": "AllTcp"}, {"Ref": "Https"}]}),
    })
    facts.compute(list(res.values()))
    assert res["Fn"].facts["open_egress_security_groups"] == {
        "judged": ["Default", "Open6", "Tight", "AllTcp", "Https"], "open": ["Default", "Open6", "AllTcp"]}


def test_open_ingress_security_groups() -> None:
    res = _linked({
        "NoIngress": ("AWS::EC2::SecurityGroup", {"GroupDescription": "n"}),
        "Ssh": ("AWS::EC2::SecurityGroup", {"GroupDescription": "s", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]}),
        "Internal": ("AWS::EC2::SecurityGroup", {"GroupDescription": "i", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/16"}]}),
        "Shared": ("AWS::EC2::SecurityGroup", {"GroupDescription": "sh"}),
        "SharedIngress": ("AWS::EC2::SecurityGroupIngress", {"GroupId": {"Ref": "Shared"}, "IpProtocol": "udp",
                                                             "FromPort": 53, "ToPort": 53, "CidrIpv6": "::/0"}),
        "Fn": _function({}, VpcConfig={"SubnetIds": ["s"], "SecurityGroupIds": [
            {"Ref": "NoIngress"}, {"Ref": "Ssh"}, {"Ref": "Internal"}, {"Ref": "Shared"}, "sg-external"]}),
        "Outside": _function({}),
    })
    facts.compute(list(res.values()))
    assert res["Fn"].facts["open_ingress_security_groups"] == {
        "judged": ["NoIngress", "Ssh", "Internal", "Shared"], "open": ["Ssh", "Shared"]}
    assert res["Outside"].facts["open_ingress_security_groups"] == {"judged": [], "open": []}


# -- permissions and layers ------------------------------------------------------------------------


@pytest.mark.parametrize(("props", "public", "unscoped"), [
    ({"Principal": "*"}, True, False),
    ({"Principal": "*", "SourceAccount": "1"}, False, False),
    ({"Principal": "*", "PrincipalOrgID": "o-1"}, False, False),
    ({"Principal": "sns.amazonaws.com"}, False, True),
    ({"Principal": "s3.{{AWS::URLSuffix}}", "SourceArn": Unknown("parameter B has no default")}, False, False),
    ({"Principal": "alexa-appkit.amazon.com", "EventSourceToken": "amzn1.ask.skill.x"}, False, False),
    ({"Principal": "111122223333"}, False, False),
])
def test_permission_exposure(props: dict[str, Any], public: bool, unscoped: bool) -> None:
    perm = Resource("P", "AWS::Lambda::Permission", {"Action": "lambda:InvokeFunction", **props})
    got = security_lambda.permission_exposure(perm, [perm])
    assert (got["public"], got["unscoped_service"], got["url_public"]) == (public, unscoped, False)


def test_external_layers() -> None:
    fn = Resource("Fn", "AWS::Lambda::Function", {"Layers": [
        "{{ref:Mine}}", "arn:{{AWS::Partition}}:lambda:{{AWS::Region}}:{{AWS::AccountId}}:layer:own:1",
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:7",
        "arn:aws:lambda:{{AWS::Region}}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:44",
        "arn:aws:lambda:eu-south-1:339249233099:layer:LambdaInsightsExtension-Arm64:16",
        "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:4",
        "arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-python-amd64-ver-1-32-0:4",
        # An AWS publisher's account vouches only for the layers it publishes there.
        "arn:aws:lambda:us-east-1:017000801446:layer:Other:1",
        "arn:aws:lambda:us-east-1:999988887777:layer:AWSLambdaPowertoolsPythonV3:7"]})
    assert security_lambda.external_layers(fn, [fn]) == {
        "017000801446": ["arn:aws:lambda:us-east-1:017000801446:layer:Other:1"],
        "999988887777": ["arn:aws:lambda:us-east-1:999988887777:layer:AWSLambdaPowertoolsPythonV3:7"]}


def test_aws_layer_publishers_data() -> None:
    publishers = security_lambda.aws_layer_publishers()
    assert publishers["017000801446"] == ("AWSLambdaPowertoolsPython",)
    assert publishers["580247275435"] == ("LambdaInsightsExtension",)
    assert all(len(account) == 12 and account.isdigit() for account in publishers)
    assert security_lambda.is_aws_layer("901920570463", "aws-otel-nodejs-amd64-ver-1-30-1")
    assert not security_lambda.is_aws_layer("901920570463", "my-otel")


# -- API authorization and validation --------------------------------------------------------------


def test_api_authorization_methods_and_routes() -> None:
    res = _linked({
        "Api": ("AWS::ApiGateway::RestApi", {"Name": "a"}),
        "Items": ("AWS::ApiGateway::Resource", {"RestApiId": {"Ref": "Api"},
                                                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                                                "PathPart": "items"}),
        "Open": ("AWS::ApiGateway::Method", {"RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Items"},
                                             "HttpMethod": "POST"}),
        "Keyed": ("AWS::ApiGateway::Method", {"RestApiId": {"Ref": "Api"}, "HttpMethod": "GET",
                                              "ApiKeyRequired": "true"}),
        "Preflight": ("AWS::ApiGateway::Method", {"RestApiId": {"Ref": "Api"}, "HttpMethod": "OPTIONS"}),
        "Orphan": ("AWS::ApiGatewayV2::Route", {"ApiId": "imported", "RouteKey": "$default"}),
        "OrphanHttp": ("AWS::ApiGatewayV2::Route", {"ApiId": "imported", "RouteKey": "GET /x",
                                                    "AuthorizationType": "AWS_IAM"}),
    })
    facts.compute(list(res.values()))

    def auth(rid: str) -> Any:
        return res[rid].facts["api_authorization"]

    assert auth("Open") == {"checked": ["POST /items"], "anonymous": ["POST /items"], "keyed": [], "key_only": []}
    assert auth("Keyed") == {"checked": [], "anonymous": [], "keyed": ["GET"], "key_only": ["GET"]}
    assert auth("Preflight") == {"checked": [], "anonymous": [], "keyed": [], "key_only": []}
    assert isinstance(auth("Orphan")["checked"], Unknown)
    assert auth("OrphanHttp") == {"checked": ["GET /x"], "anonymous": [], "keyed": [], "key_only": []}
    # The API itself is judged through its methods, not again as a whole.
    assert auth("Api") == {"checked": [], "anonymous": [], "keyed": [], "key_only": []}


def test_api_authorization_quick_create_and_appsync() -> None:
    quick = Resource("H", "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP", "Target": "arn:aws:lambda:x"})
    assert security_api.api_authorization(quick, [quick])["anonymous"] == ["$default"]
    gql = Resource("G", "AWS::AppSync::GraphQLApi", {"AuthenticationType": "API_KEY",
                                                      "AdditionalAuthenticationProviders": [
                                                          {"AuthenticationType": "API_KEY"}]})
    assert security_api.api_authorization(gql, [gql])["key_only"] == ["GraphQL API"]


def test_request_validation_from_openapi_body_of_the_api() -> None:
    body = {"swagger": "2.0", "x-amazon-apigateway-request-validators": {"b": {"validateRequestBody": True}},
            "paths": {"/o": {"post": {"x-amazon-apigateway-request-validator": "b",
                                      "parameters": [{"in": "body", "name": "x", "schema": {"type": "object"}}]}}}}
    res = _linked({
        "Api": ("AWS::ApiGateway::RestApi", {"Body": body}),
        "V": ("AWS::ApiGateway::RequestValidator", {"RestApiId": {"Ref": "Api"}, "ValidateRequestBody": True}),
        "M": ("AWS::ApiGateway::Method", {"RestApiId": {"Ref": "Api"}, "ResourcePath": "/o", "HttpMethod": "POST",
                                          "RequestValidatorId": {"Ref": "V"}}),
    })
    facts.compute(list(res.values()))
    # The model is the body schema of the OpenAPI operation, which SAM does not copy onto the method.
    assert res["M"].facts["request_validation"] == {"checked": ["POST /o"], "unvalidated": []}
    assert res["Api"].facts["request_validation"] == {"checked": [], "unvalidated": []}


def test_catch_all_function() -> None:
    res = _linked({
        "Api": ("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"}),
        "R": ("AWS::ApiGatewayV2::Route", {"ApiId": {"Ref": "Api"}, "RouteKey": "ANY /{proxy+}",
                                           "Integration": {"Type": "AWS_PROXY", "Uri": "x:lambda:path/y"}}),
        "S": ("AWS::ApiGatewayV2::Route", {"ApiId": {"Ref": "Api"}, "RouteKey": "GET /items",
                                           "Integration": {"Type": "AWS_PROXY", "Uri": "x:lambda:path/y"}}),
    })
    facts.compute(list(res.values()))
    assert res["R"].facts["catch_all_function"] == {"lambda_proxy": True, "catch_all": True,
                                                    "operation": "ANY /{proxy+}"}
    assert res["S"].facts["catch_all_function"]["catch_all"] is False


# -- outputs ---------------------------------------------------------------------------------------


def test_secret_outputs_reads_getatt_and_sub_forms() -> None:
    from walens.facts import security_outputs

    value = {"Fn::Join": [":", [{"Fn::GetAtt": "Key.ApiKey"},
                                {"Fn::Sub": ["${A}/${Key.ApiKey}", {"A": {"Fn::GetAtt": ["Other", "Arn"]}}]},
                                {"Fn::Sub": "${Key.ApiKeyId}"}]]}
    assert list(security_outputs._getatts(value)) == [("Key", "ApiKey"), ("Key", "ApiKey"), ("Other", "Arn"),
                                                       ("Key", "ApiKeyId")]
    key = Resource("Key", "AWS::AppSync::ApiKey", {"ApiId": "x"}, location=Location("<stdin>", 1))
    assert isinstance(security_outputs.secret_outputs(key, [key]), Unknown)  # nothing to read again
    seen = Resource("arn:aws:appsync:us-east-1:111122223333:apis/a/apikeys/k", "AWS::AppSync::ApiKey", {},
                    source="account")
    assert security_outputs.secret_outputs(seen, [seen]) == []
