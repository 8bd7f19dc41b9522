"""The text of the commands that show what walens knows rather than a review: ``rules list``, ``rules show``,
``lens``, ``config show`` and ``history list``.

walens.cli parses the command line, gathers the rules, configuration or saved reviews, and prints what
these functions return (without a trailing newline: the CLI's echo adds it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from walens import lens
from walens.reporters._common import Labels
from walens.rules import Rule


def rules_table(rules: Sequence[Rule], lang: str) -> str:
    """One line per rule (ID, severity, name, best practice, title), by ID, then the count."""
    rules = sorted(rules, key=lambda r: r.id)
    width = max((len(r.name) for r in rules), default=10)
    lines = [f"{rule.id:<8} {rule.severity:<7} {rule.name:<{width}}  {rule.lens_choice:<16} {rule.title[lang]}"
             for rule in rules]
    return "\n".join([*lines, f"{len(rules)} rules"])


def rule_text(rule: Rule, lang: str) -> str:
    """One rule explained: what it checks, why, how to fix it, examples and references."""
    bp = lens.choice(rule.lens_choice)
    labels = (
        ("重大度", "柱", "ベストプラクティス", "対象", "根拠", "修復方法", "例", "参考")
        if lang == "ja"
        else ("Severity", "Pillar", "Best practice", "Applies to", "Why", "How to fix", "Example", "References")
    )
    lines = [
        f"{rule.id} {rule.name}: {rule.title[lang]}",
        f"{labels[0]}: {rule.severity}",
        f"{labels[1]}: {lens.pillar(rule.pillar).title.get(lang)}",
        f"{labels[2]}: {bp.title.get(lang)} ({rule.lens_choice})",
        f"{labels[3]}: {', '.join(rule.resource_types)} ({', '.join(rule.scope)})",
        "",
        f"{labels[4]}:",
        rule.rationale[lang].strip(),
        "",
        f"{labels[5]}:",
        rule.remediation[lang].strip(),
    ]
    example = rule.remediation.get("example")
    example_cfn = rule.remediation.get("example_cfn")
    if example:
        sam = " (SAM)" if example_cfn else ""
        lines += ["", f"{labels[6]}{sam}:", str(example).rstrip()]
    if example_cfn:
        lines += ["", f"{labels[6]} (CloudFormation):", str(example_cfn).rstrip()]
    for kind, api in (("rest", "REST API"), ("http", "HTTP API"), ("websocket", "WebSocket API")):
        if rule.remediation.get(f"example_{kind}"):
            lines += ["", f"{labels[6]} ({api}):", str(rule.remediation[f"example_{kind}"]).rstrip()]
    if rule.references:
        lines += ["", f"{labels[7]}:"] + [f"  {ref}" for ref in rule.references]
    return "\n".join(lines)


def _by_choice(rules: Sequence[Rule]) -> dict[str, list[str]]:
    by_choice: dict[str, list[str]] = {}
    for rule in sorted(rules, key=lambda r: r.id):
        by_choice.setdefault(rule.lens_choice, []).append(rule.id)
    return by_choice


def lens_json(rules: Sequence[Rule], lang: str) -> list[dict[str, Any]]:
    """``walens lens --format json``: every best practice with its tier, check kind and rules."""
    by_choice = _by_choice(rules)
    return [
        {
            "choice": bp.id,
            "question": bp.question,
            "question_label": lens.question(bp.question).label,
            "pillar": bp.pillar,
            "title": bp.title.get(lang),
            "tier": bp.tier,
            "check": bp.check,
            "rules": by_choice.get(bp.id, []),
            "manual_question": bp.manual_question.get(lang) if bp.manual_question else None,
        }
        for bp in lens.BEST_PRACTICES
    ]


def lens_text(rules: Sequence[Rule], lang: str) -> str:
    """``walens lens``: the best practices by pillar and question, the rules evidencing each."""
    by_choice = _by_choice(rules)
    t = Labels(lang)
    lines = [f"{lens.LENS_TITLE.get(lang)}: "
             + t("lens_totals", count=len(lens.BEST_PRACTICES), questions=len(lens.QUESTIONS), rules=len(rules)),
             f"{t('tier')}: " + t("list_sep").join(f"{tier} {t(f'tier_{tier}')}" for tier in lens.Tier)
             + f"; {t('check')}: " + t("list_sep").join(f"{c} ({t(f'check_{c}')})" for c in lens.Check)]
    for pillar in lens.PILLARS:
        lines += ["", pillar.title.get(lang)]
        for q in lens.QUESTIONS:
            if q.pillar != pillar.id:
                continue
            lines.append(f"  {q.label}  {q.title.get(lang)}")
            for bp in lens.by_question()[q.id]:
                ids = by_choice.get(bp.id, [])
                lines.append(f"    {bp.id:<16} {bp.tier} {bp.check:<7}  {bp.title.get(lang)}")
                lines.append(f"      {t('rules')}: {', '.join(ids) if ids else t('lens_no_rules')}")
                if bp.manual_question is not None:
                    lines.append(f"      {t('lens_ask')}: {bp.manual_question.get(lang)}")
    missing = [bp.id for bp in lens.BEST_PRACTICES
               if bp.check in (lens.Check.AUTO, lens.Check.PARTIAL) and not by_choice.get(bp.id)]
    if missing:
        lines += ["", t("lens_missing_rules", ids=", ".join(missing))]
    return "\n".join(lines)


def config_text(shown: Mapping[str, Any]) -> str:
    """``walens config show``: each effective value and where it came from (``Config.show()`` plus ``rules``)."""
    lines = [f"# configuration file: {shown['config_file'] or '(none found)'}",
             f"# repository root: {shown['root']}"]
    for key, item in shown["values"].items():
        value = json.dumps(item["value"], ensure_ascii=False)
        lines.append(f"{key}: {value}  # {item['source']}")
    lines.append(f"# {len(shown['rules'])} rules run: {', '.join(shown['rules'])}")
    return "\n".join(lines)


def history_table(infos: Sequence[Mapping[str, Any]], location: str) -> str:
    """``walens history list``: one row per saved review (``ReviewInfo.to_dict()``), then the count."""
    rows = [("ID", "Finished", "Workload", "Failing (H/M/L/I)", "Accepted", "Inputs", "walens")]
    for i in infos:
        by_severity = i.get("by_severity") or {}
        sev = "/".join(str(by_severity.get(s, 0)) for s in ("high", "medium", "low", "info"))
        rows.append((str(i["id"]), str(i["finished_at"])[:19], str(i["workload"]), f"{i['failing']} ({sev})",
                     str(i["accepted"]), str(i["inputs"]), str(i["tool_version"])))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join([*lines, f"{len(infos)} reviews in {location}"])
