"""API Gateway facts: validates_request, api_exposure, body_request_validation (exact results)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corpus import OUTPUT
from walens import graph
from walens.facts import apigateway
from walens.model import CfnResource, Resource, Unknown
from walens.scanners.intrinsics import resolve_resources


def _linked(resources: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Resource]:
    cfn = [CfnResource(k, t, p, origin=k, origin_type=t, line=1) for k, (t, p) in resources.items()]
    out = resolve_resources({}, cfn, "t.yaml")
    graph.link(out)
    return {r.id: r for r in out}


def _method(verb: Any, **props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::ApiGateway::Method", {"RestApiId": {"Ref": "Api"}, "HttpMethod": verb, **props}


API = ("AWS::ApiGateway::RestApi", {"Name": "a"})
BODY_AND_PARAMS = ("AWS::ApiGateway::RequestValidator",
                   {"RestApiId": {"Ref": "Api"}, "ValidateRequestBody": True, "ValidateRequestParameters": True})
PARAMS_ONLY = ("AWS::ApiGateway::RequestValidator",
               {"RestApiId": {"Ref": "Api"}, "ValidateRequestBody": False, "ValidateRequestParameters": True})
MODEL = {"application/json": {"Ref": "Model"}}


@pytest.mark.parametrize(("method", "expected"), [
    (_method("POST", RequestValidatorId={"Ref": "Both"}, RequestModels=MODEL),
     {"takes_body": True, "validator": {"body": True, "parameters": True}, "models": True, "status": "validated"}),
    (_method("PUT", RequestValidatorId={"Ref": "Both"}),
     {"takes_body": True, "validator": {"body": True, "parameters": True}, "models": False, "status": "not_validated"}),
    (_method("ANY", RequestValidatorId={"Ref": "Params"}, RequestModels=MODEL),
     {"takes_body": True, "validator": {"body": False, "parameters": True}, "models": True, "status": "not_validated"}),
    (_method("PATCH", RequestModels=MODEL),
     {"takes_body": True, "validator": None, "models": True, "status": "not_validated"}),
    (_method("GET", RequestValidatorId={"Ref": "Params"}),
     {"takes_body": False, "validator": {"body": False, "parameters": True}, "models": False, "status": "validated"}),
    (_method("DELETE"), {"takes_body": False, "validator": None, "models": False, "status": "not_validated"}),
    (_method("POST", RequestValidatorId="abc123", RequestModels=MODEL),
     {"takes_body": True, "validator": None, "models": True, "status": "unknown"}),
    (_method({"Fn::ImportValue": "verb"}),
     {"takes_body": False, "validator": None, "models": False, "status": "unknown"}),
])
def test_validates_request(method: tuple[str, dict[str, Any]], expected: dict[str, Any]) -> None:
    linked = _linked({"Api": API, "Both": BODY_AND_PARAMS, "Params": PARAMS_ONLY, "M": method})
    assert apigateway.validates_request(linked["M"], list(linked.values())) == expected


def test_validates_request_from_openapi_extension_on_method() -> None:
    body = {"x-amazon-apigateway-request-validators": {
        "all": {"validateRequestBody": True, "validateRequestParameters": True}}}
    linked = _linked({"Api": ("AWS::ApiGateway::RestApi", {"Body": body}),
                      "M": _method("POST", RequestModels=MODEL, **{"x-amazon-apigateway-request-validator": "all"})})
    assert apigateway.validates_request(linked["M"], []) == {
        "takes_body": True, "validator": {"body": True, "parameters": True}, "models": True, "status": "validated"}


def test_api_exposure_private_with_vpce_policy_and_methods() -> None:
    policy = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
                             "Resource": "execute-api:/*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]}
    linked = _linked({
        "Api": ("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["PRIVATE"]}, "Policy": policy}),
        "Iam": _method("GET", AuthorizationType="AWS_IAM"),
        "Open": _method("POST"),
        "Cors": _method("OPTIONS"),
    })
    assert apigateway.api_exposure(linked["Api"], []) == {
        "endpoint_types": ["PRIVATE"], "public": False, "protected": True, "has_authorizer_everywhere": False,
        "unauthorized_methods": ["Open"], "waf": False, "private_policy_scoped_to_vpce": True,
        "restricted_by_policy": True}


def test_api_exposure_private_without_policy_and_regional_waf_on_api() -> None:
    linked = _linked({
        "Private": ("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["PRIVATE"]}}),
        "Regional": ("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}),
        "Waf": ("AWS::WAFv2::WebACLAssociation",
                {"ResourceArn": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}::/restapis/${Regional}"}}),
    })
    assert apigateway.api_exposure(linked["Private"], [])["private_policy_scoped_to_vpce"] is False
    assert apigateway.api_exposure(linked["Regional"], []) == {
        "endpoint_types": ["REGIONAL"], "public": True, "protected": True, "has_authorizer_everywhere": True,
        "unauthorized_methods": [], "waf": True, "private_policy_scoped_to_vpce": None,
        "restricted_by_policy": False}
    assert apigateway.api_exposure(linked["Private"], [])["waf"] is False


def test_api_exposure_unknown_when_methods_cannot_be_listed() -> None:
    """An OpenAPI body in S3: which methods lack an authorizer is unknown, unless a WAF settles SEC002."""
    linked = _linked({
        "InS3": ("AWS::ApiGateway::RestApi", {"BodyS3Location": {"Bucket": "b", "Key": "openapi.yaml"}}),
        "Guarded": ("AWS::ApiGateway::RestApi", {"BodyS3Location": {"Bucket": "b", "Key": "openapi.yaml"}}),
        "Waf": ("AWS::WAFv2::WebACLAssociation",
                {"ResourceArn": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}::/restapis/${Guarded}"}}),
    })
    in_s3 = apigateway.api_exposure(linked["InS3"], [])
    assert isinstance(in_s3["has_authorizer_everywhere"], Unknown) and in_s3["protected"] is in_s3[
        "has_authorizer_everywhere"]
    assert apigateway.api_exposure(linked["Guarded"], [])["protected"] is True


def _corpus_api(name: str, api_id: str) -> Resource:
    data = json.loads((OUTPUT / f"{name}.json").read_text())
    cfn = [CfnResource(k, v["Type"], v.get("Properties") or {}, origin=k, origin_type=v["Type"])
           for k, v in data["Resources"].items()]
    resources = resolve_resources(data, cfn, name)
    graph.link(resources)
    return {r.id: r for r in resources}[api_id]


@pytest.mark.corpus
def test_api_exposure_from_sam_openapi_body() -> None:
    api = _corpus_api("api_with_aws_iam_auth_overrides", "MyApiWithAwsIamAuth")
    assert apigateway.api_exposure(api, []) == {
        "endpoint_types": ["EDGE"], "public": True, "protected": False, "has_authorizer_everywhere": False,
        "unauthorized_methods": ["GET /MyFunctionNoneAuth"], "waf": False, "private_policy_scoped_to_vpce": None,
        "restricted_by_policy": False}
    keyed = _corpus_api("api_with_apikey_required", "MyApiWithoutAuth")
    assert apigateway.api_exposure(keyed, [])["unauthorized_methods"] == [
        "GET /ApiKeyRequiredTrue", "ANY /any/ApiKeyRequiredTrue"]


@pytest.mark.corpus
def test_body_request_validation_from_sam_openapi_body() -> None:
    api = _corpus_api("api_request_model_with_validator", "HtmlApi")
    status = {k: v["status"] for k, v in apigateway.body_request_validation(api, []).items()}
    assert status == {
        "GET /": "validated", "GET /mixin": "validated", "GET /no-validation": "not_validated",
        "GET /not-defined": "not_validated", "GET /only-body-false": "not_validated",
        "GET /only-body-true": "validated", "GET /only-request-false": "not_validated",
        "GET /only-request-true": "not_validated"}


def test_a_resource_policy_restricts_callers_only_with_an_allow_list() -> None:
    allow_all = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    only_ips = {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}}
    deny_ips = {**only_ips, "Condition": {"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}}}
    one_path = {**only_ips, "Resource": "execute-api:/prod/GET/admin"}
    accounts = {"Effect": "Allow", "Principal": {"AWS": ["111122223333"]}, "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*"}
    org = {**allow_all, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}
    cases = {"allow-list": ([allow_all, only_ips], True), "deny-list": ([allow_all, deny_ips], False),
             "one path": ([allow_all, one_path], False), "accounts": ([accounts], True),
             "organization": ([org], True), "anyone": ([allow_all], False), "none": ([], False)}
    for name, (statements, restricted) in cases.items():
        policy = {"Version": "2012-10-17", "Statement": statements}
        linked = _linked({"Api": ("AWS::ApiGateway::RestApi", {"Policy": policy}), "Open": _method("GET")})
        assert apigateway.api_exposure(linked["Api"], [])["restricted_by_policy"] is restricted, name


def test_a_private_api_policy_in_the_openapi_body_counts_and_one_in_s3_is_not_known() -> None:
    from walens.model import Unknown

    scoped = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
                             "Resource": "execute-api:/*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "v"}}}]}
    private = {"EndpointConfiguration": {"Types": ["PRIVATE"]}}
    linked = _linked({
        "Inline": ("AWS::ApiGateway::RestApi", {**private, "Body": {"x-amazon-apigateway-policy": scoped}}),
        "InS3": ("AWS::ApiGateway::RestApi", {**private, "BodyS3Location": {"Bucket": "b", "Key": "k"}}),
        "None": ("AWS::ApiGateway::RestApi", dict(private)),
    })
    assert apigateway.api_exposure(linked["Inline"], [])["private_policy_scoped_to_vpce"] is True
    assert isinstance(apigateway.api_exposure(linked["InS3"], [])["private_policy_scoped_to_vpce"], Unknown)
    assert apigateway.api_exposure(linked["None"], [])["private_policy_scoped_to_vpce"] is False
