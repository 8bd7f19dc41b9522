"""IAM (global): roles with their inline and attached policies, and customer managed policies.

One paginated ``GetAccountAuthorizationDetails`` sweep (roles and local managed policies, each with its
documents) instead of a call per role and per policy. What is kept: the roles something scanned runs as
(a function's ``Role``, a state machine's ``RoleArn``, an EventBridge rule's or target's ``RoleArn``, an API
Gateway integration's ``Credentials``) with their policies, plus any role or policy that
mentions Lambda's VPC condition keys (a guardrail, however it is attached). AWS managed policies are
named in ``ManagedPolicyArns`` but their documents are not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from walens.model import Resource
from walens.scanners.account.core import Ctx
from walens.scanners.account.shape import pick

SERVICE = "iam"
GLOBAL = True
ROLE = "AWS::IAM::Role"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"

OPERATIONS: dict[str, tuple[str, ...]] = {"GetAccountAuthorizationDetails": (ROLE, MANAGED_POLICY)}
# Account-wide (IAM is global): without the sweep no role or its policies can be seen.
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "GetAccountAuthorizationDetails": [
        ("AWS::Lambda::Function", "related", "role"), ("AWS::Lambda::Function", "related", "role_policies"),
        ("AWS::StepFunctions::StateMachine", "related", "role")],
}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    ROLE: frozenset({"RoleName", "Path", "MaxSessionDuration", "Description", "AssumeRolePolicyDocument", "Policies",
                     "ManagedPolicyArns", "PermissionsBoundary"}),
    MANAGED_POLICY: frozenset({"ManagedPolicyName", "PolicyDocument", "Roles", "Path", "Description"}),
}

_VPC_KEYS = re.compile(r"lambda:(vpcids|subnetids|securitygroupids)", re.IGNORECASE)
# Properties of other resources that name the role they run as.
_ROLE_PROPERTIES = {"AWS::Lambda::Function": "Role", "AWS::StepFunctions::StateMachine": "RoleArn"}
ROLE_USERS = tuple(_ROLE_PROPERTIES)  # finalize keeps the roles these use (walens.scanners.account.planned_services)


def _document(value: Any) -> Any:
    if isinstance(value, str):  # URL-encoded JSON in the raw API; boto3 usually decodes it already
        try:
            return json.loads(unquote(value))
        except ValueError:
            return value
    return value


def collect(ctx: Ctx) -> None:
    details: dict[str, list[dict[str, Any]]] = {"RoleDetailList": [], "Policies": []}
    for page in ctx.all_pages("GetAccountAuthorizationDetails", Filter=["Role", "LocalManagedPolicy"]):
        details["RoleDetailList"].extend(page.get("RoleDetailList") or [])
        details["Policies"].extend(page.get("Policies") or [])
    attached: dict[str, list[str]] = {}
    for role in details["RoleDetailList"]:
        for policy in role.get("AttachedManagedPolicies") or []:
            attached.setdefault(policy["PolicyArn"], []).append(role["RoleName"])
        props: dict[str, Any] = {"RoleName": role["RoleName"], **pick(role, ("Path", "MaxSessionDuration",
                                                                           "Description"))}
        props["AssumeRolePolicyDocument"] = _document(role.get("AssumeRolePolicyDocument"))
        props["Policies"] = [{"PolicyName": p["PolicyName"], "PolicyDocument": _document(p.get("PolicyDocument"))}
                             for p in role.get("RolePolicyList") or []]
        props["ManagedPolicyArns"] = [p["PolicyArn"] for p in role.get("AttachedManagedPolicies") or []]
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            props["PermissionsBoundary"] = boundary
        ctx.add(Resource(id=role["Arn"], type=ROLE, properties=props, name=role["RoleName"], arn=role["Arn"]))
    for policy in details["Policies"]:
        document = next((v.get("Document") for v in policy.get("PolicyVersionList") or [] if v.get("IsDefaultVersion")),
                        None)
        name = policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1]
        props = {"ManagedPolicyName": name, "PolicyDocument": _document(document),
                 "Roles": attached.get(policy["Arn"], []), **pick(policy, ("Path", "Description"))}
        ctx.add(Resource(id=policy["Arn"], type=MANAGED_POLICY, properties=props, name=name, arn=policy["Arn"]))


def _mentions_vpc_keys(resource: Resource) -> bool:
    props = resource.properties
    documents = [props.get("PolicyDocument")] + [p.get("PolicyDocument") for p in props.get("Policies") or []
                                                 if isinstance(p, dict)]
    return any(_VPC_KEYS.search(json.dumps(d, default=str)) for d in documents if d is not None)


def _roles_of_targets(r: Resource) -> list[str]:
    """Roles an EventBridge rule (and its targets) or an API Gateway integration runs as (SEC025)."""
    props = r.properties if isinstance(r.properties, dict) else {}
    if r.type == "AWS::Events::Rule":
        targets = props.get("Targets")
        values = [props.get("RoleArn")] + [t.get("RoleArn") for t in targets if isinstance(t, dict)] \
            if isinstance(targets, list) else [props.get("RoleArn")]
    elif r.type == "AWS::ApiGateway::Method":
        integration = props.get("Integration")
        values = [integration.get("Credentials")] if isinstance(integration, dict) else []
    else:
        return []
    return [v for v in values if isinstance(v, str) and v.startswith("arn:")]


def finalize(resources: Sequence[Resource]) -> list[Resource]:
    """Drop the roles and policies nothing scanned uses and that carry no Lambda VPC guardrail."""
    used: set[str] = set()
    for r in resources:
        prop = _ROLE_PROPERTIES.get(r.type)
        value = r.properties.get(prop) if prop else None
        if isinstance(value, str):
            used.add(value)
        used.update(_roles_of_targets(r))
    kept_roles = {r.id for r in resources if r.type == ROLE and (r.arn in used or _mentions_vpc_keys(r))}
    kept_role_names = {r.name for r in resources if r.id in kept_roles}
    out = []
    for r in resources:
        if r.type == ROLE and r.source == "account" and r.id not in kept_roles:
            continue
        if r.type == MANAGED_POLICY and r.source == "account" and not (
                set(r.properties.get("Roles") or []) & kept_role_names or _mentions_vpc_keys(r)):
            continue
        out.append(r)
    return out
