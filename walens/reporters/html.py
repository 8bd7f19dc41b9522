"""The HTML reporter: the review a consultant hands a customer, as one self-contained page.

Cover, executive summary (inline SVG charts, top risks), the lens pillar by pillar, findings grouped by
pillar and best practice, appendices (not assessed, suppressed/accepted, rules, inputs). All CSS and
the small script are inline and pinned by a Content-Security-Policy hash, nothing is fetched (the
policy forbids it), and every finding is readable with JavaScript off. Everything from the review is
autoescaped; the SVG charts and the YAML highlighter escape their text themselves.
"""

from __future__ import annotations

import base64
import hashlib
import html as _html
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from walens.errors import UsageError
from walens.model import DiffDocument
from walens.reporters._common import (
    LENS_STATUSES,
    PILLARS,
    SEVERITIES,
    Labels,
    baselined,
    catalogue,
    choice_title,
    coverage_text,
    display_name,
    finding_message,
    fleet_view,
    grouped,
    lens_counts,
    lens_counts_line,
    lens_rows,
    location_key,
    pillar_rank,
    pillar_severity_table,
    question_description,
    question_label,
    question_title,
    reason_text,
    rule_example,
    rule_references,
    rule_text,
    safe_url,
    scope_text,
    severity_rank,
    suppression_text,
    tidy,
    totals_line_parts,
    where,
    with_display_paths,
    with_status,
)
from walens.reporters._common import failing as failing_findings

FONT_STACKS = {
    "en": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
          '"Hiragino Sans", "Yu Gothic UI", "Meiryo", "Noto Sans CJK JP", sans-serif',
    "ja": '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Meiryo", "Noto Sans CJK JP", '
          '"Noto Sans JP", sans-serif',
}
MONO_STACK = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "Noto Sans Mono CJK JP", monospace'
# Printing (the PDF): Chromium's PDF backend (Skia) embeds a CFF-outline font such as Noto Sans CJK as one
# Type 3 font per few glyphs (no real text for search, copy and accessibility, blurry when zoomed), while a
# TrueType-outline font embeds as a proper CIDFontType2. IPA fonts are TrueType (Debian: fonts-ipaexfont-gothic,
# fonts-ipafont-gothic), so they come first for Japanese print; screens keep the platform's font.
PRINT_FONT_STACKS = {
    "en": FONT_STACKS["en"],
    "ja": '"IPAexGothic", "IPAPGothic", ' + FONT_STACKS["ja"],
}
PRINT_MONO_STACKS = {
    "en": MONO_STACK,
    "ja": MONO_STACK.replace('"Noto Sans Mono CJK JP"', '"IPAGothic", "Noto Sans Mono CJK JP"'),
}
MAX_INDENT = 40  # code lines indented deeper wrap as if indented this much
SHORT_EXAMPLE_LINES = 14
TOP_RISKS = 5
# A fleet or a large account fails one rule on thousands of resources: the page lists this many occurrences
# per rule and this many rows per appendix table, then says how many more the review's JSON and SARIF hold
# (100 accounts × 4 regions × 50 functions failed 138,400 times: every one listed made a page no browser opens).
OCCURRENCES_SHOWN = 100
APPENDIX_ROWS_SHOWN = 500
LOGO_MAX_BYTES = 512 * 1024
_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}
_DATA_URI = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+=*$")
_SENTENCE_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\betc\.)(?<=[.!?])\s+(?=[A-Z(])")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")


# ---- small helpers --------------------------------------------------------------------------------

