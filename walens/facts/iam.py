"""IAM facts: does a policy enforce Lambda's VPC guardrail (the ``lambda:VpcIds`` family of condition keys)?

Lambda evaluates ``lambda:VpcIds``, ``lambda:SubnetIds`` and ``lambda:SecurityGroupIds`` on
``CreateFunction`` and ``UpdateFunctionConfiguration``; the documented way to make every function
VPC-connected is a Deny on both actions with ``"Null": {"lambda:VpcIds": "true"}``
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-conditions).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource, Unknown

VPC_KEYS = frozenset({"lambda:vpcids", "lambda:subnetids", "lambda:securitygroupids"})
CREATE = "lambda:CreateFunction"
UPDATE = "lambda:UpdateFunctionConfiguration"
_NEGATED = ("StringNotEquals", "StringNotLike")
_POSITIVE = ("StringEquals", "StringLike")


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)  # PolicyDocument and SCP Content may be JSON text
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _statements(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, statement) pairs; the label is the Sid or ``Statement[i]``."""
    out = []
    for i, stmt in enumerate(_as_list(doc.get("Statement"))):
        if isinstance(stmt, dict):
            sid = stmt.get("Sid")
            out.append((sid if isinstance(sid, str) and sid else f"Statement[{i}]", stmt))
    return out


