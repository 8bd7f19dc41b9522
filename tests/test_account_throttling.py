"""Throttling: walens paces its requests per (account, region, service) and retries throttled ones with
exponential backoff and full jitter; the review (and its API call count) is unchanged, and a call still
throttled after the retries is a gap, never a missing resource.

Throttling errors are injected below botocore's retry loop (a ``before-send`` hook answers the request
with the service's own throttling error, in its own protocol), so the retries are real; the backoff's
sleeps are skipped. Calls moto lacks are answered as in ``test_account_services``. The pacing is checked
on a frozen clock: which waits it asks for, never how long anything took.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

pytest.importorskip("moto")
import botocore.session  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from test_account_scan import TRUST, _zip, aws  # noqa: E402,F401
from test_account_services import NEW, answer_calls, client, got, scan, seed_services, service_answers  # noqa: E402

from walens.errors import UsageError  # noqa: E402
from walens.scanners.account import core  # noqa: E402


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _throttling(protocol: str, url: str) -> AWSResponse:
    """The throttling answer a service of ``protocol`` gives."""
    if protocol == "query":  # SNS: an XML error document
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
                b"</Error><RequestId>t</RequestId></ErrorResponse>")
        return AWSResponse(url, 400, {"Content-Type": "text/xml"}, _Raw(body))
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    return AWSResponse(url, 400 if protocol == "json" else 429,
                       {"x-amzn-errortype": "ThrottlingException", "Content-Type": "application/json"}, _Raw(body))


def throttle(monkeypatch: pytest.MonkeyPatch, services: set[str], times: int | None) -> Counter[str]:
    """Throttle the first ``times`` attempts of every request to ``services`` (every attempt when None)."""
    seen: Counter[str] = Counter()
    original = botocore.session.Session.create_client
    monkeypatch.setattr(time, "sleep", lambda _s: None)

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name
        protocol = client.meta.service_model.protocol
        if service not in services:
            return client

        def answer(request: Any, **_: Any) -> Any:
            body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
            target = request.headers.get("X-Amz-Target") or b""
            key = f"{service} {request.method} {request.url} {target!r} {body!r}"
            seen[key] += 1
            if times is None or seen[key] <= times:
                return _throttling(protocol, request.url)
            return None

        client.meta.events.register_first("before-send", answer)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return seen


def test_throttled_calls_are_retried_and_the_review_is_unchanged(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed_services()
    answer_calls(monkeypatch, service_answers(seeded))
    calm = scan()
    seen = throttle(monkeypatch, NEW | {"lambda"}, times=2)
    stormy = scan()
    assert got(stormy, seeded["labels"]) == got(calm, seeded["labels"])
    assert stormy["gaps"] == calm["gaps"]
    # Every request to these services was throttled twice before it went through...
    assert {k.split(" ", 1)[0] for k in seen} == {"lambda", "sns", "events", "dynamodb", "appsync", "wafv2",
                                                  "codedeploy", "organizations"}
    assert set(seen.values()) == {3}
    # ...and a retry is not a new call: the review counts the same calls per service, and the retries apart.
    assert stormy["scan"]["api_calls"] == calm["scan"]["api_calls"]
    assert calm["scan"]["throttled"] == calm["scan"]["retries"] == {}
    throttled_services = {k.split(" ", 1)[0] for k in seen}
    assert stormy["scan"]["retries"] == {s: 2 * n for s, n in calm["scan"]["api_calls"].items()
                                         if s in throttled_services}
    assert stormy["scan"]["throttled"] == stormy["scan"]["retries"]


def test_throttling_past_the_retries_is_a_gap_never_a_pass(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed_services()
    answer_calls(monkeypatch, service_answers(seeded))
    throttle(monkeypatch, {"events"}, times=None)
    doc = scan()
    result = got(doc, seeded["labels"])
    # No rule seen: nothing judged, nothing passed; one not-assessed result for the region.
    assert {k: v for k, v in result.items() if k[0] == "REL015"} == {("REL015", "*"): "not_assessed"}
    assert result[("REL003", "sub-fn")] == "fail"  # SNS still invokes it
    [gap] = [g for g in doc["gaps"] if g["service"] == "events"]
    assert (gap["operation"], gap["kind"], gap["error_code"]) == ("ListEventBuses", "throttled", "ThrottlingException")
    assert {"REL015", "SEC023"} <= set(gap["rules"])


def _functions(n: int) -> set[str]:
    role = client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = client("lambda")
    for i in range(n):
        lam.create_function(FunctionName=f"fn-{i:02d}", Role=role, Handler="index.handler",
                            Code={"ZipFile": _zip()}, Runtime="python3.13")
    return {f"fn-{i:02d}" for i in range(n)}


def _seen_functions(doc: dict[str, Any]) -> set[str]:
    return {f["resource"]["name"] for f in doc["findings"] if f["resource"]["type"] == "AWS::Lambda::Function"}


def test_sustained_throttling_loses_nothing(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Lambda request throttled twice, for 40 functions (~300 requests): botocore's retry quota (500,
    5 per throttled retry, 5 back per success) ran dry after ~100 of them and failed the rest at once, as
    gaps (the functions listed, their details not); walens' own retries do not depend on it."""
    names = _functions(40)
    seen = throttle(monkeypatch, {"lambda"}, times=2)
    doc = scan(services=["lambda"], select=["OPS001"])
    assert _seen_functions(doc) == names
    assert not [g for g in doc["gaps"] if g["kind"] == "throttled"]
    assert {f["status"] for f in doc["findings"]} <= {"pass", "fail"}
    assert doc["scan"]["retries"]["lambda"] == 2 * doc["scan"]["api_calls"]["lambda"] == 2 * len(seen)


