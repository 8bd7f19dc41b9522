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


# boto3 and cfn-lint are extras (walens[account], walens[cfn-lint]): a template-only install lacks them.
WITHOUT_EXTRAS = """
import sys
for name in ("boto3", "botocore", "s3transfer", "cfnlint"):
    sys.modules[name] = None  # as if not installed: importing it raises ModuleNotFoundError
sys.argv = ["walens", *sys.argv[1:]]
from walens.cli import main
main()
"""


def without_extras(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *args], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}, timeout=120)


def test_template_reviews_need_no_extra(tmp_path: Path) -> None:
    proc = without_extras("scan", "template", str(REPO / "examples" / "orders-app"), "--fail-on", "never",
                          "--format", "html", "-o", str(tmp_path / "report.html"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "report.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize(("args", "what", "extra"), [
    (("scan", "account", "--region", "us-east-1"), "walens scan account", "account"),
    (("iam-policy",), "walens iam-policy", "account"),
    (("history", "list", "--history", "s3://bucket/reviews"), "an s3:// history", "account"),
    (("scan", "template", str(GOOD), "--cfn-lint"), "--cfn-lint", "cfn-lint"),
])
def test_a_missing_extra_names_the_install(args: tuple[str, ...], what: str, extra: str) -> None:
    proc = without_extras(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (f"walens: error: {what} needs the optional dependencies of walens[{extra}]: "
                           f"pip install 'walens[{extra}]' (from a clone: pip install '.[{extra}]')\n")
    assert proc.stdout == ""


def test_wa_tool_push_without_boto3_names_the_install(tmp_path: Path) -> None:
    review = tmp_path / "review.json"
    made = subprocess.run([sys.executable, "-m", "walens", "scan", "template", str(GOOD), "-f", "json", "-o",
                           str(review)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert made.returncode == 0, made.stderr
    proc = without_extras("wa-tool", "push", "--workload-id", "0123456789abcdef0123456789abcdef",
                          "--review", str(review))
    assert proc.returncode == 2, proc.stderr
    assert "walens wa-tool push needs the optional dependencies of walens[account]" in proc.stderr


def test_the_extras_are_optional_and_the_test_extra_has_them() -> None:
    """README's command 1 (pip install .) stays small; command 2 ('.[test]') pulls every extra the tests use."""
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = re.compile(r"[A-Za-z0-9_.-]+")
    core = {name.match(d).group().lower() for d in project["dependencies"]}  # type: ignore[union-attr]
    assert not core & {"boto3", "botocore", "cfn-lint"}, core
    extras = project["optional-dependencies"]
    assert set(extras["account"]) | set(extras["cfn-lint"]) <= set(extras["test"])
    assert set(extras["all"]) == set(extras["account"]) | set(extras["cfn-lint"])


def test_any_other_import_of_an_extra_is_reported_as_missing_not_as_a_bug() -> None:
    from walens.errors import MissingExtra, missing_extra

    found = missing_extra(ModuleNotFoundError("No module named 'botocore'", name="botocore.session"))
    assert isinstance(found, MissingExtra) and found.extra == "account" and found.exit_code == 2
    assert missing_extra(ModuleNotFoundError("No module named 'yaml'", name="yaml")) is None
    assert missing_extra(ImportError("cannot import name x", name="cfnlint")) is None  # installed, but broken
