"""The console reporter: a compact, greppable text summary for terminals and CI logs (no dependencies)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from walens.reporters._common import (
    SEVERITIES,
    Labels,
    baselined,
    coverage_text,
    failing,
    finding_message,
    lens_counts_line,
    location_key,
    pillar_severity_table,
    severity_rank,
    suppression_text,
    totals_line_parts,
    verdict,
    where,
    with_status,
)

_RESET = "\x1b[0m"
_COLORS = {"high": "\x1b[1;31m", "medium": "\x1b[33m", "low": "\x1b[36m", "info": "\x1b[2m",
           "failed": "\x1b[1;31m", "passed": "\x1b[1;32m", "heading": "\x1b[1m"}
# Terminal control characters from the input (an escape sequence in a message or a path) must
# never reach the terminal: they could rewrite what the user sees.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(value: object) -> str:
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group()), str(value if value is not None else ""))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if self.color and style in _COLORS else text


def _resource(finding: Mapping[str, Any]) -> str:
    resource = finding.get("resource") or {}
    rid = str(resource.get("id") or resource.get("arn") or "")
    origin = str(resource.get("origin") or rid)
    return origin if origin == rid else f"{origin} ({rid})"


def _summary(doc: Mapping[str, Any], t: Labels, paint: _Painter) -> list[str]:
    table = pillar_severity_table(doc)
    names = {p: t.pillar(p) for p in table}
    first = max([_width(t("pillar")), _width(t("total"))] + [_width(n) for n in names.values()])
    heads = [t.severity(s) for s in SEVERITIES] + [t("total")]
    widths = [max(_width(h), 4) for h in heads]
    lines = [paint(t("summary_failing"), "heading"),
             "  " + _pad(t("pillar"), first) + "".join("  " + _pad(h, w, True) for h, w in zip(heads, widths))]
    totals = dict.fromkeys(SEVERITIES, 0)
    for pillar, row in table.items():
        cells = [row.get(s, 0) for s in SEVERITIES]
        for s in SEVERITIES:
            totals[s] += row.get(s, 0)
        cells.append(sum(cells))
        lines.append("  " + _pad(_clean(names[pillar]), first)
                     + "".join("  " + _pad(str(c), w, True) for c, w in zip(cells, widths)))
    cells = [totals[s] for s in SEVERITIES] + [sum(totals.values())]
    lines.append("  " + _pad(t("total"), first) + "".join("  " + _pad(str(c), w, True) for c, w in zip(cells, widths)))
    return lines


def _kaizen(doc: Mapping[str, Any], t: Labels, paint: _Painter) -> list[str]:
    """Since the last review, accepted risks (waivers), expired and expiring waivers, manual answers."""
    out: list[str] = []
    since = doc.get("since_last_review")
    if since:
        counts = t("list_sep").join(t(f"diff_count_{k}", count=int(since.get(k) or 0))
                                    for k in ("new", "resolved", "changed_severity", "persisting"))
        out += ["", t("since_last", review=_clean(since.get("review")), counts=counts)]
    accepted = sorted(with_status(doc, "accepted"), key=location_key)
    if accepted:
        out += ["", f"{paint(t('accepted_risks'), 'heading')} ({len(accepted)})"]
        for f in accepted:
            w = f.get("waiver") or {}  # reviews written before waivers carried one have only a reason
            out.append("  " + "  ".join([_clean(where(f)), _clean(f.get("rule_id")), _clean(_resource(f)),
                                         f"{t('waiver_owner')}: {_clean(w.get('owner') or '-')}",
                                         f"{t('waiver_ticket')}: {_clean(w.get('ticket') or '-')}",
                                         f"{t('waiver_expires')}: {_clean(w.get('expires') or '-')}",
                                         _clean(w.get("reason") or f.get("reason"))]))
    expired = sorted((f for f in with_status(doc, "fail") if f.get("waiver_expired")), key=location_key)
    if expired:
        out += ["", f"{paint(t('waivers_expired_title'), 'heading')} ({len(expired)})"]
        for f in expired:
            w = f.get("waiver") or {}
            out.append("  " + "  ".join([_clean(where(f)), _clean(f.get("rule_id")), _clean(_resource(f)),
                                         t("waiver_expired_mark", date=_clean(w.get("expires"))),
                                         _clean(w.get("owner")), _clean(w.get("reason"))]))
    section = doc.get("waivers") or {}
    if section.get("expiring_within_days") is not None:
        days = section["expiring_within_days"]
        soon = section.get("expiring") or []
        out += ["", f"{paint(t('waivers_expiring_title', days=days), 'heading')} ({len(soon)})"]
        if not soon:
            out.append("  " + t("waivers_expiring_none", days=days))
        for w in soon:
            out.append("  " + "  ".join([_clean(w.get("expires")), t("waiver_days_left", count=w.get("days_left"),
                                                                        days=w.get("days_left")),
                                         _clean(w.get("rule") or w.get("choice")), _clean(w.get("resource")),
                                         _clean(w.get("owner")), _clean(w.get("ticket") or "-")]))
    answers = doc.get("answers") or {}
    if answers:
        from walens.reporters._common import choice_title

        out += ["", f"{paint(t('answers_title'), 'heading')} ({len(answers)})"]
        for choice, a in answers.items():
            age = a.get("age_days")
            when = t("answer_age", count=age, days=age) if age is not None else _clean(a.get("at"))
            notes = f" — {_clean(a.get('notes'))}" if a.get("notes") else ""
            out.append(f"  {_clean(choice_title(choice, t.lang))} ({_clean(choice)}): "
                       f"{t('answer_' + str(a.get('answer')))}{notes} ({_clean(a.get('by'))}, {when})")
    return out


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review as terminal text; ANSI colour only when ``color`` is true."""
    t = Labels(lang)
    paint = _Painter(color)
    tool = doc.get("tool") or {}
    inputs = (doc.get("scan") or {}).get("inputs") or []
    scope = (t("scope_templates", count=len(inputs)) if (doc.get("scan") or {}).get("source", "template") == "template"
             else f"{len(inputs)} {t('source_account')}")
    out = [f"walens {_clean(tool.get('version', ''))} — {t('report_title')}: {scope}", ""]
    out += _summary(doc, t, paint)
    if doc.get("lens"):
        out += ["", lens_counts_line(doc, t)]
    coverage = coverage_text(doc, t, "coverage_line")
    if coverage:
        out.append(_clean(coverage))

    new_failing = sorted(failing(doc), key=lambda f: (location_key(f), severity_rank(f.get("severity")),
                                                                str(f.get("rule_id"))))
    if new_failing:
        out += ["", paint(t("failing_findings"), "heading")]
        sev_width = max(_width(t.severity(s).upper() if lang == "en" else t.severity(s)) for s in SEVERITIES)
        previous_file: object = None
        for f in new_failing:
            file = (f.get("location") or {}).get("file")
            if previous_file is not None and file != previous_file:
                out.append("")
            previous_file = file
            sev = str(f.get("severity"))
            label = t.severity(sev).upper() if lang == "en" else t.severity(sev)
            out.append("  ".join([
                _clean(where(f)),
                paint(_pad(label, sev_width), sev),
                _pad(_clean(f.get("rule_id")), 7),
                _clean(_resource(f)),
                _clean(finding_message(doc, f, lang)),
            ]))
    else:
        out += ["", t("no_failing")]

    old = sorted(baselined(doc), key=location_key)
    if old:
        base = doc.get("baseline") or {}
        out += ["", f"{paint(t('baselined_title'), 'heading')} ({len(old)})",
                "  " + t("baselined_intro", file=_clean(base.get("file") or ""))]
        for f in old:
            out.append("  " + "  ".join([_clean(where(f)), _clean(t.severity(str(f.get("severity")))),
                                         _clean(f.get("rule_id")), _clean(_resource(f)),
                                         _clean(finding_message(doc, f, lang))]))
    fixed = (doc.get("baseline") or {}).get("fixed") or []
    if fixed:
        out += ["", f"{paint(t('baseline_fixed_title'), 'heading')} ({len(fixed)})", "  " + t("baseline_fixed_intro")]
        for e in fixed:
            out.append("  " + "  ".join([_clean(e.get("file")), _clean(e.get("rule_id")), _clean(e.get("resource"))]))
    suppressed = sorted(with_status(doc, "suppressed"), key=location_key)  # accepted ones: _kaizen below
    if suppressed:
        out += ["", f"{paint(t('suppressed_title'), 'heading')} ({len(suppressed)})"]
        for f in suppressed:
            out.append("  " + "  ".join([_clean(where(f)), _clean(f.get("rule_id")), _clean(_resource(f)),
                                         _clean(suppression_text(f, t))]))
    unused = doc.get("unused_suppressions") or []
    if unused:
        out += ["", f"{paint(t('unused_suppressions_title'), 'heading')} ({len(unused)})",
                "  " + t("unused_suppressions_intro")]
        for u in unused:
            head = f"{u.get('file')}:{u['line']}" if u.get("line") else str(u.get("file") or "")
            what = u.get("resource") or ", ".join(u.get("resources") or []) or "*"
            out.append("  " + "  ".join([_clean(head), _clean(u.get("kind")), _clean(u.get("rule_id")), _clean(what),
                                         _clean(u.get("reason"))]))

    out += _kaizen(doc, t, paint)

    not_assessed = sorted(with_status(doc, "not_assessed"), key=location_key)
    if not_assessed:
        out += ["", paint(t("not_assessed_title"), "heading")]
        for f in not_assessed:
            out.append("  " + "  ".join([_clean(where(f)), _clean(f.get("rule_id")), _clean(_resource(f)),
                                         _clean(f.get("reason") or "")]))

    gaps = doc.get("gaps") or []  # account mode: calls that failed (denied, region disabled...): never a pass
    if gaps:
        out += ["", f"{'確認できなかった項目' if lang == 'ja' else 'Could not see'} ({len(gaps)}): "
                + "; ".join(_clean(g.get("reason")) for g in gaps[:5]) + (" …" if len(gaps) > 5 else "")]
    calls = (doc.get("scan") or {}).get("api_calls") or {}  # account mode: read calls made, per service
    if calls:
        total = sum(int(n) for n in calls.values())
        out += ["", f"{'API 呼び出し' if lang == 'ja' else 'API calls'} ({total}): "
                + ", ".join(f"{_clean(s)} {int(n)}" for s, n in sorted(calls.items(), key=lambda kv: (-int(kv[1]), kv[0])))]

    errors = doc.get("errors") or []
    if errors:
        out += ["", paint(t("errors_title"), "heading")]
        for e in errors:
            file = _clean(e.get("file"))
            head = f"{file}:{e['line']}" if e.get("line") else file
            kind = f" ({_clean(e['kind'])})" if e.get("kind") else ""
            out.append(f"  {head}: {_clean(e.get('message'))}{kind}")

    validity = doc.get("validity")
    if validity is not None:
        out += ["", paint(t("validity_title"), "heading")]
        if not validity:
            out.append("  " + t("validity_none"))
        for v in validity:
            out.append("  " + "  ".join([f"{_clean(v.get('file'))}:{_clean(v.get('line'))}", _clean(v.get("rule")),
                                         _clean(v.get("message"))]))

    skipped = doc.get("skipped") or []
    if skipped:
        out += ["", t("skipped_count", count=len(skipped))]

    fail_on, failed = verdict(doc)
    state = paint(t("verdict_failed"), "failed") if failed else paint(t("verdict_passed"), "passed")
    out += ["", f"{t('list_sep').join(totals_line_parts(doc, t))} — {t('fail_on', level=_clean(fail_on))}: {state}"]
    return "\n".join(out) + "\n"
