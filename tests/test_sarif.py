"""SARIF 2.1.0: the log validates against the vendored schema and says exactly what the review says."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from walens.reporters import render
from walens.reporters.sarif import SCHEMA_URI, artifact_uri

HERE = Path(__file__).resolve().parent / "fixtures" / "reporters"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((HERE / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sample() -> dict[str, Any]:
    return json.loads((HERE / "review.json").read_text(encoding="utf-8"))


def sarif(doc: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    return json.loads(render("sarif", doc, lang))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sarif_validates_against_the_schema(validator: jsonschema.protocols.Validator, lang: str) -> None:
    log = sarif(sample(), lang)
    assert [e.message for e in validator.iter_errors(log)] == []
    assert log["$schema"] == SCHEMA_URI and log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_the_schema_rejects_what_sarif_forbids(validator: jsonschema.protocols.Validator) -> None:
    log = sarif(sample())
    bad = copy.deepcopy(log)
    bad["runs"][0]["results"][0]["level"] = "critical"
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(log)
    del bad["runs"][0]["tool"]["driver"]["name"]
    assert not validator.is_valid(bad)
    bad = copy.deepcopy(log)
    bad["runs"][0]["results"][0]["suppressions"] = [{"kind": "because"}]
    assert not validator.is_valid(bad)


def test_results_are_the_failing_and_suppressed_findings() -> None:
    run = sarif(sample())["runs"][0]
    got = {
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"],
         r["locations"][0]["logicalLocations"][0]["name"], tuple(s["kind"] for s in r.get("suppressions", [])))
        for r in run["results"]
    }
    orders, payments = "examples/orders/template.yaml", "examples/payments/template.yml"
    assert got == {
        ("COST001", "error", orders, 24, "OrdersFunction", ()),
        ("SEC001", "error", orders, 41, "OrdersApiOrdersGetMethod", ()),
        ("SEC002", "error", payments, 18, "PaymentsFunctionRole", ()),
        ("SEC002", "error", orders, 24, "OrdersFunctionRole", ("inSource",)),
        ("OPS001", "warning", orders, 24, "OrdersFunction", ()),
        ("OPS002", "warning", payments, 18, "PaymentsFunction", ()),
        ("REL001", "warning", orders, 62, "OrdersQueue", ()),
        ("REL002", "warning", orders, 41, "OrdersApiprodStage", ()),
        ("PERF001", "note", orders, 24, "OrdersFunction", ()),
        ("COST002", "note", payments, 18, "PaymentsFunction", ()),
    }
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for r in run["results"]:
        assert rules[r["ruleIndex"]] == r["ruleId"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert r["locations"][0]["physicalLocation"]["region"]["startColumn"] == 3
        assert set(r["partialFingerprints"]) == {"walens/v1"} and len(r["partialFingerprints"]["walens/v1"]) == 32
    suppressed = next(r for r in run["results"] if r.get("suppressions"))
    assert suppressed["suppressions"][0]["justification"].startswith("walens:ignore[lambda-role-wildcard-action]")
    role = suppressed["locations"][0]["logicalLocations"][0]
    assert role == {"name": "OrdersFunctionRole", "kind": "resource",
                    "properties": {"type": "AWS::IAM::Role", "origin": "OrdersFunction",
                                   "originType": "AWS::Serverless::Function"}}


def test_config_suppression_is_external() -> None:
    doc = sample()
    for f in doc["findings"]:
        if f["status"] == "suppressed":
            f["suppression"] = {"kind": "config", "reason": "accepted in .walens.yml"}
            f["reason"] = "accepted in .walens.yml"
    kinds = [s["kind"] for r in sarif(doc)["runs"][0]["results"] for s in r.get("suppressions", [])]
    assert kinds == ["external"]


def test_rules_carry_texts_tags_and_security_severity() -> None:
    driver = sarif(sample(), "ja")["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("walens", "0.1.0")
    by_id = {r["id"]: r for r in driver["rules"]}
    assert list(by_id) == sorted(sample()["rules"])
    # Every rule, whatever its pillar, carries GitHub's ranking score (in its documented band) and problem severity.
    assert {k: (r["properties"]["security-severity"], r["properties"]["problem.severity"]) for k, r in by_id.items()} == {
        "COST001": ("8.0", "error"), "COST002": ("0.1", "recommendation"), "OPS001": ("5.5", "warning"),
        "OPS002": ("5.5", "warning"), "PERF001": ("3.0", "recommendation"), "REL001": ("5.5", "warning"),
        "REL002": ("5.5", "warning"), "SEC001": ("8.0", "error"), "SEC002": ("8.0", "error")}
    assert {k: r["defaultConfiguration"]["level"] for k, r in by_id.items()} == {
        "COST001": "error", "COST002": "note", "OPS001": "warning", "OPS002": "warning", "PERF001": "note",
        "REL001": "warning", "REL002": "warning", "SEC001": "error", "SEC002": "error"}
    cost = by_id["COST001"]
    assert cost["name"] == "lambda-log-retention-unset"
    assert cost["shortDescription"]["text"] == "Lambda 関数のログが無期限に保持されている"
    assert cost["fullDescription"]["text"].startswith("Lambda は有効期限なしでロググループを作成する")
    assert cost["properties"]["tags"] == ["costOptimization", "cost_cost_q1_a2"]
    assert cost["helpUri"] == ("https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"
                               "Working-with-log-groups-and-streams.html#SettingLogRetention")
    assert "```yaml\nOrdersFunctionLogGroup:\n" in cost["help"]["markdown"]
    assert "RetentionInDays: 30" in cost["help"]["text"]


def test_invocation_reports_unreadable_files_as_notifications() -> None:
    inv = sarif(sample())["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert [(n["level"], n["descriptor"]["id"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for n in inv["toolExecutionNotifications"]] == [
        ("error", "input-error/yaml", "examples/broken/template.yaml"),
        ("error", "input-error/duplicate-key", "examples/legacy/template.json"),
        ("note", "input-skipped", "examples/orders/package.json"),
    ]
    clean = sample()
    clean["errors"], clean["skipped"] = [], []
    inv = sarif(clean)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is True and "toolExecutionNotifications" not in inv


def test_artifact_uris_are_relative_with_forward_slashes() -> None:
    assert artifact_uri("examples\\orders\\template.yaml") == ("examples/orders/template.yaml", "%SRCROOT%")
    assert artifact_uri("./template.yaml") == ("template.yaml", "%SRCROOT%")
    assert artifact_uri("<stdin>") == ("%3Cstdin%3E", "%SRCROOT%")
    assert artifact_uri("dir with space/t.yaml") == ("dir%20with%20space/t.yaml", "%SRCROOT%")
    assert artifact_uri(os.path.join(os.getcwd(), "a", "t.yaml")) == ("a/t.yaml", "%SRCROOT%")
    outside = os.path.join(os.path.dirname(os.getcwd()), "elsewhere", "t.yaml")
    assert artifact_uri(outside) == ("file://" + outside, None)


def test_hostile_review_still_validates(validator: jsonschema.protocols.Validator) -> None:
    doc = sample()
    for f in doc["findings"]:
        f["location"]["file"] = 'dir/"><img src=x onerror=alert(1)>/t.yaml'
        f["message"] = "<script>alert(1)</script>"
    for rule in doc["rules"].values():
        rule["references"] = ["javascript:alert(1)"]
    log = sarif(doc)
    assert [e.message for e in validator.iter_errors(log)] == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r for r in rules if "helpUri" in r] == []
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]} == {
        "dir/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/t.yaml"}


def github_band(score: str) -> str:
    """GitHub code scanning's documented bands for security-severity."""
    value = float(score)
    return "critical" if value >= 9.0 else "high" if value >= 7.0 else "medium" if value >= 4.0 else "low"


@pytest.mark.parametrize("severity", ["high", "medium", "low", "info"])
def test_every_severity_lands_in_its_github_band_and_sorts_in_order(
        validator: jsonschema.protocols.Validator, severity: str) -> None:
    doc = sample()
    for rule in doc["rules"].values():
        rule["severity"] = severity
    log = sarif(doc)
    assert [e.message for e in validator.iter_errors(log)] == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    scores = {r["properties"]["security-severity"] for r in rules}
    assert len(scores) == 1
    (score,) = scores
    assert github_band(score) == {"high": "high", "medium": "medium", "low": "low", "info": "low"}[severity]
    assert 0.0 < float(score) <= 10.0
    assert {r["properties"]["problem.severity"] for r in rules} <= {"error", "warning", "recommendation"}
    from walens.reporters.sarif import SECURITY_SEVERITY
    ordered = [float(SECURITY_SEVERITY[s]) for s in ("high", "medium", "low", "info")]
    assert ordered == sorted(ordered, reverse=True) and len(set(ordered)) == 4
