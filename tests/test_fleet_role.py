"""The member-account role (deploy/fleet/member-role.yaml) is generated from ``walens iam-policy`` and allows
every call a scan makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from walens.cli import app

pytest.importorskip("moto")
from test_account_iampolicy import _allows
from test_account_readonly import recorded
from test_account_scan import aws

ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = ROOT / "deploy" / "fleet" / "member-role.yaml"


def _role_policy() -> dict[str, Any]:
    template = yaml.safe_load(CHECKED_IN.read_text(encoding="utf-8"))
    policy: dict[str, Any] = template["Resources"]["ReadPolicy"]["Properties"]["PolicyDocument"]
    return policy


def test_the_checked_in_role_template_is_the_generated_one(tmp_path: Path) -> None:
    out = tmp_path / "role.yaml"
    result = CliRunner().invoke(app, ["fleet", "role-template", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == CHECKED_IN.read_text(encoding="utf-8"), (
        "deploy/fleet/member-role.yaml is stale: run 'walens fleet role-template -o deploy/fleet/member-role.yaml'")


def test_the_role_grants_exactly_the_iam_policy_and_trusts_the_scanner_account() -> None:
    from walens.scanners.account.iampolicy import policy

    assert _role_policy() == policy()
    template = yaml.safe_load(CHECKED_IN.read_text(encoding="utf-8"))
    role = template["Resources"]["ScanRole"]["Properties"]
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ScannerAccountId}:root"}}
    assert statement["Action"] == "sts:AssumeRole"
    assert role["ManagedPolicyArns"] == [{"Ref": "ReadPolicy"}]
    assert set(template["Resources"]) == {"ReadPolicy", "ScanRole"}  # nothing else is deployed per account


def test_every_declared_operation_is_allowed_by_the_role() -> None:
    from walens.scanners.account.iampolicy import NO_PERMISSION, declared

    doc = _role_policy()
    missing = sorted(f"{s}:{op}" for s, op in declared() - NO_PERMISSION if not _allows(doc, s, op))
    assert missing == []


def test_a_scan_calls_nothing_the_role_does_not_allow(aws: None, recorded: list[tuple[str, str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call of a scan over both scenarios (each collector reaches its detail calls) is in the role."""
    from test_account_scan import OTHER, REGION, seed
    from test_account_services import answer_calls, seed_services, service_answers

    from walens.pipeline import scan_account
    from walens.scanners.account.iampolicy import NO_PERMISSION

    seed()
    answer_calls(monkeypatch, service_answers(seed_services()))
    recorded.clear()
    scan_account(regions=[REGION, OTHER], select=[], fail_on="never")
    called = set(recorded)
    assert ("lambda", "ListFunctions") in called and ("sns", "GetSubscriptionAttributes") in called
    doc = _role_policy()
    missing = sorted(f"{s}:{op}" for s, op in called - NO_PERMISSION if not _allows(doc, s, op))
    assert missing == [], f"a collector called what the member role does not allow: {missing}"
    # The check can fail: a role without Lambda reads would not allow the scan.
    stripped = {**doc, "Statement": [{**s, "Action": [a for a in s["Action"] if not a.startswith("lambda:")]}
                                     if isinstance(s["Action"], list) else s for s in doc["Statement"]]}
    assert not _allows(stripped, "lambda", "ListFunctions")
