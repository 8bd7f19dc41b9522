"""``facts.memory_recommendation``: a function's memory size judged against what it used (account mode).

The account scan's second phase (walens.scanners.account.insights and .metrics) measures; this module
judges: Compute Optimizer's finding when it has one, else a heuristic over the Logs Insights REPORT lines.
walens.pipeline.assemble_account sets the fact on every function that phase measured; PERF010 reads it.
``{configured_mb, max_used_mb, suggested_mb, finding, source, window_days}``; None when nothing was measured.
"""

from __future__ import annotations

import math
from typing import Any

from walens.model import Resource, Unknown

# Memory sizing (heuristic): suggest 1.5x the measured maximum, in 64 MB steps, within Lambda's limits;
# recommend a change when the maximum reaches 90% of the configured size (an out-of-memory risk) or
# stays under 40% of it (paying for memory never used).
HEADROOM = 1.5
HIGH_WATER = 0.9
LOW_WATER = 0.4
MIN_MB, MAX_MB, STEP_MB = 128, 10240, 64


def suggested_size(max_used_mb: float) -> int:
    """1.5x the measured maximum, rounded up to 64 MB, within 128 MB and 10,240 MB."""
    size = math.ceil(max_used_mb * HEADROOM / STEP_MB) * STEP_MB
    return int(min(MAX_MB, max(MIN_MB, size)))


def recommend(fn: Resource) -> Any:
    """``facts.memory_recommendation`` of a function from Compute Optimizer, else from its REPORT lines."""
    configured = fn.properties.get("MemorySize", 128)
    if isinstance(configured, Unknown):
        return configured
    try:
        configured = int(configured)
    except (TypeError, ValueError):
        return None
    optimizer = fn.facts.get("compute_optimizer")
    measured = fn.facts.get("memory_usage")
    if isinstance(optimizer, dict) and optimizer.get("finding") in ("Optimized", "NotOptimized"):
        max_used = optimizer.get("max_used_mb")
        if max_used is None and isinstance(measured, dict):
            max_used = measured.get("max_used_mb")
        suggested = optimizer.get("suggested_mb") or configured
        finding = "optimized" if suggested == configured else ("over" if suggested < configured else "under")
        return {"configured_mb": configured, "max_used_mb": max_used, "suggested_mb": int(suggested),
                "finding": finding, "source": "AWS Compute Optimizer",
                "window_days": optimizer.get("lookback_days")}
    if isinstance(measured, Unknown):
        return measured
    if not isinstance(measured, dict):
        return None  # nothing measured: no invocation in the window, or Logs Insights skipped
    max_used = float(measured["max_used_mb"])
    ratio = max_used / configured if configured else 0.0
    suggested = suggested_size(max_used)
    if ratio >= HIGH_WATER and suggested > configured:
        finding = "under"
    elif ratio <= LOW_WATER and suggested < configured:
        finding = "over"
    else:
        finding, suggested = "optimized", configured
    return {"configured_mb": configured, "max_used_mb": round(max_used), "suggested_mb": suggested,
            "finding": finding, "source": "CloudWatch Logs Insights (REPORT lines)",
            "window_days": measured.get("window_days")}
