"""The whole rule catalogue over the 831 SAM translator inputs: no crash, and rules stay on their own resource types.

The corpus is scanned once (module fixture) with every built-in rule, in process, so an exception a rule or a fact
raises on a shape nobody wrote a fixture for fails here with its traceback.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from corpus import INPUT
from walens import lens
from walens.pipeline import scan_templates
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
INPUT_ERROR_KINDS = {"io", "binary", "encoding", "too-large", "too-deep", "yaml", "json", "structure", "sam"}

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus_review() -> dict[str, Any]:
    return scan_templates([str(INPUT)], fail_on="never")


def test_every_rule_runs_over_the_corpus_without_an_internal_error(corpus_review: dict[str, Any]) -> None:
    doc = corpus_review
    catalogue = {r.id for r in load_rules()}
    assert set(doc["rules"]) == catalogue
    # What is not reviewed is an input error the user can act on (a deliberately invalid translator input),
    # never an internal one; and nearly every input is reviewed.
    assert {e["kind"] for e in doc["errors"]} <= INPUT_ERROR_KINDS, Counter(e["kind"] for e in doc["errors"])
    assert len(doc["scan"]["inputs"]) >= 750
    assert {f["status"] for f in doc["findings"]} <= {"fail", "pass", "not_assessed"}
    assert any(f["status"] == "fail" for f in doc["findings"])
    # Coverage covers all 38 best practices whatever the rules found.
    assert [e["choice"] for e in doc["lens"]] == [bp.id for bp in lens.BEST_PRACTICES]


def test_no_rule_reports_on_a_resource_type_it_does_not_declare(corpus_review: dict[str, Any]) -> None:
    declared = {r.id: set(r.resource_types) for r in load_rules()}
    wrong = sorted({(f["rule_id"], f["resource"]["type"], Path(f["location"]["file"]).name if f["location"] else "")
                    for f in corpus_review["findings"] if f["resource"]["type"] not in declared[f["rule_id"]]})
    assert wrong == [], f"findings on resource types the rule does not declare in `resource:`: {wrong[:20]}"


def test_every_finding_carries_its_rule_lens_and_the_authors_line(corpus_review: dict[str, Any]) -> None:
    rules = {r.id: r for r in load_rules()}
    problems = []
    for f in corpus_review["findings"]:
        rule = rules[f["rule_id"]]
        if (f["pillar"], f["lens"]["choice"], f["lens"]["question"]) != (rule.pillar, rule.lens_choice,
                                                                          rule.lens_question):
            problems.append((f["rule_id"], "lens"))
        if not (f["location"] or {}).get("line"):
            problems.append((f["rule_id"], f"no line for {f['resource']['id']}"))
    assert problems == [], sorted(set(problems))[:20]


def test_rule_counts_script_reports_the_top_rules_and_all_38_practices(corpus_review: dict[str, Any]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("rule_counts", REPO / "benchmarks" / "rule_counts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fails = Counter(f["rule_id"] for f in corpus_review["findings"] if f["status"] == "fail")
    top = module.top_rules(corpus_review, 10)[2:]
    assert len(top) == min(10, len(fails))
    assert [int(row.split("|")[5]) for row in top] == sorted(fails.values(), reverse=True)[:10]
    rules = load_rules()
    practices = module.per_practice(rules, corpus_review)[2:]
    assert [row.split("`")[1] for row in practices] == [bp.id for bp in lens.BEST_PRACTICES]
    assert module.per_pillar(rules)[-1].startswith(f"| **Total** | **{len(rules)}** | **38** |")
