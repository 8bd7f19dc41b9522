"""What the scanner could not see is a gap and a not_assessed result: never a silent pass, never a crash.

Permissions are taken away by a ``before-call`` hook on every client that answers chosen operations
with AccessDenied (as botocore's Stubber does), so the rest of the moto account stays readable.
Throttling is injected below botocore's retry loop (``before-send``), so the retries are real.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("moto")
import botocore.session  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from test_account_scan import EXPECTED, MOTO_GAPS, OTHER, REGION, aws, gap_kinds, outcomes, scan, seed  # noqa: E402,F401


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _refuse(monkeypatch: pytest.MonkeyPatch, refuse: Callable[[str, str, str], str | None]) -> list[str]:
    """Answer every call for which ``refuse(service, operation, region)`` names an error code with that error."""
    refused: list[str] = []
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name
        region = client.meta.region_name

        def answer(model: Any, **_: Any) -> Any:
            code = refuse(service, model.name, region)
            if code is None:
                return None
            refused.append(f"{service}:{model.name}@{region}")
            status = 403 if "Denied" in code or "Unauthorized" in code else 400
            return (AWSResponse("https://refused", status, {}, None),
                    {"Error": {"Code": code, "Message": "refused by the test"},
                     "ResponseMetadata": {"HTTPStatusCode": status}})

        client.meta.events.register("before-call.*.*", answer)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return refused


def _deny(monkeypatch: pytest.MonkeyPatch, *operations: str, code: str = "AccessDeniedException") -> list[str]:
    wanted = {tuple(op.split(":")) for op in operations}
    return _refuse(monkeypatch, lambda s, o, r: code if (s, o) in wanted else None)


def _gap(doc: dict[str, Any], service: str, operation: str, region: str = REGION) -> dict[str, Any]:
    found = [g for g in doc["gaps"] if (g["service"], g["operation"], g["region"]) == (service, operation, region)]
    assert len(found) == 1, doc["gaps"]
    return found[0]


def test_denied_policy_and_invoke_config_make_async_checks_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    _deny(monkeypatch, "lambda:GetPolicy", "lambda:ListFunctionEventInvokeConfigs")
    doc = scan(regions=[REGION])
    got = outcomes(doc, labels)
    # REL003 can neither pass nor fail on any function: who invokes it, and where failures go, are unknown.
    rel003 = {k: v for k, v in got.items() if k[0] == "REL003"}
    assert rel003 and set(rel003.values()) == {"not_assessed"}
    assert set(rel003) == {("REL003", REGION, n) for n in ("good-fn", "bad-fn", "hoard-fn")}
    gap = _gap(doc, "lambda", "GetPolicy")
    assert gap["kind"] == "denied" and gap["error_code"] == "AccessDeniedException"
    assert gap["action"] == "lambda:GetPolicy" and gap["count"] == 3
    assert "REL003" in gap["rules"]
    reasons = {f["reason"] for f in doc["findings"] if f["rule_id"] == "REL003"}
    assert all("lambda:GetPolicy denied in us-east-1" in r or "ListFunctionEventInvokeConfigs" in r for r in reasons)
    # Everything that did not need the denied calls is judged as before.
    same = {k: v for k, v in EXPECTED.items() if k[1] == REGION and k[0] != "REL003"}
    assert {k: got[k] for k in same} == same


def test_denied_log_groups_never_fail_retention(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    _deny(monkeypatch, "logs:DescribeLogGroups")
    doc = scan(regions=[REGION])
    got = outcomes(doc, labels)
    for fn in ("good-fn", "bad-fn", "hoard-fn"):
        assert got[("COST001", REGION, fn)] == "not_assessed"
    assert not [k for k, v in got.items() if k[0] == "COST002" and v != "not_assessed"]
    gap = _gap(doc, "logs", "DescribeLogGroups")
    assert {"COST001", "COST002"} <= set(gap["rules"])
    assert gap["reason"] == "logs:DescribeLogGroups denied in us-east-1 (AccessDeniedException)"


def test_denied_iam_sweep_is_a_gap_naming_the_guardrail_rule(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    _deny(monkeypatch, "iam:GetAccountAuthorizationDetails", code="AccessDenied")
    doc = scan(regions=[REGION])
    # No policy was seen: the guardrail rule is not assessed for the account (never "not applicable").
    sec001 = [f for f in doc["findings"] if f["rule_id"] == "SEC001"]
    assert [(f["status"], f["resource"]["name"], f["resource"]["region"]) for f in sec001] == [
        ("not_assessed", "*", "global")]
    assert sec001[0]["reason"] == _gap(doc, "iam", "GetAccountAuthorizationDetails")["reason"]
    assert "SEC001" in _gap(doc, "iam", "GetAccountAuthorizationDetails")["rules"]
    lens = {e["choice"]: e["status"] for e in doc["lens"]}
    assert lens[sec001[0]["lens"]["choice"]] != "not_applicable"


def test_denied_api_resources_leave_exposure_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    _deny(monkeypatch, "apigateway:GetResources")
    doc = scan(regions=[REGION])
    got = outcomes(doc, labels)
    assert got[("SEC002", REGION, "orders")] == "not_assessed"
    assert got[("SEC002", REGION, "shop")] == "not_assessed"  # WAF alone would pass it, but not silently
    # No method was seen: whatever method-level check applies to an API cannot pass or fail either.
    assert {v for k, v in got.items() if k[0] in ("SEC005", "SEC006")} <= {"not_assessed"}
    gap = _gap(doc, "apigateway", "GetResources")
    assert {"SEC002", "SEC005", "SEC006"} <= set(gap["rules"])


def test_a_denied_listing_still_lets_other_services_and_regions_through(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    _refuse(monkeypatch, lambda s, o, r: "AccessDeniedException" if s == "lambda" and r == REGION else None)
    doc = scan()
    got = outcomes(doc, labels)
    # No function was listed there: each function rule has one not-assessed result for the region, no other.
    assert {k: v for k, v in got.items() if k[1] == REGION and k[0] in ("COST001", "OPS001", "REL003", "REL004")} == {
        (rule, REGION, "*"): "not_assessed" for rule in ("COST001", "OPS001", "REL003", "REL004")}
    assert got[("COST001", OTHER, "good-fn")] == "fail"
    assert got[("OPS003", REGION, "sm-plain")] == "fail"
    gap = _gap(doc, "lambda", "ListFunctions")
    assert {"COST001", "OPS001", "REL003", "SEC004"} <= set(gap["rules"])
    assert "REL004" in _gap(doc, "lambda", "ListEventSourceMappings")["rules"]


def test_a_disabled_region_is_a_gap_not_a_crash(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    _refuse(monkeypatch, lambda s, o, r: "UnrecognizedClientException" if r == OTHER else None)
    doc = scan()
    kinds = {g["kind"] for g in doc["gaps"] if g["region"] == OTHER}
    assert kinds == {"region_disabled"}
    assert {g["service"] for g in doc["gaps"] if g["region"] == OTHER} >= {"lambda", "logs", "apigateway", "sqs"}
    assert {v for k, v in outcomes(doc, labels).items() if k[1] == OTHER} == {"not_assessed"}
    assert {k[2] for k in outcomes(doc, labels) if k[1] == OTHER} == {"*"}
    assert outcomes(doc, labels)[("COST001", REGION, "bad-fn")] == "fail"


def test_gaps_reach_the_console_report(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from walens import reporters

    seed()
    _deny(monkeypatch, "logs:DescribeLogGroups")
    doc = scan(regions=[REGION])
    text = reporters.render("console", doc, "en")
    line = next(x for x in text.splitlines() if x.startswith("Could not see ("))
    assert "logs:DescribeLogGroups denied in us-east-1 (AccessDeniedException)" in line
    assert "確認できなかった項目 (" in reporters.render("console", doc, "ja")
    json.loads(reporters.render("json", doc, "en"))  # the gaps serialise


def test_throttling_is_retried_and_the_review_is_unchanged(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = seed()
    baseline = outcomes(scan(), labels)
    throttled: list[str] = []
    original = botocore.session.Session.create_client
    monkeypatch.setattr(time, "sleep", lambda _s: None)  # botocore's backoff sleeps; the test need not

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def throttle(request: Any, **_: Any) -> Any:
            # The first attempt of each listing call (and the second of Lambda's) is throttled.
            target = request.headers.get("X-Amz-Target") or b""
            target = target.decode() if isinstance(target, bytes) else target
            key = f"{service}:{request.url}:{target}"
            listing = request.url.rstrip("/").endswith(("/functions", "/restapis")) or target.endswith("ListQueues")
            limit = 2 if service == "lambda" else 1
            if listing and throttled.count(key) < limit:
                throttled.append(key)
                body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
                headers = {"x-amzn-errortype": "ThrottlingException", "Content-Type": "application/x-amz-json-1.0"}
                if service == "sqs":
                    headers["x-amzn-query-error"] = "ThrottlingException;Sender"
                return AWSResponse(request.url, 400, headers, _Raw(body))
            return None

        client.meta.events.register_first("before-send", throttle)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    doc = scan()
    assert {k.split(":", 1)[0] for k in throttled} == {"lambda", "apigateway", "sqs"}, throttled
    assert gap_kinds(doc) == set()  # throttling retried away; recursion config not asked (no rule reads it)
    assert outcomes(doc, labels) == baseline == EXPECTED


def test_calls_moto_lacks_are_answered_by_a_stub(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """GetFunctionRecursionConfig (not in moto) answered as the service would: the rule then judges it."""
    from walens.rules import load_rules

    if "COST010" not in {r.id for r in load_rules()}:
        pytest.skip("no recursion rule in the catalogue")
    labels = seed()
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)

        def answer(model: Any, params: Any, **_: Any) -> Any:
            if model.name != "GetFunctionRecursionConfig":
                return None
            loop = "Allow" if "bad-fn" in str(params) else "Terminate"
            return (AWSResponse("https://stub", 200, {}, None),
                    {"RecursiveLoop": loop, "ResponseMetadata": {"HTTPStatusCode": 200}})

        client.meta.events.register("before-call.lambda.GetFunctionRecursionConfig", answer)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    doc = scan(regions=[REGION], select=["COST010"])
    assert outcomes(doc, labels) == {("COST010", REGION, "bad-fn"): "fail", ("COST010", REGION, "good-fn"): "pass",
                                     ("COST010", REGION, "hoard-fn"): "pass"}
    assert doc["gaps"] == []


def test_without_the_stub_recursion_is_not_assessed_not_passed(aws: None) -> None:
    from walens.rules import load_rules

    if "COST010" not in {r.id for r in load_rules()}:
        pytest.skip("no recursion rule in the catalogue")
    labels = seed()
    doc = scan(regions=[REGION], select=["COST010"])
    assert set(outcomes(doc, labels).values()) == {"not_assessed"}
    assert _gap(doc, "lambda", "GetFunctionRecursionConfig")["rules"] == ["COST010"]
