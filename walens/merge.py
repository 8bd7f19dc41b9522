"""``walens merge``: reviews made separately (one process per account, per repository) as one review document.

Findings are concatenated (a finding present in two reviews, the same rule on the same resource, is kept
once: the later review's), gaps merged (same account, region, operation and error: counts added, rules
joined), inputs/accounts/regions/services/API calls merged, and what is derived from findings is computed
again exactly as a scan computes it: the summary (with ``--fail-on``) and the lens coverage. Reviews of
different sources (template and account), schema versions or languages are refused: their findings could
not be read side by side.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from walens import __version__, engine
from walens.errors import UsageError
from walens.model import Severity


def load(path: str | Path) -> dict[str, Any]:
    """A review JSON document written by ``--format json``; UsageError when it is not one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the review: {exc.strerror}", file=str(path)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"not a JSON review document: {exc}", file=str(path)) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list) or not isinstance(doc.get("scan"), dict):
        raise UsageError("not a walens review document (no findings or scan section): write it with --format json",
                         file=str(path))
    return doc


def _same(docs: Sequence[Mapping[str, Any]], names: Sequence[str], what: str, get: Any) -> Any:
    values = [get(d) for d in docs]
    if len(set(map(str, values))) > 1:
        shown = ", ".join(f"{n}: {v}" for n, v in zip(names, values, strict=True))
        raise UsageError(f"cannot merge reviews of different {what} ({shown})")
    return values[0]


def _strictest(values: Iterable[str]) -> str:
    ranks = [v for v in values if v in engine.FAIL_ON]
    if not ranks:
        return "high"
    if all(v == "never" for v in ranks):
        return "never"
    return min((v for v in ranks if v != "never"), key=lambda v: Severity(v).rank)


def _finding_key(f: Mapping[str, Any]) -> tuple[Any, ...]:
    r = f.get("resource") or {}
    loc = f.get("location") or {}
    return (f.get("rule_id"), r.get("account"), r.get("region"), r.get("id"), loc.get("file"), f.get("fingerprint"))


def _sort_key(f: Mapping[str, Any]) -> tuple[Any, ...]:
    loc = f.get("location") or {}
    r = f.get("resource") or {}
    return (loc.get("file") or "", loc.get("line") or 0, str(f.get("rule_id")), str(r.get("account") or ""),
            str(r.get("region") or ""), str(r.get("id")))


