"""A diff of two reviews (``walens.diff.diff``) as terminal text, Markdown, JSON or an html page.

walens.diff computes; this module only renders the document it returned (and imports nothing from it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from walens.errors import UsageError
from walens.model import DIFF_KINDS as KINDS
from walens.model import DiffDocument, ReviewRef, pillar_rank
from walens.reporters._common import Labels, choice_title
from walens.reporters.console import _clean
from walens.reporters.markdown import esc


def counts_line(d: DiffDocument, lang: str) -> str:
    """One line: "2 new, 1 resolved, 0 changed severity, 6 persisting"."""
    t = Labels(lang)
    s = d.get("summary") or {}
    return t("list_sep").join(t(f"diff_count_{k}", count=int(s.get(k, 0))) for k in KINDS)


def _groups(d: DiffDocument, kinds: tuple[str, ...]) -> list[tuple[str, str, list[tuple[str, dict[str, Any]]]]]:
    """(pillar, choice, [(kind, item)]) in lens order."""
    grouped: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for kind in kinds:
        for item in (d.get("findings") or {}).get(kind) or []:
            grouped.setdefault((str(item.get("pillar")), str(item.get("choice"))), []).append((kind, item))
    order = sorted(grouped, key=lambda k: (pillar_rank(k[0]), k[1]))  # lens order, as walens.diff.order
    return [(p, c, grouped[(p, c)]) for p, c in order]


def _persisting(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, int, str]]:
    """Persisting findings of one best practice, one row per rule (severity, rule, count, resources)."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for kind, item in items:
        if kind == "persisting":
            by_rule.setdefault(str(item.get("rule_id")), []).append(item)
    return [(str(found[0].get("severity")), rule, len(found), ", ".join(_resource(i) for i in found))
            for rule, found in by_rule.items()]


def _changed(d: DiffDocument) -> bool:
    s = d.get("summary") or {}
    return any(s.get(k) for k in ("new", "resolved", "changed_severity"))


def review_label(meta: ReviewRef, t: Labels) -> str:
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


def _detail(item: Mapping[str, Any], kind: str, t: Labels) -> str:
    if kind == "resolved":
        return t("diff_now", status=t.status(str(item.get("now"))) if item.get("now") != "absent" else t("diff_absent"))
    if kind == "changed_severity":
        return f"{t.severity(str(item.get('old_severity')))} → {t.severity(str(item.get('severity')))}"
    return ""


def render_console(d: DiffDocument, lang: str = "en") -> str:
    """The diff as terminal text, grouped by pillar and best practice."""
    t = Labels(lang)
    old, new = d.get("old_review") or {}, d.get("new_review") or {}
    workload = new.get("workload") or old.get("workload")
    head = t("diff_title") + (f" — {_clean(workload)}" if workload else "")
    out = [f"{head}: {_clean(review_label(old, t))} → {_clean(review_label(new, t))}", counts_line(d, lang)]
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


def render_markdown(d: DiffDocument, lang: str = "en", *, level: int = 1) -> str:
    """The diff as GitHub-flavoured Markdown (escaped like the review report)."""
    t = Labels(lang)
    h = "#" * level
    old, new = d.get("old_review") or {}, d.get("new_review") or {}
    workload = new.get("workload") or old.get("workload")
    out = [f"{h} {esc(t('diff_title'))}" + (f" — {esc(workload)}" if workload else ""), "",
           f"{esc(review_label(old, t))} → {esc(review_label(new, t))}", "", f"**{esc(counts_line(d, lang))}**", ""]
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


def render(d: DiffDocument, fmt: str, lang: str = "en", *, since: Mapping[str, Any] | None = None,
           trend: list[Mapping[str, Any]] | None = None, rules: Mapping[str, Any] | None = None) -> str:
    """The diff in ``fmt``: console, json, markdown or html.

    html only: ``since`` is ``walens.diff.since_last(d)`` (required), ``trend`` and ``rules`` as for
    :func:`walens.reporters.html.render_diff`.
    """
    if fmt == "html":
        from walens.reporters.html import render_diff

        if since is None:
            raise ValueError("an html diff needs since=walens.diff.since_last(d)")
        return render_diff(d, lang, since=since, trend=trend, rules=rules)
    if fmt == "json":
        return json.dumps(d, ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(d, lang)
    if fmt == "console":
        return render_console(d, lang)
    raise UsageError(f"walens diff --format {fmt!r}: choose console, json, markdown or html")
