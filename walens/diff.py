"""What changed between two reviews: new, resolved, persisting and changed-severity findings.

Findings are matched by their ``fingerprint`` (rule, template path relative to the repository root,
logical ID: the key the CI baseline uses), so moving a resource inside a template or reformatting it
changes nothing here. A finding counts as a risk while its status is ``fail``; one that is now
accepted (a waiver), suppressed, not assessed, passing or gone is *resolved*, and says which.
This module computes; walens.reporters.diff renders what it computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from walens.errors import UsageError
from walens.model import DIFF_KINDS, DiffDocument, ReviewRef, pillar_rank, severity_rank

KINDS = DIFF_KINDS
FORMAT = 1


def read_review_file(path: str | Path) -> dict[str, Any]:
    """A review JSON document written by ``--format json`` (or ``history show --format json``)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the review: {exc.strerror}", file=str(path)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"not a JSON document: {exc}", file=str(path)) from exc
    if not isinstance(doc, dict) or "findings" not in doc or "schema_version" not in doc:
        raise UsageError("not a walens review document (no schema_version/findings)", file=str(path))
    return doc


def _item(f: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    resource = f.get("resource") or {}
    lens = f.get("lens") or {}
    return {
        "fingerprint": f.get("fingerprint"), "rule_id": f.get("rule_id"), "rule_name": f.get("rule_name"),
        "pillar": f.get("pillar"), "question": lens.get("question"), "choice": lens.get("choice"),
        "severity": f.get("severity"),
        "resource": {"id": resource.get("id"), "type": resource.get("type"),
                     "origin": resource.get("origin") or resource.get("id"), "arn": resource.get("arn")},
        "location": f.get("location"), "message": f.get("message"), **extra,
    }


def _by_fingerprint(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for f in doc.get("findings") or []:
        fp = f.get("fingerprint")
        if fp and fp not in out:
            out[str(fp)] = f
    return out


def _meta(doc: Mapping[str, Any], ref: str | None) -> ReviewRef:
    scan = doc.get("scan") or {}
    hist = doc.get("history") or {}
    return {"ref": ref or hist.get("id"), "workload": doc.get("workload") or hist.get("workload"),
            "finished_at": scan.get("finished_at"), "tool_version": (doc.get("tool") or {}).get("version")}


def order(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key of a diff item: lens order (pillar, best practice), then severity, rule and place."""
    loc = item.get("location") or {}
    return (pillar_rank(str(item.get("pillar"))), str(item.get("choice")), severity_rank(item.get("severity")),
            str(item.get("rule_id")), str(loc.get("file") or ""), loc.get("line") or 0)


def diff(old: Mapping[str, Any], new: Mapping[str, Any], *, old_ref: str | None = None,
         new_ref: str | None = None) -> DiffDocument:
    """The change from review ``old`` to review ``new`` (both review documents)."""
    before, after = _by_fingerprint(old), _by_fingerprint(new)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for fp, f in after.items():
        if f.get("status") != "fail":
            continue
        was = before.get(fp)
        if was is None or was.get("status") != "fail":
            out["new"].append(_item(f, was=was.get("status") if was is not None else "absent"))
        elif was.get("severity") != f.get("severity"):
            out["changed_severity"].append(_item(f, old_severity=was.get("severity")))
        else:
            out["persisting"].append(_item(f))
    for fp, f in before.items():
        if f.get("status") != "fail":
            continue
        now = after.get(fp)
        if now is None or now.get("status") != "fail":
            extra: dict[str, Any] = {"now": now.get("status") if now is not None else "absent"}
            if now is not None and now.get("waiver"):
                extra["waiver"] = now.get("waiver")
            out["resolved"].append(_item(f, **extra))
    for items in out.values():
        items.sort(key=order)
    practices: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, items in out.items():
        for item in items:
            key = (str(item.get("pillar")), str(item.get("choice")))
            row = practices.setdefault(key, {"pillar": key[0], "question": item.get("question"), "choice": key[1],
                                             **dict.fromkeys(KINDS, 0)})
            row[kind] += 1
    return {
        "walens_diff": FORMAT,
        "old_review": _meta(old, old_ref),
        "new_review": _meta(new, new_ref),
        "summary": {k: len(v) for k, v in out.items()},
        "by_practice": [practices[k] for k in sorted(practices, key=lambda k: order({"pillar": k[0], "choice": k[1]}))],
        "findings": out,
    }


SINCE_LIST_MAX = 100  # findings listed per kind in a saved review's ``since_last_review`` (counts stay exact)


def since_last(d: DiffDocument) -> dict[str, Any]:
    """The short form a saved review carries: the previous review, the counts, and what changed.

    ``review`` / ``finished_at`` name the previous review; ``new``, ``resolved``, ``changed_severity``
    and ``persisting`` are counts; ``by_pillar`` the same counts per pillar; ``by_practice`` the diff's
    rows; ``findings`` the new, resolved and changed-severity items (at most ``SINCE_LIST_MAX`` each;
    persisting ones are only counted: the report lists every failing finding anyway).
    """
    old = d.get("old_review") or {}
    by_pillar: dict[str, dict[str, int]] = {}
    for row in d.get("by_practice") or []:
        counts = by_pillar.setdefault(str(row.get("pillar")), dict.fromkeys(KINDS, 0))
        for k in KINDS:
            counts[k] += int(row.get(k) or 0)
    found = d.get("findings") or {}
    return {
        "review": old.get("ref"), "finished_at": old.get("finished_at"), **(d.get("summary") or {}),
        "by_pillar": {p: by_pillar[p] for p in sorted(by_pillar, key=pillar_rank)},
        "by_practice": list(d.get("by_practice") or []),
        "findings": {k: list(found.get(k) or [])[:SINCE_LIST_MAX] for k in ("new", "resolved", "changed_severity")},
    }
