"""The merge step, shared by ``walens fleet run`` and the Step Functions merge task: results to fleet files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from walens.fleet import report
from walens.fleet.plan import Partition
from walens.fleet.runner import Result
from walens.fleet.store import Store, dump, partition_key, previous_review
from walens.fleet.worker import NOT_ASSESSED, ScanOptions, not_assessed, outcome


@dataclass
class Written:
    """Where the fleet review went and what it says."""

    review: dict[str, Any]
    keys: dict[str, str]


def save_result(store: Store, run: str, result: Result) -> str:
    key = partition_key(run, result.partition)
    store.put(key, dump({"outcome": result.outcome, "review": result.review}))
    return key


def load_results(store: Store, run: str, plan: Sequence[Partition], options: ScanOptions) -> list[Result]:
    """Each planned partition's stored result; one with none stored is not assessed (never dropped)."""
    out = []
    for p in plan:
        text = store.get(partition_key(run, p))
        if text is None:
            reason = "no result was recorded for it (the worker never finished)"
            doc = not_assessed(p, "NoResult", reason, options, 0)
            out.append(Result(p, doc, outcome(p, doc, NOT_ASSESSED, 0, f"NoResult: {reason}")))
            continue
        data = json.loads(text)
        out.append(Result(p, data["review"], data["outcome"]))
    return out


def finish(store: Store, run: str, results: Sequence[Result], *, fail_on: str | None = None,
           lang: str = "en") -> Written:
    """Write the fleet review (JSON, Markdown, HTML) and point ``latest.json`` at it."""
    doc = report.fleet_review(results, run_id=run, fail_on=fail_on, previous=previous_review(store))
    keys = {"json": f"runs/{run}/fleet.json", "markdown": f"runs/{run}/fleet.md", "html": f"runs/{run}/fleet.html"}
    store.put(keys["json"], dump(doc))
    store.put(keys["markdown"], report.render(doc, "markdown", lang), "text/markdown; charset=utf-8")
    store.put(keys["html"], report.render(doc, "html", lang), "text/html; charset=utf-8")
    store.put("latest.json", dump({"run": run, "key": keys["json"]}))
    return Written(doc, keys)


def summary_text(doc: dict[str, Any], where: str, lang: str = "en") -> str:
    """The notification (and ``walens fleet run``'s output), in ``lang``: coverage, failing findings, new and
    resolved ones since the last run, the partitions not assessed, where the report is."""
    from walens.reporters._common import Labels

    t = Labels(lang)
    fleet = doc.get("fleet") or {}
    cov = fleet.get("coverage") or {}
    since = fleet.get("since_last_run") or {}
    by_sev = (doc.get("summary") or {}).get("by_severity") or {}
    lines = [t("fleet_summary_head", run=fleet.get("run"), assessed=cov.get("assessed", 0),
               planned=cov.get("planned", 0), not_assessed=cov.get(NOT_ASSESSED, 0), partial=cov.get("partial", 0)),
             t("fleet_summary_failing", count=sum(by_sev.values()), high=by_sev.get("high", 0),
               score="–" if fleet.get("score") is None else fleet.get("score"))]
    if since:
        lines.append(t("fleet_summary_since", new=since.get("new", 0), resolved=since.get("resolved", 0),
                       unseen=since.get("unseen", 0)))
    else:
        lines.append(t("fleet_summary_first"))
    missing = [f"{p['account']}/{p['region']}" for p in fleet.get("partitions") or [] if p["status"] == NOT_ASSESSED]
    if missing:
        lines.append(t("fleet_summary_missing", partitions=t("list_sep").join(missing[:20])
                       + (" …" if len(missing) > 20 else "")))
    lines.append(t("fleet_summary_report", where=where))
    return "\n".join(lines)


def subject(doc: dict[str, Any], lang: str = "en") -> str:
    """The notification's subject (SNS allows 100 characters)."""
    from walens.reporters._common import Labels

    fleet = doc.get("fleet") or {}
    since = fleet.get("since_last_run") or {}
    text = Labels(lang)("fleet_subject", run=fleet.get("run"), new=since.get("new", 0),
                        resolved=since.get("resolved", 0),
                        not_assessed=(fleet.get("coverage") or {}).get(NOT_ASSESSED, 0))
    return text[:100]
