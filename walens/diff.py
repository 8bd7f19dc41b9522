"""What changed between two reviews: new, resolved, persisting and changed-severity findings.

Findings are matched by their ``fingerprint`` (rule, template path relative to the repository root,
logical ID: the key the CI baseline uses), so moving a resource inside a template or reformatting it
changes nothing here. A finding counts as a risk while its status is ``fail``; one that is now
accepted (a waiver), suppressed, not assessed, passing or gone is *resolved*, and says which.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from walens.errors import UsageError

KINDS = ("new", "resolved", "changed_severity", "persisting")
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


def _meta(doc: Mapping[str, Any], ref: str | None) -> dict[str, Any]:
    scan = doc.get("scan") or {}
    hist = doc.get("history") or {}
    return {"ref": ref or hist.get("id"), "workload": doc.get("workload") or hist.get("workload"),
            "finished_at": scan.get("finished_at"), "tool_version": (doc.get("tool") or {}).get("version")}


def _order(item: Mapping[str, Any]) -> tuple[Any, ...]:
    from walens.reporters._common import pillar_rank, severity_rank

    loc = item.get("location") or {}
    return (pillar_rank(str(item.get("pillar"))), str(item.get("choice")), severity_rank(item.get("severity")),
            str(item.get("rule_id")), str(loc.get("file") or ""), loc.get("line") or 0)


def diff(old: Mapping[str, Any], new: Mapping[str, Any], *, old_ref: str | None = None,
         new_ref: str | None = None) -> dict[str, Any]:
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
        items.sort(key=_order)
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
        "by_practice": [practices[k] for k in sorted(practices, key=lambda k: _order({"pillar": k[0], "choice": k[1]}))],
        "findings": out,
    }


def counts_line(d: Mapping[str, Any], lang: str) -> str:
    """One line: "2 new, 1 resolved, 0 changed severity, 6 persisting"."""
    from walens.reporters._common import Labels

    t = Labels(lang)
    s = d.get("summary") or {}
    return t("list_sep").join(t(f"diff_count_{k}", count=int(s.get(k, 0))) for k in KINDS)


def _groups(d: Mapping[str, Any], kinds: tuple[str, ...]) -> list[tuple[str, str, list[tuple[str, dict[str, Any]]]]]:
    """(pillar, choice, [(kind, item)]) in lens order."""
    grouped: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for kind in kinds:
        for item in (d.get("findings") or {}).get(kind) or []:
            grouped.setdefault((str(item.get("pillar")), str(item.get("choice"))), []).append((kind, item))
    order = sorted(grouped, key=lambda k: _order({"pillar": k[0], "choice": k[1]}))
    return [(p, c, grouped[(p, c)]) for p, c in order]


def _persisting(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, int, str]]:
    """Persisting findings of one best practice, one row per rule (severity, rule, count, resources)."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for kind, item in items:
        if kind == "persisting":
            by_rule.setdefault(str(item.get("rule_id")), []).append(item)
    return [(str(found[0].get("severity")), rule, len(found), ", ".join(_resource(i) for i in found))
            for rule, found in by_rule.items()]


def _changed(d: Mapping[str, Any]) -> bool:
    s = d.get("summary") or {}
    return any(s.get(k) for k in ("new", "resolved", "changed_severity"))


def _ref(meta: Mapping[str, Any], t: Any) -> str:
    ref = meta.get("ref")
    when = str(meta.get("finished_at") or "")[:10]
    label = t("diff_review", ref=ref) if ref else t("diff_review_file")
    return f"{label} ({when})" if when else label


def _where(item: Mapping[str, Any]) -> str:
    loc = item.get("location") or {}
    if loc.get("file"):
        return f"{loc.get('file')}:{loc.get('line')}" if loc.get("line") else str(loc.get("file"))
    return str((item.get("resource") or {}).get("arn") or "")


def _resource(item: Mapping[str, Any]) -> str:
    resource = item.get("resource") or {}
    rid, origin = str(resource.get("id") or ""), str(resource.get("origin") or "")
    return rid if not origin or origin == rid else f"{origin} ({rid})"


def _detail(item: Mapping[str, Any], kind: str, t: Any) -> str:
    if kind == "resolved":
        return t("diff_now", status=t.status(str(item.get("now"))) if item.get("now") != "absent" else t("diff_absent"))
    if kind == "changed_severity":
        return f"{t.severity(str(item.get('old_severity')))} → {t.severity(str(item.get('severity')))}"
    return ""


