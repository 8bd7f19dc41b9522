"""Issue 7's "done means", as a newcomer follows README.md's CI section, in a temporary git repository.

Every piece of configuration comes out of the README itself (its pre-commit, workflow, suppression
and baseline blocks), so the README cannot drift from what works:

1. a repository with a SAM template; walens added to pre-commit (README block) and to a workflow
   (README block, running this checkout's ``action.yml`` step as GitHub would);
2. one finding suppressed with a reason (README block), the rest baselined (README commands), commit;
3. a new problem: the commit is refused for it alone, and the workflow annotates its file and line.

pre-commit runs offline as in ``tests/test_precommit.py`` (the README's hook as a ``repo: local`` hook
with this interpreter; ``test_real_hook_from_this_checkout_language_python`` there installs the same
three lines for real).
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_precommit import MANIFEST, env, git, local_config, new_repo, pre_commit_exe, run

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
ACTION = yaml.safe_load((REPO / "action.yml").read_text())

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="git and bash are needed")

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: Orders service

Resources:
  OrdersQueue:
    Type: AWS::SQS::Queue

  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      Events:
        Orders:
          Type: SQS
          Properties:
            Queue: !GetAtt OrdersQueue.Arn
"""


def readme_blocks(heading: str) -> list[tuple[str, str]]:
    """(language, text) of each fenced block under ``### heading`` in README.md, up to the next heading."""
    section = README.split(f"\n### {heading}\n", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", section, re.S)]


def readme_commands(heading: str) -> list[list[str]]:
    """The shell commands of a README section's ``sh`` block, comments dropped."""
    (text,) = [t for lang, t in readme_blocks(heading) if lang == "sh"]
    return [line.split("#", 1)[0].split() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def walens_cli(cmd: list[str]) -> list[str]:
    assert cmd[0] == "walens", cmd
    return [sys.executable, "-m", "walens", *cmd[1:]]


def action_step(workflow: dict, runner_temp: Path, workspace: Path, summary: Path) -> tuple[str, dict[str, str]]:
    """The script and environment GitHub would run for action.yml's review step, with the workflow's inputs."""
    (uses,) = [s for s in workflow["jobs"]["review"]["steps"] if "walens@" in s.get("uses", "")]
    given = uses.get("with", {})
    assert set(given) <= set(ACTION["inputs"]), f"the README passes inputs action.yml does not declare: {given}"
    inputs = {k: str(given.get(k, v.get("default", ""))) for k, v in ACTION["inputs"].items()}
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == "Review templates"]

    def expand(text: str) -> str:
        return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], text)

    step_env = {k: expand(str(v)) for k, v in step["env"].items()}
    step_env.update({"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
                     "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(runner_temp)})
    # "Install walens" made $RUNNER_TEMP/walens-venv; here it is this interpreter's walens.
    exe = runner_temp / "walens-venv" / "bin" / "walens"
    exe.parent.mkdir(parents=True)
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m walens "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return expand(step["run"]), step_env


def test_newcomer_follows_the_readme(tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    project = new_repo(tmp_path / "orders", home)
    (project / "template.yaml").write_text(TEMPLATE)
    git(project, home, "add", ".")
    assert git(project, home, "commit", "-qm", "orders service").returncode == 0

    # -- 1a. pre-commit: the README's three lines name the hook this repository's manifest declares
    (lang, text), = readme_blocks("pre-commit")
    assert lang == "yaml" and ".pre-commit-config.yaml" in text and "pre-commit install" in text
    readme_config = yaml.safe_load(text)
    (repo_entry,) = readme_config["repos"]
    assert set(repo_entry) == {"repo", "rev", "hooks"} and repo_entry["hooks"] == [{"id": MANIFEST[0]["id"]}]
    (project / ".pre-commit-config.yaml").write_text(local_config())  # that hook, offline
    assert run(pre_commit_exe() + ["install"], project, home).returncode == 0

    # -- 1b. the workflow, verbatim
    (workflow_text,) = [t for lang, t in readme_blocks("GitHub Actions") if lang == "yaml"]
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "walens.yml").write_text(workflow_text)
    workflow = yaml.safe_load(workflow_text)
    steps = workflow["jobs"]["review"]["steps"]
    (uses,) = [s for s in steps if "walens@" in s.get("uses", "")]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert upload["with"]["sarif_file"] == uses["with"]["output"] and upload.get("if") == "always()"
    assert workflow["permissions"].get("security-events") == "write"

    # -- 2a. suppress one finding with a reason: the README's snippet, on the template's OrdersFunction
    (snippet,) = [t for lang, t in readme_blocks("Suppressions") if lang == "yaml"]
    metadata = snippet[snippet.index("    Metadata:\n"):]
    assert "OrdersFunction:" in snippet and "reason:" in metadata
    suppressed_id = yaml.safe_load(snippet)["Resources"]["OrdersFunction"]["Metadata"]["walens"]["ignore"][0]["id"]
    text = TEMPLATE.replace("    Type: AWS::Serverless::Function\n", "    Type: AWS::Serverless::Function\n" + metadata, 1)
    (project / "template.yaml").write_text(text)

    # -- 2b. baseline the rest: the README's commands, and its .walens.yml line for the hook
    create, scan, update = readme_commands("Baseline: fail only on new problems")
    assert create[:3] == ["walens", "baseline", "create"] and scan[:3] == ["walens", "scan", "template"]
    config_blocks = [t for lang, t in readme_blocks("Baseline: fail only on new problems") if lang == "yaml"]
    (config_text,) = config_blocks
    (project / ".walens.yml").write_text(config_text)
    baseline_file = yaml.safe_load(config_text)["baseline"]
    assert create[create.index("--output") + 1] == baseline_file == scan[scan.index("--baseline") + 1]
    proc = run(walens_cli(create), project, home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recorded = json.loads((project / baseline_file).read_text())["findings"]
    assert recorded and suppressed_id not in {e["rule_id"] for e in recorded if e["resource"] == "OrdersFunction"}
    git(project, home, "add", ".")
    proc = git(project, home, "commit", "-qm", "walens: pre-commit, workflow, suppression, baseline")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the hook ran and passed
    proc = run(walens_cli(scan), project, home)  # the README's scan line agrees
    assert proc.returncode == 0 and f"{len(recorded)} baselined" in proc.stdout, proc.stdout

    # -- 3a. a new problem (a public function URL): the commit is refused, for it alone
    broken = text + "      FunctionUrlConfig:\n        AuthType: NONE\n"
    (project / "template.yaml").write_text(broken)
    git(project, home, "add", "template.yaml")
    proc = git(project, home, "commit", "-qm", "public URL")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "walens (AWS Well-Architected Serverless Lens)" in out and "Failed" in out
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if t == "  OrdersFunction:")
    failing = [t for t in out.splitlines() if t.startswith("template.yaml:")]
    # every failing line is the new URL's (SAM derives OrdersFunctionUrl from OrdersFunction), SEC004 among them
    assert failing and all(t.startswith(f"template.yaml:{line} ") and "(OrdersFunctionUrl)" in t for t in failing), out
    assert any(t.startswith(f"template.yaml:{line}  HIGH    SEC004 ") for t in failing), out
    assert f"{len(recorded)} baselined" in out

    # -- 3b. the workflow on that change: action.yml's review step, as GitHub runs a bash step
    summary = tmp_path / "step-summary.md"
    script, step_env = action_step(workflow, tmp_path / "runner-temp", project, summary)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=project,
                          capture_output=True, text=True, env={**env(home), **step_env}, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the job fails...
    annotations = [t for t in proc.stdout.splitlines() if t.startswith("::")]
    # ...with annotations for the new problem only, on its file and line
    errors = [t for t in annotations if t.startswith("::error ")]
    assert len(errors) == len([t for t in failing if "  HIGH  " in t]) and any("SEC004" in t for t in errors)
    assert all(t.startswith((f"::error file=template.yaml,line={line},", f"::warning file=template.yaml,line={line},"))
               for t in annotations), annotations
    sarif = json.loads((project / uses["with"]["output"]).read_text())
    results = sarif["runs"][0]["results"]
    new = [r for r in results if r.get("baselineState") == "new"]
    assert len(new) == len(failing) and "SEC004" in {r["ruleId"] for r in new}
    assert all(r["locations"][0]["logicalLocations"][0]["name"] == "OrdersFunctionUrl" for r in new)
    assert sum(r.get("baselineState") == "unchanged" for r in results) == len(recorded)
    (quiet,) = [r for r in results if r.get("suppressions")]
    assert quiet["ruleId"] == suppressed_id and quiet["suppressions"][0]["kind"] == "inSource"
    assert "SEC004" in summary.read_text()  # the job summary