def logo_data_uri(path: str | Path) -> str:
    """The image at ``path`` as a ``data:`` URI (PNG, JPEG, GIF, WebP or SVG, at most 512 KiB)."""
    p = Path(path)
    mime = _LOGO_TYPES.get(p.suffix.lower())
    if mime is None:
        raise UsageError("--logo must be a .png, .jpg, .gif, .webp or .svg image", file=str(p))
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the logo: {exc.strerror}", file=str(p)) from exc
    if len(data) > LOGO_MAX_BYTES:
        raise UsageError(f"the logo is larger than {LOGO_MAX_BYTES // 1024} KiB", file=str(p))
    if not data:
        raise UsageError("the logo is empty", file=str(p))
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _first_sentence(text: str, lang: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    if lang == "ja":
        head = text.split("。", 1)[0]
        head = head + "。" if len(head) < len(text) else head
    else:
        head = _SENTENCE_END.split(text, maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def _date_text(value: str, t: Labels) -> str:
    m = _ISO.match(value or "")
    if not m:
        return value or ""
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    months = t("months").split(",")
    date = t("date_format", year=year, month=month, day=day,
             month_name=months[month - 1].strip() if 0 < month <= len(months) else str(month))
    if m.group(4) and (value.endswith("+00:00") or value.endswith("Z")):
        return t("date_time_utc", date=date, time=f"{m.group(4)}:{m.group(5)}")
    return date


_YAML_KEY = re.compile(r"""^(\s*(?:-\s+)*)((?:"[^"]*"|'[^']*'|[^\s#'"!&*\[{][^:#]*?)):(?=\s|$)""")
_YAML_TOKEN = re.compile(r"""(?P<c>(?:(?<=\s)|^)\#.*$)|(?P<s>"(?:[^"\\]|\\.)*"|'[^']*')|(?P<t>![A-Za-z:]+)"""
                         r"""|(?P<n>(?<![\w.-])(?:-?\d+(?:\.\d+)?|true|false|null|yes|no|~)(?![\w.-]))|(?P<p>[\[\]{},|>-])""")


def highlight_yaml(text: str) -> str:
    """YAML as HTML: every character escaped, keys, strings, tags, literals and comments in spans.

    Each line is a ``<span class="l iN">`` (N: its indentation, at most ``MAX_INDENT``) ending in its
    newline, so a long line wraps under its own indentation (see ``_css``) and the text is unchanged.
    """
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        indent = min(len(line) - len(line.lstrip(" ")), MAX_INDENT)
        css = f"l i{indent}" if indent else "l"
        end = "" if i == len(lines) - 1 else "\n"
        out.append(f'<span class="{css}">{_highlight_line(line)}{end}</span>')
    return "".join(out)


def _highlight_line(line: str) -> str:
    """One YAML line as HTML (see :func:`highlight_yaml`)."""
    if line.lstrip().startswith("#"):
        return f'<span class="c">{_html.escape(line)}</span>'
    parts: list[str] = []
    m = _YAML_KEY.match(line)
    rest = line
    if m:
        parts.append(_html.escape(m.group(1)).replace("-", '<span class="p">-</span>'))
        parts.append(f'<span class="k">{_html.escape(m.group(2))}</span><span class="p">:</span>')
        rest = line[m.end():]
    pos = 0
    for tok in _YAML_TOKEN.finditer(rest):
        parts.append(_html.escape(rest[pos:tok.start()]))
        kind = tok.lastgroup or "p"
        parts.append(f'<span class="{kind}">{_html.escape(tok.group())}</span>')
        pos = tok.end()
    parts.append(_html.escape(rest[pos:]))
    return "".join(parts)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# ---- SVG charts -----------------------------------------------------------------------------------

def _bar_chart(rows: list[tuple[str, list[tuple[str, int, str]]]], title: str, *, total: bool = True,
               label_width: int = 190, width: int = 520) -> str:
    """Horizontal stacked bars: one row per (label, [(css class, value, segment title)]), numbers as text.

    All text is escaped here (the result is inserted as markup). The row total is printed after the
    bar, and each segment carries its value as text when it is wide enough, so colour is never the
    only carrier of a number.
    """
    e = _html.escape
    bar_x, row_h = label_width, 30
    bar_w = width - bar_x - 52
    scale = max([sum(v for _, v, _ in segs) for _, segs in rows] + [1])
    height = row_h * len(rows) + 4
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{e(title)}</title>"]
    for i, (label, segs) in enumerate(rows):
        y = i * row_h + 4
        out.append(f'<text x="0" y="{y + 16}">{e(label)}</text>')
        out.append(f'<rect class="track" x="{bar_x}" y="{y}" width="{bar_w}" height="{row_h - 10}" rx="3"/>')
        x = float(bar_x)
        for css, value, seg_title in segs:
            if value <= 0:
                continue
            w = bar_w * value / scale
            out.append(f'<rect class="{e(css)}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 10}">'
                       f"<title>{e(seg_title)}</title></rect>")
            if w >= 22:
                out.append(f'<text class="seg-n" x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle">{value}</text>')
            x += w
        if total:
            out.append(f'<text class="row-total" x="{width - 4}" y="{y + 16}" text-anchor="end">'
                       f"{sum(v for _, v, _ in segs)}</text>")
    out.append("</svg>")
    return "".join(out)


def _nice_max(value: int) -> tuple[int, int]:
    """An axis maximum at or above ``value`` and its tick step (at most five ticks above zero)."""
    value = max(value, 1)
    step = 1
    while True:
        for mult in (1, 2, 5):
            if value <= step * mult * 5:
                tick = step * mult
                return -(-value // tick) * tick, tick
        step *= 10


def _review_label(ref: object, t: Labels) -> str:
    """A review on the trend's axis and table: ``#3``, a short S3 ID or file name, or "this review"."""
    if not ref:
        return t("since_this_review")
    text = str(ref)
    if text.isdigit():
        return t("trend_review", ref=text)
    return text if len(text) <= 14 else text[:13] + "…"


def _trend_chart(trend: list[Mapping[str, Any]], title: str, t: Labels, *, width: int = 640) -> str:
    """A line chart of failing findings per pillar across reviews (one line and one point per review).

    Each pillar has its own colour and dash pattern; every point carries its number in a <title>, and
    the table next to the chart gives the same numbers as text. All text is escaped here.
    """
    e = _html.escape
    left, right, top, bottom = 44, 16, 14, 44
    height = 250
    plot_w, plot_h = width - left - right, height - top - bottom
    pillars = [p for p in PILLARS if any(p in (pt.get("failing") or {}) for pt in trend)]
    values = [int((pt.get("failing") or {}).get(p) or 0) for pt in trend for p in pillars]
    top_value, tick = _nice_max(max(values, default=0))
    n = len(trend)

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else 24 + (plot_w - 48) * i / (n - 1))

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / top_value

    out = [f'<svg class="trend" viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" '
           f'xmlns="http://www.w3.org/2000/svg">', f"<title>{e(title)}</title>"]
    for v in range(0, top_value + 1, tick):
        out.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                   f'<text class="tick" x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for i, pt in enumerate(trend):
        label = _review_label(pt.get("review"), t)
        out.append(f'<text class="tick" x="{x(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">{e(label)}</text>')
        if n <= 6 or i in (0, n - 1):  # dates would overlap on a long trend: the table has them all
            out.append(f'<text class="tick muted" x="{x(i):.1f}" y="{height - bottom + 34}" text-anchor="middle">'
                       f'{e(str(pt.get("finished_at") or "")[:10])}</text>')
    for p in pillars:
        points = [(x(i), y(int((pt.get("failing") or {}).get(p) or 0))) for i, pt in enumerate(trend)]
        if len(points) > 1:
            out.append(f'<polyline class="line p-{e(p)}" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in points)}"/>')
        for i, ((cx, cy), pt) in enumerate(zip(points, trend)):
            ref = pt.get("review")
            name = t("diff_review", ref=ref) if ref else t("since_this_review")
            count = int((pt.get("failing") or {}).get(p) or 0)
            out.append(f'<circle class="point p-{e(p)}" cx="{cx:.1f}" cy="{cy:.1f}" r="4" data-pillar="{e(p)}" '
                       f'data-review="{e(str(ref or ""))}" data-value="{count}"><title>{e(t.pillar(p))} — {e(name)}: '
                       f"{count}</title></circle>")
    out.append("</svg>")
    return "".join(out)


def _since_item(item: Mapping[str, Any], kind: str, t: Labels, doc: Mapping[str, Any] | None,
                anchors: set[str]) -> dict[str, Any]:
    lang = t.lang
    rule_id = str(item.get("rule_id") or "")
    severity = str(item.get("severity"))
    resource = item.get("resource") or {}
    rid, origin = str(resource.get("id") or resource.get("arn") or ""), str(resource.get("origin") or "")
    loc = item.get("location") or {}
    if loc.get("file"):
        place = f"{loc.get('file')}:{loc.get('line')}" if loc.get("line") else str(loc.get("file"))
    else:
        place = str(resource.get("arn") or "")
    detail = ""
    if kind == "resolved":
        now = str(item.get("now") or "")
        detail = t("diff_absent") if now == "absent" else t.status(now)
        waiver = item.get("waiver") or {}
        if now == "accepted" and waiver:
            detail += f" ({waiver.get('owner')}, {t('waiver_expires')} {waiver.get('expires')})"
    elif kind == "changed_severity":
        detail = f"{t.severity(str(item.get('old_severity')))} → {t.severity(severity)}"
    elif kind == "new":
        was = str(item.get("was") or "")
        detail = t("diff_absent") if was == "absent" else t.status(was)
    choice = str(item.get("choice") or "")
    title = (rule_text(doc, rule_id, "title", lang) if doc is not None else "") or str(item.get("rule_name") or "")
    return {
        "rule_id": rule_id, "title": title, "anchor": kind != "resolved" and rule_id in anchors,
        "severity": severity if severity in SEVERITIES else "info", "severity_label": t.severity(severity),
        "resource": rid if not origin or origin == rid else f"{origin} ({rid})", "where": place,
        "practice": t.pillar(str(item.get("pillar"))) + (f" · {choice_title(choice, lang)}" if choice else ""),
        "detail": detail,
    }


def _since(since: Mapping[str, Any] | None, t: Labels, doc: Mapping[str, Any] | None = None,
           anchors: set[str] | frozenset[str] = frozenset(), persisting: list[Mapping[str, Any]] | None = None,
           ) -> dict[str, Any] | None:
    """The "Since the last review" section from ``since_last_review`` (or a diff's short form)."""
    from markupsafe import Markup

    if not since:
        return None
    kinds = ("new", "resolved", "changed_severity", "persisting")
    review = since.get("review")
    date = _date_text(str(since.get("finished_at") or ""), t)
    found = since.get("findings") or {}
    lists = []
    for kind, key in (("new", "since_new_title"), ("resolved", "since_resolved_title"),
                      ("changed_severity", "since_changed_title")):
        items = list(found.get(kind) or [])
        if not items and not found:
            continue  # a review saved before the lists existed: counts only
        total = int(since.get(kind) or len(items))
        lists.append({"kind": kind, "title": t(key), "count": total,
                      "detail_head": {"new": t("since_was"), "resolved": t("since_now")}.get(kind, t("diff_change")),
                      "rows": [_since_item(i, kind, t, doc, set(anchors)) for i in items],
                      "more": t("since_more", count=total - len(items)) if total > len(items) else ""})
    if persisting:
        lists.append({"kind": "persisting", "title": t("since_persisting_title"), "count": len(persisting),
                      "detail_head": "", "more": "",
                      "rows": [_since_item(i, "persisting", t, doc, set(anchors)) for i in persisting]})
    by_pillar = since.get("by_pillar") or {}
    pillar_rows = [{"label": t.pillar(p), "cells": [int((row or {}).get(k) or 0) for k in kinds]}
                   for p, row in sorted(by_pillar.items(), key=lambda kv: pillar_rank(kv[0]))]
    trend = [pt for pt in since.get("trend") or [] if isinstance(pt, Mapping)]
    chart: Markup | None = None
    table: dict[str, Any] | None = None
    if len(trend) >= 2:
        totals = t("list_sep").join(
            f"{t('diff_review', ref=pt.get('review')) if pt.get('review') else t('since_this_review')} "
            f"{int(pt.get('total') or 0)}" for pt in trend)
        chart = Markup(_trend_chart(trend, f"{t('chart_trend')} — {totals}", t))
        shown = [p for p in PILLARS if any(p in (pt.get("failing") or {}) for pt in trend)]
        table = {
            "head": [_review_label(pt.get("review"), t) for pt in trend],
            "dates": [str(pt.get("finished_at") or "")[:10] for pt in trend],
            "rows": [{"id": p, "label": t.pillar(p),
                      "cells": [int((pt.get("failing") or {}).get(p) or 0) for pt in trend]} for p in shown],
            "totals": [int(pt.get("total") or 0) for pt in trend],
        }
    return {
        "title": t("diff_title"),
        "intro": t("since_intro", review=review, date=date) if date else t("since_intro_nodate", review=review),
        "kinds": [{"kind": k, "label": t(f"since_col_{k}"), "count": int(since.get(k) or 0)} for k in kinds],
        "kind_heads": [t(f"since_{k}_title") for k in ("new", "resolved", "changed", "persisting")],
        "pillar_rows": pillar_rows,
        "lists": lists,
        "chart": chart,
        "table": table,
        "legend": [{"id": r["id"], "label": r["label"]} for r in table["rows"]] if table else [],
    }


# ---- context pieces -------------------------------------------------------------------------------

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


def _where(f: Mapping[str, Any], t: Labels) -> str:
    """file:line, or account · region for a live-account finding (its ARN is shown as the resource)."""
    loc = f.get("location") or {}
    if loc.get("file"):
        return where(f)
    resource = f.get("resource") or {}
    if resource.get("account") or resource.get("region"):
        return t("where_account", account=resource.get("account") or "?", region=resource.get("region") or "?")
    return where(f)


def _scope(doc: Mapping[str, Any], t: Labels) -> tuple[str, list[str]]:
    scan = doc.get("scan") or {}
    inputs = [] if scan.get("source") == "account" else [str(i.get("path")) for i in scan.get("inputs") or []]
    return scope_text(doc, t), inputs


def _rule_results(doc: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for f in doc.get("findings") or []:
        status = str(f.get("status"))
        if status == "fail" and f.get("baselined"):
            status = "baselined"
        row = out.setdefault(str(f.get("rule_id")), {})
        row[status] = row.get(status, 0) + 1
    return out


_RESULT_LABELS = {"fail": "count_failed", "baselined": "count_baselined", "pass": "count_passed",
                  "not_assessed": "count_not_assessed", "suppressed": "count_suppressed", "accepted": "count_accepted"}


def _results_text(counts: Mapping[str, int], t: Labels) -> str:
    return t("list_sep").join(t(key, count=counts[s]) for s, key in _RESULT_LABELS.items() if counts.get(s))


def _lens(doc: Mapping[str, Any], t: Labels, per_rule: Mapping[str, Mapping[str, int]],
          listed_rules: set[str]) -> list[dict[str, Any]]:
    lang = t.lang
    labels = catalogue(lang)
    pillars: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in lens_rows(doc, lang):
        answer = row["answer"]
        answer_text = ""
        if isinstance(answer, Mapping) and answer:
            parts = [labels.get(f"answer_{answer.get('answer')}", ""), str(answer.get("notes") or "")]
            if answer.get("by"):
                parts.append(t("answered_by", by=answer.get("by"), at=str(answer.get("at") or "")[:10]))
            if answer.get("age_days") is not None:
                parts.append(t("answer_age", count=answer.get("age_days"), days=answer.get("age_days")))
            answer_text = " — ".join(p for p in parts if p)
        failing = set(row["failing_rules"])
        evidence = []
        for r in row["rules"]:
            counts = per_rule.get(r) or {}
            evidence.append({"id": r, "failing": r in failing, "anchor": r in listed_rules,
                             "results": _results_text(counts, t)})
        pillars.setdefault(row["pillar"], {}).setdefault(row["question"], []).append({
            **row,
            "status_label": t.lens_status(row["status"]),
            "tier_label": labels.get(f"tier_{row['tier']}", row["tier"]),
            "check_label": labels.get(f"check_{row['check']}", row["check"]),
            "evidence": evidence,
            "answer": answer_text,
        })
    out = []
    for p, questions in sorted(pillars.items(), key=lambda kv: pillar_rank(kv[0])):
        counts = dict.fromkeys(LENS_STATUSES, 0)
        for bps in questions.values():
            for bp in bps:
                counts[bp["status"]] = counts.get(bp["status"], 0) + 1
        out.append({
            "id": p, "label": t.pillar(p),
            "counts": t("list_sep").join(t(f"lens_count_{s}", count=counts[s]) for s in LENS_STATUSES if counts.get(s)),
            "questions": [{"id": q, "label": question_label(q, lang), "title": question_title(q, lang),
                           "description": question_description(q, lang), "practices": bps}
                          for q, bps in questions.items()],
        })
    return out


def _rule_block(doc: Mapping[str, Any], rule_id: str, findings: list[Mapping[str, Any]], t: Labels) -> dict[str, Any]:
    lang = t.lang
    first = findings[0]
    severity = str(first.get("severity"))
    example = rule_example(doc, rule_id)
    example_cfn = rule_example(doc, rule_id, "example_cfn")
    # Findings on one kind of API (WebSocket, HTTP, REST) get that kind's example, when the rule has one.
    variants = sorted({str(f.get("example")) for f in findings if f.get("example")})
    others = [f for f in findings if not f.get("example")]
    more: list[dict[str, str | bool]] = []
    if len(variants) == 1 and not others and rule_example(doc, rule_id, variants[0]):
        example, example_cfn = rule_example(doc, rule_id, variants[0]), ""
    else:
        more = [{"label": t(variant), "code": highlight_yaml(rule_example(doc, rule_id, variant)),
                 "short": rule_example(doc, rule_id, variant).count("\n") < SHORT_EXAMPLE_LINES}
                for variant in variants if rule_example(doc, rule_id, variant)]
    return {
        "id": rule_id,
        "name": str(first.get("rule_name") or ""),
        "pillar": str(first.get("pillar")),
        "title": rule_text(doc, rule_id, "title", lang) or rule_id,
        "severity": severity if severity in SEVERITIES else "info",
        "severity_label": t.severity(severity),
        "count_label": t("rule_count_resources", count=len(findings)),
        "total": len(findings),
        "more": (t("occurrences_more", count=len(findings) - OCCURRENCES_SHOWN, shown=OCCURRENCES_SHOWN)
                 if len(findings) > OCCURRENCES_SHOWN else ""),
        "rationale": tidy(rule_text(doc, rule_id, "rationale", lang), lang),
        "remediation": tidy(rule_text(doc, rule_id, "remediation", lang), lang),
        "example": highlight_yaml(example) if example else "",
        "example_cfn": highlight_yaml(example_cfn) if example_cfn else "",
        # A short snippet stays on one printed page; a long one may break across pages rather than
        # leave half a page blank.
        "example_short": example.count("\n") < SHORT_EXAMPLE_LINES,
        "example_cfn_short": example_cfn.count("\n") < SHORT_EXAMPLE_LINES,
        "examples_more": more,
        "references": [{"url": safe_url(r), "text": r} for r in rule_references(doc, rule_id)],
        "findings": [{"where": _where(f, t), "resource": _resource(f),
                      "arn": str((f.get("resource") or {}).get("arn") or ""),
                      "type": str((f.get("resource") or {}).get("type") or ""),
                      "origin": _origin(f), "message": tidy(finding_message(doc, f, lang), lang)}
                     for f in sorted(findings, key=location_key)[:OCCURRENCES_SHOWN]],
    }


def _findings(doc: Mapping[str, Any], t: Labels) -> list[dict[str, Any]]:
    """Failing findings: pillar → best practice (lens order) → rule (severity first) → resources."""
    lang = t.lang
    order = {row["choice"]: i for i, row in enumerate(lens_rows(doc, lang))}
    tree: dict[str, dict[str, dict[str, list[Mapping[str, Any]]]]] = {}
    for f in failing_findings(doc):
        choice = str((f.get("lens") or {}).get("choice") or "")
        tree.setdefault(str(f.get("pillar")), {}).setdefault(choice, {}).setdefault(str(f.get("rule_id")), []).append(f)
    out = []
    for pillar, practices in sorted(tree.items(), key=lambda kv: pillar_rank(kv[0])):
        groups: list[dict[str, Any]] = []
        for choice, rules in sorted(practices.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
            ordered = sorted(rules.items(), key=lambda kv: (severity_rank(kv[1][0].get("severity")), kv[0]))
            question = str((next(iter(rules.values()))[0].get("lens") or {}).get("question") or "")
            groups.append({"choice": choice, "title": choice_title(choice, lang) if choice else "",
                           "question": question_label(question, lang) if question else "",
                           "rules": [_rule_block(doc, rid, fs, t) for rid, fs in ordered]})
        count = sum(len(r["findings"]) for g in groups for r in g["rules"])
        out.append({"id": pillar, "label": t.pillar(pillar), "groups": groups, "count": count})
    return out


def _top_risks(doc: Mapping[str, Any], t: Labels) -> list[dict[str, Any]]:
    lang = t.lang
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for f in failing_findings(doc):
        by_rule.setdefault(str(f.get("rule_id")), []).append(f)
    ranked = sorted(by_rule.items(), key=lambda kv: (severity_rank(kv[1][0].get("severity")), -len(kv[1]), kv[0]))
    out = []
    for rule_id, findings in ranked[:TOP_RISKS]:
        severity = str(findings[0].get("severity"))
        names = sorted({str((f.get("resource") or {}).get("origin") or (f.get("resource") or {}).get("id") or "")
                        for f in findings})
        shown = names[:4] + (["…"] if len(names) > 4 else [])
        choice = str((findings[0].get("lens") or {}).get("choice") or "")
        out.append({
            "id": rule_id,
            "title": rule_text(doc, rule_id, "title", lang) or rule_id,
            "severity": severity if severity in SEVERITIES else "info",
            "severity_label": t.severity(severity),
            "pillar": t.pillar(str(findings[0].get("pillar"))),
            "practice": choice_title(choice, lang) if choice else "",
            "affects": t("top_risk_affects", count=len(names), names=t("list_sep").join(shown)),
            "why": tidy(_first_sentence(rule_text(doc, rule_id, "rationale", lang), lang), lang),
            "fix": tidy(_first_sentence(rule_text(doc, rule_id, "remediation", lang), lang), lang),
        })
    return out


def _charts(doc: Mapping[str, Any], t: Labels) -> dict[str, Any]:
    failing = failing_findings(doc)
    by_sev = {s: sum(1 for f in failing if f.get("severity") == s) for s in SEVERITIES}
    severity_rows = [(t.severity(s), [(f"c-{s}", by_sev[s], f"{t.severity(s)}: {by_sev[s]}")]) for s in SEVERITIES]
    sev_title = t("chart_severity") + " — " + t("list_sep").join(f"{t.severity(s)} {by_sev[s]}" for s in SEVERITIES)
    table = pillar_severity_table(doc)
    pillar_rows = [(t.pillar(p), [(f"c-{s}", row.get(s, 0), f"{t.pillar(p)} — {t.severity(s)}: {row.get(s, 0)}")
                                  for s in SEVERITIES]) for p, row in table.items()]
    pillar_title = t("chart_pillar") + " — " + t("list_sep").join(
        f"{t.pillar(p)} {sum(row.values())}" for p, row in table.items())
    lens_by_pillar = {p: dict.fromkeys(LENS_STATUSES, 0) for p in PILLARS}
    for entry in doc.get("lens") or []:
        row = lens_by_pillar.setdefault(str(entry.get("pillar")), dict.fromkeys(LENS_STATUSES, 0))
        row[str(entry.get("status"))] = row.get(str(entry.get("status")), 0) + 1
    counts = lens_counts(doc)
    # "not assessed" appears only when some best practice ended there, so a complete review reads as before.
    statuses = [s for s in LENS_STATUSES if s != "not_assessed" or counts.get(s)]
    lens_rows_ = [(t.pillar(p), [(f"c-{s}", row.get(s, 0), f"{t.pillar(p)} — {t.lens_status(s)}: {row.get(s, 0)}")
                                 for s in statuses]) for p, row in lens_by_pillar.items()]
    lens_title = t("chart_lens") + " — " + t("list_sep").join(f"{t.lens_status(s)} {counts[s]}" for s in statuses)
    label_width = 140 if t.lang == "ja" else 170
    return {
        "severity": _bar_chart(severity_rows, sev_title, label_width=50 if t.lang == "ja" else 80, width=400),
        "pillar": _bar_chart(pillar_rows, pillar_title, label_width=label_width),
        "lens": _bar_chart(lens_rows_, lens_title, label_width=label_width) if doc.get("lens") else "",
        "severity_legend": [{"css": f"c-{s}", "label": f"{t.severity(s)} ({by_sev[s]})"} for s in SEVERITIES],
        "lens_legend": [{"css": f"c-{s}", "label": f"{t.lens_status(s)} ({counts[s]})"} for s in statuses],
    }


def _gaps(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    for g in doc.get("gaps") or []:
        out.append({"account": str(g.get("account") or ""), "region": str(g.get("region") or ""),
                    "action": str(g.get("action") or f"{g.get('service')}:{g.get('operation')}"),
                    "kind": str(g.get("error_code") or g.get("kind") or ""),
                    "reason": str(g.get("reason") or ""), "count": str(g.get("count") or 1),
                    "rules": ", ".join(str(r) for r in g.get("rules") or [])})
    return out


def _rules_ran(doc: Mapping[str, Any], t: Labels, per_rule: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    rules = doc.get("rules") or {}
    ordered = sorted(rules.items(), key=lambda kv: (pillar_rank(kv[1].get("pillar")), kv[0]))
    return [{"id": rid, "title": rule_text(doc, rid, "title", t.lang), "pillar": t.pillar(str(r.get("pillar"))),
             "severity": str(r.get("severity")) if r.get("severity") in SEVERITIES else "info",
             "severity_label": t.severity(str(r.get("severity"))),
             "results": _results_text(per_rule.get(rid) or {}, t) or "—"}
            for rid, r in ordered]


def _more_rows(total: int, t: Labels) -> str:
    """"… and N more" under an appendix table cut at APPENDIX_ROWS_SHOWN rows ("" when nothing was cut)."""
    return t("rows_more", count=total - APPENDIX_ROWS_SHOWN, shown=APPENDIX_ROWS_SHOWN) if total > APPENDIX_ROWS_SHOWN else ""


def _others(doc: Mapping[str, Any], t: Labels) -> list[dict[str, str]]:
    lang = t.lang
    return (
        [{"status": str(f.get("status")), "status_label": t.status(str(f.get("status"))),
          "rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": _where(f, t),
          "reason": suppression_text(f, t) if f.get("suppression") else str(f.get("reason") or "")}
         for f in sorted(with_status(doc, "suppressed", "accepted"), key=location_key)]
        # Baselined failures (--baseline), fixed baseline entries and unused suppressions: same table.
        + [{"status": "baselined", "status_label": t("baselined_mark"), "rule_id": str(f.get("rule_id")),
            "resource": _resource(f), "where": _where(f, t), "reason": finding_message(doc, f, lang)}
           for f in sorted(baselined(doc), key=location_key)]
        + [{"status": "fixed", "status_label": t("baseline_fixed_title"), "rule_id": str(e.get("rule_id")),
            "resource": str(e.get("resource") or ""), "where": str(e.get("file") or ""),
            "reason": t("baseline_fixed_intro")} for e in (doc.get("baseline") or {}).get("fixed") or []]
        + [{"status": "unused", "status_label": t("unused_suppressions_title"), "rule_id": str(u.get("rule_id")),
            "resource": str(u.get("resource") or ", ".join(u.get("resources") or []) or "*"),
            "where": f"{u.get('file')}:{u['line']}" if u.get("line") else str(u.get("file") or ""),
            "reason": str(u.get("reason") or "")} for u in doc.get("unused_suppressions") or []]
    )


def _accepted(doc: Mapping[str, Any], t: Labels) -> dict[str, Any] | None:
    """Accepted risks (who accepted what, why, until when), expired waivers, waivers expiring soon."""
    accepted = []
    for f in sorted(with_status(doc, "accepted"), key=location_key):
        w = f.get("waiver") or {}  # reviews written before waivers carried one have only a reason
        accepted.append({"rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": _where(f, t),
                         "owner": str(w.get("owner") or "—"), "reason": str(w.get("reason") or f.get("reason") or ""),
                         "ticket": str(w.get("ticket") or ""), "expires": str(w.get("expires") or "—")})
    expired = [{"rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": _where(f, t),
                "owner": str((f.get("waiver") or {}).get("owner") or "—"),
                "reason": str((f.get("waiver") or {}).get("reason") or ""),
                "ticket": str((f.get("waiver") or {}).get("ticket") or ""),
                "expires": t("waiver_expired_mark", date=(f.get("waiver") or {}).get("expires"))}
               for f in sorted((f for f in with_status(doc, "fail") if f.get("waiver_expired")), key=location_key)]
    section = doc.get("waivers") or {}
    days = section.get("expiring_within_days")
    expiring = None
    if days is not None:
        expiring = {"title": t("waivers_expiring_title", days=days), "none": t("waivers_expiring_none", days=days),
                    "rows": [{"expires": str(w.get("expires")),
                              "left": t("waiver_days_left", count=w.get("days_left"), days=w.get("days_left")),
                              "what": str(w.get("rule") or w.get("choice") or ""), "resource": str(w.get("resource") or ""),
                              "owner": str(w.get("owner") or ""), "ticket": str(w.get("ticket") or "")}
                             for w in section.get("expiring") or []]}
    if not accepted and not expired and expiring is None:
        return None
    return {"accepted": accepted, "expired": expired, "expiring": expiring}


def _answers(doc: Mapping[str, Any], t: Labels) -> list[dict[str, str]]:
    """Manual answers with who gave them and their age."""
    labels = catalogue(t.lang)
    out = []
    for choice, a in (doc.get("answers") or {}).items():
        age = a.get("age_days")
        out.append({"choice": str(choice), "title": choice_title(str(choice), t.lang),
                    "answer": str(a.get("answer")), "answer_label": labels.get(f"answer_{a.get('answer')}", str(a.get("answer"))),
                    "notes": str(a.get("notes") or ""), "by": str(a.get("by") or ""),
                    "age": t("answer_age", count=age, days=age) if age is not None else str(a.get("at") or ""),
                    "at": str(a.get("at") or "")[:10]})
    return out


def _asset(name: str) -> str:
    return resources.files("walens").joinpath("reports_templates", name).read_text("utf-8")


def _css(lang: str) -> str:
    """The stylesheet for ``lang``: its font stacks (screen and print) and the hanging indents of code lines."""
    # A wrapped code line continues two columns right of its own indentation, so YAML keeps its shape:
    # the line's spaces stay in the text (copy keeps them), padding + negative text-indent place the rest.
    indents = "\n".join(f"pre.code .i{n} {{ padding-left: {n + 2}ch; text-indent: -{n + 2}ch; }}"
                        for n in range(1, MAX_INDENT + 1))
    return (_asset("report.css").replace("/*PRINT_FONT_STACK*/", PRINT_FONT_STACKS[lang])
            .replace("/*PRINT_MONO_STACK*/", PRINT_MONO_STACKS[lang])
            .replace("/*FONT_STACK*/", FONT_STACKS[lang]).replace("/*MONO_STACK*/", MONO_STACK)
            .replace("/*CODE_INDENTS*/", indents))


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False, title: str | None = None,
           customer: str | None = None, author: str | None = None, logo: str | None = None,
           **_: Any) -> str:
    """The review as one self-contained HTML page in ``lang``.

    ``title``, ``customer`` and ``author`` go on the cover; ``logo`` is a ``data:image/...;base64`` URI
    (see :func:`logo_data_uri`), anything else is refused.
    """
    from markupsafe import Markup

    t = Labels(lang)
    doc = with_display_paths(doc)  # paths relative to what was scanned: no /home/... in a customer's report
    tool = doc.get("tool") or {}
    scan = doc.get("scan") or {}
    table = pillar_severity_table(doc)
    failing = failing_findings(doc)
    by_sev = {s: sum(1 for f in failing if f.get("severity") == s) for s in SEVERITIES}
    if logo is not None and not _DATA_URI.match(logo):
        raise UsageError("the logo must be a base64 data:image URI")
    scope, inputs = _scope(doc, t)
    counts = lens_counts(doc)
    findings = _findings(doc, t)
    listed = {r["id"] for p in findings for g in p["groups"] for r in g["rules"]}
    per_rule = _rule_results(doc)
    resources_failing = {(str((f.get("location") or {}).get("file")), str((f.get("resource") or {}).get("origin")
                          or (f.get("resource") or {}).get("id"))) for f in failing}
    since = doc.get("since_last_review")
    since_text = ""
    if since:
        since_text = t("since_last", review=since.get("review"), counts=t("list_sep").join(
            t(f"diff_count_{k}", count=int(since.get(k) or 0)) for k in ("new", "resolved", "changed_severity", "persisting")))
    css = _css(lang)
    js = _asset("report.js")
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "base-uri 'none'; form-action 'none'")
    gaps = _gaps(doc)
    others = _others(doc, t)
    context = {
        "lang": lang,
        "t": catalogue(lang),
        # Our own constants and markup built with escaping above: inserted as they are.
        "css": Markup(css),
        "js": Markup(js),
        "csp": Markup(csp),
        "title": title or t("fleet_report_title" if doc.get("fleet") else "report_title"),
        "fleet": fleet_view(doc, t),
        "customer": customer or "",
        "author": author or "",
        "logo": logo or "",
        "version": str(tool.get("version") or ""),
        "rules_version": str(tool.get("rules_version") or tool.get("version") or ""),
        "date": _date_text(str(scan.get("finished_at") or scan.get("started_at") or ""), t),
        "scope": scope,
        "inputs": inputs,
        "input_rows": [{"path": str(i.get("path")), "sha256": str(i.get("sha256") or "")} for i in scan.get("inputs") or []],
        "has_risks": bool(failing),
        "totals": t("list_sep").join(totals_line_parts(doc, t)),
        "headline": (t("exec_headline", checks=t("exec_checks", count=len(failing)),
                       resources=t("exec_resources", count=len(resources_failing)),
                       high=t("exec_high", count=by_sev["high"])) if failing else t("exec_headline_none")),
        "lens_headline": (t("exec_lens", total=sum(counts.values()), **counts)
                          + (" " + t("exec_lens_not_assessed", count=counts["not_assessed"])
                             if counts.get("not_assessed") else "")) if doc.get("lens") else "",
        "coverage": coverage_text(doc, t, "exec_coverage"),
        "since": since_text,
        "since_section": _since(since, t, doc, anchors=listed),
        "charts": {k: Markup(v) if isinstance(v, str) else v for k, v in _charts(doc, t).items()},
        "top_risks": _top_risks(doc, t),
        "severities": [{"id": s, "label": t.severity(s), "count": by_sev[s]} for s in SEVERITIES],
        "pillar_rows": [{"label": t.pillar(p), "cells": [row.get(s, 0) for s in SEVERITIES],
                         "total": sum(row.get(s, 0) for s in SEVERITIES)}
                        for p, row in table.items()],
        "pillar_options": [{"id": p, "label": t.pillar(p)} for p in PILLARS],
        "total_cells": [by_sev[s] for s in SEVERITIES],
        "total_all": sum(by_sev.values()),
        "lens": _lens(doc, t, per_rule, listed),
        "lens_counts": lens_counts_line(doc, t) if doc.get("lens") else "",
        "failing_count": len(failing),
        "rule_count": len(listed),
        "filter_template": t("filter_shown", shown="{shown}", total="{total}", count=len(listed)),
        "findings": findings,
        "others": others[:APPENDIX_ROWS_SHOWN],
        "others_count": len(others),
        "others_more": _more_rows(len(others), t),
        "accepted": _accepted(doc, t),
        "answers": _answers(doc, t),
        "not_assessed": [{"rule_id": str(f.get("rule_id")), "resource": _resource(f), "where": _where(f, t),
                          "reason": reason_text(f.get("reason"), lang)}
                         for f in sorted(with_status(doc, "not_assessed"), key=location_key)[:APPENDIX_ROWS_SHOWN]],
        "not_assessed_more": _more_rows(len(with_status(doc, "not_assessed")), t),
        "gaps": gaps,
        "errors": [{"where": f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file")),
                    "kind": str(e.get("kind") or ""), "message": str(e.get("message") or "")}
                   for e in doc.get("errors") or []],
        "validity": None if doc.get("validity") is None else [
            {"where": f"{v.get('file')}:{v.get('line')}", "rule": str(v.get("rule") or ""),
             "level": str(v.get("level") or ""), "message": str(v.get("message") or "")}
            for v in doc.get("validity") or []],
        "skipped": [{"path": str(s.get("path")), "reason": str(s.get("reason") or "")} for s in doc.get("skipped") or []],
        "rules_ran": _rules_ran(doc, t, per_rule),
        "generated_by": t("generated_by", version=tool.get("version") or ""),
    }
    source = _asset("report.html.j2")
    page: str = _environment().from_string(source).render(context)
    return page


def render_diff(d: DiffDocument, lang: str = "en", *, since: Mapping[str, Any],
                trend: list[Mapping[str, Any]] | None = None, rules: Mapping[str, Any] | None = None) -> str:
    """``walens diff --format html``: the diff ``d`` (``walens.diff.diff``) as one self-contained page.

    ``since`` is the diff's short form (``walens.diff.since_last(d)``): the caller computes it. ``trend``
    adds the chart (``walens.history.trend_point`` of each review); ``rules`` (the reviews'
    ``rules``) gives the rule titles. Every finding of every kind is listed, persisting ones too.
    """
    from markupsafe import Markup

    from walens.reporters.diff import counts_line, review_label

    t = Labels(lang)
    old, new = d.get("old_review") or {}, d.get("new_review") or {}
    # A diff knows no scanned roots: absolute paths are shown relative to their common folder.
    items = {k: list((d.get("findings") or {}).get(k) or []) for k in ("new", "resolved", "changed_severity",
                                                                       "persisting")}
    files = [str((i.get("location") or {}).get("file")) for v in items.values() for i in v
             if (i.get("location") or {}).get("file")]
    shown = with_display_paths({"scan": {"inputs": [{"path": f} for f in files]},
                                "since_last_review": {"findings": items}})["since_last_review"]["findings"]
    short = {**since, "findings": {k: shown[k] for k in ("new", "resolved", "changed_severity")}}
    if trend:
        short["trend"] = list(trend)
    section = _since(short, t, {"rules": dict(rules or {})},
                     persisting=shown["persisting"])
    css = _css(lang)
    context = {
        "lang": lang, "t": catalogue(lang), "css": Markup(css),
        "csp": Markup(f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src 'none'; "
                      "base-uri 'none'; form-action 'none'"),
        "version": str(new.get("tool_version") or ""),
        "title": t("diff_report_title"),
        "workload": str(new.get("workload") or old.get("workload") or ""),
        "compared": f"{review_label(old, t)} → {review_label(new, t)} — {counts_line(d, lang)}",
        "since": section,
        "generated_by": t("generated_by", version=new.get("tool_version") or ""),
    }
    page: str = _environment().get_template("diff.html.j2").render(context)
    return page


def _environment() -> Any:
    """Jinja with autoescaping; partials (``{% include "since.html.j2" %}``) come from reports_templates."""
    import jinja2
    from markupsafe import Markup

    # Every number a template prints gets thousands separators from 1,000 on (a fleet fails 138,400 checks).
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, loader=jinja2.FunctionLoader(_asset), finalize=grouped)
    env.filters["markup"] = Markup
    return env
