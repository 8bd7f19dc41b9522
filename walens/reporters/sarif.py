"""The SARIF 2.1.0 reporter: failing and suppressed findings for code-scanning services (GitHub, Azure DevOps)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from walens.reporters._common import (
    Labels,
    dump_json,
    finding_message,
    rule_example,
    rule_references,
    rule_text,
    safe_url,
    suppression_kind,
)
from walens.reporters.markdown import esc

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/walens/"
FINGERPRINT_KEY = "walens/v1"
LEVELS = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning orders and labels alerts by `security-severity`, a CVSS-like score in its documented
# bands: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 3.9 or less low. walens has no "critical"; info
# takes the lowest score so it sorts below low. `problem.severity` (error / warning / recommendation) is
# what GitHub shows for a rule it does not treat as a security query. Every rule carries both, so one
# upload ranks every pillar's findings, not the security pillar's alone.
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.1"}
PROBLEM_SEVERITY = {"high": "error", "medium": "warning", "low": "recommendation", "info": "recommendation"}


def artifact_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) for a file path: relative with forward slashes under %SRCROOT% when possible."""
    norm = path.replace("\\", "/")
    if os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            rel = ""
        if rel and not rel.startswith(".."):
            return quote(rel.replace("\\", "/"), safe="/-._~"), "%SRCROOT%"
        return "file://" + quote(norm if norm.startswith("/") else "/" + norm, safe="/-._~:"), None
    if norm.startswith("./"):
        norm = norm[2:]
    return quote(norm, safe="/-._~"), "%SRCROOT%"


def _artifact_location(path: str) -> dict[str, Any]:
    uri, base = artifact_uri(path)
    return {"uri": uri, "uriBaseId": base} if base else {"uri": uri}


def _rule(doc: Mapping[str, Any], rule_id: str, rule: Mapping[str, Any], t: Labels) -> dict[str, Any]:
    lang = t.lang
    severity = str(rule.get("severity") or "info")
    title = rule_text(doc, rule_id, "title", lang) or rule_id
    rationale = rule_text(doc, rule_id, "rationale", lang)
    remediation = rule_text(doc, rule_id, "remediation", lang)
    example = rule_example(doc, rule_id)
    refs = rule_references(doc, rule_id)
    text = remediation + (f"\n\n{t('example')}:\n{example}" if example else "")
    if refs:
        text += f"\n\n{t('references')}:\n" + "\n".join(refs)
    md = esc(remediation)
    if example:
        fence = "```" if "```" not in example else "~~~~"
        md += f"\n\n{fence}yaml\n{example}\n{fence}"
    links = [u for u in (safe_url(r) for r in refs) if u]
    if links:
        md += "\n\n" + "\n".join(f"- <{u}>" for u in links)
    lens = rule.get("lens") or {}
    tags = [str(rule.get("pillar") or "")] + ([str(lens["choice"])] if lens.get("choice") else [])
    properties: dict[str, Any] = {"tags": [x for x in tags if x],
                                  "precision": "medium" if severity == "info" else "high",
                                  "security-severity": SECURITY_SEVERITY.get(severity, SECURITY_SEVERITY["info"]),
                                  "problem.severity": PROBLEM_SEVERITY.get(severity, "recommendation")}
    out: dict[str, Any] = {
        "id": rule_id,
        "name": str(rule.get("name") or rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale or title},
        "help": {"text": text or title, "markdown": md or esc(title)},
    }
    if links:
        out["helpUri"] = links[0]
    out["properties"] = properties
    out["defaultConfiguration"] = {"level": LEVELS.get(severity, "note")}
    return out