def test_every_request_waits_its_turn(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a frozen clock a bucket asks each request after the first to wait one more interval (5/s: 0.2 s,
    0.4 s, ...): every Lambda request went through one, GetPolicy through its own (2/s), the STS call
    (0: unpaced) through none."""
    names = _functions(3)
    waits: list[float] = []
    monkeypatch.setattr(time, "monotonic", lambda: 1000.0)
    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setenv("WALENS_RATE_LIMITS", "lambda=5,lambda:GetPolicy=2,default=0")
    calls: Counter[str] = Counter()

    def count(client: Any) -> None:
        if client.meta.service_model.service_name == "lambda":
            client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))

    # Rules that read per-function details (policy, URL, invoke configs), so each function costs calls.
    doc = scan(services=["lambda"], select=["OPS001", "SEC014", "SEC004", "REL003"], hooks=[count])
    assert _seen_functions(doc) == names
    assert sum(calls.values()) == doc["scan"]["api_calls"]["lambda"] > 10
    policy, others = calls["GetPolicy"], sum(calls.values()) - calls["GetPolicy"]
    assert policy == 3
    assert sorted(round(w * 10, 6) for w in waits) == sorted([2 * k for k in range(1, others)]
                                                             + [5 * k for k in range(1, policy)])


def test_pace_halves_on_throttling_and_creeps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    waits: list[float] = []
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    monkeypatch.setattr(time, "sleep", waits.append)
    pace = core.Pace(10.0)
    for _ in range(3):
        pace.acquire()
    assert waits == pytest.approx([0.1, 0.2])  # the first goes at once; no burst beyond one request
    pace.throttled()
    pace.throttled()  # a second answer within the second: requests already in flight, one cut
    assert pace.rate == 5.0
    now[0] = 2.0
    pace.throttled()
    assert pace.rate == 2.5
    for _ in range(200):
        pace.answered()
    assert pace.rate == 10.0  # back to the configured rate, never above it
    for _ in range(20):
        now[0] += 5
        pace.throttled()
    assert pace.rate == 0.5  # the floor


def test_backoff_is_exponential_with_full_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core.random, "uniform", lambda low, high: high)
    assert [core.backoff_delay(n) for n in (1, 2, 3, 8, 20)] == [0.25, 0.5, 1.0, 20.0, 20.0]
    monkeypatch.setattr(core.random, "uniform", lambda low, high: low)
    assert core.backoff_delay(5) == 0.0


def test_rate_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert core.rate_limits() == {"lambda": 15.0, "lambda:GetPolicy": 15.0, "lambda:GetFunction": 100.0,
                                  "apigateway": 10.0, "default": 50.0}
    monkeypatch.setenv("WALENS_RATE_LIMITS", "lambda=4, sqs=0 ,lambda:GetPolicy=1,default=20")
    assert core.rate_limits() == {"lambda": 4.0, "lambda:GetPolicy": 1.0, "lambda:GetFunction": 100.0,
                                  "apigateway": 10.0, "sqs": 0.0, "default": 20.0}
    monkeypatch.setenv("WALENS_RATE_LIMITS", "off,lambda=3")
    assert core.rate_limits() == {"lambda": 3.0, "lambda:GetPolicy": 0.0, "lambda:GetFunction": 0.0,
                                  "apigateway": 0.0, "default": 0.0}
    monkeypatch.setenv("WALENS_RATE_LIMITS", "default=nan")
    with pytest.raises(UsageError):
        core.rate_limits()
    monkeypatch.setenv("WALENS_RATE_LIMITS", "lambda=fast")
    with pytest.raises(UsageError, match="'lambda=fast' is not service"):
        core.rate_limits()
