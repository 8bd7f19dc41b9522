"""IAM facts: lambda_vpc_guardrail, broad_permissions, lambda_role, public_statements (exact results)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walens.facts import iam
from walens.model import Resource, Unknown

BOTH = ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"]


def deny(condition: dict[str, Any], action: Any = BOTH, sid: str | None = "Guard", key: str = "Action") -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Deny", key: action, "Resource": "*", "Condition": condition}
    if sid:
        stmt["Sid"] = sid
    return stmt


def result(**overrides: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"present": True, "denies_create": True, "denies_update": True, "allow_based": False,
                           "null_check": False,
                           "allowed_set_check": False, "requires_vpc": False, "wrong_operator": [],
                           "undone_by_allow": [], "problems": [], "explanation": [], "correct": True}
    out.update(overrides)
    out["correct"] = not out["problems"]
    return out


NO_CREATE = "lambda:CreateFunction is not covered (a function can be created outside the VPC rule)"
NO_UPDATE = "lambda:UpdateFunctionConfiguration is not covered (an update can take a function out of the VPC)"
NO_ENFORCING = "no statement refuses a function without a VPC or outside the allowed set"
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
            problems=["deny-missing-update-function-configuration"], explanation=[NO_UPDATE])),
    # ForAllValues:StringNotEquals on a Deny is also true without a VPC: an allow-list that requires one.
    ("for-all-values-vpc", {"Statement": [deny({"ForAllValues:StringNotEquals": {"lambda:VpcIds": ["vpc-1"]}})]},
     result(allowed_set_check=True, requires_vpc=True)),
    ("for-all-values-subnets-and-groups", {"Statement": [
        deny({"ForAllValues:StringNotEquals": {"lambda:SubnetIds": ["subnet-1", "subnet-2"]}}),
        deny({"ForAllValues:StringNotLike": {"lambda:SecurityGroupIds": ["sg-*"]}})]},
     result(allowed_set_check=True, requires_vpc=True)),
    # ... unless Null "false" beside it limits the statement to functions that have a VPC.
    ("for-all-values-with-null-false", {"Statement": [
        deny({"ForAllValues:StringNotEquals": {"lambda:SubnetIds": ["subnet-1"]},
              "Null": {"lambda:SubnetIds": "false"}})]},
     result(allowed_set_check=True)),
    ("for-all-values-create-only",
     {"Statement": [deny({"ForAllValues:StringNotEquals": {"lambda:VpcIds": ["vpc-1"]}},
                         action="lambda:CreateFunction")]},
     result(denies_update=False, allowed_set_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"], explanation=[NO_UPDATE])),
    # ForAllValues:StringEquals on a Deny is vacuously true without a VPC: a botched allow-list.
    ("for-all-string-equals-on-deny",
     {"Statement": [deny({"ForAllValues:StringEquals": {"lambda:VpcIds": ["vpc-1"]}}, sid=None)]},
     result(denies_create=False, denies_update=False,
            wrong_operator=["Statement[0]: ForAllValues:StringEquals on a Deny is also true when the function "
                            "has no VPC"],
            problems=["deny-missing-create-function", "deny-missing-update-function-configuration",
                      "no-enforcing-condition", "wrong-operator"],
            explanation=[NO_CREATE, NO_UPDATE, NO_ENFORCING,
                         ("Statement[0]: ForAllValues:StringEquals on a Deny is also true when the function "
                          "has no VPC")])),
    # A Deny of listed VPCs on its own is a deny-list, not a "require a VPC" guardrail.
    ("deny-list-alone", {"Statement": [deny({"StringEquals": {"lambda:VpcIds": ["vpc-1"]}})]}, None),
    # ... and beside an enforcing statement it is an accepted extra restriction.
    ("deny-list-beside-null", {"Statement": [NULL_DENY, deny({"StringEquals": {"lambda:VpcIds": ["vpc-1"]}})]},
     result(null_check=True, requires_vpc=True)),
    ("null-false", {"Statement": [deny({"Null": {"lambda:VpcIds": False}})]},
     result(denies_create=False, denies_update=False,
            wrong_operator=["Guard: Null false denies the functions that have a VPC"],
            problems=["deny-missing-create-function", "deny-missing-update-function-configuration",
                      "no-enforcing-condition", "wrong-operator"],
            explanation=[NO_CREATE, NO_UPDATE, NO_ENFORCING,
                         "Guard: Null false denies the functions that have a VPC"])),
    # Null false next to an allowed set scopes the check to functions that have a VPC: correct.
    ("null-false-with-allowed-set",
     {"Statement": [deny({"ForAnyValue:StringNotEquals": {"lambda:SubnetIds": ["subnet-1"]},
                          "Null": {"lambda:SubnetIds": "false"}})]},
     result(allowed_set_check=True)),
    # An explicit Deny cannot be undone by an Allow, whatever its condition.
    ("deny-with-allows", {"Statement": [
        NULL_DENY,
        {"Sid": "Escape", "Effect": "Allow", "Action": "lambda:*", "Resource": "*",
         "Condition": {"Null": {"lambda:VpcIds": "true"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ]}, result(null_check=True, requires_vpc=True)),
    # An Allow-based guardrail is undone by an Allow without its condition.
    ("allow-based-undone", {"Statement": [
        {"Sid": "OnlyInVpc", "Effect": "Allow", "Action": BOTH, "Resource": "*",
         "Condition": {"Null": {"lambda:VpcIds": "false"}}},
        {"Sid": "Escape", "Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    ]}, result(denies_create=False, denies_update=False, allow_based=True, requires_vpc=True,
               undone_by_allow=["Escape"], problems=["undone-by-allow"],
               explanation=["other grants undo the Allow-based guardrail: Escape"])),
    ("allow-based-alone", {"Statement": [{"Effect": "Allow", "Action": BOTH, "Resource": "*",
                                          "Condition": {"StringEquals": {"lambda:VpcIds": ["vpc-1"]}}}]},
     result(denies_create=False, denies_update=False, allow_based=True, requires_vpc=True)),
    # AWS's documented allow-lists: subnets and security groups with ForAllValues:StringEquals (they do not
    # refuse a function without a VPC by themselves) and a VPC with StringEquals.
    ("allow-lists-documented", {"Statement": [
        {"Sid": "EnforceStayInSpecificVpc", "Effect": "Allow", "Action": BOTH, "Resource": "*",
         "Condition": {"StringEquals": {"lambda:VpcIds": ["vpc-1", "vpc-2"]}}},
        {"Sid": "EnforceStayInSpecificSubnets", "Effect": "Allow", "Action": BOTH, "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"lambda:SubnetIds": ["subnet-1", "subnet-2"]}}},
        {"Sid": "EnforceStayInSpecificSecurityGroup", "Effect": "Allow", "Action": BOTH, "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"lambda:SecurityGroupIds": ["sg-1", "sg-2"]}}}]},
     result(denies_create=False, denies_update=False, allow_based=True, requires_vpc=True)),
    ("allow-list-subnets-alone", {"Statement": [
        {"Effect": "Allow", "Action": BOTH, "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"lambda:SubnetIds": ["subnet-1", "subnet-2"]}}}]},
     result(denies_create=False, denies_update=False, allow_based=True)),
    # An Allow that grants functions without a VPC, with nothing denying them.
    ("allow-without-vpc", {"Statement": [{"Sid": "Open", "Effect": "Allow", "Action": BOTH, "Resource": "*",
                                          "Condition": {"Null": {"lambda:VpcIds": "true"}}}]},
     result(denies_create=False, denies_update=False,
            wrong_operator=["Open: an Allow that grants functions without a VPC or outside the allowed set"],
            problems=["deny-missing-create-function", "deny-missing-update-function-configuration",
                      "no-enforcing-condition", "wrong-operator"],
            explanation=[NO_CREATE, NO_UPDATE, NO_ENFORCING,
                         "Open: an Allow that grants functions without a VPC or outside the allowed set"])),
    # NotAction: everything but reads is denied, so create and update are covered.
    ("not-action", {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action=["lambda:Get*", "lambda:List*"],
                                       key="NotAction")]}, result(null_check=True, requires_vpc=True)),
    # NotAction that excludes the update action leaves it undenied.
    ("not-action-excluding-update",
     {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action="lambda:Update*", key="NotAction")]},
     result(denies_update=False, null_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"], explanation=[NO_UPDATE])),
    ("lambda-star", {"Statement": [deny({"Null": {"lambda:VpcIds": "true"}}, action="lambda:*")]},
     result(null_check=True, requires_vpc=True)),
    ("wildcard-create-only", {"Statement": [deny({"Null": {"LAMBDA:VpcIds": "true"}}, action=["lambda:Create*"])]},
     result(denies_update=False, null_check=True, requires_vpc=True,
            problems=["deny-missing-update-function-configuration"], explanation=[NO_UPDATE])),
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


def test_role_guardrail_undone_by_attached_policies() -> None:
    allow_based = {"Statement": [{"Effect": "Allow", "Action": BOTH, "Resource": "*",
                                  "Condition": {"Null": {"lambda:VpcIds": "false"}}}]}
    role = _resource("AWS::IAM::Role", {
        "Policies": [{"PolicyName": "guard", "PolicyDocument": allow_based}],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSLambda_FullAccess",
                              "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]})
    role.related["policies"] = [{"id": "Extra", "type": "AWS::IAM::Policy", "Properties": {
        "PolicyDocument": {"Statement": [{"Sid": "More", "Effect": "Allow", "Action": "lambda:Update*",
                                          "Resource": "*"}]}}}]
    got = iam.lambda_vpc_guardrail(role, [])
    assert got is not None
    assert got["undone_by_allow"] == ["More", "managed policy AWSLambda_FullAccess"]
    assert got["problems"] == ["undone-by-allow"]
    assert got["explanation"] == [
        "other grants undo the Allow-based guardrail: More, managed policy AWSLambda_FullAccess"]


def _role(**props: Any) -> Resource:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]},
                            "Action": "sts:AssumeRole"}]}
    return _resource("AWS::IAM::Role", {"AssumeRolePolicyDocument": trust, **props})


def test_managed_policy_name() -> None:
    assert iam.managed_policy_name("arn:{{AWS::Partition}}:iam::aws:policy/service-role/AWSLambdaRole") == "AWSLambdaRole"
    assert iam.managed_policy_name("arn:aws:iam::aws:policy/AmazonS3FullAccess") == "AmazonS3FullAccess"
    assert iam.managed_policy_name("arn:aws:iam::111122223333:policy/AdministratorAccess") is None
    assert iam.managed_policy_name({"Ref": "X"}) is None


def test_lambda_role() -> None:
    assert iam.lambda_role(_role(), []) is True
    edge = _resource("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "edgelambda.{{AWS::URLSuffix}}"}, "Action": "sts:AssumeRole"}]}})
    assert iam.lambda_role(edge, []) is True
    other = _resource("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}})
    assert iam.lambda_role(other, []) is False
    unknown = Unknown("parameter Trust has no default")
    assert iam.lambda_role(_resource("AWS::IAM::Role", {"AssumeRolePolicyDocument": unknown}), []) == unknown


def test_broad_permissions() -> None:
    role = _role(
        Policies=[{"PolicyName": "app", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:*", "s3:GetObject"], "Resource": "*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
        ]}}],
        ManagedPolicyArns=["arn:aws:iam::aws:policy/AmazonSQSFullAccess", "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
                           "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                           "arn:aws:iam::aws:policy/PowerUserAccess"])
    role.related["policies"] = [{"id": "Attached", "type": "AWS::IAM::ManagedPolicy",
                                 "Properties": {"PolicyDocument": json.dumps(
                                     {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})}}]
    assert iam.broad_permissions(role, []) == [
        "dynamodb:* (app)", "NotAction (app)", "* (Attached)", "AmazonSQSFullAccess", "PowerUserAccess"]
    assert iam.broad_permissions(_role(ManagedPolicyArns=[
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]), []) == []
    unknown = Unknown("Fn::If: condition X cannot be decided from parameter defaults")
    assert iam.broad_permissions(_role(ManagedPolicyArns=[unknown]), []) == unknown


def test_broad_permissions_sensitive_actions_and_read_write_policies() -> None:
    role = _role(
        Policies=[{"PolicyName": "app", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["iam:PassRole", "sts:AssumeRole", "s3:GetObject"], "Resource": "*"},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["*"]},
            {"Effect": "Allow", "Action": "secretsmanager:Get*", "Resource": "*"},
            # Scoped to named resources: least privilege.
            {"Effect": "Allow", "Action": ["iam:PassRole", "kms:Decrypt"],
             "Resource": ["arn:aws:iam::111122223333:role/worker", "arn:aws:kms:us-east-1:111122223333:key/k"]},
            # kms:* is reported once, as the service wildcard; *:* as itself.
            {"Effect": "Allow", "Action": ["kms:*", "*:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "*:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::private/*"},
            {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"},
        ]}}],
        ManagedPolicyArns=["arn:aws:iam::aws:policy/SecretsManagerReadWrite",
                           "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
                           "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
    assert iam.broad_permissions(role, []) == [
        "iam:PassRole on * (app)", "sts:AssumeRole on * (app)", "kms:Decrypt on * (app)",
        "secretsmanager:GetSecretValue on * (app)", "kms:* (app)", "*:* (app)", "NotResource (app)",
        "SecretsManagerReadWrite", "AdministratorAccess-Amplify"]


def test_broad_permissions_unknowns() -> None:
    unknown = Unknown("parameter KeyArn has no default")
    # The resource of a sensitive action cannot be read: undecided.
    role = _role(Policies=[{"PolicyName": "app", "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": unknown}]}}])
    assert iam.broad_permissions(role, []) == unknown
    # ... but it does not matter for an action that is not sensitive.
    role = _role(Policies=[{"PolicyName": "app", "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": unknown}]}}])
    assert iam.broad_permissions(role, []) == []
    # A definite finding wins over an undecided statement.
    role = _role(Policies=[{"PolicyName": "app", "PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": unknown, "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}}])
    assert iam.broad_permissions(role, []) == ["sqs:* (app)"]


def test_service_role() -> None:
    def trusted(*services: Any) -> Resource:
        return _resource("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]}})

    assert iam.service_role(trusted("states.amazonaws.com"), []) == ["Step Functions"]
    assert iam.service_role(trusted("pipes.amazonaws.com", "scheduler.amazonaws.com"), []) == [
        "EventBridge Pipes", "EventBridge Scheduler"]
    assert iam.service_role(trusted("apigateway.{{AWS::URLSuffix}}", "events.amazonaws.com"), []) == [
        "API Gateway", "EventBridge"]
    assert iam.service_role(trusted("lambda.amazonaws.com", "states.amazonaws.com"), []) == []  # SEC013's
    assert iam.service_role(trusted("codebuild.amazonaws.com"), []) == []
    unknown = Unknown("parameter Service has no default")
    assert iam.service_role(trusted(unknown), []) == unknown
    assert iam.service_role(trusted("states.amazonaws.com", unknown), []) == unknown
    # Lambda named beside an undecided principal: a Lambda execution role all the same.
    assert iam.lambda_role(trusted("lambda.amazonaws.com", unknown), []) is True
    assert iam.service_role(trusted("lambda.amazonaws.com", unknown), []) == []
    assert iam.lambda_role(trusted("states.amazonaws.com", unknown), []) == unknown


@pytest.mark.parametrize(("rtype", "props", "expected"), [
    ("AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": [
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sqs:ReceiveMessage", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "*"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:111122223333:t"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": "*"},
    ]}}, ["Open", "Statement[1]"]),
    ("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}}}, ["Statement[0]"]),
    ("AWS::Events::EventBusPolicy", {"StatementId": "legacy", "Action": "events:PutEvents", "Principal": "*"},
     ["legacy"]),
    ("AWS::Events::EventBusPolicy", {"StatementId": "org", "Action": "events:PutEvents", "Principal": "*",
                                     "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID",
                                                   "Value": "o-1"}}, []),
    ("AWS::Events::EventBus", {"Name": "bus"}, []),
])
def test_public_statements(rtype: str, props: dict[str, Any], expected: list[str]) -> None:
    assert iam.public_statements(_resource(rtype, props), []) == expected


def test_public_statements_unknown() -> None:
    unknown = Unknown("parameter P has no default")
    assert iam.public_statements(_resource("AWS::SNS::TopicPolicy", {"PolicyDocument": unknown}), []) == unknown
    doc = {"Statement": [{"Effect": "Allow", "Principal": unknown, "Action": "sns:Publish", "Resource": "*"}]}
    assert iam.public_statements(_resource("AWS::SNS::TopicPolicy", {"PolicyDocument": doc}), []) == unknown
