"""``--cfn-lint``: cfn-lint's schema validation lands in the review and in every format, and gates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INVALID = str(REPO / "tests" / "fixtures" / "validity" / "memory_not_integer.yaml")
GOOD = str(REPO / "tests" / "fixtures" / "cli" / "good.yaml")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", "scan", "template", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=180)


def test_validity_errors_are_in_the_review_and_fail_the_gate() -> None:
    proc = run(INVALID, "--cfn-lint", "--format", "json", "--fail-on", "high", "--select", "OPS001")
    doc = json.loads(proc.stdout)
    assert [(v["rule"], v["line"], v["level"]) for v in doc["validity"]] == [("E3012", 10, "error")]
    assert proc.returncode == 1  # OPS001 is medium: only the schema error fails at --fail-on high
    assert run(INVALID, "--cfn-lint", "--fail-on", "never").returncode == 0


def test_without_the_flag_there_is_no_validity_section_and_no_cfn_lint() -> None:
    proc = run(INVALID, "--format", "json", "--fail-on", "never")
    assert "validity" not in json.loads(proc.stdout)
    clean = run(GOOD, "--cfn-lint", "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["validity"] == []


@pytest.mark.parametrize("fmt", ["console", "markdown", "html", "sarif"])
def test_every_format_shows_validity(fmt: str) -> None:
    proc = run(INVALID, "--cfn-lint", "--format", fmt, "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert "E3012" in proc.stdout and "banana" in proc.stdout
    if fmt == "sarif":
        runs = json.loads(proc.stdout)["runs"]
        assert [r["tool"]["driver"]["name"] for r in runs] == ["walens", "cfn-lint"]
        assert runs[1]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 10
