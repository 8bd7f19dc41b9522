"""The lambda_vpc_guardrail fact on policy documents, exact results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walens.facts import iam
from walens.model import Resource

BOTH = ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"]


def deny(condition: dict[str, Any], action: Any = BOTH, sid: str | None = "Guard", key: str = "Action") -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Deny", key: action, "Resource": "*", "Condition": condition}
    if sid:
        stmt["Sid"] = sid
    return stmt


def result(**overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"present": True, "denies_create": True, "denies_update": True, "null_check": False,
                           "allowed_set_check": False, "requires_vpc": False, "wrong_operator": [],
                           "undone_by_allow": [], "problems": [], "correct": True}
    out.update(overrides)
    out["correct"] = not out["problems"]
    return out


NULL_DENY = deny({"Null": {"lambda:VpcIds": "true"}})
ALLOWED_SET = deny({"ForAnyValue:StringNotEquals": {"lambda:VpcIds": ["vpc-1", "vpc-2"]}})

CASES: list[tuple[str, Any, dict[str, Any] | None]] = [
    # The documented "deploy only VPC-connected functions" policy, Statement as a single dict.
    ("null-deny", {"Version": "2012-10-17", "Statement": NULL_DENY},
     result(null_check=True, requires_vpc=True)),
    ("allowed-set", {"Statement": [ALLOWED_SET]}, result(allowed_set_check=True)),
    ("allowed-set-if-exists-like",
     {"Statement": [deny({"ForAnyValue:StringNotLikeIfExists": {"lambda:SubnetIds": ["subnet-*"]}})]},
     result(allowed_set_check=True, requires_vpc=True)),
    ("null-and-allowed-set", {"Statement": [NULL_DENY, ALLOWED_SET]},
     result(null_check=True, allowed_set_check=True, requires_vpc=True)),
    ("missing-update", {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action="lambda:CreateFunction")]},
     result(denies_update=False, null_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"])),
    ("for-all-values", {"Statement": [deny({"ForAllValues:StringNotEquals": {"lambda:SubnetIds": ["subnet-1"]}})]},
     result(wrong_operator=["Guard: ForAllValues:StringNotEquals lambda:SubnetIds"],
            problems=["no-enforcing-condition", "wrong-operator"])),
    ("string-equals-on-deny", {"Statement": [deny({"StringEquals": {"lambda:VpcIds": ["vpc-1"]}}, sid=None)]},
     result(wrong_operator=["Statement[0]: StringEquals lambda:VpcIds"],
            problems=["no-enforcing-condition", "wrong-operator"])),
    ("null-false", {"Statement": [deny({"Null": {"lambda:VpcIds": False}})]},
     result(wrong_operator=["Guard: Null lambda:VpcIds false"], problems=["no-enforcing-condition", "wrong-operator"])),
    ("undone-by-allow", {"Statement": [
        NULL_DENY,
        {"Sid": "Escape", "Effect": "Allow", "Action": "lambda:*", "Resource": "*",
         "Condition": {"Null": {"lambda:VpcIds": "true"}}},
        {"Effect": "Allow", "Action": ["lambda:UpdateFunctionConfiguration"], "Resource": "*",
         "Condition": {"StringNotEquals": {"lambda:VpcIds": "vpc-1"}}},
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*",
         "Condition": {"Null": {"lambda:VpcIds": "true"}}},
    ]}, result(null_check=True, requires_vpc=True, undone_by_allow=["Escape", "Statement[2]"],
               problems=["undone-by-allow"])),
    # NotAction: everything but reads is denied, so create and update are covered.
    ("not-action", {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action=["lambda:Get*", "lambda:List*"],
                                       key="NotAction")]}, result(null_check=True, requires_vpc=True)),
    # NotAction that excludes the update action leaves it undenied.
    ("not-action-excluding-update",
     {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action="lambda:Update*", key="NotAction")]},
     result(denies_update=False, null_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"])),
    ("lambda-star", {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action="lambda:*")]},
     result(null_check=True, requires_vpc=True)),
    ("wildcard-create-only", {"Statement": [deny({"Null": {"LAMBDA:VpcIds": "true"}}, action=["lambda:Create*"])]},
     result(denies_update=False, null_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"])),
    ("condition-on-allow-only", {"Statement": [{"Effect": "Allow", "Action": BOTH, "Resource": "*",
                                                "Condition": {"StringEquals": {"lambda:VpcIds": ["vpc-1"]}}}]},
     result(denies_create=False, denies_update=False,
            problems=["deny-missing-create-function", "deny-missing-update-function-configuration",
                      "no-enforcing-condition"])),
    ("unrelated", {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                  "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]}, None),
    ("json-text", json.dumps({"Statement": [NULL_DENY]}), result(null_check=True, requires_vpc=True)),
    ("garbage", "not json", None),
]


@pytest.mark.parametrize(("name", "document", "expected"), CASES, ids=[c[0] for c in CASES])
def test_guardrail_documents(name: str, document: Any, expected: dict[str, Any] | None) -> None:
    assert iam.analyse_vpc_guardrail([document]) == expected


def _resource(rtype: str, props: dict[str, Any]) -> Resource:
    return Resource(id="R", type=rtype, properties=props)


def test_guardrail_on_each_resource_type() -> None:
    doc = {"Statement": [NULL_DENY]}
    expected = result(null_check=True, requires_vpc=True)
    assert iam.lambda_vpc_guardrail(_resource("AWS::IAM::Policy", {"PolicyDocument": doc}), []) == expected
    assert iam.lambda_vpc_guardrail(_resource("AWS::IAM::ManagedPolicy", {"PolicyDocument": doc}), []) == expected
    # A role's inline policies are read together: the create deny in one, the update deny in another.
    role = _resource("AWS::IAM::Role", {"Policies": [
        {"PolicyName": "a", "PolicyDocument": {"Statement": deny({"Null": {"lambda:VpcIds": "true"}},
                                                                 action="lambda:CreateFunction")}},
        {"PolicyName": "b", "PolicyDocument": {"Statement": deny({"Null": {"lambda:VpcIds": "true"}},
                                                                 action="lambda:UpdateFunctionConfiguration")}},
    ]})
    assert iam.lambda_vpc_guardrail(role, []) == expected
    scp = _resource("AWS::Organizations::Policy", {"Type": "SERVICE_CONTROL_POLICY", "Content": json.dumps(doc)})
    assert iam.lambda_vpc_guardrail(scp, []) == expected
    tag_policy = _resource("AWS::Organizations::Policy", {"Type": "TAG_POLICY", "Content": doc})
    assert iam.lambda_vpc_guardrail(tag_policy, []) is None
    assert iam.lambda_vpc_guardrail(_resource("AWS::IAM::Role", {}), []) is None
