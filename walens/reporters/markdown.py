"""The Markdown reporter: GitHub-flavoured, for a pull-request comment or a job summary.

Everything that came from the review (logical IDs, names, messages, paths, rule texts) is escaped for
Markdown and for inline HTML, so a template cannot inject links, images, markup or table cells.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from walens.errors import UsageError
from walens.reporters._common import (
    SEVERITIES,
    Labels,
    PathDisplay,
    baselined,
    catalogue,
    choice_title,
    coverage_text,
    display_name,
    finding_examples,
    finding_message,
    fleet_view,
    lens_counts_line,
    lens_rows,
    location_key,
    pillar_rank,
    pillar_severity_table,
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
    verdict,
    where,
    with_display_paths,
    with_status,
)
from walens.reporters._common import (
    failing as failing_findings,
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


def check_repo_url(url: str) -> str:
    """``--repo-url``: a plain http(s) URL, returned ending in ``/`` so a repository path can follow."""
    safe = safe_url(url)
    if safe is None or any(c in safe for c in "()[]<>#?"):
        raise UsageError(f"--repo-url must be a plain http(s) URL such as https://github.com/o/r/blob/main/ (got {url!r})")
    return safe if safe.endswith("/") else safe + "/"


def _location(f: Mapping[str, Any], repo_url: str | None, show: PathDisplay | None = None) -> str:
    """``file:line``, linked to the line under ``repo_url`` when the file is a relative path in the repository.

    An absolute path is never linked, and is shown relative to what was scanned (``show``).
    """
    loc = f.get("location") or {}
    path = str(loc.get("file") or "")
    absolute = path.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", path))
    text = esc(where(f, show if absolute else None))
    if not repo_url or not path or absolute:
        return text
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return text
    url = check_repo_url(repo_url) + quote("/".join(parts), safe="/-_.~")
    if loc.get("line"):
        url += f"#L{int(loc['line'])}"
    return f"[{text}]({url})"


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


def _occurrence(doc: Mapping[str, Any], f: Mapping[str, Any], t: Labels, repo_url: str | None,
                show: PathDisplay) -> str:
    """One list item: where, which resource, and the finding's own message."""
    message = tidy(finding_message(doc, f, t.lang), t.lang)
    return f"- **{_location(f, repo_url, show)}** · {_resource_line(f, t)}" + (f" — {esc(message)}" if message else "")


def _rule_head(doc: Mapping[str, Any], rule_id: str, findings: Sequence[Mapping[str, Any]], t: Labels) -> str:
    """A rule's heading, its best practice, and (folded) why it matters, how to fix, the example, references.

    Said once per rule; the rule's occurrences follow as a list.
    """
    lang = t.lang
    first = findings[0]
    title = rule_text(doc, rule_id, "title", lang) or str(first.get("rule_name") or rule_id)
    count = t("rule_count_resources", count=len(findings))
    choice = str((first.get("lens") or {}).get("choice") or "")
    practice = esc(t.pillar(str(first.get("pillar")))) + (f" — {esc(choice_title(choice, lang))}" if choice else "")
    lines = [f"#### {esc(rule_id)} {esc(title)} ({esc(count)})", "",
             f"{esc(t('rule'))}: `{esc(first.get('rule_name') or rule_id)}` · {practice}", ""]
    body: list[str] = []
    rationale = tidy(rule_text(doc, rule_id, "rationale", lang), lang)
    if rationale:
        body += [f"**{esc(t('rationale'))}:** {esc(rationale)}", ""]
    remediation = tidy(rule_text(doc, rule_id, "remediation", lang), lang)
    if remediation:
        body += [f"**{esc(t('remediation'))}:** {esc(remediation)}", ""]
    # Findings all on one kind of API (WebSocket, HTTP, REST) get that kind's example; a mix gets the rule's
    # example and then each kind's, labelled.
    variants = sorted({str(f.get("example")) for f in findings if f.get("example")})
    if len(variants) == 1 and all(f.get("example") for f in findings):
        example, _ = finding_examples(doc, first)
        variants = []
    else:
        example = rule_example(doc, rule_id)
    if example:
        body += [_code_block(example, "yaml"), ""]
    for variant in variants:
        code = rule_example(doc, rule_id, variant)
        if code:
            body += [f"**{esc(t(variant))}:**", "", _code_block(code, "yaml"), ""]
    refs = rule_references(doc, rule_id)
    if refs:
        body += [f"**{esc(t('references'))}:**", ""] + [f"- {_link(r)}" for r in refs] + [""]
    if body:
        lines += ["<details>", f"<summary>{esc_html(t('rule_explained'))}</summary>", "", *body, "</details>", ""]
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