def _covers(stmt: dict[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) applies to ``action`` (IAM: case-insensitive wildcards)."""
    def matches(patterns: Any) -> bool:
        return any(isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower())
                   for p in _as_list(patterns))

    if "Action" in stmt:
        return matches(stmt["Action"])
    if "NotAction" in stmt:
        return not matches(stmt["NotAction"])
    return False


def _split_operator(op: str) -> tuple[str, str, bool]:
    """(set prefix, base operator, IfExists) of a condition operator."""
    prefix = ""
    for candidate in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(candidate):
            prefix, op = candidate[:-1], op[len(candidate):]
    if_exists = op.endswith("IfExists")
    return prefix, op.removesuffix("IfExists"), if_exists


def _vpc_conditions(stmt: dict[str, Any]) -> list[tuple[str, str, str, bool, str, Any]]:
    """(operator, prefix, base, if_exists, key, value) for each condition on a VPC key."""
    out: list[tuple[str, str, str, bool, str, Any]] = []
    cond = stmt.get("Condition")
    if not isinstance(cond, dict):
        return out
    for op, block in cond.items():
        if not isinstance(op, str) or not isinstance(block, dict):
            continue
        prefix, base, if_exists = _split_operator(op)
        for key, value in block.items():
            if isinstance(key, str) and key.lower() in VPC_KEYS:
                out.append((op, prefix, base, if_exists, key, value))
    return out


def _is_true(value: Any) -> bool:
    return any(v is True or (isinstance(v, str) and v.lower() == "true") for v in _as_list(value))


def _statement_conditions(conds: list[tuple[str, str, str, bool, str, Any]]) -> dict[str, bool]:
    """What a statement's VPC-key conditions say, by kind (several conditions in one statement are ANDed)."""
    kinds = {"null_true": False, "null_false": False, "allowed_set": False, "allowed_set_if_exists": False,
             "for_all_negated": False, "listed": False, "for_all_listed": False, "for_any_listed": False}
    for _op, prefix, base, if_exists, key, value in conds:
        if base == "Null":
            kinds["null_true" if _is_true(value) else "null_false"] = True
        elif base in _NEGATED:
            if prefix == "ForAllValues":
                kinds["for_all_negated"] = True
            else:
                kinds["allowed_set"] = True
                kinds["allowed_set_if_exists"] |= if_exists
        elif base in _POSITIVE:
            kinds["for_all_listed" if prefix == "ForAllValues" else
                  "for_any_listed" if prefix == "ForAnyValue" else "listed"] = True
    return kinds


def _grants(stmt: dict[str, Any], action: str) -> bool:
    return str(stmt.get("Effect", "")) == "Allow" and _covers(stmt, action)


def analyse_vpc_guardrail(documents: Sequence[Any], others: Sequence[Any] = (),
                          broad_managed: Sequence[str] = ()) -> dict[str, Any] | None:
    """Analyse policy documents for a Lambda VPC guardrail; None when none tries to require a VPC.

    A *Deny* guardrail covers ``CreateFunction`` and ``UpdateFunctionConfiguration`` with a condition that
    holds for a function outside the rule: ``Null: {lambda:VpcIds: "true"}`` (no VPC, the documented form),
    an allowed set (``[ForAnyValue:]StringNotEquals|StringNotLike``; ``...IfExists`` also catches no VPC), or
    ``ForAllValues:StringNotEquals|StringNotLike`` (also true when the key is absent, so it catches no VPC
    too; on the multivalued subnet and security group keys it lets a list through that holds at least one
    allowed ID, as the allow-lists of AWS's examples do). An *Allow* guardrail grants the actions only with
    a VPC or inside an allow-list (``Null: "false"``, ``StringEquals`` on a key, ``ForAnyValue:StringEquals``,
    or ``ForAllValues:StringEquals``: AWS's documented allow-list of subnets or security groups, which does
    not by itself refuse a function without a VPC); it holds only while no other Allow grants the same action
    without that condition: an explicit Deny cannot be undone by an Allow, an Allow-based guardrail can
    (``undone_by_allow``; ``others`` are further documents that apply to the same principal,
    ``broad_managed`` AWS managed policies attached to it that grant lambda:*).
    ``wrong_operator`` lists conditions that cannot mean what a guardrail wants: a Deny with
    ``Null: "false"`` alone (it denies the functions that *do* have a VPC), a Deny with
    ``ForAllValues:StringEquals`` (true when the key is absent), and Allow conditions that grant VPC-less
    functions (``Null: "true"``, a negated operator). A Deny of listed VPCs (``StringEquals``) is a
    deny-list: accepted beside an enforcing statement, and on its own not a "require a VPC" guardrail
    (None). ``requires_vpc``: a function without any VPC is refused. ``explanation``: one sentence per
    problem, naming the uncovered action or the statement.
    """
    statements = [s for doc in documents if (d := _document(doc)) is not None for s in _statements(d)]
    relevant = [(label, stmt, _statement_conditions(conds)) for label, stmt in statements
                if (conds := _vpc_conditions(stmt))]
    if not relevant:
        return None
    deny_guard = {CREATE: False, UPDATE: False}
    allow_guard = {CREATE: False, UPDATE: False}
    null_check = allowed_set = requires_vpc = False
    wrong: list[str] = []
    grants_without_vpc: list[tuple[str, dict[str, Any]]] = []
    deny_lists = 0
    for label, stmt, k in relevant:
        effect = str(stmt.get("Effect", ""))
        if effect == "Deny":
            enforcing = k["null_true"] or k["allowed_set"] or k["for_all_negated"]
            if enforcing:
                for action in deny_guard:
                    deny_guard[action] |= _covers(stmt, action)
                null_check |= k["null_true"]
                allowed_set |= k["allowed_set"] or k["for_all_negated"]
                # ForAllValues (and IfExists) is true for an absent key: the statement also denies a function
                # without a VPC, unless a Null "false" beside it limits it to functions that have one.
                requires_vpc |= k["null_true"] or (
                    (k["allowed_set_if_exists"] or k["for_all_negated"]) and not k["null_false"])
            if k["for_all_listed"]:
                wrong.append(f"{label}: ForAllValues:StringEquals on a Deny is also true when the function has no VPC")
            if k["null_false"] and not (enforcing or k["listed"] or k["for_any_listed"] or k["for_all_negated"]):
                wrong.append(f"{label}: Null false denies the functions that have a VPC")
            if (k["listed"] or k["for_any_listed"]) and not enforcing:
                deny_lists += 1
        elif effect == "Allow":
            guard = k["null_false"] or k["listed"] or k["for_any_listed"] or k["for_all_listed"]
            if guard and not (k["null_true"] or k["allowed_set"] or k["for_all_negated"]):
                for action in allow_guard:
                    allow_guard[action] |= _covers(stmt, action)
                # ForAllValues:StringEquals alone also grants a function without a VPC (an absent key is true).
                requires_vpc |= k["null_false"] or k["listed"] or k["for_any_listed"]
            else:
                grants_without_vpc.append((label, stmt))
    enforcing_found = any(deny_guard.values()) or any(allow_guard.values())
    if not enforcing_found and not wrong and not grants_without_vpc and deny_lists:
        return None  # a deny-list of VPCs, not a guardrail that requires one
    for label, stmt in grants_without_vpc:
        if any(_covers(stmt, a) and not deny_guard[a] for a in deny_guard):
            wrong.append(f"{label}: an Allow that grants functions without a VPC or outside the allowed set")
    # An Allow-based guardrail is undone by any other Allow of the action that lacks its condition.
    undone: list[str] = []
    judged = {id(stmt) for _label, stmt, _k in relevant}
    other_statements = [s for doc in others if (d := _document(doc)) is not None for s in _statements(d)]
    for label, stmt in statements + other_statements:
        if id(stmt) in judged:
            continue
        if any(allow_guard[a] and not deny_guard[a] and _grants(stmt, a) for a in allow_guard):
            undone.append(label)
    for name in broad_managed:
        if any(allow_guard[a] and not deny_guard[a] for a in allow_guard):
            undone.append(f"managed policy {name}")
    problems: list[str] = []
    explanation: list[str] = []
    if not (deny_guard[CREATE] or allow_guard[CREATE]):
        problems.append("deny-missing-create-function")
        explanation.append(f"{CREATE} is not covered (a function can be created outside the VPC rule)")
    if not (deny_guard[UPDATE] or allow_guard[UPDATE]):
        problems.append("deny-missing-update-function-configuration")
        explanation.append(f"{UPDATE} is not covered (an update can take a function out of the VPC)")
    if not enforcing_found:
        problems.append("no-enforcing-condition")
        explanation.append("no statement refuses a function without a VPC or outside the allowed set")
    if wrong:
        problems.append("wrong-operator")
        explanation.extend(wrong)
    if undone:
        problems.append("undone-by-allow")
        explanation.append("other grants undo the Allow-based guardrail: " + ", ".join(undone))
    return {
        "present": True,
        "denies_create": deny_guard[CREATE],
        "denies_update": deny_guard[UPDATE],
        "allow_based": any(allow_guard.values()) and not all(deny_guard.values()),
        "null_check": null_check,
        "allowed_set_check": allowed_set,
        "requires_vpc": requires_vpc,
        "wrong_operator": wrong,
        "undone_by_allow": undone,
        "problems": problems,
        "explanation": explanation,
        "correct": not problems,
    }


def policy_documents(resource: Resource) -> list[Any]:
    """The policy documents a resource carries (inline role policies, a policy, an SCP's Content)."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    if resource.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        return [props.get("PolicyDocument")]
    if resource.type == "AWS::IAM::Role":
        return [p.get("PolicyDocument") for p in _as_list(props.get("Policies")) if isinstance(p, dict)]
    if resource.type == "AWS::Organizations::Policy":
        if props.get("Type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY":
            return []
        return [props.get("Content")]
    return []


@fact("lambda_vpc_guardrail", types=["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role",
                                      "AWS::Organizations::Policy"])
def lambda_vpc_guardrail(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any] | None:
    """The VPC-guardrail analysis of the resource's policy documents (None when unrelated).

    For a role, the policies of the template attached to it and the broad AWS managed policies it
    names can undo an Allow-based guardrail written inline, so they are read too.
    """
    others: list[Any] = []
    broad: list[str] = []
    if resource.type == "AWS::IAM::Role":
        for pol in resource.related.get("policies") or []:
            if isinstance(pol, dict) and pol.get("type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                others.append((pol.get("Properties") or {}).get("PolicyDocument"))
        props = resource.properties if isinstance(resource.properties, dict) else {}
        for arn in _as_list(props.get("ManagedPolicyArns")):
            name = managed_policy_name(arn)
            if name in _GRANTS_LAMBDA:
                broad.append(name)
    return analyse_vpc_guardrail(policy_documents(resource), others, broad)


# -- function roles --------------------------------------------------------------------------------

# AWS managed policies that grant every action of Lambda (and more).
_GRANTS_LAMBDA = frozenset({"AdministratorAccess", "PowerUserAccess", "AWSLambda_FullAccess", "AWSLambdaFullAccess"})
_ADMIN_LIKE = frozenset({"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"})
_MANAGED_ARN = re.compile(
    r"^arn:(?:\{\{AWS::Partition\}\}|[^:]*):iam::(aws|\{\{AWS::AccountId\}\}|\d*):policy/(?:.*/)?([^/]+)$")


def managed_policy_name(arn: Any) -> str | None:
    """The name of an AWS managed policy ARN (``arn:aws:iam::aws:policy/...``), else None."""
    m = _MANAGED_ARN.match(arn) if isinstance(arn, str) else None
    return m.group(2) if m and m.group(1) == "aws" else None


def _trusted_services(role: Resource) -> tuple[list[str], Unknown | None]:
    """The service principals a role's trust policy lets assume it (``lambda.amazonaws.com``, ...), and
    the Unknown that hides part of it (a principal or the whole document)."""
    props = role.properties if isinstance(role.properties, dict) else {}
    trust = props.get("AssumeRolePolicyDocument")
    if isinstance(trust, Unknown):
        return [], trust
    out: list[str] = []
    unknown: Unknown | None = None
    for _label, stmt in _statements(_document(trust) or {}):
        if str(stmt.get("Effect", "Allow")) != "Allow":
            continue
        principal = stmt.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        for service in [services] if isinstance(services, Unknown) else _as_list(services):
            if isinstance(service, Unknown):
                unknown = unknown or service
            elif isinstance(service, str) and service not in out:
                out.append(service)
    return out, unknown


def _is_lambda(service: str) -> bool:
    return service.startswith(("lambda.", "edgelambda."))


def trusts_lambda(role: Resource) -> bool | Unknown:
    """Whether a role's trust policy lets Lambda assume it."""
    services, unknown = _trusted_services(role)
    if any(_is_lambda(s) for s in services):
        return True
    return unknown if unknown is not None else False


# Services whose execution roles act on the application's data with the permissions they are given
# (SEC025): Step Functions, API Gateway (AWS integrations, CloudWatch logging), EventBridge rules and
# Scheduler targets, EventBridge Pipes.
EXECUTION_SERVICES = {"states": "Step Functions", "apigateway": "API Gateway", "events": "EventBridge",
                      "scheduler": "EventBridge Scheduler", "pipes": "EventBridge Pipes"}


@fact("service_role", types=["AWS::IAM::Role"])
def service_role(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """The serverless services other than Lambda that may assume the role (names as in
    ``EXECUTION_SERVICES``); empty for a Lambda execution role, which SEC013 judges."""
    services, unknown = _trusted_services(resource)
    if any(_is_lambda(s) for s in services):
        return []
    out: list[str] = []
    for service in services:
        name = EXECUTION_SERVICES.get(service.split(".", 1)[0])
        if name and name not in out:
            out.append(name)
    # An undecided principal could be Lambda's, and then the role is SEC013's: undecided.
    return unknown if unknown is not None else out


# Actions that hand over other identities, keys or secrets: granted on every resource ("*") they let
# a compromised function or workflow become any role, decrypt anything or read every secret.
SENSITIVE_ACTIONS = ("iam:PassRole", "sts:AssumeRole", "kms:Decrypt", "secretsmanager:GetSecretValue")


def _matches(pattern: Any, action: str) -> bool:
    return isinstance(pattern, str) and fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _broad_actions(stmt: dict[str, Any]) -> tuple[list[str], Unknown | None]:
    """Why an Allow statement grants more than named actions: ``*``, ``service:*``, ``NotAction``,
    ``NotResource``, or a sensitive action (``iam:PassRole`` ...) on every resource; and the Unknown that
    kept part of the statement from being judged (an action, or the resource of a sensitive action)."""
    if str(stmt.get("Effect", "")) != "Allow":
        return [], None
    if "NotAction" in stmt:
        return ["NotAction"], None
    out: list[str] = []
    unknown: Unknown | None = None
    raw_actions = stmt.get("Action")
    actions = [raw_actions] if isinstance(raw_actions, Unknown) else _as_list(raw_actions)
    for action in actions:
        if isinstance(action, Unknown):
            unknown = unknown or action
        elif isinstance(action, str) and (action == "*" or action.endswith(":*")):
            out.append(action)
    if "NotResource" in stmt:
        out.append("NotResource")
        return out, unknown
    raw_resources = stmt.get("Resource")
    resources = [raw_resources] if isinstance(raw_resources, Unknown) else _as_list(raw_resources)
    for sensitive in SENSITIVE_ACTIONS:
        service = sensitive.split(":", 1)[0]
        # A wildcard that already reads as broad (``*``, ``kms:*``) is reported once, as itself.
        if not any(isinstance(a, str) and _matches(a, sensitive) and a not in ("*", "*:*")
                   and a.lower() != f"{service}:*" for a in actions):
            continue
        if "*" in resources:
            out.append(f"{sensitive} on *")
        else:
            unknown = unknown or next((r for r in resources if isinstance(r, Unknown)), None)
    return out, unknown


def _broad_managed(name: str) -> bool:
    """AWS managed policies that grant whole services or more: administrator and power-user access,
    ``*FullAccess`` and ``*ReadWrite`` (``SecretsManagerReadWrite``)."""
    return name in _ADMIN_LIKE or name.startswith("AdministratorAccess") or name.endswith(("FullAccess", "ReadWrite"))


@fact("broad_permissions", types=["AWS::IAM::Role"])
def broad_permissions(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """What makes a role's permissions broad: wildcard actions (``*``, ``service:*``), ``NotAction`` or
    ``NotResource`` in an Allow, a sensitive action (``iam:PassRole``, ``sts:AssumeRole``, ``kms:Decrypt``,
    ``secretsmanager:GetSecretValue``) on ``*``, or an AWS managed administrator, power-user,
    ``*FullAccess`` or ``*ReadWrite`` policy. Reads the role's inline policies, the template's policies
    attached to it and its managed ARNs."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    documents: list[tuple[str, Any]] = []
    inline = props.get("Policies")
    if isinstance(inline, Unknown):
        return inline
    for pol in _as_list(inline):
        if isinstance(pol, dict):
            documents.append((str(pol.get("PolicyName", "inline")), pol.get("PolicyDocument")))
    for pol in resource.related.get("policies") or []:
        if isinstance(pol, dict) and pol.get("type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append((str(pol.get("id")), (pol.get("Properties") or {}).get("PolicyDocument")))
    found: list[str] = []
    unknown: Unknown | None = None
    for name, raw in documents:
        if isinstance(raw, Unknown):
            unknown = unknown or raw
            continue
        doc = _document(raw)
        for _label, stmt in _statements(doc or {}):
            broad, undecided = _broad_actions(stmt)
            unknown = unknown or undecided
            for action in broad:
                entry = f"{action} ({name})"
                if entry not in found:
                    found.append(entry)
    arns = props.get("ManagedPolicyArns")
    for arn in [arns] if isinstance(arns, Unknown) else _as_list(arns):
        if isinstance(arn, Unknown):
            unknown = unknown or arn
            continue
        policy = managed_policy_name(arn)
        if policy and _broad_managed(policy) and policy not in found:
            found.append(policy)
    # A definite finding wins; otherwise what could not be read leaves the answer undecided.
    return found if found or unknown is None else unknown


@fact("lambda_role", types=["AWS::IAM::Role"])
def lambda_role(resource: Resource, inventory: Sequence[Resource]) -> bool | Unknown:
    """Whether the role is a Lambda execution role: Lambda may assume it."""
    return trusts_lambda(resource)


# -- resource policies -----------------------------------------------------------------------------

# Condition keys that pin a wildcard principal to a source, an account, an organization or a network
# (what S3 and IAM Access Analyzer accept as making a "*" grant non-public).
_RESTRICTING_KEYS = frozenset({
    "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:principalorgid", "aws:principalaccount",
    "aws:principalorgpaths", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:userid",
    "aws:principalarn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:resourceorgid",
})
RESOURCE_POLICY_TYPES = {
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SQS::QueueInlinePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SNS::TopicInlinePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::Events::EventBusPolicy": "Statement",
    "AWS::Events::EventBus": "Policy",
}


def _wildcard_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False


def _restricted(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    for block in condition.values():
        if isinstance(block, dict):
            for key, value in block.items():
                if isinstance(key, str) and key.lower() in _RESTRICTING_KEYS and value not in ("*", ["*"], "0.0.0.0/0"):
                    return True
    return False


@fact("public_statements", types=list(RESOURCE_POLICY_TYPES))
def public_statements(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """Allow statements of a resource policy that grant a wildcard principal with no condition that
    pins the caller's source, account, organization or network (labels: Sid or ``Statement[i]``)."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    key = RESOURCE_POLICY_TYPES[resource.type]
    raw = props.get(key)
    if isinstance(raw, Unknown):
        return raw
    if resource.type == "AWS::Events::EventBusPolicy":
        if raw is None:  # the older form: Principal, Action and Condition as properties
            principal = props.get("Principal")
            if isinstance(principal, Unknown):
                return principal
            condition = props.get("Condition")
            public = principal == "*" and not (isinstance(condition, dict) and condition.get("Value"))
            return [str(props.get("StatementId", "Statement"))] if public else []
        raw = {"Statement": [raw]}
    doc = _document(raw)
    found: list[str] = []
    for label, stmt in _statements(doc or {}):
        if str(stmt.get("Effect", "")) != "Allow":
            continue
        principal, condition = stmt.get("Principal"), stmt.get("Condition")
        if isinstance(principal, Unknown) or isinstance(condition, Unknown):
            return principal if isinstance(principal, Unknown) else condition  # type: ignore[return-value]
        if _wildcard_principal(principal) and not _restricted(condition):
            found.append(label)
    return found
