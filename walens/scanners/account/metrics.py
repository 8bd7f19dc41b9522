"""Facts only an account has, from CloudWatch metrics and AWS Compute Optimizer.

- ``facts.metrics`` on each function: ``{invocations, errors, throttles, iterator_age_max_ms, window_days}``
  over the window (14 days), from ``GetMetricData`` batched 500 queries per call (four per function, one
  datapoint each), never a call per function.
- ``facts.compute_optimizer`` on each function with a recommendation: ``{finding, reasons, suggested_mb,
  max_used_mb, lookback_days}``, from one paginated ``GetLambdaFunctionRecommendations`` per region (no
  function filter: the account's recommendations at once). An account that has not opted in
  (``OptInRequiredException``) gets a note in the review, not a gap: Compute Optimizer is optional, and the
  memory recommendation falls back to Logs Insights.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx

# GetMetricData takes at most 500 queries per call.
MAX_QUERIES = 500
# (fact key, metric name, statistic)
_METRICS = (("invocations", "Invocations", "Sum"), ("errors", "Errors", "Sum"), ("throttles", "Throttles", "Sum"),
            ("iterator_age_max_ms", "IteratorAge", "Maximum"))
_SUMS = {"invocations", "errors", "throttles"}


class _Namespace:
    def __init__(self, name: str, service: str, operations: dict[str, tuple[str, ...]]) -> None:
        self.__name__ = name
        self.SERVICE = service
        self.OPERATIONS = operations


METRICS = _Namespace(f"{__name__}.cloudwatch", "cloudwatch", {"GetMetricData": ()})
COMPUTE_OPTIMIZER = _Namespace(f"{__name__}.compute_optimizer", "compute-optimizer",
                               {"GetLambdaFunctionRecommendations": ()})
OPT_IN_CODES = frozenset({"OptInRequiredException", "OptInRequired"})


def _now() -> datetime:  # tests replace it
    return datetime.now(UTC)


def queries(functions: Sequence[Resource], days: int) -> list[dict[str, Any]]:
    """Four ``MetricDataQueries`` per function (Id ``f<index>_<k>``), one datapoint each over the window."""
    out: list[dict[str, Any]] = []
    period = days * 86400
    for i, fn in enumerate(functions):
        for k, (_key, metric, stat) in enumerate(_METRICS):
            out.append({"Id": f"f{i}_{k}", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                           "Dimensions": [{"Name": "FunctionName", "Value": fn.name}]},
                "Period": period, "Stat": stat}})
    return out


def collect_metrics(ctx: Ctx, functions: Sequence[Resource], days: int) -> None:
    """``facts.metrics`` for ``functions`` (one region of one account)."""
    fns = list(functions)
    all_queries = queries(fns, days)
    end = _now().replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    values: dict[str, list[float]] = {}
    for offset in range(0, len(all_queries), MAX_QUERIES):
        chunk = all_queries[offset:offset + MAX_QUERIES]
        ids = {q["Id"] for q in chunk}
        try:
            for result in ctx.pages("GetMetricData", "MetricDataResults", MetricDataQueries=chunk,
                                    StartTime=start, EndTime=end, ScanBy="TimestampDescending"):
                values.setdefault(str(result.get("Id")), []).extend(float(v) for v in result.get("Values") or [])
        except CallFailed as exc:
            for i in _indices(ids):
                ctx.unknown(fns[i], "facts", "metrics", exc)
            continue
        for i in _indices(ids):
            fact: dict[str, Any] = {"window_days": days}
            for k, (key, _metric, _stat) in enumerate(_METRICS):
                found = values.get(f"f{i}_{k}") or []
                if key in _SUMS:
                    fact[key] = int(sum(found))
                else:
                    fact[key] = max(found) if found else None
            fns[i].facts["metrics"] = fact


def _indices(ids: set[str]) -> list[int]:
    return sorted({int(q[1:].split("_", 1)[0]) for q in ids})


def _base_arn(arn: str) -> str:
    """A function ARN without its version or alias qualifier."""
    return ":".join(arn.split(":")[:7])


def recommendation(item: dict[str, Any]) -> dict[str, Any]:
    """One ``lambdaFunctionRecommendations`` entry as ``facts.compute_optimizer``."""
    options = sorted(item.get("memorySizeRecommendationOptions") or [], key=lambda o: o.get("rank", 99))
    max_used = next((m.get("value") for m in item.get("utilizationMetrics") or []
                     if m.get("name") == "Memory" and m.get("statistic") == "Maximum"), None)
    return {"finding": item.get("finding"), "reasons": list(item.get("findingReasonCodes") or []),
            "suggested_mb": options[0].get("memorySize") if options else item.get("currentMemorySize"),
            "current_mb": item.get("currentMemorySize"),
            "max_used_mb": round(max_used) if isinstance(max_used, (int, float)) else None,
            "lookback_days": item.get("lookbackPeriodInDays")}


def collect_recommendations(ctx: Ctx, functions: Sequence[Resource]) -> None:
    """``facts.compute_optimizer`` from the region's recommendations; a note when the account is not opted in."""
    by_arn = {_base_arn(str(fn.arn)): fn for fn in functions}
    try:
        items = ctx.pages("GetLambdaFunctionRecommendations", "lambdaFunctionRecommendations", record=False)
    except CallFailed as exc:
        if exc.gap.error_code in OPT_IN_CODES:
            note(ctx, f"AWS Compute Optimizer is not enabled for account {ctx.account} in {ctx.region} "
                      "(OptInRequiredException): memory recommendations come from Logs Insights only")
            return
        if exc.gap.kind == "denied":  # a permission to add: a gap, like any other denied read
            ctx.scope.collected.add_gap(exc.gap)
            return
        # Optional data (an endpoint without the service, an error after retries): said, not a gap.
        note(ctx, f"AWS Compute Optimizer could not be read in {ctx.region} ({exc.gap.error_code}): "
                  "memory recommendations come from Logs Insights only")
        return
    except botocore.exceptions.ClientError:  # pragma: no cover - Ctx turns these into CallFailed
        return
    for item in items:
        fn = by_arn.get(_base_arn(str(item.get("functionArn") or "")))
        if fn is not None:
            fn.facts["compute_optimizer"] = recommendation(item)


def note(ctx: Ctx, text: str) -> None:
    """A line for the review's ``scan.notes`` (something worth knowing that is not a gap)."""
    collected = ctx.scope.collected
    with collected.lock:
        if text not in collected.notes:
            collected.notes.append(text)
