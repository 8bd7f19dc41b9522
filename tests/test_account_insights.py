"""Facts only an account has: memory used and init duration (Logs Insights), metrics, Compute Optimizer.

moto answers neither Logs Insights statistics nor Compute Optimizer: botocore's Stubber (and, inside a moto
scan, ``before-call`` answers for the two Logs Insights operations) stands in for them. No real AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

from test_account_scan import ACCOUNT, REGION, aws, seed  # noqa: E402,F401
from walens.facts import memory  # noqa: E402
from walens.model import Resource, Unknown  # noqa: E402
from walens.scanners.account import insights, metrics  # noqa: E402
from walens.scanners.account.core import Collected, Ctx, Scope, is_read_only  # noqa: E402


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(insights, "_sleep", lambda _s: None)


def _scope() -> Scope:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return Scope(session, ACCOUNT, "aws", Collected(), 4)


def _fn(name: str, memory: int | None = None) -> Resource:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    props: dict[str, Any] = {"FunctionName": name}
    if memory is not None:
        props["MemorySize"] = memory
    return Resource(id=arn, type="AWS::Lambda::Function", properties=props, name=name, arn=arn,
                    account=ACCOUNT, region=REGION, source="account")


def _row(group: str, max_used: float, memory: float, invocations: int = 100, cold: int = 3,
         init: float = 250.0) -> list[dict[str, str]]:
    return [{"field": "@log", "value": f"{ACCOUNT}:{group}"}, {"field": "maxUsedMB", "value": str(max_used)},
            {"field": "avgUsedMB", "value": str(max_used * 0.8)}, {"field": "memoryMB", "value": str(memory)},
            {"field": "invocations", "value": str(invocations)}, {"field": "coldStarts", "value": str(cold)},
            {"field": "initAvgMs", "value": str(init)}, {"field": "initMaxMs", "value": str(init * 2)},
            {"field": "initP99Ms", "value": str(init * 1.8)}]


def _stubbed(scope: Scope, service: str) -> tuple[Any, Stubber, list[dict[str, Any]]]:
    client = scope.client(service, REGION)
    seen: list[dict[str, Any]] = []
    client.meta.events.register(f"provide-client-params.{service}.*",
                                lambda params, model, **_: seen.append({"op": model.name, **params}))
    stub = Stubber(client)
    return client, stub, seen


# -- Logs Insights --------------------------------------------------------------------------------
def test_one_query_per_fifty_functions_sets_memory_and_init_facts() -> None:
    scope = _scope()
    fns = [_fn(f"fn{i:03d}", 1024) for i in range(120)]
    groups = {f"/aws/lambda/{fn.name}" for fn in fns}
    _client, stub, seen = _stubbed(scope, "logs")
    for q in ("q1", "q2", "q3"):
        stub.add_response("start_query", {"queryId": q})
    # First poll: all three still running; second poll: complete, with rows for what ran.
    for _q in ("q1", "q2", "q3"):
        stub.add_response("get_query_results", {"status": "Running", "results": []})
    stub.add_response("get_query_results", {"status": "Complete", "results": [_row("/aws/lambda/fn000", 700, 1024)]})
    stub.add_response("get_query_results", {"status": "Complete", "results": [_row("/aws/lambda/fn050", 95.5, 1024)]})
    stub.add_response("get_query_results", {"status": "Complete", "results": []})
    with stub:
        insights.collect(Ctx(scope, REGION, insights.INSIGHTS), fns, days=14, wait=60, known_groups=groups)
        stub.assert_no_pending_responses()
    starts = [s for s in seen if s["op"] == "StartQuery"]
    assert [len(s["logGroupNames"]) for s in starts] == [50, 50, 20]
    assert starts[0]["endTime"] - starts[0]["startTime"] == 14 * 86400
    assert 'filter @type = "REPORT"' in starts[0]["queryString"] and "by @log" in starts[0]["queryString"]
    assert fns[0].facts["memory_usage"] == {
        "max_used_mb": 700, "avg_used_mb": 560.0, "configured_mb": 1024, "invocations": 100, "cold_starts": 3,
        "init_avg_ms": 250.0, "init_max_ms": 500.0, "init_p99_ms": 450.0, "window_days": 14}
    assert fns[50].facts["memory_usage"]["max_used_mb"] == 96
    assert fns[1].facts["memory_usage"] is None  # no REPORT line in the window: nothing measured
    assert fns[119].facts["memory_usage"] is None


def test_log_groups_that_do_not_exist_are_not_queried_and_shared_ones_are_unknown() -> None:
    scope = _scope()
    never = _fn("never-invoked")
    a, b = _fn("a"), _fn("b")
    for fn in (a, b):
        fn.properties["LoggingConfig"] = {"LogGroup": "/shared/app"}
    _client, stub, seen = _stubbed(scope, "logs")
    with stub:
        insights.collect(Ctx(scope, REGION, insights.INSIGHTS), [never, a, b], known_groups={"/shared/app"})
    assert seen == []
    assert never.facts["memory_usage"] is None
    assert isinstance(a.facts["memory_usage"], Unknown) and "shared by 2 functions" in a.facts["memory_usage"].reason


def test_a_query_that_does_not_finish_in_time_is_stopped_and_unknown() -> None:
    scope = _scope()
    fn = _fn("slow", 512)
    _client, stub, seen = _stubbed(scope, "logs")
    stub.add_response("start_query", {"queryId": "q1"})
    stub.add_response("stop_query", {"success": True}, {"queryId": "q1"})
    with stub:
        insights.collect(Ctx(scope, REGION, insights.INSIGHTS), [fn], wait=0, known_groups={"/aws/lambda/slow"})
        stub.assert_no_pending_responses()
    assert isinstance(fn.facts["memory_usage"], Unknown)
    assert "did not finish within 0 s" in fn.facts["memory_usage"].reason
    gaps = scope.collected.gap_list()
    assert [(g.operation, g.error_code) for g in gaps] == [("GetQueryResults", "QueryTimeout")]


def test_a_denied_query_is_a_gap_and_unknown() -> None:
    scope = _scope()
    fn = _fn("f", 512)
    _client, stub, _seen = _stubbed(scope, "logs")
    stub.add_client_error("start_query", "AccessDeniedException", http_status_code=400)
    with stub:
        insights.collect(Ctx(scope, REGION, insights.INSIGHTS), [fn], known_groups={"/aws/lambda/f"})
    gap = scope.collected.gap_list()[0]
    assert (gap.action, gap.kind) == ("logs:StartQuery", "denied")
    assert fn.facts["memory_usage"] == Unknown(gap.reason)


# -- the memory recommendation ------------------------------------------------------------------
@pytest.mark.parametrize(("configured", "max_used", "finding", "suggested"), [
    (1024, 100, "over", 192),      # 10% used: 1.5 x 100 = 150 -> 192 (64 MB steps)
    (512, 480, "under", 768),      # 94% used: out-of-memory is near
    (512, 300, "optimized", 512),  # 59%: fine
    (128, 40, "optimized", 128),   # nothing smaller than 128 MB to suggest
])
def test_recommendation_from_report_lines(configured: int, max_used: int, finding: str, suggested: int) -> None:
    fn = _fn("f", configured)
    fn.facts["memory_usage"] = {"max_used_mb": max_used, "window_days": 14}
    got = memory.recommend(fn)
    assert got["finding"] == finding and got["suggested_mb"] == suggested
    assert got["configured_mb"] == configured and got["max_used_mb"] == max_used
    assert got["source"].startswith("CloudWatch Logs Insights")


def test_compute_optimizer_is_preferred_and_unknown_stays_unknown() -> None:
    fn = _fn("f", 1024)
    fn.facts["memory_usage"] = {"max_used_mb": 100, "window_days": 14}
    fn.facts["compute_optimizer"] = {"finding": "NotOptimized", "suggested_mb": 320, "max_used_mb": 180,
                                     "lookback_days": 14.0}
    got = memory.recommend(fn)
    assert (got["suggested_mb"], got["max_used_mb"], got["finding"]) == (320, 180, "over")
    assert got["source"] == "AWS Compute Optimizer"
    other = _fn("g", 256)
    other.facts["memory_usage"] = Unknown("logs:StartQuery denied")
    assert memory.recommend(other) == Unknown("logs:StartQuery denied")
    assert memory.recommend(_fn("h")) is None


# -- CloudWatch metrics -------------------------------------------------------------------------
def test_metrics_are_batched_500_queries_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_now", lambda: datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    scope = _scope()
    fns = [_fn(f"fn{i:03d}") for i in range(130)]  # 520 queries: two calls
    _client, stub, seen = _stubbed(scope, "cloudwatch")
    stub.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": "f0_0", "Values": [1000.0]}, {"Id": "f0_1", "Values": [12.0]}, {"Id": "f0_2", "Values": [3.0]},
        {"Id": "f0_3", "Values": []}]}, {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY,
                                         "ScanBy": "TimestampDescending"})
    stub.add_response("get_metric_data", {"MetricDataResults": [{"Id": "f129_3", "Values": [60000.0, 90000.0]}]})
    with stub:
        metrics.collect_metrics(Ctx(scope, REGION, metrics.METRICS), fns, 14)
        stub.assert_no_pending_responses()
    assert [len(s["MetricDataQueries"]) for s in seen] == [500, 20]
    assert seen[0]["EndTime"] - seen[0]["StartTime"] == (datetime(2026, 6, 1) - datetime(2026, 5, 18))
    assert fns[0].facts["metrics"] == {"window_days": 14, "invocations": 1000, "errors": 12, "throttles": 3,
                                       "iterator_age_max_ms": None}
    assert fns[129].facts["metrics"]["iterator_age_max_ms"] == 90000.0
    assert fns[64].facts["metrics"]["invocations"] == 0


# -- Compute Optimizer ------------------------------------------------------------------------
def test_compute_optimizer_not_opted_in_is_a_note_not_a_gap() -> None:
    scope = _scope()
    _client, stub, _seen = _stubbed(scope, "compute-optimizer")
    stub.add_client_error("get_lambda_function_recommendations", "OptInRequiredException", http_status_code=403)
    with stub:
        metrics.collect_recommendations(Ctx(scope, REGION, metrics.COMPUTE_OPTIMIZER), [_fn("f", 512)])
    assert scope.collected.gap_list() == []
    assert scope.collected.notes and "OptInRequiredException" in scope.collected.notes[0]


def test_compute_optimizer_recommendations_are_read_once_per_region() -> None:
    scope = _scope()
    fn = _fn("f", 1024)
    _client, stub, seen = _stubbed(scope, "compute-optimizer")
    stub.add_response("get_lambda_function_recommendations", {"lambdaFunctionRecommendations": [
        {"functionArn": f"{fn.arn}:$LATEST", "currentMemorySize": 1024, "finding": "NotOptimized",
         "findingReasonCodes": ["MemoryOverprovisioned"], "lookbackPeriodInDays": 14.0,
         "utilizationMetrics": [{"name": "Memory", "statistic": "Maximum", "value": 180.4}],
         "memorySizeRecommendationOptions": [{"rank": 2, "memorySize": 512}, {"rank": 1, "memorySize": 320}]}]})
    with stub:
        metrics.collect_recommendations(Ctx(scope, REGION, metrics.COMPUTE_OPTIMIZER), [fn, _fn("g")])
    assert len(seen) == 1 and "functionArns" not in seen[0]
    assert fn.facts["compute_optimizer"] == {"finding": "NotOptimized", "reasons": ["MemoryOverprovisioned"],
                                             "suggested_mb": 320, "current_mb": 1024, "max_used_mb": 180,
                                             "lookback_days": 14.0}


def test_every_operation_of_the_second_phase_is_a_read() -> None:
    for mod in (insights.INSIGHTS, metrics.METRICS, metrics.COMPUTE_OPTIMIZER):
        for op in mod.OPERATIONS:
            assert is_read_only(mod.SERVICE, op), f"{mod.SERVICE}:{op}"


# -- through a whole scan (moto, with Logs Insights and Compute Optimizer stood in for) ------------
def _fake_insights(rows: list[list[dict[str, str]]], calls: list[str]) -> Any:
    def hook(client: Any) -> None:
        service = client.meta.service_model.service_name
        if service == "logs":
            def answer(model: Any, **_: Any) -> Any:
                calls.append(model.name)
                body = {"StartQuery": {"queryId": "q-1"},
                        "GetQueryResults": {"status": "Complete", "results": rows}}[model.name]
                return AWSResponse("https://insights", 200, {}, None), body

            client.meta.events.register("before-call.logs.StartQuery", answer)
            client.meta.events.register("before-call.logs.GetQueryResults", answer)
        elif service == "compute-optimizer":
            stub = Stubber(client)
            stub.add_client_error("get_lambda_function_recommendations", "OptInRequiredException",
                                  http_status_code=403)
            stub.activate()

    return hook


def _perf010(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["resource"]["name"]: (f["status"], f["message"]) for f in doc["findings"] if f["rule_id"] == "PERF010"}


def test_scan_recommends_memory_naming_configured_measured_and_suggested_sizes(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    calls: list[str] = []
    rows = [_row("/aws/lambda/hoard-fn", 100, 1024), _row("/aws/lambda/good-fn", 300, 512)]
    doc = scan_account(regions=[REGION], select=["PERF010"], fail_on="never", hooks=[_fake_insights(rows, calls)])
    got = _perf010(doc)
    # bad-fn has no log group (never invoked): nothing measured, no finding.
    assert set(got) == {"hoard-fn", "good-fn"}
    assert got["good-fn"][0] == "pass"
    status, message = got["hoard-fn"]
    assert status == "fail"
    assert "1024 MB" in message and "at most 100 MB" in message and "suggested size: 192 MB" in message
    assert "Logs Insights" in message
    assert calls == ["StartQuery", "GetQueryResults"]  # one query for the region's functions
    assert any("OptInRequiredException" in n for n in doc["scan"]["notes"])
    assert not [g for g in doc["gaps"] if g["service"] in ("logs", "compute-optimizer", "cloudwatch")]
    assert doc["scan"]["api_calls"]["compute-optimizer"] == 1


def test_no_logs_insights_skips_the_query(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    calls: list[str] = []
    doc = scan_account(regions=[REGION], select=["PERF010"], fail_on="never", logs_insights=False,
                       hooks=[_fake_insights([], calls)])
    assert calls == []
    assert _perf010(doc) == {}


def test_denied_log_groups_sweep_leaves_the_memory_rule_not_assessed(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    calls: list[str] = []
    fake = _fake_insights([], calls)

    def deny(client: Any) -> None:
        fake(client)
        if client.meta.service_model.service_name == "logs":
            client.meta.events.register("before-call.logs.DescribeLogGroups", lambda **_: (
                AWSResponse("https://refused", 400, {}, None),
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 400}}))

    doc = scan_account(regions=[REGION], select=["PERF010"], fail_on="never", hooks=[deny])
    got = _perf010(doc)
    assert {s for s, _m in got.values()} == {"not_assessed"} and len(got) == 3
    assert calls == []
