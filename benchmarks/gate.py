#!/usr/bin/env python3
"""How often the default gate fails on a public corpus, and what fails it.

Reviews every template of the corpus (default: the SAM translator inputs not named ``error_*``, which are
the translator's own invalid-input cases) and prints, as Markdown:
1. the share of templates the default gate (``--fail-on high``) fails, and at ``--fail-on medium``;
2. failing checks per template (median and quartiles: findings, and distinct rules);
3. the high rules that fire, with their failing findings and the templates they fail alone.

    python benchmarks/gate.py                 # the SAM translator corpus
    python benchmarks/gate.py PATH...         # any templates, folders or globs

Uses walens in process (the installed or checked-out package); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS_INPUT = HERE.parent.parent / "shared" / "corpus" / "sam-translator" / "input"
RANK = {"high": 3, "medium": 2, "low": 1, "info": 0}


def corpus_paths(folder: Path) -> list[str]:
    """The corpus templates a reviewer would see: every file not named ``error_*``."""
    return sorted(str(p) for p in folder.iterdir() if p.is_file() and not p.name.startswith("error_"))


def gate_report(doc: dict[str, Any]) -> list[str]:
    """The gate's failure share, failing checks per template and the high rules that fire, as Markdown."""
    inputs = [str(i["path"]) for i in doc["scan"]["inputs"]]
    failing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in doc["findings"]:
        if f["status"] == "fail" and not f.get("baselined"):
            failing[str((f.get("location") or {}).get("file") or "")].append(f)
    total = len(inputs)

    def share(threshold: str) -> tuple[int, str]:
        n = sum(1 for p in inputs if any(RANK[f["severity"]] >= RANK[threshold] for f in failing.get(p, [])))
        return n, f"{100 * n / total:.1f}%" if total else "-"

    def quartiles(values: list[int]) -> str:
        q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3 if values else [0] * 3
        return f"{statistics.median(values) if values else 0:g} (quartiles {q[0]:g}–{q[2]:g})"

    findings = [len(failing.get(p, [])) for p in inputs]
    rules = [len({f["rule_id"] for f in failing.get(p, [])}) for p in inputs]
    highs = [sum(f["severity"] == "high" for f in failing.get(p, [])) for p in inputs]
    (n_high, s_high), (n_med, s_med) = share("high"), share("medium")
    out = ["| | templates | share |", "|---|---:|---:|",
           f"| reviewed | {total} | |",
           f"| fail the default gate (`--fail-on high`) | {n_high} | **{s_high}** |",
           f"| would fail `--fail-on medium` | {n_med} | {s_med} |", "",
           f"Failing checks per template, median: {quartiles(findings)} findings, {quartiles(rules)} distinct "
           f"rules; high findings {quartiles(highs)}.", ""]
    by_rule: Counter[str] = Counter()
    files: dict[str, set[str]] = defaultdict(set)
    alone: Counter[str] = Counter()
    for path, fs in failing.items():
        high_rules = {f["rule_id"] for f in fs if f["severity"] == "high"}
        for f in fs:
            if f["severity"] == "high":
                by_rule[f["rule_id"]] += 1
                files[f["rule_id"]].add(path)
        if len(high_rules) == 1:
            alone[next(iter(high_rules))] += 1
    out += ["| High rule | Failing findings | Templates | Templates it alone fails |", "|---|---:|---:|---:|"]
    for rule_id, count in sorted(by_rule.items(), key=lambda kv: (-len(files[kv[0]]), kv[0])):
        out.append(f"| {rule_id} `{doc['rules'][rule_id]['name']}` | {count} | {len(files[rule_id])} "
                   f"| {alone.get(rule_id, 0)} |")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("paths", nargs="*", help="templates, folders or globs (default: the SAM translator corpus)")
    args = parser.parse_args(argv)

    from walens.pipeline import scan_templates

    if args.paths:
        paths = list(args.paths)
    elif CORPUS_INPUT.is_dir():
        paths = corpus_paths(CORPUS_INPUT)
    else:
        parser.error(f"no corpus at {CORPUS_INPUT}; pass template paths")
    doc = scan_templates(paths, fail_on="never")
    where = "the SAM translator corpus (templates not named error_*)" if not args.paths else ", ".join(args.paths)
    out = [f"## The default gate on {where}", "",
           f"{len(doc['scan']['inputs'])} templates reviewed, {len(doc['errors'])} input errors.", "",
           *gate_report(doc)]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
