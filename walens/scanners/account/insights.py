"""Facts only an account has, from what its functions did: memory used vs. configured and init duration.

One CloudWatch Logs Insights query over the ``REPORT`` lines of up to 50 functions' log groups at once
(``StartQuery`` takes at most 50 ``logGroupNames``), grouped ``by @log``, over a bounded window (14 days
by default), polled with a bounded wait: a query that does not finish in time is stopped and its
functions' facts are Unknown (rules end not_assessed), never a guess. ``--no-logs-insights`` skips it.

This module also plans the whole second phase of a scan (it runs once the first phase has listed the
functions): Logs Insights here, CloudWatch metrics and Compute Optimizer in :mod:`metrics`; and
:func:`finish` marks what they did not find. ``facts.memory_recommendation`` (configured size, measured
maximum, suggested size, and where the numbers come from), which PERF010 judges, is computed from these
facts by walens.facts.memory: a scanner fetches and translates, it does not judge.

Facts set on ``AWS::Lambda::Function`` (``None`` when there is nothing to say):
- ``memory_usage``: ``{max_used_mb, avg_used_mb, configured_mb, invocations, cold_starts, init_avg_ms,
  init_max_ms, init_p99_ms, window_days}`` from the REPORT lines (``None``: no invocation in the window).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from walens.model import Resource, Unknown
from walens.scanners.account.core import CallFailed, Collected, Ctx, Task

SERVICE = "logs"
FUNCTION = "AWS::Lambda::Function"
LOG_GROUP = "AWS::Logs::LogGroup"

OPERATIONS: dict[str, tuple[str, ...]] = {"StartQuery": (), "GetQueryResults": (), "StopQuery": ()}

# StartQuery accepts at most 50 log groups; results are one row per group.
BATCH = 50
# Queries in flight per region (the account-wide limit of concurrent Logs Insights queries is 30).
IN_FLIGHT = 10
POLL_SECONDS = 1.0
DEFAULT_DAYS = 14
DEFAULT_WAIT_SECONDS = 120.0
QUERY = (
    'filter @type = "REPORT"'
    " | stats max(@maxMemoryUsed / 1000 / 1000) as maxUsedMB, avg(@maxMemoryUsed / 1000 / 1000) as avgUsedMB,"
    " max(@memorySize / 1000 / 1000) as memoryMB, count(*) as invocations, count(@initDuration) as coldStarts,"
    " avg(@initDuration) as initAvgMs, max(@initDuration) as initMaxMs, pct(@initDuration, 99) as initP99Ms"
    " by @log"
)
_DONE_BAD = ("Failed", "Cancelled", "Timeout", "Unknown")

def _sleep(seconds: float) -> None:  # tests replace it
    time.sleep(seconds)


def _now() -> float:  # tests replace it
    return time.time()


class _Namespace:
    """A collector-like object for :class:`Ctx` (SERVICE, OPERATIONS) that is not a scanned service."""

    def __init__(self, name: str, service: str, operations: dict[str, tuple[str, ...]]) -> None:
        self.__name__ = name
        self.SERVICE = service
        self.OPERATIONS = operations


def log_group_name(fn: Resource) -> str:
    """The function's log group: LoggingConfig.LogGroup, else ``/aws/lambda/<name>``."""
    logging = fn.properties.get("LoggingConfig")
    group = logging.get("LogGroup") if isinstance(logging, dict) else None
    return group if isinstance(group, str) and group else f"/aws/lambda/{fn.name}"


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _row(fields: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {str(f["field"]): f.get("value") for f in fields if isinstance(f, dict) and f.get("field") is not None}


def usage(row: dict[str, Any], days: int) -> dict[str, Any] | None:
    """One result row (``by @log``) as the ``memory_usage`` fact; None when the row counts no invocation."""
    invocations = _number(row.get("invocations")) or 0
    max_used = _number(row.get("maxUsedMB"))
    if not invocations or max_used is None:
        return None

    def rounded(key: str, digits: int = 1) -> float | None:
        value = _number(row.get(key))
        return round(value, digits) if value is not None else None

    return {"max_used_mb": round(max_used), "avg_used_mb": rounded("avgUsedMB"),
            "configured_mb": round(_number(row.get("memoryMB")) or 0) or None, "invocations": int(invocations),
            "cold_starts": int(_number(row.get("coldStarts")) or 0), "init_avg_ms": rounded("initAvgMs"),
            "init_max_ms": rounded("initMaxMs"), "init_p99_ms": rounded("initP99Ms"), "window_days": days}


def collect(ctx: Ctx, functions: Sequence[Resource], *, days: int = DEFAULT_DAYS,
            wait: float = DEFAULT_WAIT_SECONDS, known_groups: set[str] | None = None) -> None:
    """Query the REPORT lines of ``functions`` (one region of one account) and set ``facts.memory_usage``."""
    by_group: dict[str, list[Resource]] = {}
    for fn in functions:
        by_group.setdefault(log_group_name(fn), []).append(fn)
    queried: dict[str, Resource] = {}
    for group, fns in sorted(by_group.items()):
        if len(fns) > 1:  # REPORT lines do not name the function: a shared group cannot be told apart
            for fn in fns:
                fn.facts["memory_usage"] = Unknown(
                    f"log group {group} is shared by {len(fns)} functions: their REPORT lines cannot be told apart")
        elif known_groups is not None and group not in known_groups:
            fns[0].facts["memory_usage"] = None  # never invoked (or its logs deleted): nothing measured
        else:
            queried[group] = fns[0]
    names = list(queried)
    pending = [names[i:i + BATCH] for i in range(0, len(names), BATCH)]
    end = int(_now())
    start = end - days * 86400
    deadline = time.monotonic() + wait
    running: dict[str, list[str]] = {}

    def give_up(batch: list[str], value: Unknown) -> None:
        for group in batch:
            queried[group].facts["memory_usage"] = value

    while pending or running:
        while pending and len(running) < IN_FLIGHT:
            batch = pending.pop(0)
            try:
                answer = ctx.call("StartQuery", logGroupNames=batch, startTime=start, endTime=end,
                                  queryString=QUERY, limit=len(batch)) or {}
            except CallFailed as exc:
                give_up(batch, exc.unknown)
                continue
            running[str(answer.get("queryId"))] = batch
        if not running:
            break
        if time.monotonic() >= deadline:
            value = Unknown(f"logs:StartQuery: the Logs Insights query did not finish within {wait:g} s "
                            f"in {ctx.region}")
            ctx.gap("GetQueryResults", "QueryTimeout", "error", f"stopped after {wait:g} s")
            for query_id, batch in running.items():
                try:
                    ctx.call("StopQuery", queryId=query_id, record=False)
                except CallFailed:
                    pass  # it ends by itself: Logs Insights stops queries after 60 minutes
                give_up(batch, value)
            for batch in pending:
                give_up(batch, value)
            return
        _sleep(POLL_SECONDS)
        for query_id, batch in list(running.items()):
            try:
                answer = ctx.call("GetQueryResults", queryId=query_id) or {}
            except CallFailed as exc:
                del running[query_id]
                give_up(batch, exc.unknown)
                continue
            status = str(answer.get("status") or "")
            if status == "Complete":
                del running[query_id]
                _store(queried, batch, answer.get("results") or [], days)
            elif status in _DONE_BAD:
                del running[query_id]
                gap = ctx.gap("GetQueryResults", f"Query{status}", "error")
                give_up(batch, Unknown(gap.reason))


def _store(queried: dict[str, Resource], batch: list[str], rows: Sequence[Any], days: int) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for fields in rows:
        row = _row(fields if isinstance(fields, list) else [])
        log = str(row.get("@log") or "")
        # @log is "<account>:<log group name>"
        group = log.split(":", 1)[1] if ":" in log else log
        seen[group] = row
    for group in batch:
        found = seen.get(group)
        queried[group].facts["memory_usage"] = usage(found, days) if found is not None else None


# -- the second phase of a scan ---------------------------------------------------------------------
def plan(collected: Collected, scopes: Sequence[Any], regions: Sequence[str], services: Sequence[str], *,
         logs_insights: bool = True, days: int = DEFAULT_DAYS, wait: float = DEFAULT_WAIT_SECONDS) -> list[Task]:
    """The tasks that read what functions did (one of each per account and region with functions)."""
    from walens.scanners.account import metrics

    if "lambda" not in services:
        return []
    functions: dict[tuple[str | None, str | None], list[Resource]] = {}
    groups: dict[tuple[str | None, str | None], set[str]] = {}
    for r in collected.resources:
        if r.type == FUNCTION:
            functions.setdefault((r.account, r.region), []).append(r)
        elif r.type == LOG_GROUP and isinstance(r.name, str):
            groups.setdefault((r.account, r.region), set()).add(r.name)
    # Logs Insights needs the DescribeLogGroups sweep: a query naming a group that does not exist (a
    # function never invoked) fails its whole batch. Without the logs service, it does not run.
    logs_insights = logs_insights and "logs" in services
    unswept = _unswept(collected)
    tasks: list[Task] = []
    for scope in scopes:
        for region in regions:
            fns = sorted(functions.get((scope.account, region), []), key=lambda r: r.id)
            if not fns:
                continue
            if logs_insights:
                hidden = unswept.get((scope.account, region))
                if hidden is not None:
                    for fn in fns:
                        fn.facts["memory_usage"] = hidden
                else:
                    known = groups.get((scope.account, region), set())
                    ctx = Ctx(scope, region, INSIGHTS)
                    tasks.append((ctx, _collect_task, (ctx, fns, days, wait, known)))
            ctx = Ctx(scope, region, metrics.METRICS)
            tasks.append((ctx, metrics.collect_metrics, (ctx, fns, days)))
            ctx = Ctx(scope, region, metrics.COMPUTE_OPTIMIZER)
            tasks.append((ctx, metrics.collect_recommendations, (ctx, fns)))
    return tasks


def _collect_task(ctx: Ctx, fns: list[Resource], days: int, wait: float, known: set[str] | None) -> None:
    collect(ctx, fns, days=days, wait=wait, known_groups=known)


def _unswept(collected: Collected) -> dict[tuple[str | None, str | None], Unknown]:
    """(account, region) -> why its log groups could not all be listed (the sweep failed)."""
    return {(g.account, g.region): Unknown(g.reason) for g in collected.gaps.values()
            if g.service == "logs" and g.operation in ("DescribeLogGroups", "*")}


INSIGHTS = _Namespace(__name__, SERVICE, OPERATIONS)


def finish(collected: Collected, services: Sequence[str]) -> None:
    """Mark, on every function, what the second phase did not find (``None``: nothing measured).

    The judgement on those numbers, ``facts.memory_recommendation``, is walens.facts.memory's
    (walens.pipeline.assemble_account runs it on the functions this phase measured).
    """
    if "lambda" not in services:
        return
    for r in collected.resources:
        if r.type == FUNCTION:
            r.facts.setdefault("memory_usage", None)
            r.facts.setdefault("compute_optimizer", None)
            r.facts.setdefault("metrics", None)
