"""SEC021 in account mode: the security groups of VPC functions, from one DescribeSecurityGroups per region."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402

from test_account_scan import REGION, TRUST, _zip, aws  # noqa: E402,F401
from test_account_services import Refuse, answer_calls  # noqa: E402


def seed() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    # EC2 gives a new group an allow-all egress rule: "open" keeps it.
    open_sg = ec2.create_security_group(GroupName="open", Description="default egress", VpcId=vpc)["GroupId"]
    tight = ec2.create_security_group(GroupName="tight", Description="https only", VpcId=vpc)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=tight, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(GroupId=tight, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="vpc-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    for name, group in (("open-fn", open_sg), ("tight-fn", tight)):
        lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
                            Code={"ZipFile": _zip()}, VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]})
    lam.create_function(FunctionName="plain-fn", Runtime="python3.13", Role=role, Handler="index.handler",
                        Code={"ZipFile": _zip()})


def sec021(doc: dict[str, Any]) -> dict[str, str]:
    return {f["resource"]["name"]: f["status"] for f in doc["findings"] if f["rule_id"] == "SEC021"}


def test_open_egress_fails_and_restricted_egress_passes(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    doc = scan_account(regions=[REGION], services=["lambda", "ec2"], select=["SEC021"], fail_on="never")
    assert sec021(doc) == {"open-fn": "fail", "tight-fn": "pass"}  # plain-fn is in no VPC: does not apply
    failing = next(f for f in doc["findings"] if f["status"] == "fail")
    assert ":security-group/sg-" in failing["message"]


def test_denied_security_groups_leave_sec021_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from walens.pipeline import scan_account

    def denied(params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("UnauthorizedOperation")

    seed()
    answer_calls(monkeypatch, {("ec2", "DescribeSecurityGroups"): denied})
    doc = scan_account(regions=[REGION], services=["lambda", "ec2"], select=["SEC021"], fail_on="never")
    # Exactly the VPC functions: plain-fn has no security group, so the gap does not touch it.
    assert sec021(doc) == {"open-fn": "not_assessed", "tight-fn": "not_assessed"}
    assert [g["operation"] for g in doc["gaps"]] == ["DescribeSecurityGroups"]


def test_without_the_ec2_service_sec021_is_not_assessed(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    doc = scan_account(regions=[REGION], services=["lambda"], select=["SEC021"], fail_on="never")
    [finding] = doc["findings"]
    assert finding["status"] == "not_assessed" and "--services leaves out ec2" in finding["reason"]
