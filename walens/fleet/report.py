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

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from walens import merge
from walens.fleet.worker import NOT_ASSESSED, PARTIAL
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
    return {"run": run_id, "finished_at": (doc.get("scan") or {}).get("finished_at"),
            "failing": int((summary.get("by_status") or {}).get("fail", 0)),
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
    if previous is not None:
        from walens.diff import diff, since_last

        d = diff(previous, doc, old_ref=((previous.get("fleet") or {}).get("run")), new_ref=run_id)
        fleet["since_last_run"] = {**since_last(_unseen(d, outcomes)), "unseen": d["summary"]["unseen"]}
    fleet["trend"] = [*trend, trend_point(doc, run_id)][-TREND_MAX:]
    return doc


def _cell(value: Any) -> str:
    from walens.reporters.markdown import esc

    return "–" if value is None else esc(value)


def render_markdown(doc: Mapping[str, Any]) -> str:
    """The fleet section in Markdown (the merged review follows it in ``fleet.md``)."""
    fleet = doc.get("fleet") or {}
    cov = fleet.get("coverage") or {}
    lines = [f"# Fleet review {_cell(fleet.get('run'))}", "",
             (f"Partitions (account × region): {cov.get('planned', 0)} planned, {cov.get('assessed', 0)} assessed, "
             f"{cov.get(PARTIAL, 0)} partial, {cov.get(NOT_ASSESSED, 0)} not assessed. "
             f"Fleet score: {_cell(fleet.get('score'))}"), ""]
    missing = [p for p in fleet.get("partitions") or [] if p.get("status") != "assessed"]
    if missing:
        lines += ["## Partitions not fully assessed", "", "| Account | Region | Status | Attempts | Error |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {_cell(p['account'])} | {_cell(p['region'])} | {_cell(p['status'])} | {p['attempts']} | "
                  f"{_cell(p.get('error'))} |" for p in missing]
        lines.append("")
    since = fleet.get("since_last_run")
    if since:
        lines += ["## Since the last run", "",
                  (f"{since.get('new', 0)} new, {since.get('resolved', 0)} resolved, "
                  f"{since.get('changed_severity', 0)} changed severity, {since.get('persisting', 0)} persisting, "
                  f"{since.get('unseen', 0)} unseen (their partition was not assessed) "
                  f"(previous run {_cell(since.get('review'))})."), ""]
    lines += ["## Accounts", "", ("| Account | Regions assessed | Not assessed | Pass | Fail | Not assessed findings "
              "| High | Score |"), "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in fleet.get("accounts") or []:
        s = row["by_status"]
        lines.append(f"| {_cell(row['account'])} | {row['regions_assessed']}/{row['regions_planned']} | "
                     f"{_cell(', '.join(row['regions_not_assessed']) or None)} | {s.get('pass', 0)} | "
                     f"{s.get('fail', 0)} | {s.get('not_assessed', 0)} | {row['high']} | {_cell(row['score'])} |")
    lines += ["", "## Regions", "", "| Region | Accounts assessed | Pass | Fail | High | Score |",
              "| --- | --- | --- | --- | --- | --- |"]
    for row in fleet.get("regions") or []:
        s = row["by_status"]
        lines.append(f"| {_cell(row['region'])} | {row['accounts_assessed']}/{row['accounts_planned']} | "
                     f"{s.get('pass', 0)} | {s.get('fail', 0)} | {row['high']} | {_cell(row['score'])} |")
    lines += ["", "## Worst best practices across the fleet", "",
              "| Best practice | Accounts failing | Failing findings | High | Rules |", "| --- | --- | --- | --- | --- |"]
    for row in fleet.get("worst_practices") or []:
        lines.append(f"| {_cell(row['choice'])} {_cell(row.get('title'))} | {len(row['accounts'])} | "
                     f"{row['failing']} | {row['high']} | {_cell(', '.join(row['rules']))} |")
    lines += ["", "## Trend", "", "| Run | Finished | Failing | High | Assessed partitions | Score |",
              "| --- | --- | --- | --- | --- | --- |"]
    for p in fleet.get("trend") or []:
        lines.append(f"| {_cell(p['run'])} | {_cell(p.get('finished_at'))} | {p['failing']} | "
                     f"{(p.get('by_severity') or {}).get('high', 0)} | "
                     f"{(p.get('coverage') or {}).get('assessed', 0)}/{(p.get('coverage') or {}).get('planned', 0)} | "
                     f"{_cell(p.get('score'))} |")
    return "\n".join(lines) + "\n"


def render_html_section(doc: Mapping[str, Any]) -> str:
    """The fleet section as HTML (tables), inserted at the top of the merged review's HTML report."""
    fleet = doc.get("fleet") or {}
    e = html.escape

    def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{e('–' if c is None else str(c))}</td>" for c in row) + "</tr>"
                       for row in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    cov = fleet.get("coverage") or {}
    parts = [f"<section id=\"fleet\"><h2>Fleet review {e(str(fleet.get('run')))}</h2>",
             (f"<p>Partitions: {cov.get('planned', 0)} planned, {cov.get('assessed', 0)} assessed, "
             f"{cov.get(PARTIAL, 0)} partial, {cov.get(NOT_ASSESSED, 0)} not assessed. "
             f"Fleet score: {e(str(fleet.get('score')))}</p>")]
    missing = [p for p in fleet.get("partitions") or [] if p.get("status") != "assessed"]
    if missing:
        parts += ["<h3>Partitions not fully assessed</h3>",
                  table(["Account", "Region", "Status", "Attempts", "Error"],
                        [[p["account"], p["region"], p["status"], p["attempts"], p.get("error")] for p in missing])]
    since = fleet.get("since_last_run")
    if since:
        parts.append(f"<h3>Since the last run</h3><p>{since.get('new', 0)} new, {since.get('resolved', 0)} resolved, "
                     f"{since.get('persisting', 0)} persisting</p>")
    parts += ["<h3>Accounts</h3>", table(
        ["Account", "Regions assessed", "Pass", "Fail", "High", "Score"],
        [[r["account"], f"{r['regions_assessed']}/{r['regions_planned']}", r["by_status"].get("pass", 0),
          r["by_status"].get("fail", 0), r["high"], r["score"]] for r in fleet.get("accounts") or []])]
    parts += ["<h3>Regions</h3>", table(
        ["Region", "Accounts assessed", "Pass", "Fail", "High", "Score"],
        [[r["region"], f"{r['accounts_assessed']}/{r['accounts_planned']}", r["by_status"].get("pass", 0),
          r["by_status"].get("fail", 0), r["high"], r["score"]] for r in fleet.get("regions") or []])]
    parts += ["<h3>Worst best practices across the fleet</h3>", table(
        ["Best practice", "Accounts failing", "Failing findings", "High"],
        [[f"{r['choice']} {r.get('title') or ''}", len(r["accounts"]), r["failing"], r["high"]]
         for r in fleet.get("worst_practices") or []])]
    parts += ["<h3>Trend</h3>", table(
        ["Run", "Finished", "Failing", "Score"],
        [[p["run"], p.get("finished_at"), p["failing"], p.get("score")] for p in fleet.get("trend") or []])]
    parts.append("</section>")
    return "".join(parts)


def render(doc: dict[str, Any], fmt: str, lang: str = "en") -> str:
    """``fleet.md`` / ``fleet.html``: the fleet section, then the merged review as walens renders any review."""
    from walens import reporters

    body = reporters.render(fmt, doc, lang)
    if fmt == "markdown":
        return render_markdown(doc) + "\n" + body
    if fmt == "html":
        section = render_html_section(doc)
        at = body.find("<main")
        at = body.find(">", at) + 1 if at >= 0 else body.find(">", body.find("<body")) + 1
        return body[:at] + section + body[at:] if at > 0 else section + body
    return body
