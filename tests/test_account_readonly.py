"""Read-only, proven: every API operation a full account scan makes is a read.

A botocore ``before-call`` hook on every client created during the scan records each operation; the
test fails on anything outside Describe*/Get*/List*/BatchGet* (plus Logs Insights queries and metric
reads). It also checks what collectors *declare* they call, so a write cannot hide in a code path
the scenario does not reach.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("moto")
import botocore.session  # noqa: E402

from test_account_scan import OTHER, REGION, aws, scan, seed  # noqa: E402,F401

ALLOWED_PREFIXES = ("Describe", "Get", "List", "BatchGet")
ALLOWED_EXTRA = {("logs", "StartQuery"), ("logs", "StopQuery"), ("logs", "GetQueryResults"),
                 ("cloudwatch", "GetMetricData"), ("cloudwatch", "GetMetricStatistics")}


def allowed(service: str, operation: str) -> bool:
    return operation.startswith(ALLOWED_PREFIXES) or (service, operation) in ALLOWED_EXTRA


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(service, operation) of every call made by any client created from now on."""
    calls: list[tuple[str, str]] = []
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def record(model: Any, **_: Any) -> None:
            calls.append((service, model.name))

        client.meta.events.register("before-call.*.*", record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return calls


def test_a_full_scan_makes_only_read_calls(aws: None, recorded: list[tuple[str, str]]) -> None:
    seed()
    recorded.clear()  # only what the scan itself calls
    doc = scan(regions=[REGION, OTHER], select=[])
    operations = set(recorded)
    writes = sorted(op for op in operations if not allowed(*op))
    assert writes == [], f"the scan called non-read operations: {writes}"
    # The hook saw the scan (not an empty run): every collector's listing was called, in both regions.
    for expected in [("lambda", "ListFunctions"), ("lambda", "GetPolicy"), ("lambda", "ListEventSourceMappings"),
                     ("logs", "DescribeLogGroups"), ("apigateway", "GetRestApis"), ("apigateway", "GetResources"),
                     ("apigateway", "GetStages"), ("apigatewayv2", "GetApis"), ("iam", "GetAccountAuthorizationDetails"),
                     ("sqs", "ListQueues"), ("sqs", "GetQueueAttributes"), ("stepfunctions", "DescribeStateMachine"),
                     ("cloudwatch", "DescribeAlarms"), ("sts", "GetCallerIdentity")]:
        assert expected in operations, f"{expected} not called: {sorted(operations)}"
    # Calls counted in the review equal the calls the hook saw.
    assert sum(doc["scan"]["api_calls"].values()) == len(recorded)


def test_all_regions_discovery_is_a_read(aws: None, recorded: list[tuple[str, str]]) -> None:
    seed()
    recorded.clear()
    doc = scan(regions=[], all_regions=True, services=["sqs"], select=[])
    assert ("ec2", "DescribeRegions") in set(recorded)
    assert not [op for op in set(recorded) if not allowed(*op)]
    assert REGION in doc["scan"]["regions"] and len(doc["scan"]["regions"]) > 2


def test_every_declared_operation_is_a_read() -> None:
    from walens.scanners.account import declared_operations

    declared = declared_operations()
    assert set(declared) >= {"lambda", "logs", "apigateway", "apigatewayv2", "iam", "sqs", "stepfunctions",
                             "cloudwatch"}
    for service, operations in declared.items():
        for op in operations:
            assert op.startswith(ALLOWED_PREFIXES), f"{service}:{op} is not a read"


def test_a_collector_cannot_call_what_it_did_not_declare() -> None:
    from walens.scanners.account import core, sqs

    ctx = core.Ctx.__new__(core.Ctx)
    ctx.module, ctx.service, ctx.operations = sqs, "sqs", sqs.OPERATIONS
    with pytest.raises(AssertionError, match="do not declare"):
        ctx._check("DeleteQueue")
    ctx.operations = {**sqs.OPERATIONS, "DeleteQueue": ()}
    with pytest.raises(AssertionError, match="not a read"):
        ctx._check("DeleteQueue")
