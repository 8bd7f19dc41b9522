"""``walens iam-policy`` stays in sync with what the scanner declares and with what a scan really calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from walens.cli import app

pytest.importorskip("moto")
from test_account_readonly import recorded  # noqa: E402,F401
from test_account_scan import aws  # noqa: E402,F401

runner = CliRunner()


def _statements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in doc["Statement"]}


def _allows(doc: dict[str, Any], service: str, operation: str) -> bool:
    """Whether the policy allows ``service:operation`` (API Gateway: GET on the operation's path)."""
    from walens.scanners.account import iampolicy

    wanted = iampolicy.action(service, operation)
    for s in doc["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if wanted not in actions:
            continue
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if service in iampolicy.APIGATEWAY_SERVICES:
            if iampolicy.apigateway_resource(service, operation) in resources:
                return True
        elif resources == ["*"]:
            return True
    return False


def test_every_declared_operation_is_allowed_and_nothing_else() -> None:
    from walens.scanners.account import declared_operations, iampolicy, module

    doc = iampolicy.policy()
    for service, operations in declared_operations().items():
        boto_service = module(service).SERVICE
        for op in operations:
            assert _allows(doc, boto_service, op), f"{boto_service}:{op} is not in the policy"
            if boto_service in iampolicy.APIGATEWAY_SERVICES:
                assert (boto_service, op) in iampolicy.APIGATEWAY_PATHS, f"no resource path for {boto_service}:{op}"
    # Nothing but what is declared (plus the second phase's reads and --all-regions).
    declared = {iampolicy.action(s, op) for s, op in iampolicy.declared()} - {"sts:GetCallerIdentity"}
    listed = {a for s in doc["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert listed == declared
    assert "ec2:DescribeRegions" in listed and "states:ListStateMachines" in listed
    assert "apigateway:GET" in listed and not [a for a in listed if a.startswith("apigatewayv2:")]


def test_no_write_action_and_no_wildcard_action() -> None:
    from walens.scanners.account import iampolicy
    from walens.scanners.account.core import is_read_only

    doc = iampolicy.policy()
    for s in doc["Statement"]:
        assert s["Effect"] == "Allow"
        for a in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            prefix, _, op = a.partition(":")
            assert "*" not in a, a
            assert a == "apigateway:GET" or is_read_only(prefix, op), f"{a} is not a read"
    # A managed policy holds at most 6,144 characters (whitespace not counted).
    assert len(json.dumps(doc, separators=(",", ":"))) < 6144


def test_a_scan_calls_nothing_the_policy_does_not_allow(aws: None, recorded: list[tuple[str, str]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only test's recorder over a scan of both scenarios (every collector reaches its detail calls)."""
    from test_account_scan import OTHER, REGION, seed
    from test_account_services import answer_calls, seed_services, service_answers

    from walens.pipeline import scan_account
    from walens.scanners.account import iampolicy

    seed()
    seeded = seed_services()
    answer_calls(monkeypatch, service_answers(seeded))
    recorded.clear()
    scan_account(regions=[REGION, OTHER], select=[], fail_on="never")
    called = set(recorded)
    assert ("codedeploy", "GetDeploymentConfig") in called and ("sns", "GetSubscriptionAttributes") in called
    doc = iampolicy.policy()
    missing = sorted(f"{s}:{op}" for s, op in called - iampolicy.NO_PERMISSION if not _allows(doc, s, op))
    assert missing == [], f"the scan called what the policy does not allow: {missing}"


def test_services_option_limits_the_policy() -> None:
    from walens.scanners.account import iampolicy

    doc = iampolicy.policy(["sqs"])
    assert _statements(doc)["WalensReadOnly"]["Action"] == ["ec2:DescribeRegions", "sqs:GetQueueAttributes",
                                                            "sqs:ListQueues"]
    assert "WalensApiGatewayRead" not in _statements(doc)


def test_cli_prints_the_policy() -> None:
    result = runner.invoke(app, ["iam-policy", "--services", "apigatewayv2,organizations", "--role-name", "Scan"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    statements = _statements(doc)
    assert statements["WalensReadOnly"]["Action"] == ["ec2:DescribeRegions", "organizations:DescribePolicy",
                                                      "organizations:ListPolicies"]
    assert statements["WalensApiGatewayRead"]["Resource"] == [
        "arn:aws:apigateway:*::/apis", "arn:aws:apigateway:*::/apis/*/authorizers",
        "arn:aws:apigateway:*::/apis/*/routes", "arn:aws:apigateway:*::/apis/*/stages"]
    assert statements["WalensAssumeScanRole"] == {"Sid": "WalensAssumeScanRole", "Effect": "Allow",
                                                  "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Scan"}
    from walens.errors import UsageError

    bad = runner.invoke(app, ["iam-policy", "--services", "ec3"])  # main() turns it into exit 2
    assert isinstance(bad.exception, UsageError) and "--services 'ec3'" in str(bad.exception)
