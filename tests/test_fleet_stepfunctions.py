"""The fleet state machine (deploy/fleet) run by moto's Step Functions interpreter, end to end.

moto executes ASL when ``execute_state_machine`` is on, Distributed Map with an S3 ItemReader included. Its
Lambda tasks call ``lambda:Invoke``: a botocore ``before-call`` hook answers them by running the real handler
(walens.fleet.lambda_.handler) in-process, as the Lambda service would, error types included (a raised
``PartitionFailed`` becomes a task error of that name, which Retry and Catch match).
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from moto import mock_aws
from test_account_multi import ROLE, assume_calls
from test_account_scan import ACCOUNT, OTHER, REGION, TODAY, fake_aws_env
from test_fleet import BAD, M1, M2, seed

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "fleet"
BUCKET = "walens-fleet-reviews"
SUBSTITUTIONS = {"FleetFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:walens-fleet",
                 "ScanFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:walens-scan",
                 "AccountConcurrency": "40", "PerAccountConcurrency": "2", "PartitionRetries": "2"}


def definition(**subs: str) -> dict[str, Any]:
    """The ASL as Step Functions sees it once SAM's DefinitionSubstitutions are applied."""
    text = (DEPLOY / "statemachine.asl.json").read_text(encoding="utf-8")
    values = {**SUBSTITUTIONS, **subs}
    return dict(json.loads(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)))


def _shorten_waits(node: Any) -> Any:
    """Retry intervals of seconds, not minutes: moto really waits (the policy itself is unchanged)."""
    if isinstance(node, dict):
        out = {k: _shorten_waits(v) for k, v in node.items()}
        if "IntervalSeconds" in out:
            out["IntervalSeconds"], out["MaxDelaySeconds"], out["BackoffRate"], out["JitterStrategy"] = 1, 1, 1.0, "NONE"
        return out
    if isinstance(node, list):
        return [_shorten_waits(v) for v in node]
    return node


@pytest.fixture
def sfn_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    from walens.facts import runtime

    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setattr(runtime, "today", lambda: TODAY)
    env = {"BUCKET": BUCKET, "REGIONS": f"{REGION},{OTHER}", "ACCOUNTS": f"{ACCOUNT},{M1},{M2},{BAD}",
           "ROLE_NAME": ROLE, "SELECT": "OPS001", "SERVICES": "lambda", "LOGS_INSIGHTS": "false",
           "FAIL_ON": "never", "PARTITION_RETRIES": SUBSTITUTIONS["PartitionRetries"], "MAX_WORKERS": "2"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def lambda_service(monkeypatch: pytest.MonkeyPatch, invocations: list[dict[str, Any]],
                   assumed: list[dict[str, Any]] | None = None) -> None:
    """Answer lambda:Invoke with the real handler; refuse sts:AssumeRole into BAD on every client."""
    from walens.fleet.lambda_ import handler

    original = botocore.session.Session.create_client
    refuse = assume_calls(assumed if assumed is not None else [], refuse={BAD})

    def invoke(params: dict[str, Any], **_: Any) -> Any:
        name = params["url_path"].split("/functions/")[1].split("/")[0]
        event = json.loads(params["body"] or b"{}")
        invocations.append({"function": name, **event})
        try:
            body, error = handler(event), None
        except Exception as exc:  # the Lambda service's answer to an unhandled error
            body, error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}, "Unhandled"
        raw = json.dumps(body).encode()
        parsed: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(BytesIO(raw), len(raw)),
                                  "ResponseMetadata": {"HTTPStatusCode": 200}}
        if error:
            parsed["FunctionError"] = error
        return AWSResponse("https://lambda", 200, {}, None), parsed

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name
        if service == "lambda":
            client.meta.events.register("before-call.lambda.Invoke", invoke)
        refuse(client)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)


def test_the_state_machine_reviews_every_partition_and_reports_the_refused_ones(
        sfn_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    invocations: list[dict[str, Any]] = []
    assumed: list[dict[str, Any]] = []
    lambda_service(monkeypatch, invocations, assumed)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(name="walens-fleet", definition=json.dumps(_shorten_waits(definition())),
                                   roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="run-1")["executionArn"]
    import time

    for _ in range(600):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED", described
    tasks = [i["task"] for i in invocations]
    assert tasks[0] == "plan" and tasks[-1] == "merge"
    scans = [(i["account"], i["region"], i["attempt"]) for i in invocations if i["task"] == "scan"]
    # every partition scanned once, the refused account's three times (Retry), then recorded (Catch)
    assert sorted(scans) == sorted([(a, r, 0) for a in (ACCOUNT, M1, M2) for r in (REGION, OTHER)]
                                   + [(BAD, r, n) for r in (REGION, OTHER) for n in (0, 1, 2)])
    assert sorted((i["account"], i["region"]) for i in invocations if i["task"] == "record") == [
        (BAD, OTHER), (BAD, REGION)]
    recorded = [i for i in invocations if i["task"] == "record"]
    assert all(i["error"]["Error"] == "PartitionFailed" for i in recorded)
    s3 = boto3.client("s3", region_name=REGION)
    latest = json.loads(s3.get_object(Bucket=BUCKET, Key="latest.json")["Body"].read())
    assert latest["run"] == "run-1"
    doc = json.loads(s3.get_object(Bucket=BUCKET, Key=latest["key"])["Body"].read())
    fleet = doc["fleet"]
    assert fleet["coverage"] == {"assessed": 6, "not_assessed": 2, "planned": 8}
    bad = [p for p in fleet["partitions"] if p["account"] == BAD]
    assert {(p["status"], p["attempts"]) for p in bad} == {("not_assessed", 3)}
    assert all("AccessDenied" in p["error"] for p in bad)
    failing = {(f["resource"]["account"], f["resource"]["region"], f["resource"]["name"])
               for f in doc["findings"] if f["status"] == "fail"}
    assert failing == {(ACCOUNT, REGION, "home-fn"), (M2, OTHER, "m2-west")}
    # the scanner's own account is read through the member role too (the function's own role cannot read)
    own = [a for a in assumed if a["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"]
    assert len(own) == 2 and {a["RoleSessionName"] for a in own} == {"walens-fleet"}
    for key in ("fleet.md", "fleet.html"):
        s3.head_object(Bucket=BUCKET, Key=latest["key"].replace("fleet.json", key))
