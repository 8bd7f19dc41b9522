"""The cfn-lint plugin: the real cfn-lint, ``--append-rules walens.cfnlint``, on the rule fixtures.

cfn-lint takes seconds to import, so each test runs it once over a batch of files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from walens.cfnlint._plugin import ERRORS_ID, builtin_cfnlint_id, cfnlint_ids
from walens.config import default_config
from walens.pipeline import scan_templates
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "rules"
# Every pillar, SAM and plain CloudFormation, resources SAM derives (stages, methods) from one authored.
RULES = ("COST001", "COST005", "SEC003", "SEC010", "OPS007", "OPS014", "REL001", "REL010", "PERF001", "PERF002")


def cfn_lint(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("cfn-lint")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cfnlint.runner import main; main()"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALENS_CONFIG", "GITHUB_"))}
    return subprocess.run([*cmd, "--append-rules", "walens.cfnlint", "--format", "parseable", *args],
                          cwd=cwd, capture_output=True, text=True, env=env, input=stdin, timeout=120)


def parse(out: str) -> list[tuple[str, int, int, str, str]]:
    """cfn-lint's parseable lines → (file, line, column, rule, message)."""
    rows = []
    for text in out.splitlines():
        file, line, col, _, _, rule, message = text.split(":", 6)
        rows.append((file, int(line), int(col), rule, message))
    return rows


def test_ids_are_stable_unique_and_cfnlint_shaped() -> None:
    assert builtin_cfnlint_id("COST001") == "W9501"
    assert builtin_cfnlint_id("SEC003") == "W9203"
    assert builtin_cfnlint_id("OPS024") == "W9124"
    assert builtin_cfnlint_id("REL010") == "W9310" and builtin_cfnlint_id("PERF009") == "W9409"
    assert builtin_cfnlint_id("ACME001") is None and builtin_cfnlint_id("COST123") is None
    catalogue = [r.id for r in load_rules()]
    ids = cfnlint_ids(catalogue)
    assert all(ids[r] == builtin_cfnlint_id(r) for r in catalogue)  # the whole built-in catalogue fits W9xxx
    assert len(set(ids.values())) == len(ids) and ERRORS_ID not in ids.values()
    # rules of one's own (rules_dirs): W8xxx, unique, independent of the order they are listed in
    extra = cfnlint_ids([*catalogue, "ACME001", "ACME002", "COST123"])
    again = cfnlint_ids(["COST123", "ACME002", *reversed(catalogue), "ACME001"])
    assert extra == again
    assert {extra[x][:2] for x in ("ACME001", "ACME002", "COST123")} == {"W8"}
    assert len(set(extra.values())) == len(extra)
    assert all(len(v) == 5 and v[0] == "W" and v[1:].isdigit() for v in extra.values())


@pytest.fixture(scope="module")
def fixtures_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[str, int, int, str, str]], str]:
    cwd = tmp_path_factory.mktemp("cfnlint")
    (cwd / ".git").mkdir()  # no configuration found above: the defaults
    files = [str(FIXTURES / rule / name) for rule in RULES for name in ("fail.yaml", "fail_cfn.yaml", "pass.yaml")
             if (FIXTURES / rule / name).exists()]
    proc = cfn_lint(cwd, "--", *files)
    assert proc.returncode & 4, proc.stdout + proc.stderr  # walens' matches are warnings
    assert "Tried to append rules" not in proc.stdout + proc.stderr
    return parse(proc.stdout), proc.stdout


