"""The fleet review: partition reviews merged (walens.merge) plus coverage, scores, worst practices, diff, trend.

The document is an ordinary merged review document (every reporter reads it) with one added section,
``fleet``:

- ``partitions``: every planned partition with its status (``assessed``, ``partial``: reviewed with
  reads still throttled, ``not_assessed``: nothing reviewed, with the error), attempts and counts;
- ``coverage``: partitions by status; ``accounts`` and ``regions``: per account and per region the
  partitions planned and assessed, findings by status and a score (passing share of the judged
  findings, ``null`` when nothing was judged: never 100 for what was not seen);
- ``worst_practices``: the best practices failing in the most accounts, then by failing findings;
- ``since_last_run``: the KAIZEN diff against the previous fleet review (walens.diff), when there is one; a
  failing finding whose partition was not (fully) assessed this run is ``unseen``, never ``resolved``;
- ``trend``: one point per run (this one last), from the previous run's trend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from walens import merge
from walens.fleet.worker import NOT_ASSESSED
from walens.model import DiffDocument

FLEET_FORMAT = 1
WORST_MAX = 10
TREND_MAX = 52  # a year of weekly runs


def _score(counts: Mapping[str, int]) -> int | None:
    judged = int(counts.get("pass", 0)) + int(counts.get("fail", 0))
    return round(100 * int(counts.get("pass", 0)) / judged) if judged else None


def _rows(outcomes: Sequence[Mapping[str, Any]], findings: Sequence[Mapping[str, Any]], key: str,
          other: str) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        row = rows.setdefault(str(o[key]), {key: str(o[key]), f"{other}s_planned": 0, f"{other}s_assessed": 0,
                                            f"{other}s_not_assessed": [], "by_status": Counter(), "high": 0})
        row[f"{other}s_planned"] += 1
        if o["status"] == NOT_ASSESSED:
            row[f"{other}s_not_assessed"].append(str(o[other]))
        else:
            row[f"{other}s_assessed"] += 1
    for f in findings:
        r = f.get("resource") or {}
        hit = rows.get(str(r.get(key)))
        if hit is None:
            continue
        hit["by_status"][str(f.get("status"))] += 1
        if f.get("status") == "fail" and f.get("severity") == "high":
            hit["high"] += 1
    out = []
    for name in sorted(rows):
        row = rows[name]
        row["by_status"] = dict(sorted(row["by_status"].items()))
        row["score"] = _score(row["by_status"]) if row[f"{other}s_assessed"] else None
        out.append(row)
    return out


def worst_practices(findings: Sequence[Mapping[str, Any]], limit: int = WORST_MAX) -> list[dict[str, Any]]:
    """Best practices failing across the fleet: most accounts first, then failing findings, then high ones."""
    from walens import lens

    rows: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.get("status") != "fail":
            continue
        choice = str((f.get("lens") or {}).get("choice"))
        row = rows.setdefault(choice, {"choice": choice, "question": (f.get("lens") or {}).get("question"),
                                       "pillar": f.get("pillar"), "accounts": set(), "failing": 0, "high": 0,
                                       "rules": set()})
        row["accounts"].add(str((f.get("resource") or {}).get("account")))
        row["failing"] += 1
        row["high"] += int(f.get("severity") == "high")
        row["rules"].add(str(f.get("rule_id")))
    out = []
    for row in rows.values():
        title = None
        if lens.is_choice_id(row["choice"]):
            title = lens.choice(row["choice"]).title.en
        out.append({**row, "title": title, "accounts": sorted(row["accounts"]), "rules": sorted(row["rules"])})
    out.sort(key=lambda r: (-len(r["accounts"]), -r["failing"], -r["high"], r["choice"]))
    return out[:limit]


def trend_point(doc: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """One run in the trend: counts of failing findings by severity, coverage, the fleet score."""
    summary = doc.get("summary") or {}
    fleet = doc.get("fleet") or {}
    from walens.history import failing_by_pillar

    return {"run": run_id, "finished_at": (doc.get("scan") or {}).get("finished_at"),
            "failing": int((summary.get("by_status") or {}).get("fail", 0)),
            "by_pillar": failing_by_pillar(doc),
            "by_severity": dict(summary.get("by_severity") or {}),
            "coverage": dict(fleet.get("coverage") or {}), "score": fleet.get("score")}


def _where(arn: Any) -> tuple[str, str]:
    """(account, region) of an ARN ("" when the ARN has none, e.g. IAM's region)."""
    parts = str(arn or "").split(":")
    return (parts[4], parts[3]) if len(parts) > 4 else ("", "")


def _unseen(d: DiffDocument, outcomes: Sequence[Mapping[str, Any]]) -> DiffDocument:
    """The diff with findings that are absent only because their partition was not (fully) seen taken out of
    ``resolved``: a failing finding of a partition not assessed this run is unseen, not resolved."""
    blind = {(str(o["account"]), str(o["region"])) for o in outcomes if o["status"] != "assessed"}
    blind_accounts = {a for a, _ in blind}
    kept: list[dict[str, Any]] = []
    unseen: list[dict[str, Any]] = []
    for item in d["findings"]["resolved"]:
        account, region = _where((item.get("resource") or {}).get("arn"))
        hidden = (account, region) in blind or (region in ("", "global") and account in blind_accounts)
        (unseen if hidden and item.get("now") == "absent" else kept).append(item)
    d["findings"]["resolved"] = kept
    d["findings"]["unseen"] = unseen
    d["summary"]["resolved"] = len(kept)
    d["summary"]["unseen"] = len(unseen)
    for row in d.get("by_practice") or []:
        row["resolved"] -= len([i for i in unseen if (i.get("pillar"), i.get("choice")) == (row["pillar"], row["choice"])])
    return d


def fleet_review(results: Sequence[Any], *, run_id: str, fail_on: str | None = None,
                 previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The fleet review document from the runner's results (objects with ``partition``, ``review``, ``outcome``).

    ``previous`` is the previous run's fleet review: the diff and the trend continue from it.
    """
    if not results:
        from walens.errors import UsageError

        raise UsageError("walens fleet: no partition to merge")
    docs = [r.review for r in results]
    doc = merge.merge(docs, names=[r.partition.key for r in results], fail_on=fail_on)
    outcomes = [dict(r.outcome) for r in results]
    coverage = dict(sorted(Counter(o["status"] for o in outcomes).items()))
    coverage["planned"] = len(outcomes)
    findings = doc["findings"]
    fleet: dict[str, Any] = {
        "format": FLEET_FORMAT,
        "run": run_id,
        "partitions": outcomes,
        "coverage": coverage,
        "score": _score(doc["summary"].get("by_status") or {}),
        "accounts": _rows(outcomes, findings, "account", "region"),
        "regions": _rows(outcomes, findings, "region", "account"),
        "worst_practices": worst_practices(findings),
    }
    doc["fleet"] = fleet
    sections = [d["waivers"] for d in docs if d.get("waivers")]
    if sections:  # one waiver file for the fleet: unused only when no partition used it
        unused = set.intersection(*({w["index"] for w in s.get("unused") or []} for s in sections))
        doc["waivers"] = {**sections[0], "unused": [w for w in sections[0].get("unused") or [] if w["index"] in unused]}
    if any(o["status"] == NOT_ASSESSED for o in outcomes):
        doc["summary"]["not_assessed_partitions"] = sum(o["status"] == NOT_ASSESSED for o in outcomes)
    trend = list(((previous or {}).get("fleet") or {}).get("trend") or [])
    fleet["trend"] = [*trend, trend_point(doc, run_id)][-TREND_MAX:]
    if previous is not None:
        from walens.diff import diff, since_last
        from walens.history import trend_point as review_point

        d = diff(previous, doc, old_ref=((previous.get("fleet") or {}).get("run")), new_ref=run_id)
        since = since_last(_unseen(d, outcomes))
        fleet["since_last_run"] = {**since, "unseen": d["summary"]["unseen"]}
        # The reporters' "Since the last review" (the new, resolved and changed risks, the chart by pillar).
        points = [p for p in fleet["trend"] if isinstance(p.get("by_pillar"), dict)]
        doc["since_last_review"] = {**since, "trend": [{**review_point({}, p["run"], p["by_pillar"]),
                                                        "finished_at": p.get("finished_at")} for p in points]}
    return doc


def render(doc: dict[str, Any], fmt: str, lang: str = "en") -> str:
    """``fleet.md`` / ``fleet.html`` / ``fleet.json``: the reporters render the ``fleet`` section themselves (so
    ``walens report fleet.json`` gives the same page), in ``lang``."""
    from walens import reporters

    return reporters.render(fmt, doc, lang)
