"""Throttling: botocore's adaptive retries absorb it, and the review (and its API call count) is unchanged.

Throttling errors are injected below botocore's retry loop (a ``before-send`` hook answers the request
with the service's own throttling error, in its own protocol), so the retries are real; the backoff's
sleeps are skipped. Calls moto lacks are answered as in ``test_account_services``.
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

from test_account_scan import aws  # noqa: E402,F401
from test_account_services import NEW, answer_calls, got, scan, seed_services, service_answers  # noqa: E402


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
    # ...and a retry is not a new call: the review counts the same calls per service.
    assert stormy["scan"]["api_calls"] == calm["scan"]["api_calls"]


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
