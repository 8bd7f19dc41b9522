"""deploy/fleet: the SAM application's state machine wiring, its notification, and walens's own review of it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from walens.scanners.template import load_file

pytest.importorskip("moto")
import boto3
from test_fleet_stepfunctions import DEPLOY, definition, sfn_aws

TEMPLATE = DEPLOY / "template.yaml"


def _states(machine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state, nested Map processors included, by name."""
    out: dict[str, dict[str, Any]] = {}
    for name, state in machine["States"].items():
        out[name] = state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            out |= _states(processor)
    return out


def _reachable(machine: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = [machine["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = machine["States"][name]
        todo += [t for t in [state.get("Next"), state.get("Default")] if t]
        todo += [c["Next"] for c in state.get("Catch") or []] + [c["Next"] for c in state.get("Choices") or []]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            seen |= _reachable(processor)
    return seen


def test_every_state_is_reachable_and_every_transition_exists() -> None:
    machine = definition()
    states = _states(machine)
    assert _reachable(machine) == set(states)
    for name, state in states.items():
        assert state.get("End") is True or state.get("Next") in states, name


def test_the_map_reads_accounts_from_s3_and_limits_regions_per_account() -> None:
    states = _states(definition(AccountConcurrency="7", PerAccountConcurrency="3", PartitionRetries="4"))
    outer = states["ScanAccounts"]
    assert outer["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert outer["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert outer["MaxConcurrency"] == 7 and outer["ToleratedFailurePercentage"] == 100
    assert outer["ResultPath"] is None and outer["Next"] == "Merge"
    inner = states["ScanRegions"]
    assert inner["MaxConcurrency"] == 3 and inner["ItemsPath"] == "$.regions"
    scan = states["ScanPartition"]
    retry = {e for r in scan["Retry"] for e in r["ErrorEquals"]}
    assert {"PartitionThrottled", "PartitionFailed"} <= retry
    assert {r["MaxAttempts"] for r in scan["Retry"]} == {4}
    assert all(r["BackoffRate"] >= 2 and r["JitterStrategy"] == "FULL" for r in scan["Retry"])
    assert scan["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordNotAssessed"}]


def test_the_retried_errors_are_the_workers_exceptions_and_the_tasks_exist() -> None:
    from walens.fleet import lambda_, worker

    states = _states(definition())
    errors = {e for s in states.values() for r in s.get("Retry") or [] for e in r["ErrorEquals"]}
    custom = {e for e in errors if "." not in e}
    assert custom == {"PartitionThrottled", "PartitionFailed"}
    assert all(issubclass(getattr(worker, e), worker.PartitionError) for e in custom)
    tasks = {s["Parameters"]["Payload"]["task"] for s in states.values() if s["Type"] == "Task"}
    assert tasks == set(lambda_.TASKS)


def test_the_template_substitutes_every_placeholder_of_the_definition() -> None:
    template = load_file(str(TEMPLATE))
    machine = template.data["Resources"]["FleetStateMachine"]["Properties"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "statemachine.asl.json").read_text(encoding="utf-8")))
    assert set(machine["DefinitionSubstitutions"]) == placeholders
    assert machine["DefinitionUri"] == "statemachine.asl.json"
    events = machine["Events"]["Weekly"]
    assert events["Type"] == "ScheduleV2" and "MON" in template.data["Parameters"]["ScheduleExpression"]["Default"]
    env = template.data["Globals"]["Function"]["Environment"]["Variables"]
    assert env["PARTITION_RETRIES"] == {"Ref": "PartitionRetries"}  # the same number as the Retry's MaxAttempts
    functions = {k: v for k, v in template.data["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == {"FleetFunction", "ScanFunction"}
    handler = (DEPLOY / "src" / "app.py").read_text(encoding="utf-8")
    assert "from walens.fleet.lambda_ import handler" in handler
    for name, function in functions.items():  # sam build runs src/Makefile (tests/test_fleet_package.py builds it)
        assert function["Metadata"] == {"BuildMethod": "makefile", "ProjectRootDirectory": "../..",
                                        "ContextPath": "src"}, name
        assert f"build-{name}" in (DEPLOY / "src" / "Makefile").read_text(encoding="utf-8")
    assert template.data["Globals"]["Function"]["CodeUri"] == "src/"
    assert (DEPLOY / ".." / ".." / "pyproject.toml").is_file()  # ProjectRootDirectory is the repository root


def test_walens_reviews_its_own_fleet_template_with_no_high_finding() -> None:
    from walens.pipeline import scan_templates

    doc = scan_templates([str(TEMPLATE)], fail_on="high")
    assert doc["errors"] == []
    high = [(f["rule_id"], f["resource"]["id"]) for f in doc["findings"]
            if f["status"] == "fail" and f["severity"] == "high"]
    assert high == []
    assert not doc["summary"]["failed"]
    assert len([f for f in doc["findings"] if f["status"] == "pass"]) > 30  # the rules did run on it


def test_merge_notifies_new_and_resolved_findings(sfn_aws: None, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    from test_fleet import M1, M2

    from walens.fleet import lambda_

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="walens-fleet-reviews")
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="walens")["TopicArn"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("TOPIC_ARN", topic)
    monkeypatch.setenv("ACCOUNTS", f"{M1},{M2}")
    planned = lambda_.handler({"task": "plan", "run": "r1"})
    assert planned["partitions"] == 4 and planned["accounts"] == 2
    items = json.loads(s3.get_object(Bucket="walens-fleet-reviews", Key=planned["items_key"])["Body"].read())
    assert items == [{"account": M1, "regions": ["us-east-1", "eu-west-1"]},
                     {"account": M2, "regions": ["us-east-1", "eu-west-1"]}]
    # nothing scanned: every partition is reported not assessed, never dropped
    out = lambda_.handler({"task": "merge", "run": "r1"})
    assert out["coverage"] == {"not_assessed": 4, "planned": 4}
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"]
    assert "0/4 partitions assessed, 4 not assessed" in message and f"{M1}/us-east-1" in message
    assert "s3://walens-fleet-reviews/runs/r1/fleet.html" in message
    with pytest.raises(ValueError, match="unknown walens fleet task"):
        lambda_.handler({"task": "nope"})


def test_record_keeps_a_partial_review_and_records_the_lambda_error_otherwise(sfn_aws: None) -> None:
    from test_fleet import M1, M2

    from walens.fleet import lambda_
    from walens.fleet import merge as fleet_merge
    from walens.fleet.plan import Partition
    from walens.fleet.runner import Result
    from walens.fleet.store import S3Store, partition_key
    from walens.fleet.worker import not_assessed, outcome

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="walens-fleet-reviews")
    store = S3Store(s3, "walens-fleet-reviews")
    partial = Partition(M1, "us-east-1")
    doc = not_assessed(partial, "x", "y", lambda_.options(), 1)  # any review document will do as the partial one
    fleet_merge.save_result(store, "r1", Result(partial, doc, outcome(partial, doc, "partial", 3, "throttled")))
    cause = json.dumps({"errorType": "PartitionFailed", "errorMessage": f"{M2}/us-east-1: sts:AssumeRole denied"})
    error = {"Error": "PartitionFailed", "Cause": cause}
    assert lambda_.handler({"task": "record", "run": "r1", "account": M1, "region": "us-east-1",
                            "error": error})["status"] == "partial"
    kept = json.loads(store.get(partition_key("r1", partial)) or "{}")
    assert kept["outcome"]["status"] == "partial" and kept["outcome"]["error"] == "throttled"
    out = lambda_.handler({"task": "record", "run": "r1", "account": M2, "region": "us-east-1", "error": error})
    assert out["status"] == "not_assessed"
    stored = json.loads(store.get(partition_key("r1", Partition(M2, "us-east-1"))) or "{}")
    assert stored["outcome"]["attempts"] == 3  # PARTITION_RETRIES 2: the state machine tried 3 times
    assert stored["outcome"]["error"] == f"PartitionFailed: {M2}/us-east-1: sts:AssumeRole denied"
    assert stored["review"]["gaps"][0]["kind"] == "not_assessed"
