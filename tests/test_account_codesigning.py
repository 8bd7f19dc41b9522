"""Code signing is read in bulk per region (ListCodeSigningConfigs + ListFunctionsByCodeSigningConfig),
with a per-function fallback when the listing fails: same SEC016 outcome either way, fewer calls."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402

from test_account_scan import ACCOUNT, REGION, TRUST, _zip, aws  # noqa: E402,F401
from test_account_services import Refuse, answer_calls  # noqa: E402

CSC = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"


def seed() -> dict[str, str]:
    iam, lam = boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION)
    role = iam.create_role(RoleName="csc-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    common = {"Role": role, "Handler": "index.handler", "Code": {"ZipFile": _zip()}, "Runtime": "python3.13"}
    return {name: lam.create_function(FunctionName=name, **common)["FunctionArn"]
            for name in ("signed-fn", "plain-fn", "other-fn")}


def sec016(doc: dict[str, Any]) -> dict[str, str]:
    return {f["resource"]["name"]: f["status"] for f in doc["findings"] if f["rule_id"] == "SEC016"}


def scan() -> dict[str, Any]:
    from walens.pipeline import scan_account

    return scan_account(regions=[REGION], services=["lambda"], select=["SEC016"], fail_on="never")


def test_bulk_listing_decides_every_function_without_a_call_per_function(
        aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    arns = seed()
    answered = answer_calls(monkeypatch, {
        ("lambda", "ListCodeSigningConfigs"): lambda p: {"CodeSigningConfigs": [{"CodeSigningConfigArn": CSC}]},
        ("lambda", "ListFunctionsByCodeSigningConfig"): lambda p: {
            "FunctionArns": [arns["signed-fn"]] if p.get("CodeSigningConfigArn") == CSC else []},
        ("lambda", "GetFunctionCodeSigningConfig"): lambda p: {"CodeSigningConfigArn": CSC},
    })
    doc = scan()
    assert sec016(doc) == {"signed-fn": "pass", "plain-fn": "fail", "other-fn": "fail"}
    assert "lambda:GetFunctionCodeSigningConfig" not in answered
    assert answered.count("lambda:ListFunctionsByCodeSigningConfig") == 1


def test_a_denied_listing_falls_back_to_one_call_per_function(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    arns = seed()

    def per_function(params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("FunctionName")
        signed = name in ("signed-fn", arns["signed-fn"])
        return {"CodeSigningConfigArn": CSC, "FunctionName": name} if signed else {"FunctionName": name}

    def denied(params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("AccessDeniedException")

    answered = answer_calls(monkeypatch, {
        ("lambda", "ListCodeSigningConfigs"): denied,
        ("lambda", "GetFunctionCodeSigningConfig"): per_function,
    })
    doc = scan()
    assert sec016(doc) == {"signed-fn": "pass", "plain-fn": "fail", "other-fn": "fail"}
    assert answered.count("lambda:GetFunctionCodeSigningConfig") == 3


def _configs(params: dict[str, Any]) -> dict[str, Any]:
    return {"CodeSigningConfigs": [
        {"CodeSigningConfigArn": CSC, "CodeSigningConfigId": "csc-0123456789abcdef0",
         "AllowedPublishers": {"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/v1"]},
         "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}},
        {"CodeSigningConfigArn": CSC.replace("0123", "9999"), "CodeSigningConfigId": "csc-9999456789abcdef0",
         "AllowedPublishers": {"SigningProfileVersionArns": ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/v1"]},
         "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"}}]}


def test_code_signing_configs_come_from_the_same_listing(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """SEC017 judges the configs ListCodeSigningConfigs returns: no call of its own."""
    from walens.pipeline import scan_account

    seed()
    answered = answer_calls(monkeypatch, {("lambda", "ListCodeSigningConfigs"): _configs})
    doc = scan_account(regions=[REGION], services=["lambda"], select=["SEC017"], fail_on="never")
    got = {f["resource"]["name"]: f["status"] for f in doc["findings"] if f["rule_id"] == "SEC017"}
    assert got == {"csc-0123456789abcdef0": "pass", "csc-9999456789abcdef0": "fail"}
    assert answered == ["lambda:ListCodeSigningConfigs"]  # no per-function call: SEC017 reads no function


def test_a_denied_code_signing_listing_leaves_sec017_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from walens.pipeline import scan_account

    def denied(params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("AccessDeniedException")

    seed()
    answer_calls(monkeypatch, {("lambda", "ListCodeSigningConfigs"): denied})
    doc = scan_account(regions=[REGION], services=["lambda"], select=["SEC017"], fail_on="never")
    assert [(f["rule_id"], f["status"], f["resource"]["name"]) for f in doc["findings"]] == [
        ("SEC017", "not_assessed", "*")]
    assert [g["operation"] for g in doc["gaps"]] == ["ListCodeSigningConfigs"]
