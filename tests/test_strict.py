"""``--strict``: what could not be judged fails the run (exit 5), in template and account mode.

A denied listing leaves the rules on what it lists ``not_assessed`` (one result per rule and region),
and their best practice "not assessed", never "not applicable" (which the WA Tool push would record).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_cli import walens

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  TracingMode:
    Type: String
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      InlineCode: "def handler(e, c): return e"
      Tracing: !Ref TracingMode
"""
TRACING = "ops_ops_q1_a3"  # OPS001's best practice


def _template(tmp_path: Path) -> str:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return str(path)


def test_template_not_assessed_fails_only_under_strict(tmp_path: Path) -> None:
    path = _template(tmp_path)
    plain = walens("scan", "template", path, "--select", "OPS001", "--fail-on", "never", "--format", "json")
    strict = walens("scan", "template", path, "--select", "OPS001", "--fail-on", "never", "--format", "json",
                    "--strict")
    assert plain.returncode == 0, plain.stderr
    assert strict.returncode == 5, strict.stderr
    doc = json.loads(strict.stdout)
    assert [(f["rule_id"], f["status"]) for f in doc["findings"]] == [("OPS001", "not_assessed")]
    assert doc["summary"]["incomplete"] is True and doc["summary"]["not_assessed"] == 1
    assert json.loads(plain.stdout)["summary"]["incomplete"] is False
    lens = {e["choice"]: e["status"] for e in doc["lens"]}
    assert lens[doc["findings"][0]["lens"]["choice"]] == "not_assessed"


def test_strict_passes_a_complete_review(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("!Ref TracingMode", "Active"))
    proc = walens("scan", "template", str(path), "--select", "OPS001", "--strict", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["incomplete"] is False


def test_strict_incomplete_wins_over_failing_findings(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    bad = TEMPLATE + """\
  Bad:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: index.handler
      InlineCode: "def handler(e, c): return e"
"""
    path.write_text(bad)
    assert walens("scan", "template", str(path), "--select", "OPS001", "--fail-on", "low").returncode == 1
    assert walens("scan", "template", str(path), "--select", "OPS001", "--fail-on", "low",
                  "--strict").returncode == 5


# ---- account mode (moto) -------------------------------------------------------------------------

moto = pytest.importorskip("moto")


@pytest.fixture
def denied_functions(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_account_gaps import _deny
    from test_account_scan import seed

    seed()
    _deny(monkeypatch, "lambda:ListFunctions")


def _scan(**kw: Any) -> dict[str, Any]:
    from test_account_scan import REGION

    from walens.pipeline import scan_account

    return scan_account(regions=[REGION], services=["lambda"], select=["OPS001"], fail_on="never", **kw)


from test_account_scan import aws  # noqa: E402,F401


def test_denied_listing_is_not_assessed_never_not_applicable(denied_functions: None) -> None:
    from test_account_scan import REGION

    doc = _scan()
    findings = [(f["rule_id"], f["status"], f["resource"]["name"], f["resource"]["region"]) for f in doc["findings"]]
    assert findings == [("OPS001", "not_assessed", "*", REGION)]
    gap = next(g for g in doc["gaps"] if g["operation"] == "ListFunctions")
    assert doc["findings"][0]["reason"] == gap["reason"] and "denied" in gap["reason"]
    assert "OPS001" in gap["rules"]
    lens = {e["choice"]: e["status"] for e in doc["lens"]}
    assert lens[TRACING] == "not_assessed"
    assert doc["summary"]["incomplete"] is False  # not strict


def test_denied_listing_fails_the_account_scan_under_strict(denied_functions: None) -> None:
    from typer.testing import CliRunner

    from test_account_scan import REGION
    from walens.cli import app

    runner = CliRunner()
    base = ["scan", "account", "--region", REGION, "--services", "lambda", "--select", "OPS001",
            "--fail-on", "never", "--format", "json"]
    plain = runner.invoke(app, base)
    strict = runner.invoke(app, [*base, "--strict"])
    assert plain.exit_code == 0, plain.output
    assert strict.exit_code == 5, strict.output
    doc = json.loads(strict.stdout)
    assert doc["summary"]["strict"] is True and doc["summary"]["gaps"] >= 1


def test_the_wa_tool_push_leaves_a_not_assessed_practice_alone(denied_functions: None) -> None:
    from walens import watool

    intents = watool.intents(_scan())
    assert intents[TRACING].action == "none"


def test_coverage_is_counted_and_shown_at_the_top_of_the_console_report(tmp_path: Path) -> None:
    path = _template(tmp_path)
    doc = json.loads(walens("scan", "template", path, "--fail-on", "never", "--format", "json").stdout)
    coverage = doc["summary"]["coverage"]
    judged = sum(1 for f in doc["findings"] if f["status"] != "not_assessed")
    assert coverage["assessed"] == judged and coverage["not_assessed"] == 1
    assert coverage["by_pillar"]["operationalExcellence"]["not_assessed"] == 1
    assert TRACING in coverage["practices_not_assessed"]
    text = walens("scan", "template", path, "--fail-on", "never").stdout
    lines = text.splitlines()
    line = next(i for i, x in enumerate(lines) if x.startswith("Coverage: "))
    assert lines[line] == f"Coverage: {judged} results judged, 1 not assessed (Operational Excellence 1); --strict fails on these"
    assert line < next(i for i, x in enumerate(lines) if x == "Failing findings")
