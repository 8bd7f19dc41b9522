"""Every rule against its fixtures: the exact set of (rule, authored resource, status, line).

Convention (docs/ARCHITECTURE.md §7): in ``tests/fixtures/rules/<ID>/*.yaml`` every resource the rule
judges whose authored logical ID starts with ``Bad`` fails, ``Good`` passes, ``Unknown`` ends
``not_assessed``; no other resource gives a result for that rule. Helper resources use other names.
A fixture's file name says what it shows: ``fail*.yaml`` a failure, ``pass*.yaml`` a pass and no failure,
``unknown*.yaml`` a ``not_assessed``; each is scanned and its results checked. Files in subfolders
(e.g. state machine definitions a fixture points to) are the fixtures' inputs, not fixtures.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

import walens.facts.runtime
from walens.pipeline import scan_templates
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "rules"
# Account-only rules (scope [account]) judge what only a live account shows: no template can exercise
# them; the account scan tests (tests/test_account_*.py) do.
RULES = {rule.id: rule for rule in load_rules() if "template" in rule.scope}
PREFIXES = {"Bad": "fail", "Good": "pass", "Unknown": "not_assessed"}
# What the results of a fixture must include, by the start of its file name.
KINDS = {"fail": "fail", "pass": "pass", "unknown": "not_assessed"}
# Runtime lifecycle states depend on the date; fixtures are written for this one.
FIXTURE_DAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # walens.facts.runtime documents today() as the hook for the evaluation date.
    monkeypatch.setattr(walens.facts.runtime, "today", lambda: FIXTURE_DAY)


def _cases() -> list[tuple[str, Path]]:
    return [(d.name, f) for d in sorted(FIXTURES.iterdir()) if d.is_dir() for f in sorted(d.glob("*.yaml"))]


def expected(rule_id: str, path: Path) -> set[tuple[str, str, str, int]]:
    """(rule, logical ID, status, line) for every top-level resource named by the convention."""
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    resources = next(value for key, value in root.value if key.value == "Resources")
    out = set()
    for key, _ in resources.value:
        for prefix, status in PREFIXES.items():
            if key.value.startswith(prefix):
                out.add((rule_id, key.value, status, key.start_mark.line + 1))
    return out


def outcomes(doc: dict, rule_id: str) -> set[tuple[str, str, str, int]]:
    return {(f["rule_id"], f["resource"]["origin"], f["status"], f["location"]["line"])
            for f in doc["findings"] if f["rule_id"] == rule_id}


@pytest.mark.parametrize(("rule_id", "path"), _cases(), ids=[f"{r}/{p.name}" for r, p in _cases()])
def test_fixture(rule_id: str, path: Path) -> None:
    doc = scan_templates([str(path)], select=[rule_id])
    assert doc["errors"] == [] and doc["skipped"] == []
    want = expected(rule_id, path)
    assert want, f"{path} names no Bad/Good/Unknown resource"
    got = outcomes(doc, rule_id)
    assert got == want
    statuses = {status for _, _, status, _ in got}
    assert KINDS[path.name.split("_")[0].removesuffix(".yaml")] in statuses, f"{path.name}: {statuses}"
    if path.name.startswith("pass"):
        assert "fail" not in statuses


def test_every_rule_has_both_fixtures_and_no_fixture_lacks_a_rule() -> None:
    dirs = {d.name for d in FIXTURES.iterdir() if d.is_dir()}
    assert dirs == set(RULES)
    for rule_id in RULES:
        assert (FIXTURES / rule_id / "fail.yaml").is_file(), rule_id
        assert (FIXTURES / rule_id / "pass.yaml").is_file(), rule_id


def test_every_file_beside_the_fixtures_is_a_fixture_that_says_what_it_shows() -> None:
    cases = {path for _, path in _cases()}
    files = {f for d in FIXTURES.iterdir() if d.is_dir() for f in d.iterdir() if f.is_file()}
    assert files == cases, sorted(str(f.relative_to(FIXTURES)) for f in files ^ cases)
    unnamed = sorted(str(p.relative_to(FIXTURES)) for p in cases if p.name.split("_")[0].removesuffix(".yaml")
                     not in KINDS)
    assert unnamed == [], f"fixture names must start with one of {sorted(KINDS)}"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_remediation_example_passes(rule_id: str, tmp_path: Path) -> None:
    example = RULES[rule_id].remediation["example"]
    data = yaml.safe_load(example.replace("!Ref", "").replace("!GetAtt", ""))
    if "Resources" not in data:  # a fragment: wrap it in a minimal SAM template
        example = "Transform: AWS::Serverless-2016-10-31\n" + example
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    doc = scan_templates([str(path)], select=[rule_id])
    assert doc["errors"] == []
    assert {f["status"] for f in doc["findings"]} == {"pass"}


CFN_EXAMPLES = sorted(rule_id for rule_id, rule in RULES.items() if "example_cfn" in rule.remediation)


@pytest.mark.parametrize("rule_id", CFN_EXAMPLES)
def test_remediation_example_cfn_passes(rule_id: str, tmp_path: Path) -> None:
    """The plain CloudFormation example is a whole template without a Transform and passes the rule."""
    example = RULES[rule_id].remediation["example_cfn"]
    data = yaml.compose(example, Loader=yaml.SafeLoader)  # tags (!Ref, !GetAtt) left as they are
    keys = {key.value for key, _ in data.value}
    assert "Resources" in keys and "Transform" not in keys, rule_id
    path = tmp_path / "example_cfn.yaml"
    path.write_text(example, encoding="utf-8")
    doc = scan_templates([str(path)], select=[rule_id])
    assert doc["errors"] == [] and doc["skipped"] == []
    assert {f["status"] for f in doc["findings"]} == {"pass"}
    assert doc["rules"][rule_id]["remediation"]["example_cfn"] == example


def test_some_rules_have_a_cloudformation_example() -> None:
    # A SAM example spells most settings differently from plain CloudFormation (Tracing vs TracingConfig,
    # Events vs EventSourceMapping, the implicit stage...): those rules carry example_cfn too.
    assert len(CFN_EXAMPLES) >= 30
    for rule_id in CFN_EXAMPLES:
        assert "AWS::Serverless-2016-10-31" in RULES[rule_id].remediation["example"], rule_id


VARIANT_EXAMPLES = sorted((rule_id, key) for rule_id, rule in RULES.items() for key in rule.remediation
                          if key.startswith("example_") and key != "example_cfn")


@pytest.mark.parametrize(("rule_id", "key"), VARIANT_EXAMPLES)
def test_remediation_example_for_a_kind_of_api_passes_and_is_that_kind(rule_id: str, key: str, tmp_path: Path) -> None:
    """example_rest/http/websocket: a whole template whose resources of the rule's types are of that kind of
    API, and pass the rule."""
    example = RULES[rule_id].remediation[key]
    path = tmp_path / f"{key}.yaml"
    path.write_text(example, encoding="utf-8")
    doc = scan_templates([str(path)], select=[rule_id])
    assert doc["errors"] == [] and doc["skipped"] == []
    assert doc["findings"] and {f["status"] for f in doc["findings"]} == {"pass"}
    assert {f.get("example") for f in doc["findings"]} == {key}