def test_real_cfn_lint_reports_walens_ids_messages_and_lines(fixtures_run, tmp_path: Path) -> None:
    rows, out = fixtures_run
    ids = cfnlint_ids([r.id for r in load_rules()])
    config = default_config(str(tmp_path))
    for rule in RULES:
        for name in ("fail.yaml", "fail_cfn.yaml", "pass.yaml"):
            path = FIXTURES / rule / name
            if not path.exists():
                continue
            got = {(line, col, msg) for file, line, col, rid, msg in rows
                   if file == str(path) and rid == ids[rule]}
            assert all(msg.startswith(f"[{rule}] ") for _, _, msg in got)
            if name == "pass.yaml":
                assert not got, (rule, name, got)
                continue
            # the oracle: walens' own review of the same file
            doc = scan_templates([str(path)], config=config)
            want = {(f["location"]["line"], f["location"]["column"], f"[{rule}] {f['message']}")
                    for f in doc["findings"] if f["rule_id"] == rule and f["status"] == "fail"}
            assert want and got == want, (rule, name, sorted(got ^ want))
            # on the line of the authored resource the fixture convention names Bad*
            lines = path.read_text().splitlines()
            assert all(lines[line - 1].strip().startswith("Bad") for line, _, _ in got), (rule, name)
    # other walens rules report too (a fixture is not written for one rule only), always as W9xxx/W8xxx
    assert {rid[:2] for _, _, _, rid, _ in rows if rid.startswith("W9") or rid.startswith("W8")} == {"W9"}


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Metadata:
      walens:
        ignore:
          - id: COST001{reason}
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
"""


def test_walens_configuration_suppressions_and_cfn_lint_options(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".walens.yml").write_text("ignore: [operationalExcellence, performance]\n")  # the plugin honours .walens.yml
    (tmp_path / "suppressed.yaml").write_text(TEMPLATE.format(reason="\n            reason: exported to S3"))
    (tmp_path / "no-reason.yaml").write_text(TEMPLATE.format(reason=""))
    proc = cfn_lint(tmp_path, "--ignore-checks", "W9216", "--", "suppressed.yaml", "no-reason.yaml")
    rows = parse(proc.stdout)
    by_file = {f: {(line, rid) for ff, line, _, rid, _ in rows if ff == f} for f in ("suppressed.yaml", "no-reason.yaml")}
    # a walens suppression with a reason hides the finding; one without is not applied and is reported (W9000)
    assert (4, "W9501") not in by_file["suppressed.yaml"] and (4, "W9503") in by_file["suppressed.yaml"]
    assert (4, "W9501") in by_file["no-reason.yaml"]
    (error,) = [r for r in rows if r[3] == ERRORS_ID]
    assert error[0] == "no-reason.yaml" and error[1] == 9 and "no reason" in error[4]
    # .walens.yml's ignore and cfn-lint's own --ignore-checks both apply
    assert not any(rid.startswith(("W91", "W94")) or rid == "W9216" for _, _, _, rid, _ in rows), proc.stdout
    # stdin: cfn-lint's template is reviewed (no file to read twice)
    proc = cfn_lint(tmp_path, stdin=(tmp_path / "no-reason.yaml").read_text())
    assert any(r[3] == "W9501" and r[4].startswith("[COST001] ") for r in parse(proc.stdout)), proc.stdout


def test_a_bad_walens_configuration_is_a_clear_cfn_lint_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".walens.yml").write_text("ignore: [OPS]\n")
    (tmp_path / "t.yaml").write_text(TEMPLATE.format(reason=""))
    proc = cfn_lint(tmp_path, "t.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # cfn-lint's own last word (it prints a traceback for rules it cannot append) names the file, key and value;
    # not one exception per walens rule while linting
    last = out.strip().splitlines()[-1]
    # cfn-lint 1.25 moved the exception from cfnlint.runner to cfnlint.exceptions.
    assert re.match(r"cfnlint\.(exceptions|runner)\.UnexpectedRuleException: Tried to append rules but got an error: "
                    "walens: ", last), out
    assert ".walens.yml: key 'ignore': unknown rule, pillar or ChoiceId 'OPS'" in last
    assert "W95" not in out


def test_importing_the_plugin_is_only_for_cfn_lint() -> None:
    # walens itself never imports walens.cfnlint (it imports cfn-lint, ~0.6 s)
    code = "import walens.cli, walens.pipeline, sys; print('walens.cfnlint' in sys.modules, 'cfnlint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
