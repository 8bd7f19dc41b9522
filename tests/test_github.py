"""GitHub Actions integration: workflow-command annotations on the right line, escaped; the job summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from walens import github

REPO = Path(__file__).resolve().parents[1]
BAD = (REPO / "tests" / "fixtures" / "cli" / "bad.yaml").read_text()


def test_escaping_follows_the_runner() -> None:
    assert github.escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert github.escape_property("dir,x/a:b%.yaml\n") == "dir%2Cx/a%3Ab%25.yaml%0A"
    line = github.command("error", "line1\n::warning::injected", file="a,b.yaml", line=3, col=5, title="T: x")
    assert line == "::error file=a%2Cb.yaml,line=3,col=5,title=T%3A x::line1%0A::warning::injected"
    assert "\n" not in line


def test_annotations_levels_and_what_is_left_out() -> None:
    doc = {
        "summary": {"fail_on": "medium"},
        "lang": "en",
        "findings": [
            {"rule_id": "A001", "rule_name": "a", "severity": "high", "status": "fail", "message": "high one",
             "location": {"file": "t.yaml", "line": 7, "column": 3}, "resource": {"id": "X"}},
            {"rule_id": "A002", "rule_name": "b", "severity": "low", "status": "fail", "message": "low one",
             "location": {"file": "t.yaml", "line": 9, "column": 3}, "resource": {"id": "Y"}},
            {"rule_id": "A003", "rule_name": "c", "severity": "high", "status": "fail", "message": "old",
             "baselined": True, "location": {"file": "t.yaml", "line": 11, "column": 3}, "resource": {"id": "Z"}},
            {"rule_id": "A004", "rule_name": "d", "severity": "high", "status": "suppressed", "message": "quiet",
             "location": {"file": "t.yaml", "line": 13, "column": 3}, "resource": {"id": "W"}},
            {"rule_id": "A005", "rule_name": "e", "severity": "high", "status": "pass", "message": "fine",
             "location": {"file": "t.yaml", "line": 15, "column": 3}, "resource": {"id": "V"}},
        ],
        "errors": [{"file": "broken.yaml", "kind": "yaml", "line": 2, "message": "bad indentation"}],
    }
    lines = github.workflow_commands(doc)
    assert lines[0].startswith("::error file=t.yaml,line=7,col=3,title=walens A001 a (high)::high one")
    assert lines[1].startswith("::warning file=t.yaml,line=9,")  # below fail-on: a warning
    assert lines[2] == "::error file=broken.yaml,line=2,title=walens%3A input problem::bad indentation (yaml)"
    assert len(lines) == 3  # baselined, suppressed and passing results are not annotated


def walens(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", **env},
                          timeout=120)


def test_inside_github_actions(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "template.yaml").write_text(BAD)
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path)}
    # console on stdout: annotations follow it on stdout; the file is named relative to the workspace
    # bad.yaml's problems are medium (log retention, tracing...): gate on medium so they are errors.
    proc = walens(tmp_path / "infra", "scan", "template", "template.yaml", "--fail-on", "medium", env=env)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error ")]
    assert errors and all(line.startswith("::error file=infra/template.yaml,line=4,col=3,") for line in errors)
    text = summary.read_text()
    assert text.startswith("previous step\n") and "# Serverless Lens review" in text and "COST001" in text
    # SARIF on stdout stays clean: annotations go to stderr
    proc = walens(tmp_path, "scan", "template", "infra", "-f", "sarif", "--fail-on", "medium", env=env)
    assert proc.stdout.lstrip().startswith("{") and "::error" not in proc.stdout
    assert "::error file=infra/template.yaml,line=4" in proc.stderr
    # outside GitHub Actions: nothing
    proc = walens(tmp_path, "scan", "template", "infra", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "::error" not in proc.stdout + proc.stderr