def render_console(d: Mapping[str, Any], lang: str = "en") -> str:
    """The diff as terminal text, grouped by pillar and best practice."""
    from walens.reporters._common import Labels, choice_title
    from walens.reporters.console import _clean

    t = Labels(lang)
    old, new = d.get("old_review") or {}, d.get("new_review") or {}
    workload = new.get("workload") or old.get("workload")
    head = t("diff_title") + (f" — {_clean(workload)}" if workload else "")
    out = [f"{head}: {_clean(_ref(old, t))} → {_clean(_ref(new, t))}", counts_line(d, lang)]
    pillar = None
    for p, choice, items in _groups(d, KINDS):
        if p != pillar:
            pillar = p
            out += ["", t.pillar(p)]
        out.append(f"  {_clean(choice_title(choice, lang))} ({_clean(choice)})")
        for kind, item in items:
            if kind == "persisting":
                continue
            fields = [t(f"diff_kind_{kind}"), t.severity(str(item.get("severity"))), str(item.get("rule_id")),
                      _resource(item), _where(item), _detail(item, kind, t) or str(item.get("message") or "")]
            out.append("    " + "  ".join(_clean(x) for x in fields if x))
        for sev, rule, count, names in _persisting(items):
            out.append("    " + "  ".join(_clean(x) for x in (t("diff_kind_persisting"), t.severity(sev),
                                                                 f"{rule} ×{count}", names)))
    if not _changed(d):
        out += ["", t("diff_nothing")]
    return "\n".join(out) + "\n"


def render_markdown(d: Mapping[str, Any], lang: str = "en", *, level: int = 1) -> str:
    """The diff as GitHub-flavoured Markdown (escaped like the review report)."""
    from walens.reporters._common import Labels, choice_title
    from walens.reporters.markdown import esc

    t = Labels(lang)
    h = "#" * level
    old, new = d.get("old_review") or {}, d.get("new_review") or {}
    workload = new.get("workload") or old.get("workload")
    out = [f"{h} {esc(t('diff_title'))}" + (f" — {esc(workload)}" if workload else ""), "",
           f"{esc(_ref(old, t))} → {esc(_ref(new, t))}", "", f"**{esc(counts_line(d, lang))}**", ""]
    head = [t("diff_change"), t("severity"), t("rule"), t("resource"), t("location"), t("message")]
    pillar = None
    for p, choice, items in _groups(d, KINDS):
        if p != pillar:
            pillar = p
            out += [f"{h}# {esc(t.pillar(p))}", ""]
        out += [f"**{esc(choice_title(choice, lang))}** ({esc(choice)})", "",
                "| " + " | ".join(esc(x) for x in head) + " |", "|---" * len(head) + "|"]
        for kind, item in items:
            if kind == "persisting":
                continue
            detail = _detail(item, kind, t)
            cells = [t(f"diff_kind_{kind}"), t.severity(str(item.get("severity"))), str(item.get("rule_id")),
                     _resource(item), _where(item), detail or str(item.get("message") or "")]
            out.append("| " + " | ".join(esc(c) for c in cells) + " |")
        for sev, rule, count, names in _persisting(items):
            cells = [t("diff_kind_persisting"), t.severity(sev), f"{rule} ×{count}", names, "", ""]
            out.append("| " + " | ".join(esc(c) for c in cells) + " |")
        out.append("")
    if not _changed(d):
        out += [esc(t("diff_nothing")), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render(d: Mapping[str, Any], fmt: str, lang: str = "en", *, trend: list[Mapping[str, Any]] | None = None,
           rules: Mapping[str, Any] | None = None) -> str:
    """The diff in ``fmt``: console, json, markdown or html (``trend`` and ``rules``: html only)."""
    if fmt == "html":
        from walens.reporters.html import render_diff

        return render_diff(d, lang, trend=trend, rules=rules)
    if fmt == "json":
        return json.dumps(d, ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(d, lang)
    if fmt == "console":
        return render_console(d, lang)
    raise UsageError(f"walens diff --format {fmt!r}: choose console, json, markdown or html")


SINCE_LIST_MAX = 100  # findings listed per kind in a saved review's ``since_last_review`` (counts stay exact)


def since_last(d: Mapping[str, Any]) -> dict[str, Any]:
    """The short form a saved review carries: the previous review, the counts, and what changed.

    ``review`` / ``finished_at`` name the previous review; ``new``, ``resolved``, ``changed_severity``
    and ``persisting`` are counts; ``by_pillar`` the same counts per pillar; ``by_practice`` the diff's
    rows; ``findings`` the new, resolved and changed-severity items (at most ``SINCE_LIST_MAX`` each;
    persisting ones are only counted: the report lists every failing finding anyway).
    """
    from walens.reporters._common import pillar_rank

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