def _unique(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _gaps(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for doc in docs:
        for gap in doc.get("gaps") or []:
            key = (gap.get("account"), gap.get("region"), gap.get("service"), gap.get("operation"),
                   gap.get("error_code"))
            known = merged.get(key)
            if known is None:
                merged[key] = {**gap, "rules": sorted(gap.get("rules") or [])}
            else:
                known["count"] = int(known.get("count") or 1) + int(gap.get("count") or 1)
                known["rules"] = sorted(set(known["rules"]) | set(gap.get("rules") or []))
    return sorted(merged.values(), key=lambda g: (str(g.get("account") or ""), str(g.get("region") or ""),
                                                  str(g.get("service")), str(g.get("operation"))))


def _lens(findings: Sequence[Mapping[str, Any]], docs: Sequence[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    """Lens coverage recomputed from the merged findings, with the rules any review ran."""
    rule_ids: dict[str, set[str]] = {}
    for doc in docs:
        for entry in doc.get("lens") or []:
            rule_ids.setdefault(str(entry.get("choice")), set()).update(entry.get("rules") or [])
    rules = [SimpleNamespace(id=rid, lens_choice=choice, scope=(source,))
             for choice, ids in rule_ids.items() for rid in sorted(ids)]
    fake = [SimpleNamespace(lens_choice=(f.get("lens") or {}).get("choice"), status=f.get("status"),
                            rule_id=f.get("rule_id")) for f in findings]
    return engine.lens_coverage(fake, rules, None, source)  # type: ignore[arg-type]


def _summary(findings: Sequence[Mapping[str, Any]], fail_on: str) -> dict[str, Any]:
    fake = [SimpleNamespace(status=f.get("status"), severity=f.get("severity"), pillar=f.get("pillar"),
                            baselined=bool(f.get("baselined"))) for f in findings]
    return engine.summarize(fake, fail_on)  # type: ignore[arg-type]


def merge(docs: Sequence[Mapping[str, Any]], *, names: Sequence[str] | None = None,
          fail_on: str | None = None) -> dict[str, Any]:
    """One review document from several (see the module docstring)."""
    if not docs:
        raise UsageError("walens merge needs at least one review")
    names = list(names or [f"review {i + 1}" for i in range(len(docs))])
    _same(docs, names, "schema versions", lambda d: d.get("schema_version"))
    source = _same(docs, names, "sources (template and account)", lambda d: d["scan"].get("source"))
    lang = _same(docs, names, "languages (scan again with the same --lang)", lambda d: d.get("lang"))
    fail_on = fail_on or _strictest((d.get("summary") or {}).get("fail_on", "high") for d in docs)
    if fail_on not in engine.FAIL_ON:
        raise UsageError(f"--fail-on {fail_on!r}: expected one of {', '.join(engine.FAIL_ON)}")

    # Later reviews win: a resource reviewed twice shows its latest state.
    order = sorted(range(len(docs)), key=lambda i: str(docs[i]["scan"].get("finished_at") or ""))
    kept: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    duplicates = 0
    for i in order:
        for f in docs[i]["findings"]:
            key = _finding_key(f)
            duplicates += key in kept
            kept[key] = f
    findings = sorted((dict(f) for f in kept.values()), key=_sort_key)

    scans = [d["scan"] for d in docs]
    inputs = None
    if any(s.get("inputs") is not None for s in scans):
        inputs = _unique(dict(i) for s in scans for i in s.get("inputs") or [])
    api_calls: Counter[str] = Counter()
    for s in scans:
        api_calls.update({str(k): int(v) for k, v in (s.get("api_calls") or {}).items()})
    started = [s.get("started_at") for s in scans if s.get("started_at")]
    finished = [s.get("finished_at") for s in scans if s.get("finished_at")]
    scan: dict[str, Any] = {
        "source": source,
        "inputs": inputs,
        "accounts": _unique(a for s in scans for a in s.get("accounts") or []),
        "regions": _unique(r for s in scans for r in s.get("regions") or []),
        "started_at": min(started) if started else None,
        "finished_at": max(finished) if finished else None,
        "api_calls": dict(sorted(api_calls.items())),
    }
    services = _unique(x for s in scans for x in s.get("services") or [])
    if services:
        scan["services"] = services
    notes = _unique(n for s in scans for n in s.get("notes") or [])
    if notes:
        scan["notes"] = notes
    if scans and all(s.get("roots") is not None for s in scans):  # reports show paths relative to these
        scan["roots"] = _unique(r for s in scans for r in s["roots"])
    for field in ("throttled", "retries"):  # account reviews: throttling answers and retries per service
        if any(field in s for s in scans):
            counts: Counter[str] = Counter()
            for s in scans:
                counts.update({str(k): int(v) for k, v in (s.get(field) or {}).items()})
            scan[field] = dict(sorted(counts.items()))
    rules: dict[str, Any] = {}
    for doc in docs:
        for rid, rule in (doc.get("rules") or {}).items():
            rules.setdefault(rid, rule)
    out: dict[str, Any] = {
        "schema_version": docs[0].get("schema_version", engine.SCHEMA_VERSION),
        "tool": {"name": "walens", "version": __version__,
                 "rules_version": _unique((d.get("tool") or {}).get("rules_version") for d in docs)[0]},
        "scan": scan,
        "lang": lang,
        "findings": findings,
        "lens": _lens(findings, docs, str(source)),
        "errors": [dict(e) for d in docs for e in d.get("errors") or []],
        "skipped": [dict(s) for d in docs for s in d.get("skipped") or []],
        "gaps": _gaps(docs),
        "rules": dict(sorted(rules.items())),
        "summary": _summary(findings, fail_on),
        "merged": {"reviews": [{"name": n, "accounts": d["scan"].get("accounts") or [],
                                "inputs": len(d["scan"].get("inputs") or []),
                                "findings": len(d["findings"]), "finished_at": d["scan"].get("finished_at")}
                               for n, d in zip(names, docs, strict=True)],
                   "duplicate_findings": duplicates},
    }
    validity = [dict(v) for d in docs for v in d.get("validity") or []]
    if validity or any("validity" in d for d in docs):
        out["validity"] = validity
        if fail_on != "never" and any(v.get("level") == "error" for v in validity):
            out["summary"]["failed"] = True
            out["summary"]["validity_errors"] = sum(v.get("level") == "error" for v in validity)
    baselined = sum(bool(f.get("baselined")) for f in findings)
    if baselined:
        out["summary"]["baselined"] = baselined
    unused = [dict(u) for d in docs for u in d.get("unused_suppressions") or []]
    if unused:
        out["unused_suppressions"] = unused
        out["summary"]["unused_suppressions"] = len(unused)
        if fail_on != "never":
            out["summary"]["failed"] = True
    # Reviews scanned with --strict make the merged one strict too (exit 5 when it is incomplete).
    engine.mark_incomplete(out, any((d.get("summary") or {}).get("strict") for d in docs))
    answers: dict[str, dict[str, Any]] = {}
    for i in order:
        answers.update(docs[i].get("answers") or {})
    if answers:
        from walens.answers import apply as apply_answers

        apply_answers(out, answers)
    waivers = [d["waivers"] for d in docs if d.get("waivers")]
    if len(waivers) == 1:
        out["waivers"] = waivers[0]
    return out


def merge_files(paths: Sequence[str | Path], *, fail_on: str | None = None) -> dict[str, Any]:
    """:func:`merge` of the review files at ``paths``."""
    return merge([load(p) for p in paths], names=[str(p) for p in paths], fail_on=fail_on)
