"""Baselines: only new failures fail; fingerprints survive reformatting and line moves; fixed ones are reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from walens import baseline as bl
from walens.config import load_config
from walens.errors import UsageError
from walens.pipeline import scan_templates
from walens.reporters import render

REPO = Path(__file__).resolve().parents[1]

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
"""

# The same template reformatted: comments, blank lines, flow style, another indentation, moved lines.
REFORMATTED = """\
# orders service
AWSTemplateFormatVersion: '2010-09-09'

Transform: AWS::Serverless-2016-10-31

Resources:

    OrdersFunction:
        Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.13}
        Type: AWS::Serverless::Function
"""

NEW_PROBLEM = REFORMATTED + """\
    PaymentsFunction:
        Type: AWS::Serverless::Function
        Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.13}
"""


def walens(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}, timeout=120)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def scan(root: Path, baseline: str | None = None, cwd: Path | None = None) -> dict:
    cfg = load_config(start=str(cwd or root)).with_flags(baseline=baseline, fail_on="info")
    return scan_templates([str(root / "stacks")], config=cfg)


def failing(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]["origin"]) for f in doc["findings"]
            if f["status"] == "fail" and not f.get("baselined")}


def test_create_records_failing_findings_relative_to_the_repository_root(project: Path) -> None:
    proc = walens(project / "stacks", "baseline", "create", "--output", str(project / "b.json"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads((project / "b.json").read_text())
    assert data["walens_baseline"] == 1
    files = {e["file"] for e in data["findings"]}
    assert files == {"stacks/template.yaml"}  # relative to the repository root, from a subdirectory too
    doc = scan(project)
    assert {e["fingerprint"] for e in data["findings"]} == {f["fingerprint"] for f in doc["findings"]
                                                           if f["status"] == "fail"}
    assert "COST001" in {e["rule_id"] for e in data["findings"]}
    # deterministic: the same review writes the same bytes
    before = (project / "b.json").read_bytes()
    walens(project, "baseline", "create", "--output", "b.json")
    assert (project / "b.json").read_bytes() == before


def test_fingerprints_survive_reformatting_and_line_moves(project: Path) -> None:
    first = {(f["rule_id"], f["resource"]["id"]): f for f in scan(project)["findings"]}
    (project / "stacks" / "template.yaml").write_text(REFORMATTED)
    second = {(f["rule_id"], f["resource"]["id"]): f for f in scan(project)["findings"]}
    assert first.keys() == second.keys()
    for key in first:
        assert first[key]["fingerprint"] == second[key]["fingerprint"]
        assert first[key]["location"]["line"] != second[key]["location"]["line"]


def test_only_new_problems_fail(project: Path) -> None:
    walens(project, "baseline", "create")
    path = str(project / bl.DEFAULT_PATH)
    doc = scan(project, path)
    assert failing(doc) == set() and doc["summary"]["failed"] is False
    assert doc["summary"]["baselined"] == doc["baseline"]["baselined"] > 0
    (project / "stacks" / "template.yaml").write_text(NEW_PROBLEM)
    doc = scan(project, path)
    assert failing(doc) and {origin for _, origin in failing(doc)} == {"PaymentsFunction"}
    assert doc["summary"]["failed"] is True and doc["baseline"]["new"] == len(failing(doc))
    old = [f for f in doc["findings"] if f.get("baselined")]
    assert old and all(f["status"] == "fail" and f["resource"]["origin"] == "OrdersFunction" for f in old)
    # the lens coverage still counts baselined failures as risks
    assert any(e["status"] == "risk" for e in doc["lens"])


def test_fixed_findings_are_reported_and_update_removes_them(project: Path) -> None:
    walens(project, "baseline", "create")
    fixed_template = TEMPLATE.replace("      CodeUri: src/\n", "      CodeUri: src/\n      Architectures: [arm64]\n")
    (project / "stacks" / "template.yaml").write_text(fixed_template)
    doc = scan(project, str(project / bl.DEFAULT_PATH))
    assert [(e["rule_id"], e["resource"]) for e in doc["baseline"]["fixed"]] == [("COST003", "OrdersFunction")]
    before = len(json.loads((project / bl.DEFAULT_PATH).read_text())["findings"])
    proc = walens(project, "baseline", "update")
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 fixed entries" in proc.stdout
    after = json.loads((project / bl.DEFAULT_PATH).read_text())["findings"]
    assert len(after) == before - 1 and "COST003" not in {e["rule_id"] for e in after}


def test_entries_of_templates_not_reviewed_are_neither_fixed_nor_dropped(project: Path) -> None:
    (project / "other.yaml").write_text(TEMPLATE)
    walens(project, "baseline", "create", "stacks", "other.yaml")
    doc = scan(project, str(project / bl.DEFAULT_PATH))  # reviews stacks/ only
    assert doc["baseline"]["fixed"] == []
    walens(project, "baseline", "update", "stacks")
    files = {e["file"] for e in json.loads((project / bl.DEFAULT_PATH).read_text())["findings"]}
    assert files == {"stacks/template.yaml", "other.yaml"}


def test_cli_exit_codes_and_configuration_key(project: Path) -> None:
    # The template's problems are medium (log retention, code signing...): gate on medium.
    assert walens(project, "scan", "template", "stacks", "--fail-on", "medium").returncode == 1
    walens(project, "baseline", "create")
    assert walens(project, "scan", "template", "stacks", "--fail-on", "medium",
                  "--baseline", bl.DEFAULT_PATH).returncode == 0
    (project / ".walens.yml").write_text(f"baseline: {bl.DEFAULT_PATH}\nfail_on: medium\n")
    proc = walens(project, "scan", "template")
    assert proc.returncode == 0, proc.stdout
    assert "Baselined findings" in proc.stdout
    (project / "stacks" / "template.yaml").write_text(NEW_PROBLEM)
    proc = walens(project, "scan", "template")
    assert proc.returncode == 1 and "PaymentsFunction" in proc.stdout


def test_every_reporter_shows_baselined_findings_apart(project: Path) -> None:
    walens(project, "baseline", "create")
    (project / "stacks" / "template.yaml").write_text(NEW_PROBLEM)
    doc = scan(project, str(project / bl.DEFAULT_PATH))
    assert "Baselined findings" in render("console", doc, "en")
    assert "ベースライン登録済み" in render("console", doc, "ja")
    assert "## Baselined findings" in render("markdown", doc, "en")
    assert "baselined" in render("html", doc, "en")
    junit = render("junit", doc, "en")
    assert 'message="baselined (' in junit
    sarif = json.loads(render("sarif", doc, "en"))
    states = {r["baselineState"] for r in sarif["runs"][0]["results"] if "baselineState" in r}
    assert states == {"new", "unchanged"}


def test_bad_baseline_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such baseline file"):
        bl.Baseline.load(str(tmp_path / "missing.json"))
    (tmp_path / "x.json").write_text('{"findings": []}')
    with pytest.raises(UsageError, match="not a walens baseline"):
        bl.Baseline.load(str(tmp_path / "x.json"))
    (tmp_path / "y.json").write_text("{")
    with pytest.raises(UsageError, match="not a JSON document"):
        bl.Baseline.load(str(tmp_path / "y.json"))