def _result(doc: Mapping[str, Any], f: Mapping[str, Any], index: dict[str, int], lang: str) -> dict[str, Any]:
    resource = f.get("resource") or {}
    severity = str(f.get("severity") or "info")
    result: dict[str, Any] = {
        "ruleId": str(f.get("rule_id")),
        "level": LEVELS.get(severity, "note"),
        "message": {"text": finding_message(doc, f, lang) or str(f.get("rule_id"))},
    }
    if str(f.get("rule_id")) in index:
        result["ruleIndex"] = index[str(f.get("rule_id"))]
    location: dict[str, Any] = {}
    loc = f.get("location") or {}
    if loc.get("file"):
        region = {"startLine": max(1, int(loc.get("line") or 1)), "startColumn": max(1, int(loc.get("column") or 1))}
        location["physicalLocation"] = {"artifactLocation": _artifact_location(str(loc["file"])), "region": region}
    logical: dict[str, Any] = {"name": str(resource.get("id") or resource.get("arn") or ""), "kind": "resource",
                               "properties": {"type": str(resource.get("type") or "")}}
    if resource.get("origin") and resource.get("origin") != resource.get("id"):
        logical["properties"]["origin"] = str(resource["origin"])
        logical["properties"]["originType"] = str(resource.get("origin_type") or "")
    if resource.get("arn"):
        logical["fullyQualifiedName"] = str(resource["arn"])
    location["logicalLocations"] = [logical]
    result["locations"] = [location]
    if f.get("fingerprint"):
        result["partialFingerprints"] = {FINGERPRINT_KEY: str(f["fingerprint"])}
    if f.get("status") == "suppressed":
        kind = "inSource" if suppression_kind(f) == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "status": "accepted",
                                   "justification": str(f.get("reason") or "")}]
    if doc.get("baseline") is not None and f.get("status") == "fail":
        # --baseline: a result the baseline holds is "unchanged", any other failure is "new".
        result["baselineState"] = "unchanged" if f.get("baselined") else "new"
    result["properties"] = {"pillar": str(f.get("pillar") or ""), "severity": severity,
                            "choice": str((f.get("lens") or {}).get("choice") or "")}
    return result


def _notification(text: str, level: str, path: str | None, line: int | None, descriptor: str) -> dict[str, Any]:
    note: dict[str, Any] = {"level": level, "message": {"text": text}, "descriptor": {"id": descriptor}}
    if path:
        physical: dict[str, Any] = {"artifactLocation": _artifact_location(path)}
        if line:
            physical["region"] = {"startLine": max(1, int(line))}
        note["locations"] = [{"physicalLocation": physical}]
    return note


def build(doc: Mapping[str, Any], lang: str = "en") -> dict[str, Any]:
    """The SARIF log as a dict (``render`` serialises it)."""
    t = Labels(lang)
    tool = doc.get("tool") or {}
    rules = doc.get("rules") or {}
    rule_ids = sorted(rules)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = [_result(doc, f, index, lang) for f in doc.get("findings") or []
               if f.get("status") in ("fail", "suppressed")]
    errors = doc.get("errors") or []
    notifications = [_notification(str(e.get("message") or ""), "error", e.get("file"), e.get("line"),
                                   f"input-error/{e.get('kind') or 'unknown'}") for e in errors]
    notifications += [_notification(str(s.get("reason") or ""), "note", s.get("path"), None, "input-skipped")
                      for s in doc.get("skipped") or []]
    notifications += [_notification(t("suppression_unused", kind=u.get("kind"), rule=u.get("rule_id")), "warning",
                                    u.get("file"), u.get("line"), "unused-suppression")
                      for u in doc.get("unused_suppressions") or []]
    scan = doc.get("scan") or {}
    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if scan.get("started_at"):
        invocation["startTimeUtc"] = str(scan["started_at"])
    if scan.get("finished_at"):
        invocation["endTimeUtc"] = str(scan["finished_at"])
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "walens",
            "version": str(tool.get("version") or "0"),
            "informationUri": INFORMATION_URI,
            "rules": [_rule(doc, rid, rules[rid], t) for rid in rule_ids],
        }},
        "invocations": [invocation],
        "language": lang,
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if tool.get("rules_version"):
        run["tool"]["driver"]["semanticVersion"] = str(tool.get("version") or "0")
        run["tool"]["driver"]["properties"] = {"rulesVersion": str(tool["rules_version"])}
    runs = [run]
    if doc.get("validity") is not None:
        runs.append(_validity_run(doc["validity"]))
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def _validity_run(validity: list[Mapping[str, Any]]) -> dict[str, Any]:
    """``--cfn-lint``'s schema findings as a second run whose driver is cfn-lint (as cfn-lint reports them)."""
    rule_ids = sorted({str(v.get("rule") or "") for v in validity})
    results = []
    for v in validity:
        region = {"startLine": max(1, int(v.get("line") or 1)), "startColumn": max(1, int(v.get("column") or 1))}
        results.append({
            "ruleId": str(v.get("rule") or ""),
            "ruleIndex": rule_ids.index(str(v.get("rule") or "")),
            "level": {"error": "error", "warning": "warning"}.get(str(v.get("level")), "note"),
            "message": {"text": str(v.get("message") or "")},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(str(v.get("file") or "")),
                                                "region": region}}],
        })
    return {"tool": {"driver": {"name": "cfn-lint", "informationUri": "https://github.com/aws-cloudformation/cfn-lint",
                                "rules": [{"id": rid} for rid in rule_ids]}},
            "columnKind": "unicodeCodePoints", "results": results}


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review as a SARIF 2.1.0 log (JSON text)."""
    return dump_json(build(doc, lang), depth=4)  # one result per line
