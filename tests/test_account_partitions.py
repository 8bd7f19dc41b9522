"""Facts and relations are computed per (account, region) partition: nothing leaks across regions or accounts.

Two regions that reserve 500 each are two pools of 500, not one of 1,000 (REL020); a VPC guardrail policy
in one account requires nothing of another account's functions (SEC008). On moto, through the scanner.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402

from test_account_multi import MEMBERS, ROLE, _member_session  # noqa: E402
from test_account_scan import GUARD, OTHER, REGION, TRUST, _doc, _zip, aws  # noqa: E402,F401


def _function(session: Any, region: str, name: str, reserved: int | None = None, role_policy: Any = None) -> None:
    iam = session.client("iam")
    role_name = f"{name}-role"
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if role_policy is not None:
        iam.put_role_policy(RoleName=role_name, PolicyName="vpc-guard", PolicyDocument=_doc(role_policy))
    lam = session.client("lambda", region_name=region)
    lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
                        Code={"ZipFile": _zip()})
    if reserved is not None:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)


def statuses(doc: dict[str, Any], rule: str) -> dict[tuple[str, str, str], str]:
    return {(f["resource"]["account"], f["resource"]["region"], f["resource"]["name"]): f["status"]
            for f in doc["findings"] if f["rule_id"] == rule}


def test_reserved_concurrency_is_summed_per_region(aws: None) -> None:
    from walens.pipeline import scan_account

    session = boto3.Session(region_name=REGION)
    _function(session, REGION, "east-fn", reserved=500)
    _function(session, OTHER, "west-fn", reserved=500)
    doc = scan_account(regions=[REGION, OTHER], services=["lambda", "iam"], select=["REL020"], fail_on="never")
    account = doc["scan"]["accounts"][0]
    # Each region's pool holds 500 of its 900: within it. One pool of 1,000 would fail both.
    assert statuses(doc, "REL020") == {(account, REGION, "east-fn"): "pass", (account, OTHER, "west-fn"): "pass"}


def test_reserved_concurrency_over_the_pool_in_one_region_still_fails(aws: None) -> None:
    from walens.pipeline import scan_account

    session = boto3.Session(region_name=REGION)
    _function(session, REGION, "east-a", reserved=500)
    _function(session, REGION, "east-b", reserved=500)
    _function(session, OTHER, "west-fn", reserved=100)
    doc = scan_account(regions=[REGION, OTHER], services=["lambda"], select=["REL020"], fail_on="never")
    account = doc["scan"]["accounts"][0]
    assert statuses(doc, "REL020") == {(account, REGION, "east-a"): "fail", (account, REGION, "east-b"): "fail",
                                       (account, OTHER, "west-fn"): "pass"}
    totals = {f["resource"]["name"]: f["params"].get("total") for f in doc["findings"] if f["status"] == "fail"}
    assert totals == {"east-a": 1000, "east-b": 1000}


def test_a_guardrail_in_one_account_requires_nothing_of_another(aws: None) -> None:
    from walens.pipeline import scan_account

    a, b = MEMBERS
    # Account A's function carries the guardrail (a role policy that denies creating functions outside a VPC).
    _function(_member_session(a), REGION, "guarded-fn", role_policy=GUARD)
    _function(_member_session(b), REGION, "free-fn")
    doc = scan_account(regions=[REGION], services=["lambda", "iam"], select=["SEC008"], fail_on="never",
                       accounts=[a, b], role_name=ROLE)
    # A's function is outside a VPC where A requires one; B has no guardrail, so SEC008 does not apply there.
    assert statuses(doc, "SEC008") == {(a, REGION, "guarded-fn"): "fail"}


def test_a_guardrail_in_one_region_counts_for_the_accounts_other_regions(aws: None) -> None:
    """IAM is global: the guardrail on a role applies to the account's functions in every region."""
    from walens.pipeline import scan_account

    session = boto3.Session(region_name=REGION)
    _function(session, REGION, "east-fn", role_policy=GUARD)
    _function(session, OTHER, "west-fn")
    doc = scan_account(regions=[REGION, OTHER], services=["lambda", "iam"], select=["SEC008"], fail_on="never")
    account = doc["scan"]["accounts"][0]
    assert statuses(doc, "SEC008") == {(account, REGION, "east-fn"): "fail", (account, OTHER, "west-fn"): "fail"}
