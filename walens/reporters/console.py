"""The console reporter: a compact, greppable text summary for terminals and CI logs (no dependencies)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from walens.reporters._common import (
    SEVERITIES,
    Labels,
    finding_message,
    location_key,
    pillar_severity_table,
    severity_rank,
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

    failing = sorted(with_status(doc, "fail"), key=lambda f: (location_key(f), severity_rank(f.get("severity")),
                                                                str(f.get("rule_id"))))
    if failing:
        out += ["", paint(t("failing_findings"), "heading")]
        sev_width = max(_width(t.severity(s).upper() if lang == "en" else t.severity(s)) for s in SEVERITIES)
        previous_file: object = None
        for f in failing:
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

    not_assessed = sorted(with_status(doc, "not_assessed"), key=location_key)
    if not_assessed:
        out += ["", paint(t("not_assessed_title"), "heading")]
        for f in not_assessed:
            out.append("  " + "  ".join([_clean(where(f)), _clean(f.get("rule_id")), _clean(_resource(f)),
                                         _clean(f.get("reason") or "")]))

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