def _coverage(doc: Mapping[str, Any], t: Labels) -> str:
    """Every best practice, pillar by pillar and question by question: status, rules, question to ask."""
    rows = lens_rows(doc, t.lang)
    if not rows:
        return ""
    out = [f"## {esc(t('lens_coverage'))}", "", esc(t("lens_coverage_intro")), ""]
    pillar = question = None
    for row in sorted(rows, key=lambda r: pillar_rank(r["pillar"])):  # stable: lens order within a pillar
        if row["pillar"] != pillar:
            pillar, question = row["pillar"], None
            out += ["", f"### {esc(t.pillar(pillar))}", ""] if out[-1] else [f"### {esc(t.pillar(pillar))}", ""]
        if row["question"] != question:
            question = row["question"]
            title = question_title(question, t.lang)
            heading = question_label(question, t.lang) + (f" — {title}" if title else "")
            out += ["", f"#### {esc(heading)}", ""] if out[-1] else [f"#### {esc(heading)}", ""]
            head = [t("best_practice"), t("tier"), t("check"), t("status"), t("rules"), t("lens_ask")]
            out += ["| " + " | ".join(esc(h) for h in head) + " |", "|---" * len(head) + "|"]
        failing = set(row["failing_rules"])
        rules = ", ".join(f"**{esc(r)}**" if r in failing else esc(r) for r in row["rules"])
        tier = t(f"tier_{row['tier']}") if f"tier_{row['tier']}" in catalogue(t.lang) else row["tier"]
        check = t(f"check_{row['check']}") if f"check_{row['check']}" in catalogue(t.lang) else row["check"]
        cells = [f"{esc(row['title'])} ({esc(row['choice'])})", esc(tier), esc(check),
                 f"{row['symbol']} {esc(t.lens_status(row['status']))}".strip(), rules or "—",
                 esc(row["ask"]) or "—"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n\n"


def _capped(items: list[str], more: int) -> list[str]:
    if more:
        items.append(f"- … (+{more})")
    return items


def _fleet(doc: Mapping[str, Any], t: Labels) -> list[str]:
    """The fleet section of a fleet review (walens fleet): coverage, worst practices, accounts, regions, trend."""
    view = fleet_view(doc, t)
    if view is None:
        return []

    def table(head: Sequence[str], rows: Sequence[Sequence[Any]], right: int = 1) -> list[str]:
        aligns = ["---" if i < right else "---:" for i in range(len(head))]
        return ["| " + " | ".join(esc(h) for h in head) + " |", "| " + " | ".join(aligns) + " |",
                *("| " + " | ".join(esc(c) for c in row) + " |" for row in rows), ""]

    out = [f"## {esc(view['title'])}", "", esc(view["coverage"]), "", esc(view["score"]), ""]
    if view["since"]:
        out += [esc(view["since"]), ""]
    if view["missing"]:
        out += [f"### {esc(t('fleet_missing_title'))} ({len(view['missing'])})", ""]
        out += table([t("fleet_account"), t("fleet_region"), t("status"), t("fleet_attempts"), t("fleet_error")],
                     [[p["account"], p["region"], p["status"], p["attempts"], p["error"]] for p in view["missing"]], 3)
    if view["worst"]:
        out += [f"### {esc(t('fleet_worst_title'))}", "", esc(t("fleet_worst_intro")), ""]
        out += table([f"{t('pillar')} · {t('best_practice')}", t("rules"), t("fleet_accounts_failing"),
                      t("fleet_failing_findings"), t("fleet_high")],
                     [[f"{r['pillar']} · {r['title']} ({r['choice']})", r["rules"],
                       f"{r['accounts']}/{view['accounts_count']}", r["failing"], r["high"]] for r in view["worst"]], 2)
    for key, title, name, assessed in (("accounts", "fleet_accounts_title", "fleet_account", "fleet_regions_assessed"),
                                       ("regions", "fleet_regions_title", "fleet_region", "fleet_accounts_assessed")):
        out += [f"### {esc(t(title))} ({len(view[key])})", ""]
        if key == "accounts":
            out += [esc(t("fleet_accounts_intro")), ""]
        out += table([t(name), t(assessed), t("fleet_not_assessed_in"), t("fleet_pass"), t("fleet_fail"),
                      t("fleet_unjudged"), t("fleet_high"), t("fleet_score_head")],
                     [[r["name"], r["assessed"], r["not_assessed"] or "–", r["pass"], r["fail"], r["unjudged"],
                       r["high"], r["score"]] for r in view[key][:_TAIL_ITEMS * 4]])
    out += [f"### {esc(t('fleet_trend_title'))}", ""]
    out += table([t("fleet_run"), t("fleet_finished"), t("fleet_failing_findings"), t("fleet_high"),
                  t("fleet_assessed_partitions"), t("fleet_score_head")],
                 [[p["run"], p["finished"], p["failing"], p["high"], p["assessed"], p["score"]] for p in view["trend"]], 2)
    return out


def _since(doc: Mapping[str, Any], t: Labels) -> list[str]:
    """"Since the last review" (a saved review): the counts, new / resolved / changed findings, the trend."""
    from walens.reporters._common import PILLARS

    since = doc.get("since_last_review")
    if not since:
        return []
    counts = t("list_sep").join(t(f"diff_count_{k}", count=int(since.get(k) or 0))
                                for k in ("new", "resolved", "changed_severity", "persisting"))
    out = [f"## {esc(t('diff_title'))}", "", f"**{esc(t('since_last', review=since.get('review'), counts=counts))}**", ""]
    found = since.get("findings") or {}
    for kind, key in (("new", "since_new_title"), ("resolved", "since_resolved_title"),
                      ("changed_severity", "since_changed_title")):
        items = list(found.get(kind) or [])
        if not items:
            continue
        out += [f"### {esc(t(key))} ({int(since.get(kind) or len(items))})", ""]
        for item in items[:_TAIL_ITEMS]:
            resource = item.get("resource") or {}
            loc = item.get("location") or {}
            place = f"{loc.get('file')}:{loc.get('line')}" if loc.get("line") else str(loc.get("file") or resource.get("arn") or "")
            if kind == "resolved":
                now = str(item.get("now") or "")
                detail = t("diff_absent") if now == "absent" else t("diff_now", status=t.status(now))
            elif kind == "changed_severity":
                detail = f"{t.severity(str(item.get('old_severity')))} → {t.severity(str(item.get('severity')))}"
            else:
                detail = ""
            title = rule_text(doc, str(item.get("rule_id")), "title", t.lang) or str(item.get("rule_name") or "")
            out.append(f"- {esc(t.severity(str(item.get('severity'))))}: {esc(item.get('rule_id'))} {esc(title)} — "
                       f"{esc(resource.get('origin') or resource.get('id') or resource.get('arn'))} — {esc(place)}"
                       + (f" — {esc(detail)}" if detail else ""))
        out += _capped([], max(0, int(since.get(kind) or len(items)) - min(len(items), _TAIL_ITEMS))) + [""]
    trend = [pt for pt in since.get("trend") or [] if isinstance(pt, Mapping)]
    if len(trend) >= 2:
        def label(ref: object) -> str:
            if not ref:
                return t("since_this_review")
            return t("trend_review", ref=ref) if str(ref).isdigit() else str(ref)

        head = [t("pillar")] + [f"{label(pt.get('review'))} ({str(pt.get('finished_at') or '')[:10]})" for pt in trend]
        out += [f"### {esc(t('chart_trend'))}", "", "| " + " | ".join(esc(h) for h in head) + " |",
                "|---" + "|---:" * len(trend) + "|"]
        for p in PILLARS:
            out.append("| " + " | ".join([esc(t.pillar(p))] + [str(int((pt.get("failing") or {}).get(p) or 0))
                                                                for pt in trend]) + " |")
        out += ["| " + " | ".join([f"**{esc(t('total'))}**"] + [f"**{int(pt.get('total') or 0)}**" for pt in trend])
                + " |", ""]
    return out


def _kaizen(doc: Mapping[str, Any], t: Labels) -> list[str]:
    """Accepted risks (waivers), expired and expiring waivers, manual answers."""
    out: list[str] = []
    accepted = sorted(with_status(doc, "accepted"), key=location_key)
    if accepted:
        # Six cells, like every table of this report; the ticket goes with the reason.
        head = [t("rule"), t("resource"), t("location"), t("waiver_owner"), f"{t('reason')} ({t('waiver_ticket')})",
                t("waiver_expires")]
        out += [f"## {esc(t('accepted_risks'))} ({len(accepted)})", "", esc(t("accepted_risks_intro")), "",
                "| " + " | ".join(esc(h) for h in head) + " |", "|---" * len(head) + "|"]
        for f in accepted[:_TAIL_ITEMS]:
            w = f.get("waiver") or {}  # reviews written before waivers carried one have only a reason
            reason = str(w.get("reason") or f.get("reason") or "") + (f" ({w['ticket']})" if w.get("ticket") else "")
            cells = [f.get("rule_id"), (f.get("resource") or {}).get("id"), where(f), w.get("owner") or "—", reason,
                     w.get("expires") or "—"]
            out.append("| " + " | ".join(esc(c) for c in cells) + " |")
        out += _capped([], max(0, len(accepted) - _TAIL_ITEMS)) + [""]
    expired = sorted((f for f in with_status(doc, "fail") if f.get("waiver_expired")), key=location_key)
    if expired:
        out += [f"## {esc(t('waivers_expired_title'))} ({len(expired)})", ""]
        items = [f"- {esc(f.get('rule_id'))} {esc((f.get('resource') or {}).get('id'))} — {esc(where(f))} — "
                 f"{esc(t('waiver_expired_mark', date=(f.get('waiver') or {}).get('expires')))}: "
                 f"{esc((f.get('waiver') or {}).get('owner'))}, {esc((f.get('waiver') or {}).get('reason'))}"
                 for f in expired[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(expired) - _TAIL_ITEMS)) + [""]
    section = doc.get("waivers") or {}
    if section.get("expiring_within_days") is not None:
        days = section["expiring_within_days"]
        soon = section.get("expiring") or []
        out += [f"## {esc(t('waivers_expiring_title', days=days))} ({len(soon)})", ""]
        items = [f"- {esc(w.get('expires'))} ({esc(t('waiver_days_left', count=w.get('days_left'), days=w.get('days_left')))}): "
                 f"{esc(w.get('rule') or w.get('choice'))} {esc(w.get('resource'))} — {esc(w.get('owner'))}"
                 for w in soon[:_TAIL_ITEMS]]
        out += (items or [esc(t("waivers_expiring_none", days=days))]) + [""]
    answers = doc.get("answers") or {}
    if answers:
        out += [f"## {esc(t('answers_title'))} ({len(answers)})", "", esc(t("answers_intro")), ""]
        for choice, a in answers.items():
            age = a.get("age_days")
            when = t("answer_age", count=age, days=age) if age is not None else str(a.get("at"))
            notes = f" — {esc(a.get('notes'))}" if a.get("notes") else ""
            out.append(f"- **{esc(choice_title(choice, t.lang))}** ({esc(choice)}): "
                       f"{esc(t('answer_' + str(a.get('answer'))))}{notes} ({esc(a.get('by'))}, {esc(when)})")
        out.append("")
    return out


def _tail(doc: Mapping[str, Any], t: Labels) -> str:
    out: list[str] = []
    old = sorted(baselined(doc), key=location_key)
    if old:
        base = doc.get("baseline") or {}
        out += [f"## {esc(t('baselined_title'))} ({len(old)})", "", esc(t("baselined_intro", file=base.get("file") or "")), ""]
        items = [f"- {esc(t.severity(str(f.get('severity'))))}: {esc(f.get('rule_id'))} "
                 f"{esc((f.get('resource') or {}).get('id'))} — {esc(where(f))} — {esc(finding_message(doc, f, t.lang))}"
                 for f in old[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(old) - _TAIL_ITEMS)) + [""]
    fixed = (doc.get("baseline") or {}).get("fixed") or []
    if fixed:
        out += [f"## {esc(t('baseline_fixed_title'))} ({len(fixed)})", "", esc(t("baseline_fixed_intro")), ""]
        items = [f"- {esc(e.get('rule_id'))} {esc(e.get('resource'))} — {esc(e.get('file'))}" for e in fixed[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(fixed) - _TAIL_ITEMS)) + [""]
    out += _kaizen(doc, t)
    others = sorted(with_status(doc, "suppressed"), key=location_key)  # accepted ones: _kaizen
    if others:
        out += [f"## {esc(t('other_findings'))} ({len(others)})", ""]
        items = [f"- {esc(t.status(str(f.get('status'))))}: {esc(f.get('rule_id'))} "
                 f"{esc((f.get('resource') or {}).get('id'))} — {esc(where(f))} — "
                 f"{esc(suppression_text(f, t) if f.get('suppression') else f.get('reason') or '')}"
                 for f in others[:_TAIL_ITEMS]]
        out += _capped(items, len(others) - _TAIL_ITEMS if len(others) > _TAIL_ITEMS else 0) + [""]
    unused = doc.get("unused_suppressions") or []
    if unused:
        out += [f"## {esc(t('unused_suppressions_title'))} ({len(unused)})", "", esc(t("unused_suppressions_intro")), ""]
        items = [f"- {esc(u.get('kind'))}: {esc(u.get('rule_id'))} "
                 f"{esc(u.get('resource') or ', '.join(u.get('resources') or []) or '*')} — "
                 f"{esc(u.get('file') or '')}{':' + esc(u.get('line')) if u.get('line') else ''} — {esc(u.get('reason'))}"
                 for u in unused[:_TAIL_ITEMS]]
        out += _capped(items, max(0, len(unused) - _TAIL_ITEMS)) + [""]
    not_assessed = sorted(with_status(doc, "not_assessed"), key=location_key)
    out += [f"## {esc(t('not_assessed_title'))} ({len(not_assessed)})", ""]
    if not_assessed:
        out += [esc(t("not_assessed_intro")), ""]
        items = [f"- {esc(f.get('rule_id'))} {esc((f.get('resource') or {}).get('id'))} — {esc(where(f))}: "
                 f"{esc(reason_text(f.get('reason'), t.lang))}" for f in not_assessed[:_TAIL_ITEMS]]
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


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False, repo_url: str | None = None,
           **_: Any) -> str:
    """The review as GitHub-flavoured Markdown, at most ``LIMIT`` characters.

    With ``repo_url`` (e.g. ``https://github.com/o/r/blob/main/``) each finding's location links to its
    line. Cover options of the HTML report (title, customer, ...) are accepted and ignored.
    """
    t = Labels(lang)
    # An absolute path is shown relative to what was scanned; a relative one stays linkable under --repo-url.
    show = PathDisplay.of(doc)
    stored = failing_findings(doc)  # their stored paths: a relative one links under --repo-url
    doc = with_display_paths(doc, absolute_only=True)
    tool = doc.get("tool") or {}
    scan = doc.get("scan") or {}
    inputs = scan.get("inputs") or []
    fail_on, failed = verdict(doc)
    state = t("verdict_failed") if failed else t("verdict_passed")
    head = [
        f"# {esc(t('fleet_report_title' if doc.get('fleet') else 'report_title'))}",
        "",
        f"{esc(t('generated_by', version=tool.get('version', '')))} · {esc(t('lens_name'))}",
        "",
        f"- **{esc(t('date'))}:** {esc(scan.get('finished_at') or scan.get('started_at') or '')}",
        f"- **{esc(t('scope'))}:** {esc(scope_text(doc, t))}",
    ]
    if scan.get("source") != "account":
        head += [f"  - {esc(i.get('path'))}" for i in inputs[:_TAIL_ITEMS]]
        if len(inputs) > _TAIL_ITEMS:
            head.append(f"  - … (+{len(inputs) - _TAIL_ITEMS})")
    head += [
        "",
        f"## {esc(t('summary'))}",
        "",
        f"**{esc(t('fail_on', level=fail_on))}: {esc(state)}** — {esc(t('list_sep').join(totals_line_parts(doc, t)))}",
        "",
        *([esc(lens_counts_line(doc, t)), ""] if doc.get("lens") else []),
        *([esc(coverage_text(doc, t, "coverage_line")), ""] if coverage_text(doc, t, "coverage_line") else []),
        f"### {esc(t('summary_failing'))}",
        "",
        *_summary_table(doc, t),
        "",
        *_fleet(doc, t),
        *_since(doc, t),
    ]
    head_text = "\n".join(head) + "\n"
    tail_text = _coverage(doc, t) + _tail(doc, t)

    failing = sorted(stored,
                     key=lambda f: (severity_rank(f.get("severity")), str(f.get("rule_id")), location_key(f)))
    body = [f"## {esc(t('failing_findings'))} ({len(failing)})", ""]
    if not failing:
        body += [esc(t("no_failing")), ""]
    # One block per rule (its explanation once), then one line per occurrence, highest severity first.
    rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in failing:
        rules.setdefault((str(f.get("severity")), str(f.get("rule_id"))), []).append(f)
    by_sev = {s: sum(1 for f in failing if f.get("severity") == s) for s in {str(f.get("severity")) for f in failing}}
    # Room for the truncation note, whatever its language and counts.
    budget = LIMIT - len(head_text) - len(tail_text) - 1_000
    used = sum(len(b) + 1 for b in body)
    shown = 0
    current: str | None = None
    full = False
    for (sev, rule_id), findings in rules.items():
        block = f"### {esc(t.severity(sev))} ({by_sev[sev]})\n\n" if sev != current else ""
        block += _rule_head(doc, rule_id, findings, t)
        first = _occurrence(doc, findings[0], t, repo_url, show)
        if used + len(block) + len(first) + 2 > budget:
            break
        current = sev
        body.append(block)
        used += len(block) + 1
        items = []
        for f in findings:
            item = _occurrence(doc, f, t, repo_url, show)
            if used + len(item) + 1 > budget:
                full = True
                break
            items.append(item)
            used += len(item) + 1
        body.append("\n".join(items) + "\n")
        shown += len(items)
        if full:
            break
    rest = failing[shown:]  # rules group contiguous runs of `failing`: what was shown is its head
    if rest:
        left = {s: sum(1 for f in rest if f.get("severity") == s) for s in SEVERITIES}
        detail = t("list_sep").join(f"{t.severity(s)} {n}" for s, n in left.items() if n)
        body += [f"> **{esc(t('truncated', limit=LIMIT, count=len(rest), detail=detail))}**", ""]
    text = head_text + "\n".join(body) + "\n" + tail_text
    return text.rstrip("\n") + "\n"
