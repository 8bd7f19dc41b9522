"""The Markdown reporter: GitHub-flavoured, for a pull-request comment or a job summary.

Everything that came from the review (logical IDs, names, messages, paths, rule texts) is escaped for
Markdown and for inline HTML, so a template cannot inject links, images, markup or table cells.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from walens.reporters._common import (
    SEVERITIES,
    Labels,
    choice_title,
    display_name,
    finding_message,
    location_key,
    pillar_severity_table,
    rule_example,
    rule_references,
    rule_text,
    safe_url,
    severity_rank,
    totals_line_parts,
    verdict,
    where,
    with_status,
)

LIMIT = 65_536  # GitHub's limit on a comment body, in characters
_TAIL_ITEMS = 50  # at most this many not-assessed entries, errors or skipped files are listed
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|~])")
_LIST_START = re.compile(r"^([-+]|\d+(?=[.)]))")
_BACKTICKS = re.compile(r"`+")
# Renderers that do parse Markdown inside HTML blocks must find nothing to act on either.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "|[]`*_!#~\\"})


def esc(value: object) -> str:
    """Escape text for Markdown and inline HTML, on one line."""
    text = " ".join(str(value if value is not None else "").split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A value at the start of a list item must not open a nested list ("- x", "1. x").
    text = _LIST_START.sub(lambda m: "\\" + m.group() if m.group() in "-+" else m.group() + "\\", text)
    return html.escape(text, quote=False)


def esc_html(value: object) -> str:
    """Escape text placed inside an HTML element (a <summary>): entities, Markdown punctuation included."""
    text = html.escape(" ".join(str(value if value is not None else "").split()), quote=False)
    return text.translate(_ENTITIES)


def _link(url: str) -> str:
    safe = safe_url(url)
    if safe is None or any(c in safe for c in "()[]<>"):
        return esc(url)
    return f"[{esc(safe)}]({safe})"


def _code_block(text: str, info: str) -> str:
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _resource_line(f: Mapping[str, Any], t: Labels) -> str:
    resource = f.get("resource") or {}
    text = f"{esc(resource.get('id'))} ({esc(resource.get('type'))})"
    name = display_name(resource)
    if name and name != resource.get("id"):
        text += f" “{esc(name)}”"
    origin = resource.get("origin")
    if origin and origin != resource.get("id"):
        text += f", {esc(t('generated_from'))} {esc(origin)} ({esc(resource.get('origin_type'))})"
    return text


def _details(doc: Mapping[str, Any], f: Mapping[str, Any], t: Labels) -> str:
    lang = t.lang
    rule_id = str(f.get("rule_id"))
    resource = f.get("resource") or {}
    summary = " · ".join(x for x in (
        f"{t.severity(str(f.get('severity')))}", rule_id, str(resource.get("origin") or resource.get("id") or ""),
        where(f)) if x)
    lines = [
        "<details>",
        f"<summary>{esc_html(summary)}</summary>",
        "",
        f"**{esc(t('message'))}:** {esc(finding_message(doc, f, lang))}",
        "",
        f"- **{esc(t('rule'))}:** {esc(rule_id)} {esc(f.get('rule_name'))} — {esc(rule_text(doc, rule_id, 'title', lang))}",
        f"- **{esc(t('resource'))}:** {_resource_line(f, t)}",
        f"- **{esc(t('location'))}:** {esc(where(f))}",
        f"- **{esc(t('pillar'))}:** {esc(t.pillar(str(f.get('pillar'))))} — "
        f"{esc(choice_title(str((f.get('lens') or {}).get('choice')), lang))}",
    ]
    if f.get("status") in ("suppressed", "accepted") and f.get("reason"):
        lines.append(f"- **{esc(t('reason'))}:** {esc(f.get('reason'))}")
    rationale = rule_text(doc, rule_id, "rationale", lang)
    if rationale:
        lines += ["", f"**{esc(t('rationale'))}:** {esc(rationale)}"]
    remediation = rule_text(doc, rule_id, "remediation", lang)
    if remediation:
        lines += ["", f"**{esc(t('remediation'))}:** {esc(remediation)}"]
    example = rule_example(doc, rule_id)
    if example:
        lines += ["", _code_block(example, "yaml")]
    refs = rule_references(doc, rule_id)
    if refs:
        lines += ["", f"**{esc(t('references'))}:**", ""] + [f"- {_link(r)}" for r in refs]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _summary_table(doc: Mapping[str, Any], t: Labels) -> list[str]:
    table = pillar_severity_table(doc)
    head = [t("pillar")] + [t.severity(s) for s in SEVERITIES] + [t("total")]
    lines = ["| " + " | ".join(esc(h) for h in head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    totals = dict.fromkeys(SEVERITIES, 0)
    for pillar, row in table.items():
        cells = [row.get(s, 0) for s in SEVERITIES]
        for s in SEVERITIES:
            totals[s] += row.get(s, 0)
        lines.append("| " + " | ".join([esc(t.pillar(pillar))] + [str(c) for c in cells] + [str(sum(cells))]) + " |")
    cells = [totals[s] for s in SEVERITIES]
    lines.append("| " + " | ".join([f"**{esc(t('total'))}**"] + [f"**{c}**" for c in cells] + [f"**{sum(cells)}**"]) + " |")
    return lines


def _capped(items: list[str], more: int) -> list[str]:
    if more:
        items.append(f"- … (+{more})")
    return items


def _tail(doc: Mapping[str, Any], t: Labels) -> str:
    out: list[str] = []
    others = sorted(with_status(doc, "suppressed", "accepted"), key=location_key)
    if others:
        out += [f"## {esc(t('other_findings'))} ({len(others)})", ""]
        items = [f"- {esc(t.status(str(f.get('status'))))}: {esc(f.get('rule_id'))} "
                 f"{esc((f.get('resource') or {}).get('id'))} — {esc(where(f))} — {esc(f.get('reason') or '')}"
                 for f in others[:_TAIL_ITEMS]]
        out += _capped(items, len(others) - _TAIL_ITEMS if len(others) > _TAIL_ITEMS else 0) + [""]
    not_assessed = sorted(with_status(doc, "not_assessed"), key=location_key)
    out += [f"## {esc(t('not_assessed_title'))} ({len(not_assessed)})", ""]
    if not_assessed:
        out += [esc(t("not_assessed_intro")), ""]
        items = [f"- {esc(f.get('rule_id'))} {esc((f.get('resource') or {}).get('id'))} — {esc(where(f))}: "
                 f"{esc(f.get('reason') or '')}" for f in not_assessed[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(not_assessed) - _TAIL_ITEMS))
    else:
        out.append(esc(t("none")))
    out.append("")
    errors = doc.get("errors") or []
    out += [f"## {esc(t('errors_title'))} ({len(errors)})", ""]
    if errors:
        out += [esc(t("errors_intro")), ""]
        items = []
        for e in errors[:_TAIL_ITEMS]:
            head = f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file"))
            items.append(f"- {esc(head)}: {esc(e.get('message'))} ({esc(t('error_kind'))}: {esc(e.get('kind'))})")
        out += _capped(items, max(0, len(errors) - _TAIL_ITEMS))
    else:
        out.append(esc(t("none")))
    out.append("")
    validity = doc.get("validity")
    if validity is not None:
        out += [f"## {esc(t('validity_title'))} ({len(validity)})", ""]
        items = [f"- {esc(v.get('file'))}:{esc(v.get('line'))} {esc(v.get('rule'))} ({esc(v.get('level'))}): "
                 f"{esc(v.get('message'))}" for v in validity[:_TAIL_ITEMS]]
        out += (_capped(items, max(0, len(validity) - _TAIL_ITEMS)) if items else [esc(t("validity_none"))]) + [""]
    skipped = doc.get("skipped") or []
    if skipped:
        out += [f"## {esc(t('skipped_title'))} ({len(skipped)})", "", esc(t("skipped_intro")), ""]
        items = [f"- {esc(s.get('path'))}: {esc(s.get('reason'))}" for s in skipped[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(skipped) - _TAIL_ITEMS)) + [""]
    return "\n".join(out)


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review as GitHub-flavoured Markdown, at most ``LIMIT`` characters."""
    t = Labels(lang)
    tool = doc.get("tool") or {}
    scan = doc.get("scan") or {}
    inputs = scan.get("inputs") or []
    fail_on, failed = verdict(doc)
    state = t("verdict_failed") if failed else t("verdict_passed")
    head = [
        f"# {esc(t('report_title'))}",
        "",
        f"{esc(t('generated_by', version=tool.get('version', '')))} · {esc(t('lens_name'))}",
        "",
        f"- **{esc(t('date'))}:** {esc(scan.get('finished_at') or scan.get('started_at') or '')}",
        f"- **{esc(t('scope'))}:** {len(inputs)} {esc(t('source_template'))}",
    ]
    head += [f"  - {esc(i.get('path'))}" for i in inputs[:_TAIL_ITEMS]]
    if len(inputs) > _TAIL_ITEMS:
        head.append(f"  - … (+{len(inputs) - _TAIL_ITEMS})")
    head += [
        "",
        f"## {esc(t('summary'))}",
        "",
        f"**{esc(t('fail_on', level=fail_on))}: {esc(state)}** — {esc(t('list_sep').join(totals_line_parts(doc, t)))}",
        "",
        f"### {esc(t('summary_failing'))}",
        "",
        *_summary_table(doc, t),
        "",
    ]
    head_text = "\n".join(head) + "\n"
    tail_text = _tail(doc, t)

    failing = sorted(with_status(doc, "fail"),
                     key=lambda f: (severity_rank(f.get("severity")), str(f.get("rule_id")), location_key(f)))
    body = [f"## {esc(t('failing_findings'))} ({len(failing)})", ""]
    if not failing:
        body += [esc(t("no_failing")), ""]
    # Room for the truncation note, whatever its language and counts.
    budget = LIMIT - len(head_text) - len(tail_text) - 1_000
    used = sum(len(b) + 1 for b in body)
    shown = 0
    current: str | None = None
    for f in failing:
        sev = str(f.get("severity"))
        block = ""
        if sev != current:
            count = sum(1 for g in failing if g.get("severity") == sev)
            block = f"### {esc(t.severity(sev))} ({count})\n\n"
        block += _details(doc, f, t)
        if used + len(block) + 1 > budget:
            break
        if sev != current:
            current = sev
        body.append(block)
        used += len(block) + 1
        shown += 1
    rest = failing[shown:]
    if rest:
        by_sev = {s: sum(1 for f in rest if f.get("severity") == s) for s in SEVERITIES}
        detail = t("list_sep").join(f"{t.severity(s)} {n}" for s, n in by_sev.items() if n)
        body += [f"> **{esc(t('truncated', limit=LIMIT, count=len(rest), detail=detail))}**", ""]
    text = head_text + "\n".join(body) + "\n" + tail_text
    return text.rstrip("\n") + "\n"
