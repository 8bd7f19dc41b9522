#!/usr/bin/env python3
"""How the rule catalogue covers the lens, and which rules fire most on a corpus.

Prints, as Markdown ready to paste into a release or closing note:
1. the rules that fail most often on the corpus (default: the SAM translator inputs), with counts of
   failing findings and of files they fire in;
2. rules per pillar (and how many of the pillar's best practices have a rule);
3. rules per best practice, all 38, with the check kind, the rule IDs and their corpus failures.

    python benchmarks/rule_counts.py                  # top ten on ../shared/corpus/sam-translator/input
    python benchmarks/rule_counts.py --top 20 PATH... # any templates, folders or globs

Uses walens in process (the installed or checked-out package); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_INPUT = REPO.parent / "shared" / "corpus" / "sam-translator" / "input"


def top_rules(doc: dict[str, Any], top: int) -> list[str]:
    """The ``top`` rules with the most failing findings, as a Markdown table."""
    fails = [f for f in doc["findings"] if f["status"] == "fail"]
    by_rule = Counter(f["rule_id"] for f in fails)
    files: dict[str, set[str]] = {}
    for f in fails:
        files.setdefault(f["rule_id"], set()).add((f.get("location") or {}).get("file") or "")
    rules = doc["rules"]
    out = ["| # | Rule | Severity | Best practice | Failing findings | Files |", "|---:|---|---|---|---:|---:|"]
    ranked = sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    for i, (rule_id, count) in enumerate(ranked, start=1):
        rule = rules[rule_id]
        out.append(f"| {i} | {rule_id} `{rule['name']}` | {rule['severity']} | `{rule['lens']['choice']}` "
                   f"| {count} | {len(files[rule_id])} |")
    return out


def per_pillar(rules: Sequence[Any]) -> list[str]:
    """Rules per pillar, and the pillar's best practices that have at least one rule."""
    from walens import lens

    with_rules = {r.lens_choice for r in rules}
    out = ["| Pillar | Rules | Best practices | with a rule |", "|---|---:|---:|---:|"]
    for pillar in lens.PILLARS:
        practices = [bp for bp in lens.BEST_PRACTICES if bp.pillar == pillar.id]
        out.append(f"| {pillar.title.en} | {sum(r.pillar == pillar.id for r in rules)} | {len(practices)} "
                   f"| {sum(bp.id in with_rules for bp in practices)} |")
    out.append(f"| **Total** | **{len(rules)}** | **{len(lens.BEST_PRACTICES)}** "
               f"| **{sum(bp.id in with_rules for bp in lens.BEST_PRACTICES)}** |")
    return out


def per_practice(rules: Sequence[Any], doc: dict[str, Any] | None) -> list[str]:
    """All 38 best practices: check kind, tier, rules, and (with a review) corpus failures per practice."""
    from walens import lens

    by_choice: dict[str, list[str]] = {}
    for rule in sorted(rules, key=lambda r: r.id):
        by_choice.setdefault(rule.lens_choice, []).append(rule.id)
    fails = Counter(f["lens"]["choice"] for f in (doc or {}).get("findings", []) if f["status"] == "fail")
    head = "| Question | Best practice | Tier | Check | Rules | IDs |" + (" Corpus fails |" if doc else "")
    out = [head, "|---|---|---|---|---:|---|" + ("---:|" if doc else "")]
    for bp in lens.BEST_PRACTICES:
        ids = by_choice.get(bp.id, [])
        missing = " **(none)**" if not ids and bp.check in (lens.Check.AUTO, lens.Check.PARTIAL) else ""
        row = (f"| {lens.question(bp.question).label} | `{bp.id}` {bp.title.en} | {bp.tier} | {bp.check} "
               f"| {len(ids)} | {', '.join(ids) or '—'}{missing} |")
        out.append(row + (f" {fails.get(bp.id, 0)} |" if doc else ""))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="templates, folders or globs (default: the SAM translator corpus)")
    parser.add_argument("--top", type=int, default=10, help="how many of the most-firing rules to list (default 10)")
    parser.add_argument("--no-scan", action="store_true", help="only the catalogue tables, no corpus scan")
    args = parser.parse_args(argv)

    from walens.pipeline import scan_templates
    from walens.rules import load_rules

    rules = load_rules()
    doc = None
    out: list[str] = []
    if not args.no_scan:
        paths = args.paths or [str(CORPUS_INPUT)]
        if not args.paths and not CORPUS_INPUT.is_dir():
            parser.error(f"no corpus at {CORPUS_INPUT}; pass template paths or --no-scan")
        doc = scan_templates(paths, fail_on="never")
        statuses = Counter(f["status"] for f in doc["findings"])
        out += [f"## The {args.top} rules that fire most often", "",
                f"{len(doc['scan']['inputs'])} templates reviewed, {len(doc['errors'])} input errors, "
                f"{len(doc['skipped'])} skipped; findings: "
                + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())), "",
                *top_rules(doc, args.top), ""]
    out += ["## Rules per pillar", "", *per_pillar(rules), "",
            "## Rules per best practice", "", *per_practice(rules, doc)]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
