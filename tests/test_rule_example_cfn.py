"""remediation.example_cfn: the plain CloudFormation spelling of a rule's fix, where SAM spells it differently.

tests/test_rule_fixtures.py scans every example_cfn; here: it reaches `walens rules show`, the generated
rule page and the review document, and a rule without one shows nothing extra.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from walens.cli import app
from walens.reporters._common import rule_example
from walens.ruledocs import render_rule
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
RULES = {rule.id: rule for rule in load_rules()}


def test_rules_show_prints_both_examples_labelled() -> None:
    out = CliRunner().invoke(app, ["rules", "show", "OPS001"])
    assert out.exit_code == 0, out.output
    sam, cfn = out.output.split("Example (SAM):\n")[1].split("Example (CloudFormation):\n")
    assert "Tracing: Active" in sam and "AWS::Serverless::Function" in sam
    assert "TracingConfig:" in cfn and "AWS::Lambda::Function" in cfn and "Transform" not in cfn
    ja = CliRunner().invoke(app, ["rules", "show", "OPS001", "--lang", "ja"])
    assert "例 (SAM):" in ja.output and "例 (CloudFormation):" in ja.output


def test_rules_show_without_example_cfn_keeps_one_plain_example() -> None:
    assert "example_cfn" not in RULES["COST004"].remediation
    out = CliRunner().invoke(app, ["rules", "show", "COST004"])
    assert out.exit_code == 0 and "Example:\n" in out.output
    assert "CloudFormation):" not in out.output and "(SAM)" not in out.output


def test_rule_page_shows_the_cloudformation_example() -> None:
    page = render_rule(RULES["REL004"], REPO)
    assert "SAM:\n\n```yaml\nTransform: AWS::Serverless-2016-10-31" in page
    assert "CloudFormation:\n\n```yaml\n" + RULES["REL004"].remediation["example_cfn"].rstrip() + "\n```" in page
    assert "CloudFormation:" not in render_rule(RULES["COST004"], REPO)


def test_review_document_carries_example_cfn() -> None:
    doc = {"rules": {r.id: r.to_doc() for r in RULES.values()}}
    assert rule_example(doc, "REL004", "example_cfn") == RULES["REL004"].remediation["example_cfn"].rstrip()
    assert rule_example(doc, "REL004").startswith("Transform: AWS::Serverless-2016-10-31")
    assert rule_example(doc, "COST004", "example_cfn") == ""
