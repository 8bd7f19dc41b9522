"""Account mode judges the deployed memory size and timeout: in an account the value is the fact, so a
function deployed with Lambda's defaults (128 MB, 3 s) fails PERF001/PERF002, where a template only fails
what it leaves unset."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")

from tests.test_account_scan import ACCOUNT, OTHER, REGION, aws, outcomes, scan, seed  # noqa: E402,F401


def test_deployed_default_memory_and_timeout_fail(aws: None) -> None:
    labels = seed()
    doc = scan(select=["PERF001", "PERF002"])
    assert outcomes(doc, labels) == {
        # good-fn: 512 MB, 30 s
        ("PERF001", REGION, "good-fn"): "pass", ("PERF002", REGION, "good-fn"): "pass",
        # bad-fn: created without MemorySize or Timeout, so deployed with 128 MB and 3 s
        ("PERF001", REGION, "bad-fn"): "fail", ("PERF002", REGION, "bad-fn"): "fail",
        # hoard-fn: 1024 MB, default timeout
        ("PERF001", REGION, "hoard-fn"): "pass", ("PERF002", REGION, "hoard-fn"): "fail",
        # good-fn in the other region: both defaults
        ("PERF001", OTHER, "good-fn"): "fail", ("PERF002", OTHER, "good-fn"): "fail",
    }


def test_messages_state_the_deployed_values(aws: None) -> None:
    seed()
    doc = scan(select=["PERF001", "PERF002"], regions=[REGION])
    messages: dict[tuple[str, str], str] = {(f["rule_id"], f["resource"]["name"]): f["message"]
                                            for f in doc["findings"] if f["status"] == "fail"}
    assert messages[("PERF001", "bad-fn")] == "Function bad-fn runs with Lambda's default memory size, 128 MB"
    assert messages[("PERF002", "bad-fn")].startswith("Function bad-fn has a timeout of 3 s, the Lambda default")
    assert messages[("PERF002", "hoard-fn")].startswith("Function hoard-fn has a timeout of 3 s")


def test_the_maximum_timeout_fails_in_an_account(aws: None) -> None:
    import boto3

    from tests.test_account_scan import TRUST, _zip

    role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    common: dict[str, Any] = {"Role": role, "Handler": "index.handler", "Code": {"ZipFile": _zip()},
                              "Runtime": "python3.13", "MemorySize": 256}
    lam.create_function(FunctionName="slow-fn", Timeout=900, **common)
    lam.create_function(FunctionName="fit-fn", Timeout=20, **common)
    doc = scan(select=["PERF002"], regions=[REGION])
    by_name = {f["resource"]["name"]: f for f in doc["findings"]}
    assert (by_name["slow-fn"]["status"], by_name["fit-fn"]["status"]) == ("fail", "pass")
    assert by_name["slow-fn"]["message"].startswith("Function slow-fn has a timeout of 900 s, the maximum")
    assert ACCOUNT in by_name["slow-fn"]["resource"]["arn"]
