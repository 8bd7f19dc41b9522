"""The HTML reporter: one self-contained page (inline CSS, no scripts, nothing fetched) for a customer."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

from walens.reporters._common import (
    SEVERITIES,
    Labels,
    catalogue,
    choice_title,
    display_name,
    finding_message,
    lens_counts_line,
    lens_rows,
    location_key,
    pillar_rank,
    pillar_severity_table,
    question_description,
    question_label,
    question_title,
    rule_example,
    rule_references,
    rule_text,
    safe_url,
    severity_rank,
    totals_line_parts,
    verdict,
    baselined,
    failing as failing_findings,
    suppression_text,
    where,
    with_status,
)

FONT_STACKS = {
    "en": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    "ja": '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Yu Gothic UI", "Meiryo", sans-serif',
}


def _resource(f: Mapping[str, Any]) -> str:
    resource = f.get("resource") or {}
    rid = str(resource.get("id") or resource.get("arn") or "")
    name = display_name(resource)
    return rid if not name or name == rid else f"{rid} ({name})"


def _origin(f: Mapping[str, Any]) -> str:
    resource = f.get("resource") or {}
    origin = resource.get("origin")
    if not origin or origin == resource.get("id"):
        return ""
    return f"{origin} ({resource.get('origin_type')})" if resource.get("origin_type") else str(origin)


def _lens(doc: Mapping[str, Any], t: Labels) -> list[dict[str, Any]]:
    lang = t.lang
    labels = catalogue(lang)
    pillars: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in lens_rows(doc, lang):
        answer = row["answer"]
        answer_text = ""
        if isinstance(answer, Mapping) and answer:
            parts = [str(answer.get("notes") or "")]
            if answer.get("by"):
                parts.append(t("answered_by", by=answer.get("by"), at=answer.get("at") or ""))
            answer_text = " — ".join(p for p in parts if p)
        failing = set(row["failing_rules"])
        pillars.setdefault(row["pillar"], {}).setdefault(row["question"], []).append({
            **row,
            "status_label": t.lens_status(row["status"]),
            "tier_label": labels.get(f"tier_{row['tier']}", row["tier"]),
            "check_label": labels.get(f"check_{row['check']}", row["check"]),
            "rules": [{"id": r, "failing": r in failing} for r in row["rules"]],
            "answer": answer_text,
        })
    return [
        {"label": t.pillar(p),
         "questions": [{"label": question_label(q, lang), "title": question_title(q, lang),
                        "description": question_description(q, lang), "practices": bps}
                       for q, bps in questions.items()]}
        for p, questions in sorted(pillars.items(), key=lambda kv: pillar_rank(kv[0]))
    ]


def _findings(doc: Mapping[str, Any], t: Labels) -> list[dict[str, Any]]:
    lang = t.lang
    by_pillar: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for f in failing_findings(doc):
        by_pillar.setdefault(str(f.get("pillar")), {}).setdefault(str(f.get("rule_id")), []).append(f)
    out = []
    for pillar, rules in sorted(by_pillar.items(), key=lambda kv: pillar_rank(kv[0])):
        items = []
        ordered = sorted(rules.items(), key=lambda kv: (severity_rank(kv[1][0].get("severity")), kv[0]))
        for rule_id, findings in ordered:
            first = findings[0]
            severity = str(first.get("severity"))
            items.append({
                "id": rule_id,
                "name": str(first.get("rule_name") or ""),
                "title": rule_text(doc, rule_id, "title", lang),
                "severity": severity if severity in SEVERITIES else "info",
                "severity_label": t.severity(severity),
                "choice": choice_title(str((first.get("lens") or {}).get("choice")), lang),
                "rationale": rule_text(doc, rule_id, "rationale", lang),
                "remediation": rule_text(doc, rule_id, "remediation", lang),
                "example": rule_example(doc, rule_id),
                "references": [{"url": safe_url(r), "text": r} for r in rule_references(doc, rule_id)],
                "findings": [{"where": where(f), "resource": _resource(f), "type": str((f.get("resource") or {}).get("type") or ""),
                              "origin": _origin(f), "message": finding_message(doc, f, lang)}
                             for f in sorted(findings, key=location_key)],
            })
        out.append({"label": t.pillar(pillar), "rules": items})
    return out


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review as one self-contained HTML page in ``lang``."""
    import jinja2
    from markupsafe import Markup

    t = Labels(lang)
    tool = doc.get("tool") or {}
    scan = doc.get("scan") or {}
    fail_on, failed = verdict(doc)
    table = pillar_severity_table(doc)
    failing = failing_findings(doc)
    by_sev = {s: sum(1 for f in failing if f.get("severity") == s) for s in SEVERITIES}
    context = {
        "lang": lang,
        "t": catalogue(lang),
        # Our own constant, placed inside <style>: it must not be HTML-escaped.
        "font_stack": Markup(FONT_STACKS[lang]),
        "version": str(tool.get("version") or ""),
        "date": str(scan.get("finished_at") or scan.get("started_at") or ""),
        "inputs": [str(i.get("path")) for i in scan.get("inputs") or []],
        "failed": failed,
        "fail_on_label": t("fail_on", level=fail_on),
        "verdict": t("verdict_failed") if failed else t("verdict_passed"),
        "totals": t("list_sep").join(totals_line_parts(doc, t)),
        "severities": [{"id": s, "label": t.severity(s), "count": by_sev[s]} for s in SEVERITIES],
        "pillar_rows": [{"label": t.pillar(p), "cells": [row.get(s, 0) for s in SEVERITIES],
                         "total": sum(row.get(s, 0) for s in SEVERITIES)}
                        for p, row in table.items()],
        "total_cells": [by_sev[s] for s in SEVERITIES],
        "total_all": sum(by_sev.values()),
        "lens": _lens(doc, t),
        "lens_counts": lens_counts_line(doc, t) if doc.get("lens") else "",
        "failing_count": len(failing),
        "findings": _findings(doc, t),
        "others": [{"status": str(f.get("status")), "status_label": t.status(str(f.get("status"))),
                    "rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": where(f),
                    "reason": suppression_text(f, t) if f.get("suppression") else str(f.get("reason") or "")}
                   for f in sorted(with_status(doc, "suppressed", "accepted"), key=location_key)]
        # Baselined failures (--baseline), fixed baseline entries and unused suppressions: same table.
        + [{"status": "baselined", "status_label": t("baselined_mark"), "rule_id": str(f.get("rule_id")),
            "resource": _resource(f), "where": where(f), "reason": finding_message(doc, f, lang)}
           for f in sorted(baselined(doc), key=location_key)]
        + [{"status": "fixed", "status_label": t("baseline_fixed_title"), "rule_id": str(e.get("rule_id")),
            "resource": str(e.get("resource") or ""), "where": str(e.get("file") or ""),
            "reason": t("baseline_fixed_intro")} for e in (doc.get("baseline") or {}).get("fixed") or []]
        + [{"status": "unused", "status_label": t("unused_suppressions_title"), "rule_id": str(u.get("rule_id")),
            "resource": str(u.get("resource") or ", ".join(u.get("resources") or []) or "*"),
            "where": f"{u.get('file')}:{u['line']}" if u.get("line") else str(u.get("file") or ""),
            "reason": str(u.get("reason") or "")} for u in doc.get("unused_suppressions") or []],
        "not_assessed": [{"rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": where(f),
                          "reason": str(f.get("reason") or "")}
                         for f in sorted(with_status(doc, "not_assessed"), key=location_key)],
        "errors": [{"where": f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file")),
                    "kind": str(e.get("kind") or ""), "message": str(e.get("message") or "")}
                   for e in doc.get("errors") or []],
        "validity": None if doc.get("validity") is None else [
            {"where": f"{v.get('file')}:{v.get('line')}", "rule": str(v.get("rule") or ""),
             "level": str(v.get("level") or ""), "message": str(v.get("message") or "")}
            for v in doc.get("validity") or []],
        "skipped": [{"path": str(s.get("path")), "reason": str(s.get("reason") or "")} for s in doc.get("skipped") or []],
        "generated_by": t("generated_by", version=tool.get("version") or ""),
    }
    source = resources.files("walens").joinpath("reports_templates", "report.html.j2").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.from_string(source).render(context)
