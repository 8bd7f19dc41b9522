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
    """The scan above did not raise (a rule or fact crashing on a shape would); every input is accounted for."""
    doc = corpus_review
    files = {str(p) for p in INPUT.glob("*.yaml")}
    reviewed = {i["path"] for i in doc["scan"]["inputs"]}
    errored = {e["file"] for e in doc["errors"]}
    skipped = {s["path"] for s in doc["skipped"]}
    assert reviewed | errored | skipped == files and not reviewed & errored
    # What is not reviewed is an input error the user can act on: the deliberately invalid error_* inputs, and
    # two that CloudFormation rejects too (a resource whose Type is a mapping, a resource with no Type).
    assert {e["kind"] for e in doc["errors"]} <= INPUT_ERROR_KINDS, Counter(e["kind"] for e in doc["errors"])
    assert sorted(Path(f).name for f in files - reviewed if not Path(f).name.startswith("error_")) == [
        "resource_with_invalid_type.yaml", "unsupported_resources.yaml"]
    assert len(reviewed) >= 750
    # The rules judged what they read: each outcome occurs, and failures come from many rules, not one.
    assert {f["status"] for f in doc["findings"]} == {"fail", "pass", "not_assessed"}
    assert len({f["rule_id"] for f in doc["findings"] if f["status"] == "fail"}) >= 30


def test_no_rule_reports_on_a_resource_type_it_does_not_declare(corpus_review: dict[str, Any]) -> None:
    declared = {r.id: set(r.resource_types) for r in load_rules()}
    wrong = sorted({(f["rule_id"], f["resource"]["type"], Path(f["location"]["file"]).name if f["location"] else "")
                    for f in corpus_review["findings"] if f["resource"]["type"] not in declared[f["rule_id"]]})
    assert wrong == [], f"findings on resource types the rule does not declare in `resource:`: {wrong[:20]}"


def test_every_finding_carries_the_authors_line(corpus_review: dict[str, Any]) -> None:
    # Resources SAM generates point at the line of the SAM resource they came from.
    missing = sorted({(f["rule_id"], f["resource"]["id"], Path(f["location"]["file"]).name if f["location"] else "")
                      for f in corpus_review["findings"] if not (f["location"] or {}).get("line")})
    assert missing == [], missing[:20]


def test_rule_counts_script_counts_what_the_review_found(corpus_review: dict[str, Any]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("rule_counts", REPO / "benchmarks" / "rule_counts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fails = [f for f in corpus_review["findings"] if f["status"] == "fail"]
    by_rule = Counter(f["rule_id"] for f in fails)
    files: dict[str, set[str]] = {}
    for f in fails:
        files.setdefault(f["rule_id"], set()).add(f["location"]["file"])
    # Top rules: most failing findings first, ties by rule ID; the files column counts distinct files.
    want = sorted(by_rule, key=lambda r: (-by_rule[r], r))[:10]
    rows = [[c.strip() for c in row.strip("|").split("|")] for row in module.top_rules(corpus_review, 10)[2:]]
    assert [(row[1].split()[0], int(row[4]), int(row[5])) for row in rows] == [
        (r, by_rule[r], len(files[r])) for r in want]
    # Per practice: the rules of each best practice and the failures of the corpus on it.
    rules = load_rules()
    by_choice = Counter(f["lens"]["choice"] for f in fails)
    ids: dict[str, list[str]] = {}
    for rule in rules:
        ids.setdefault(rule.lens_choice, []).append(rule.id)
    rows = [[c.strip() for c in row.strip("|").split("|")] for row in module.per_practice(rules, corpus_review)[2:]]
    got = {row[1].split("`")[1]: (int(row[4]), row[5].removesuffix(" **(none)**"), int(row[6])) for row in rows}
    assert got == {bp.id: (len(ids.get(bp.id, [])), ", ".join(sorted(ids.get(bp.id, []))) or "—",
                           by_choice[bp.id]) for bp in lens.BEST_PRACTICES}
    with_rules = {r.lens_choice for r in rules}
    assert module.per_pillar(rules)[-1] == f"| **Total** | **{len(rules)}** | **38** | **{len(with_rules)}** |"
