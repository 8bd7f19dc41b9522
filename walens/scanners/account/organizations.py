"""AWS Organizations (global): service control policies, when the account may read them.

``ListPolicies(SERVICE_CONTROL_POLICY)`` then ``DescribePolicy`` per customer-managed policy (AWS managed
ones such as ``FullAWSAccess`` grant, never guard). Each becomes the ``AWS::Organizations::Policy`` a
template would declare, so SEC001 judges a Lambda VPC guardrail written as an SCP and SEC008 learns that
functions are required to be VPC-connected. Only the management account or a delegated administrator
may list policies: elsewhere the refusal is a gap (``denied``) naming the missing action; an account
that is in no organization simply has no SCP (``AWSOrganizationsNotInUseException`` is not a gap).
"""

from __future__ import annotations

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import parse_json, pick

SERVICE = "organizations"
GLOBAL = True
POLICY = "AWS::Organizations::Policy"

OPERATIONS: dict[str, tuple[str, ...]] = {"ListPolicies": (POLICY,), "DescribePolicy": ()}
NOT_IN_USE = "AWSOrganizationsNotInUseException"
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {POLICY: frozenset({"Name", "Type", "Description", "Content"})}


def collect(ctx: Ctx) -> None:
    try:
        policies = ctx.pages("ListPolicies", "Policies", Filter="SERVICE_CONTROL_POLICY", record=False)
    except CallFailed as exc:
        if exc.gap.error_code == NOT_IN_USE:
            return  # not in an organization: no SCP applies
        ctx.scope.collected.add_gap(exc.gap)
        raise
    for summary in policies:
        if summary.get("AwsManaged"):
            continue
        ctx.spawn(_policy, ctx, summary)


def _policy(ctx: Ctx, summary: dict[str, str]) -> None:
    arn = summary["Arn"]
    props = {"Name": summary.get("Name"), "Type": "SERVICE_CONTROL_POLICY", **pick(summary, ("Description",))}
    try:
        answer = ctx.call("DescribePolicy", PolicyId=summary["Id"], missing_ok=True)
    except CallFailed as exc:
        props["Content"] = exc.unknown
    else:
        if answer is None:
            return
        props["Content"] = parse_json((answer.get("Policy") or {}).get("Content"))
    ctx.add(Resource(id=arn, type=POLICY, properties=props, name=summary.get("Name"), arn=arn,
                     metadata={"physical_id": summary.get("Id")}))
