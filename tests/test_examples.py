"""The bundled examples are valid SAM/CloudFormation, and cfn-lint finds only the deliberate problem."""

from __future__ import annotations

import collections
import copy
import py_compile
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
ORDERS = EXAMPLES / "orders-app" / "template.yaml"
MINIMAL = EXAMPLES / "minimal" / "template.yaml"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


class _NoManagedPolicies:
    """The translator's managed-policy loader, without the IAM call: the example names no managed policy."""

    def load(self) -> dict[str, str]:
        return {}


def _translate(path: Path) -> dict[str, Any]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(path.read_text(encoding="utf-8"))
    packaged = copy.deepcopy(template)
    # `sam package` uploads local CodeUri folders and writes S3 URIs; the translator accepts only those.
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            code_uri = resource["Properties"]["CodeUri"]
            assert (path.parent / code_uri / "app.py").is_file()
            resource["Properties"]["CodeUri"] = f"s3://example-bucket/{code_uri}"
    return transform(packaged, {}, _NoManagedPolicies())


def _lint(path: Path) -> list[tuple[str, int]]:
    proc = subprocess.run([str(CFN_LINT), "--format", "parseable", "--", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 2, 4, 6, 8, 10, 12, 14), proc.stderr
    found = []
    for line in proc.stdout.splitlines():
        _file, line_no, _col, _end_line, _end_col, rule, _msg = line.split(":", 6)
        found.append((rule, int(line_no)))
    return found


def test_orders_app_translates_with_the_sam_translator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    out = _translate(ORDERS)
    types = collections.Counter(r["Type"] for r in out["Resources"].values())
    assert dict(types) == {
        "AWS::ApiGateway::Deployment": 1, "AWS::ApiGateway::RestApi": 1, "AWS::ApiGateway::Stage": 1,
        "AWS::CloudWatch::Alarm": 7, "AWS::CodeDeploy::Application": 1, "AWS::CodeDeploy::DeploymentGroup": 1,
        "AWS::DynamoDB::Table": 1, "AWS::Events::Rule": 1, "AWS::IAM::ManagedPolicy": 1, "AWS::IAM::Role": 8,
        "AWS::Lambda::Alias": 1, "AWS::Lambda::EventSourceMapping": 1, "AWS::Lambda::Function": 5,
        "AWS::Lambda::Permission": 3, "AWS::Lambda::Version": 1, "AWS::Logs::LogGroup": 6, "AWS::SNS::Topic": 1,
        "AWS::SQS::Queue": 3, "AWS::Scheduler::Schedule": 1, "AWS::StepFunctions::StateMachine": 1,
    }
    functions = {k: r["Properties"] for k, r in out["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert {k: (p["Runtime"], p.get("MemorySize"), p["TracingConfig"]["Mode"]) for k, p in functions.items()} == {
        "CreateOrderFunction": ("python3.13", 512, "Active"),
        "GetOrderFunction": ("python3.13", None, "Active"),
        "ProcessOrderFunction": ("python3.13", 512, "PassThrough"),
        "ShipmentNotifierFunction": ("python3.13", 256, "Active"),
        "NightlyReportFunction": ("python3.9", 1024, "Active"),
    }
    assert "DeadLetterConfig" not in functions["ShipmentNotifierFunction"]
    assert functions["NightlyReportFunction"]["DeadLetterConfig"] == {
        "TargetArn": {"Fn::GetAtt": ["ReportDeadLetterQueue", "Arn"]}}
    log_groups = {r["Properties"]["LogGroupName"]["Fn::Sub"] for r in out["Resources"].values()
                  if r["Type"] == "AWS::Logs::LogGroup"}
    assert {g for g in log_groups if g.startswith("/aws/lambda/")} == {
        "/aws/lambda/${CreateOrderFunction}", "/aws/lambda/${GetOrderFunction}",
        "/aws/lambda/${ProcessOrderFunction}", "/aws/lambda/${NightlyReportFunction}",
    }
    (stage,) = (r["Properties"] for r in out["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")
    assert stage["MethodSettings"] == [{"ResourcePath": "/*", "HttpMethod": "*", "MetricsEnabled": True,
                                        "DataTraceEnabled": False}]
    # SAM writes the methods into the RestApi's OpenAPI body: POST has no validator, GET is IAM-authorised.
    (api,) = (r["Properties"] for r in out["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi")
    paths = api["Body"]["paths"]
    assert set(paths) == {"/orders", "/orders/{orderId}"}
    assert "x-amazon-apigateway-request-validator" not in paths["/orders"]["post"]
    assert paths["/orders/{orderId}"]["get"]["security"] == [{"AWS_IAM": []}]


def test_orders_app_cfn_lint_reports_only_the_deprecated_runtime() -> None:
    assert {rule for rule, _line in _lint(ORDERS)} == {"W2531"}


def test_minimal_is_plain_cloudformation_and_lint_clean() -> None:
    assert "Transform" not in MINIMAL.read_text(encoding="utf-8")
    assert _lint(MINIMAL) == []


def test_orders_app_header_lists_eight_problems() -> None:
    header = ORDERS.read_text(encoding="utf-8").split("Parameters:")[0]
    assert re.findall(r"^#\s+(\d)\. ", header, flags=re.M) == [str(i) for i in range(1, 9)]


@pytest.mark.parametrize("handler", sorted((EXAMPLES / "orders-app" / "src").glob("*/app.py")), ids=lambda p: p.parent.name)
def test_handler_stubs_compile(handler: Path, tmp_path: Path) -> None:
    py_compile.compile(str(handler), cfile=str(tmp_path / "app.pyc"), doraise=True)
