"""IAM facts: does a policy enforce Lambda's VPC guardrail (the ``lambda:VpcIds`` family of condition keys)?

Lambda evaluates ``lambda:VpcIds``, ``lambda:SubnetIds`` and ``lambda:SecurityGroupIds`` on
``CreateFunction`` and ``UpdateFunctionConfiguration``; the documented way to make every function
VPC-connected is a Deny on both actions with ``"Null": {"lambda:VpcIds": "true"}``
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-conditions).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource

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
    out = []
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


def analyse_vpc_guardrail(documents: Sequence[Any]) -> dict[str, Any] | None:
    """Analyse policy documents for a Lambda VPC guardrail; None when no statement uses a VPC key.

    ``correct`` means: Deny statements carrying a VPC-key condition cover both ``CreateFunction``
    and ``UpdateFunctionConfiguration``; at least one of them enforces the guardrail, by a
    ``Null: {lambda:VpcIds: "true"}`` check (no VPC → denied) or an allowed set
    (``[ForAnyValue:]StringNotEquals|StringNotLike`` on a VPC key: a VPC outside the list → denied);
    no condition uses an operator that cannot mean what a guardrail wants (``wrong_operator``); and no
    Allow in the same documents grants those actions on the opposite condition (``undone_by_allow``).
    ``requires_vpc`` is true when a function without any VPC is denied too (a Null check, or an
    ``...IfExists`` allowed set): an allowed set alone lets VPC-less functions through.
    """
    statements = [s for doc in documents if (d := _document(doc)) is not None for s in _statements(d)]
    relevant = [(label, stmt, conds) for label, stmt in statements if (conds := _vpc_conditions(stmt))]
    if not relevant:
        return None
    denies_create = denies_update = null_check = allowed_set = requires_vpc = False
    wrong: list[str] = []
    undone: list[str] = []
    for label, stmt, conds in relevant:
        effect = str(stmt.get("Effect", ""))
        create, update = _covers(stmt, CREATE), _covers(stmt, UPDATE)
        if effect == "Deny":
            denies_create |= create
            denies_update |= update
            for op, prefix, base, if_exists, key, value in conds:
                if base == "Null":
                    if _is_true(value):
                        null_check = requires_vpc = True
                    else:
                        # Null "false" denies the functions that *do* have a VPC: the inverse guardrail.
                        wrong.append(f"{label}: {op} {key} false")
                elif base in _NEGATED:
                    if prefix == "ForAllValues":
                        # Vacuously true for an empty set and false as soon as one value is allowed:
                        # a function mixing an allowed and a forbidden subnet passes.
                        wrong.append(f"{label}: {op} {key}")
                    else:
                        allowed_set = True
                        requires_vpc |= if_exists
                elif base in _POSITIVE:
                    # Denies only the listed VPCs (a deny-list), never "anything but these".
                    wrong.append(f"{label}: {op} {key}")
        elif effect == "Allow" and (create or update):
            for op, prefix, base, if_exists, key, value in conds:
                if (base == "Null" and _is_true(value)) or base in _NEGATED:
                    undone.append(label)
                    break
    problems: list[str] = []
    if not denies_create:
        problems.append("deny-missing-create-function")
    if not denies_update:
        problems.append("deny-missing-update-function-configuration")
    if not (null_check or allowed_set):
        problems.append("no-enforcing-condition")
    if wrong:
        problems.append("wrong-operator")
    if undone:
        problems.append("undone-by-allow")
    return {
        "present": True,
        "denies_create": denies_create,
        "denies_update": denies_update,
        "null_check": null_check,
        "allowed_set_check": allowed_set,
        "requires_vpc": requires_vpc,
        "wrong_operator": wrong,
        "undone_by_allow": undone,
        "problems": problems,
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
    """The VPC-guardrail analysis of the resource's policy documents (None when unrelated)."""
    return analyse_vpc_guardrail(policy_documents(resource))
