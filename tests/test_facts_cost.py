"""Cost facts: log retention, log group writers, verbose logging, synchronous metrics (exact results)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from walens import graph
from walens.facts import cost_logs, cost_patterns
from walens.model import CfnResource, Resource, Unknown
from walens.pipeline import inventory
from walens.scanners.intrinsics import resolve_resources


def _linked(resources: dict[str, tuple[str, dict[str, Any]]], parameters: dict[str, Any] | None = None
            ) -> dict[str, Resource]:
    cfn = [CfnResource(k, t, p, origin=k, origin_type=t, line=1) for k, (t, p) in resources.items()]
    out = resolve_resources({"Parameters": parameters or {}}, cfn, "t.yaml")
    graph.link(out)
    return {r.id: r for r in out}


def _fn(**props: Any) -> tuple[str, dict[str, Any]]:
    return "AWS::Lambda::Function", {"Runtime": "python3.13", "Handler": "a.b", "Role": "r",
                                     "Code": {"ZipFile": "x"}, **props}


def test_log_retention_and_writers() -> None:
    linked = _linked({
        "Named": _fn(FunctionName="orders"),
        "NamedLogs": ("AWS::Logs::LogGroup", {"LogGroupName": "/aws/lambda/orders", "RetentionInDays": 14}),
        "Implicit": _fn(),
        "Shared": _fn(LoggingConfig={"LogGroup": {"Ref": "SharedLogs"}}),
        "SharedLogs": ("AWS::Logs::LogGroup", {"LogGroupName": "/app/shared"}),
        "External": _fn(LoggingConfig={"LogGroup": "/platform/logs"}),
        "Imported": _fn(LoggingConfig={"LogGroup": {"Fn::ImportValue": "logs"}}),
        "Access": ("AWS::Logs::LogGroup", {}),
    })
    inv = list(linked.values())
    names = ("Named", "Implicit", "Shared", "External", "Imported")
    facts = {k: cost_logs.log_retention(linked[k], inv) for k in names}
    assert facts["Named"] == {"group": "/aws/lambda/orders", "custom": False, "defined": True, "days": 14}
    assert facts["Implicit"] == {"group": "/aws/lambda/<Implicit>", "custom": False, "defined": False, "days": None}
    assert facts["Shared"] == {"group": "/app/shared", "custom": True, "defined": True, "days": None}
    assert facts["External"]["defined"] is False and isinstance(facts["External"]["days"], Unknown)
    assert isinstance(facts["Imported"]["days"], Unknown)
    assert cost_logs.log_group_writers(linked["SharedLogs"], inv) == {"functions": ["Shared"]}
    assert cost_logs.log_group_writers(linked["Access"], inv) == {"functions": []}


def test_verbose_logging() -> None:
    linked = _linked({
        "Json": _fn(LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "TRACE", "SystemLogLevel": "INFO"}),
        "Text": _fn(LoggingConfig={"ApplicationLogLevel": "DEBUG"}, Environment={"Variables": {"LOG_LEVEL": "debug"}}),
        "Quiet": _fn(Environment={"Variables": {"POWERTOOLS_LOG_LEVEL": "INFO"}}),
        "Param": _fn(Environment={"Variables": {"AWS_LAMBDA_LOG_LEVEL": {"Ref": "Level"}}}),
    }, {"Level": {"Type": "String"}})
    assert cost_logs.verbose_logging(linked["Json"], []) == ["LoggingConfig.ApplicationLogLevel"]
    assert cost_logs.verbose_logging(linked["Text"], []) == ["Environment.Variables.LOG_LEVEL"]
    assert cost_logs.verbose_logging(linked["Quiet"], []) == []
    assert isinstance(cost_logs.verbose_logging(linked["Param"], []), Unknown)


def test_puts_metric_data_from_template_inline_and_not_wildcards(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    fn = "    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.13\n" \
         "      Handler: a.b\n      CodeUri: s3://b/k.zip\n"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        f"  Template:\n{fn}      Policies: [{{CloudWatchPutMetricPolicy: {{}}}}]\n"
        f"  Inline:\n{fn}      Policies:\n        - Statement:\n            - Effect: Allow\n"
        "              Action: CloudWatch:PutMetricData\n              Resource: '*'\n"
        f"  Wildcard:\n{fn}      Policies:\n        - Statement:\n            - Effect: Allow\n"
        "              Action: 'cloudwatch:*'\n              Resource: '*'\n", encoding="utf-8")
    res = {r.id: r for r in inventory([str(path)]).resources}
    inv = list(res.values())
    assert {k: cost_patterns.puts_metric_data(res[k], inv) for k in ("Template", "Inline", "Wildcard")} == {
        "Template": True, "Inline": True, "Wildcard": False}
