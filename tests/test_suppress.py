"""Suppressions: inline, template-level and configured, each with a reason; malformed and unused ones reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from walens.config import load_config
from walens.pipeline import scan_templates
from walens.reporters import render

REPO = Path(__file__).resolve().parents[1]
SUPPRESS = REPO / "tests" / "fixtures" / "suppress"
TEMPLATE = SUPPRESS / "template.yaml"


def results(doc: dict) -> dict[tuple[str, str], dict]:
    return {(f["rule_id"], f["resource"]["origin"]): f for f in doc["findings"]}


def scan(tmp_path: Path, config: str = "", *, unused: bool = False, template: Path = TEMPLATE) -> dict:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / ".walens.yml").write_text(config + ("report_unused_suppressions: true\n" if unused else ""))
    target = tmp_path / "templates" / template.name
    target.parent.mkdir(exist_ok=True)
    target.write_text(template.read_text())
    return scan_templates([str(target)], config=load_config(start=str(tmp_path)))


def test_without_suppressions_these_findings_fail(tmp_path: Path) -> None:
    doc = scan(tmp_path, template=SUPPRESS / "clean.yaml")
    found = results(doc)
    for rule in ("COST001", "COST003", "OPS001", "PERF001"):
        assert found[(rule, "OrdersFunction")]["status"] == "fail", rule


def test_inline_suppression_by_id_and_by_name_on_a_sam_resource(tmp_path: Path) -> None:
    found = results(scan(tmp_path))
    cost = found[("COST001", "OrdersFunction")]
    assert cost["status"] == "suppressed"
    assert cost["reason"] == "logs are exported to S3 by a subscription filter"
    assert cost["suppression"] == {"kind": "inline", "reason": cost["reason"]}
    tracing = found[("OPS001", "OrdersFunction")]  # written as the rule's name
    assert tracing["status"] == "suppressed" and tracing["suppression"]["kind"] == "inline"


def test_sam_suppression_applies_to_what_sam_derives(tmp_path: Path) -> None:
    doc = scan(tmp_path)
    derived = [f for f in doc["findings"] if f["resource"]["origin"] == "OrdersFunction"
               and f["resource"]["id"] != "OrdersFunction" and f["rule_id"] == "COST001"]
    # COST001 is reported on the generated AWS::Lambda::Function, whose origin is the authored resource
    assert all(f["status"] == "suppressed" for f in derived)
    assert results(doc)[("COST001", "OrdersFunction")]["resource"]["type"] == "AWS::Lambda::Function"


def test_template_level_suppression_with_resource_globs(tmp_path: Path) -> None:
    found = results(scan(tmp_path))
    assert found[("COST003", "OrdersFunction")]["status"] == "suppressed"
    assert found[("COST003", "OrdersFunction")]["suppression"]["kind"] == "template"
    assert found[("COST003", "PaymentsFunction")]["status"] == "fail"  # not matched by Orders*


def test_suppression_without_a_reason_is_not_applied_and_is_reported(tmp_path: Path) -> None:
    doc = scan(tmp_path)
    assert results(doc)[("PERF001", "OrdersFunction")]["status"] == "fail"
    problems = [e for e in doc["errors"] if e["kind"] == "suppression"]
    no_reason = next(e for e in problems if "PERF001" in e["message"])
    assert no_reason["line"] == 20 and no_reason["file"].endswith("template.yaml")
    assert "has no reason" in no_reason["message"] and "not applied" in no_reason["message"]
    unknown = next(e for e in problems if "NOPE999" in e["message"])
    assert unknown["line"] == 21 and "unknown rule" in unknown["message"]
    assert len(problems) == 2


def test_config_suppression_by_rule_resource_and_file_glob(tmp_path: Path) -> None:
    config = ("suppressions:\n"
              "  - {rule: OPS007, resource: 'Pay*', file: 'templates/*.yaml', reason: 'JSON logs next quarter'}\n"
              "  - {rule: lambda-timeout-extreme, resource: '*', file: 'elsewhere/**', reason: 'other files only'}\n")
    found = results(scan(tmp_path, config))
    ops = found[("OPS007", "PaymentsFunction")]
    assert ops["status"] == "suppressed" and ops["suppression"] == {"kind": "config", "reason": "JSON logs next quarter"}
    assert found[("OPS007", "OrdersFunction")]["status"] == "fail"
    assert found[("PERF002", "OrdersFunction")]["status"] == "fail"  # file glob does not match


def test_passing_results_are_never_suppressed(tmp_path: Path) -> None:
    plain = scan(tmp_path)
    doc = scan(tmp_path, "suppressions:\n  - {rule: '*', resource: '*', reason: 'everything'}\n")
    before = {k: f["status"] for k, f in results(plain).items()}
    after = {k: f["status"] for k, f in results(doc).items()}
    assert "pass" in before.values() and "fail" in before.values()
    for key, status in before.items():
        assert after[key] == ("suppressed" if status in ("fail", "suppressed") else status), key


def test_unused_suppressions_are_reported_and_fail_the_gate(tmp_path: Path) -> None:
    config = "suppressions:\n  - {rule: REL001, resource: 'Nothing*', reason: 'no such resource'}\n"
    doc = scan(tmp_path, config + "fail_on: never\n", unused=True)
    assert doc["summary"]["failed"] is False  # never means never
    doc = scan(tmp_path, config + "select: [SEC001, REL001, COST001]\n", unused=True)
    unused = {(u["kind"], u["rule_id"], u["resource"]) for u in doc["unused_suppressions"]}
    assert unused == {("inline", "SEC001", "PaymentsFunction"), ("config", "REL001", "Nothing*")}
    inline = next(u for u in doc["unused_suppressions"] if u["kind"] == "inline")
    assert inline["line"] == 32 and inline["reason"].startswith("stale")
    assert doc["summary"]["unused_suppressions"] == 2 and doc["summary"]["failed"] is True


def test_unused_ignores_rules_that_did_not_run(tmp_path: Path) -> None:
    doc = scan(tmp_path, "select: [COST001]\n", unused=True)
    assert doc["unused_suppressions"] == []  # SEC001 did not run: its suppression cannot be judged


def test_every_reporter_shows_suppressed_findings_with_their_reason(tmp_path: Path) -> None:
    doc = scan(tmp_path, unused=True)
    reason = "logs are exported to S3 by a subscription filter"
    for fmt in ("console", "markdown", "html", "junit"):
        text = render(fmt, doc, "en")
        assert reason in text, fmt
        assert "stale: this function no longer has the problem SEC001" in text, fmt
    sarif = json.loads(render("sarif", doc, "en"))
    results_ = sarif["runs"][0]["results"]
    suppressed = [r for r in results_ if r.get("suppressions")]
    assert {r["suppressions"][0]["justification"] for r in suppressed} >= {reason}
    assert all(r["suppressions"][0]["kind"] == "inSource" for r in suppressed)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(n["descriptor"]["id"] == "unused-suppression" for n in notes)
    ja = render("console", doc, "ja")
    assert "テンプレート内で抑制" in ja and "使われていない抑制" in ja


def test_cli_exit_codes(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.yaml").write_text(TEMPLATE.read_text())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "walens", "scan", "template", "t.yaml", *args],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"})

    proc = run("--fail-on", "never")
    assert proc.returncode == 3  # the malformed suppressions are input problems
    assert "t.yaml:20: resource OrdersFunction: Metadata.walens.ignore[2]: suppression of PERF001 has no reason" in proc.stdout
    fixed = TEMPLATE.read_text().replace("          - id: PERF001\n", "          - id: PERF001\n            reason: ok\n")
    fixed = fixed.replace("          - id: NOPE999\n            reason: \"a rule that does not exist\"\n", "")
    (tmp_path / "t.yaml").write_text(fixed)
    assert run("--fail-on", "never").returncode == 0
    proc = run("--fail-on", "never", "--report-unused-suppressions")
    assert proc.returncode == 0 and "Unused suppressions (1)" in proc.stdout
    assert run("--fail-on", "info", "--select", "SEC001", "--report-unused-suppressions").returncode == 1
