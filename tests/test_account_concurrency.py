"""Reserved concurrency: GetAccountSettings says how much the region reserves in total, so functions are
asked GetFunctionConcurrency only until their reservations add up to it. Same REL020 results as asking
every function; no call per function at all when nothing is reserved; every function asked when the
settings cannot be read."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402

from test_account_scan import REGION, TRUST, _zip, aws  # noqa: E402,F401
from test_account_services import Refuse, answer_calls  # noqa: E402

NAMES = ("reserved-fn", "plain-fn", "other-fn", "last-fn")


def seed() -> None:
    iam, lam = boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION)
    role = iam.create_role(RoleName="cc-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    for name in NAMES:
        lam.create_function(FunctionName=name, Role=role, Handler="index.handler", Code={"ZipFile": _zip()},
                            Runtime="python3.13")


def scan(workers: int = 1) -> dict[str, Any]:
    from walens.pipeline import scan_account

    return scan_account(regions=[REGION], services=["lambda"], select=["REL020"], fail_on="never",
                        max_workers=workers)


def rel020(doc: dict[str, Any]) -> dict[str, str]:
    return {f["resource"]["name"]: f["status"] for f in doc["findings"] if f["rule_id"] == "REL020"}


def answers(reserved: dict[str, int], settings: Any) -> dict[tuple[str, str], Any]:
    def concurrency(params: dict[str, Any]) -> dict[str, Any]:
        name = params["FunctionName"]
        return {"ReservedConcurrentExecutions": reserved[name]} if name in reserved else {}

    return {("lambda", "GetAccountSettings"): settings, ("lambda", "GetFunctionConcurrency"): concurrency}


def settings(limit: int, unreserved: int) -> Any:
    return lambda params: {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved,
                                            "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                            "CodeSizeZipped": 52428800},
                           "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(NAMES)}}


def denied(params: dict[str, Any]) -> dict[str, Any]:
    raise Refuse("AccessDeniedException")


def test_nothing_reserved_in_the_region_means_no_call_per_function(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    answered = answer_calls(monkeypatch, answers({}, settings(1000, 1000)))
    doc = scan()
    assert answered.count("lambda:GetAccountSettings") == 1
    assert "lambda:GetFunctionConcurrency" not in answered
    assert rel020(doc) == {}
    assert doc["gaps"] == [] or "GetFunctionConcurrency" not in {g["operation"] for g in doc["gaps"]}


@pytest.mark.parametrize("workers", [1, 8])
def test_functions_are_asked_until_the_reservations_add_up(aws: None, monkeypatch: pytest.MonkeyPatch,
                                                           workers: int) -> None:
    seed()
    listed = [f["FunctionName"] for f in boto3.client("lambda", region_name=REGION).list_functions()["Functions"]]
    # The first listed function's details are read before any other function's: once its reservation
    # accounts for the region's total, no other function is asked.
    reserved = {listed[0]: 75}
    answered = answer_calls(monkeypatch, answers(reserved, settings(1000, 925)))
    doc = scan(workers)
    assert answered.count("lambda:GetFunctionConcurrency") == 1
    assert rel020(doc) == {listed[0]: "pass"}  # what asking every function gives (the fallback, below)


def test_a_reservation_further_down_the_list_is_still_found(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    answered = answer_calls(monkeypatch, answers({"reserved-fn": 50, "other-fn": 25}, settings(1000, 925)))
    doc = scan()
    assert rel020(doc) == {"reserved-fn": "pass", "other-fn": "pass"}
    assert 2 <= answered.count("lambda:GetFunctionConcurrency") <= len(NAMES)


def test_unreadable_settings_fall_back_to_asking_every_function(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    answered = answer_calls(monkeypatch, answers({"reserved-fn": 50, "other-fn": 25}, denied))
    doc = scan()
    assert answered.count("lambda:GetFunctionConcurrency") == len(NAMES)
    assert rel020(doc) == {"reserved-fn": "pass", "other-fn": "pass"}
    # The settings are an optimisation: their denial is not a gap (nothing the rules read was lost).
    assert "GetAccountSettings" not in {g["operation"] for g in doc["gaps"]}


def test_the_iam_policy_grants_get_account_settings() -> None:
    from walens.scanners.account.iampolicy import policy

    actions = {a for s in policy()["Statement"] for a in s["Action"]}
    assert "lambda:GetAccountSettings" in actions
