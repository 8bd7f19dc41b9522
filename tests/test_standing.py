"""Standing guarantees: lazy imports on the template path, and rules/templates shipped in the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOOD = REPO / "tests" / "fixtures" / "cli" / "good.yaml"
HEAVY = ("boto3", "botocore", "cfnlint", "jinja2", "samtranslator")

PROBE = """
import json, os, sys
path, fmt, heavy = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
sys.argv = ["walens", "scan", "template", path, "--format", fmt, "--output", os.devnull]
from walens.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
"""


@pytest.mark.parametrize(
    ("fmt", "allowed"),
    [("console", set()), ("json", set()), ("sarif", set()), ("markdown", {"jinja2"}), ("html", {"jinja2"})],
)
def test_template_review_imports_neither_boto3_nor_cfn_lint(fmt: str, allowed: set[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(GOOD), fmt, json.dumps(HEAVY)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) <= allowed


def test_wheel_carries_rules_and_templates(tmp_path: Path) -> None:
    """Build the wheel, install it (non-editable) into a fresh virtualenv, review from outside the tree."""
    # Build from a copy: an in-tree build/ left by an earlier build could smuggle stale files in.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", "benchmarks", "tests"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = wheels.glob("walens-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    # The dependencies come from this environment, *after* the fresh venv's own site-packages. Written
    # after the install: otherwise pip sees this environment's walens (CI installs it non-editable)
    # through the .pth file and installs nothing.
    Path(site, "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run(
        [str(py), "-c", "import walens; print(walens.__file__)"],
        capture_output=True, text=True, cwd=outside, env=env, check=True,
    ).stdout
    assert where.startswith(site)
    proc = subprocess.run(
        [str(py), "-m", "walens", "scan", "template", str(REPO / "tests" / "fixtures" / "cli" / "bad.yaml"),
         "--format", "json"],
        capture_output=True, text=True, cwd=outside, env=env, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert "COST001" in {f["rule_id"] for f in doc["findings"] if f["status"] == "fail"}
    html = subprocess.run(
        [str(py), "-m", "walens", "scan", "template", str(GOOD), "--format", "html"],
        capture_output=True, text=True, cwd=outside, env=env, timeout=120,
    )
    assert html.returncode == 0, html.stderr
    assert html.stdout.lstrip().lower().startswith("<!doctype html")
