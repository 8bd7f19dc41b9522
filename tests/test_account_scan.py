"""Account mode end to end on an in-process moto account: the template rules judge live resources.

The scenario (``seed``) is also used by the other ``test_account_*`` files. Tests never touch real AWS:
the ``aws`` fixture clears every AWS_* variable, sets fake credentials and a region, and starts moto.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from walens.facts import runtime  # noqa: E402

REGION = "us-east-1"
OTHER = "eu-west-1"
ACCOUNT = "123456789012"
TODAY = datetime.date(2026, 6, 1)  # python3.8 deprecated (not yet blocked), python3.13 supported
RULES = ["COST001", "COST002", "COST003", "OPS001", "OPS002", "OPS003", "OPS004", "OPS005", "OPS006", "OPS007",
         "REL001", "REL002", "REL003", "REL004", "SEC001", "SEC002", "SEC003", "SEC004", "SEC005", "SEC006"]


def fake_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials and a region; no real profile, config or endpoint can leak in."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    # moto in-process has no quota to respect: no pacing (tests/test_account_throttling.py sets its own).
    monkeypatch.setenv("WALENS_RATE_LIMITS", "off")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    fake_aws_env(monkeypatch, tmp_path)
    monkeypatch.setattr(runtime, "today", lambda: TODAY)
    with mock_aws():
        yield


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


TRUST = _doc([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])
GUARD = [{"Sid": "RequireVpc", "Effect": "Deny",
          "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"], "Resource": "*",
          "Condition": {"Null": {"lambda:VpcIds": "true"}}}]
# Covers CreateFunction only: UpdateFunctionConfiguration can still take a function out of its VPC.
WEAK_GUARD = [{"Sid": "CreateOnly", "Effect": "Deny", "Action": "lambda:CreateFunction", "Resource": "*",
               "Condition": {"Null": {"lambda:VpcIds": "true"}}}]


def seed(endpoint_url: str | None = None) -> dict[str, str]:
    """Build the scenario account; returns resource id -> readable label for ids the services generate."""
    kw: dict[str, Any] = {"endpoint_url": endpoint_url} if endpoint_url else {}

    def client(service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region, **kw)

    labels: dict[str, str] = {}
    iam = client("iam")
    role = iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="app-role", PolicyName="vpc-guard", PolicyDocument=_doc(GUARD))
    logs_policy = iam.create_policy(PolicyName="app-logs", PolicyDocument=_doc(
        [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app-role", PolicyArn=logs_policy)
    iam.create_policy(PolicyName="weak-guard", PolicyDocument=_doc(WEAK_GUARD))
    iam.create_role(RoleName="unused-role", AssumeRolePolicyDocument=TRUST)

    lam = client("lambda")
    common = {"Role": role, "Handler": "index.handler", "Code": {"ZipFile": _zip()}}
    lam.create_function(FunctionName="good-fn", Runtime="python3.13", Architectures=["arm64"],
                        TracingConfig={"Mode": "Active"}, MemorySize=512, Timeout=30, **common)
    lam.create_function(FunctionName="bad-fn", Runtime="python3.8", Environment={"Variables": {"DB_PASSWORD": "hunter2"}},
                        **common)
    lam.create_function(FunctionName="hoard-fn", Runtime="python3.13", MemorySize=1024, **common)
    for name in ("good-fn", "bad-fn"):  # S3 invokes both asynchronously
        lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads")
    lam.put_function_event_invoke_config(FunctionName="good-fn", DestinationConfig={
        "OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:failed"}})
    lam.create_function_url_config(FunctionName="bad-fn", AuthType="NONE")

    logs = client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/good-fn")
    logs.put_retention_policy(logGroupName="/aws/lambda/good-fn", retentionInDays=30)
    logs.create_log_group(logGroupName="/aws/lambda/hoard-fn")
    logs.put_retention_policy(logGroupName="/aws/lambda/hoard-fn", retentionInDays=3653)

    sqs = client("sqs")
    for queue, fn, types in (("jobs", "good-fn", ["ReportBatchItemFailures"]), ("legacy", "bad-fn", [])):
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        esm = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=10,
                                              FunctionResponseTypes=types)
        labels[esm.get("EventSourceMappingArn") or f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{esm['UUID']}"] = f"{queue}->{fn}"

    apigw = client("apigateway")

    def rest_api(name: str, **extra: Any) -> tuple[str, str]:
        api = apigw.create_rest_api(name=name, **extra)
        root = apigw.get_resources(restApiId=api["id"])["items"][0]["id"]
        return api["id"], root

    def method(api: str, resource: str, verb: str, auth: str, **extra: Any) -> None:
        apigw.put_method(restApiId=api, resourceId=resource, httpMethod=verb, authorizationType=auth, **extra)
        apigw.put_integration(restApiId=api, resourceId=resource, httpMethod=verb, type="MOCK")

    def stage_label(api: str, api_name: str, stage: str) -> None:
        labels[f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/{stage}"] = f"{api_name}/{stage}"

    orders, root = rest_api("orders", endpointConfiguration={"types": ["REGIONAL"]})
    items = apigw.create_resource(restApiId=orders, parentId=root, pathPart="orders")["id"]
    method(orders, items, "POST", "NONE")
    method(orders, root, "GET", "AWS_IAM")
    for stage in ("prod", "dev"):
        apigw.create_deployment(restApiId=orders, stageName=stage)
        stage_label(orders, "orders", stage)
    apigw.update_stage(restApiId=orders, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"}])

    shop, root = rest_api("shop", endpointConfiguration={"types": ["REGIONAL"]})
    shop_items = apigw.create_resource(restApiId=shop, parentId=root, pathPart="items")["id"]
    validator = apigw.create_request_validator(restApiId=shop, name="body", validateRequestBody=True,
                                               validateRequestParameters=False)["id"]
    method(shop, shop_items, "GET", "NONE")
    method(shop, shop_items, "POST", "AWS_IAM", requestValidatorId=validator,
           requestModels={"application/json": "Empty"})
    apigw.create_deployment(restApiId=shop, stageName="live")
    stage_label(shop, "shop", "live")
    waf = client("wafv2")
    acl = waf.create_web_acl(Name="shop-acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                             VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                                               "MetricName": "shop"})["Summary"]["ARN"]
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=f"arn:aws:apigateway:{REGION}::/restapis/{shop}/stages/live")

    vpce_policy = _doc([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
                         "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}}])
    rest_api("internal", endpointConfiguration={"types": ["PRIVATE"]}, policy=vpce_policy)
    rest_api("hidden", endpointConfiguration={"types": ["PRIVATE"]})

    v2 = client("apigatewayv2")
    web = v2.create_api(Name="web", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=web, StageName="$default",
                    DefaultRouteSettings={"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5})
    v2.create_stage(ApiId=web, StageName="beta")
    for stage in ("$default", "beta"):
        labels[f"arn:aws:apigateway:{REGION}::/apis/{web}/stages/{stage}"] = f"web/{stage}"

    sfn = client("stepfunctions")
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    sfn.create_state_machine(name="sm-traced", definition=definition, roleArn=role,
                             tracingConfiguration={"enabled": True})
    sfn.create_state_machine(name="sm-plain", definition=definition, roleArn=role)

    cw = client("cloudwatch")
    cw.put_metric_alarm(AlarmName="bad-fn-errors", Namespace="AWS/Lambda", MetricName="Errors",
                        Dimensions=[{"Name": "FunctionName", "Value": "bad-fn"}], Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")

    # Same function name in another region: relations must never cross regions.
    client("lambda", OTHER).create_function(FunctionName="good-fn", Runtime="python3.13", Architectures=["arm64"],
                                            TracingConfig={"Mode": "Active"}, **common)
    return labels


# What moto itself does not implement: the scanner reports it as a gap (never a silent pass), per region.
MOTO_GAPS = {("lambda", "GetFunctionRecursionConfig", "not_supported")}


def gap_kinds(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(g["service"], g["operation"], g["kind"]) for g in doc["gaps"]}


def outcomes(doc: dict[str, Any], labels: dict[str, str]) -> dict[tuple[str, str, str], str]:
    """(rule, region, label) -> status for every finding."""
    out: dict[tuple[str, str, str], str] = {}
    for f in doc["findings"]:
        r = f["resource"]
        key = (f["rule_id"], r["region"], labels.get(r["id"], r["name"]))
        assert key not in out, f"two findings for {key}"
        out[key] = f["status"]
    return out


def scan(**kw: Any) -> dict[str, Any]:
    from walens.pipeline import scan_account

    kw.setdefault("regions", [REGION, OTHER])
    kw.setdefault("select", RULES)
    kw.setdefault("fail_on", "never")
    return scan_account(**kw)


U, E = REGION, OTHER
EXPECTED: dict[tuple[str, str, str], str] = {
    # good-fn: retention 30 days, arm64, Active tracing, async with an on-failure destination
    ("COST001", U, "good-fn"): "pass", ("COST002", U, "good-fn"): "pass", ("COST003", U, "good-fn"): "pass",
    ("OPS001", U, "good-fn"): "pass", ("OPS004", U, "good-fn"): "pass", ("OPS005", U, "good-fn"): "pass",
    ("OPS006", U, "good-fn"): "pass", ("OPS007", U, "good-fn"): "fail", ("REL003", U, "good-fn"): "pass",
    # bad-fn: no log group, x86, PassThrough, deprecated runtime, async without destination, open URL
    ("COST001", U, "bad-fn"): "fail", ("COST003", U, "bad-fn"): "fail", ("OPS001", U, "bad-fn"): "fail",
    ("OPS004", U, "bad-fn"): "pass", ("OPS005", U, "bad-fn"): "fail", ("OPS007", U, "bad-fn"): "fail",
    ("REL003", U, "bad-fn"): "fail", ("SEC004", U, "bad-fn"): "fail",
    # hoard-fn: logs kept ten years
    ("COST001", U, "hoard-fn"): "pass", ("COST002", U, "hoard-fn"): "fail", ("COST003", U, "hoard-fn"): "fail",
    ("OPS001", U, "hoard-fn"): "fail", ("OPS004", U, "hoard-fn"): "pass", ("OPS005", U, "hoard-fn"): "pass",
    ("OPS006", U, "hoard-fn"): "pass", ("OPS007", U, "hoard-fn"): "fail",
    # good-fn in the other region has no log group of its own
    ("COST001", E, "good-fn"): "fail", ("COST003", E, "good-fn"): "pass", ("OPS001", E, "good-fn"): "pass",
    ("OPS004", E, "good-fn"): "pass", ("OPS005", E, "good-fn"): "pass", ("OPS006", E, "good-fn"): "pass",
    ("OPS007", E, "good-fn"): "fail",
    # SQS event source mappings
    ("REL004", U, "jobs->good-fn"): "pass", ("REL004", U, "legacy->bad-fn"): "fail",
    # REST APIs
    ("SEC002", U, "orders"): "fail", ("SEC002", U, "shop"): "pass",
    ("SEC003", U, "internal"): "pass", ("SEC003", U, "hidden"): "fail",
    ("OPS002", U, "orders/prod"): "pass", ("REL001", U, "orders/prod"): "pass",
    ("OPS002", U, "orders/dev"): "fail", ("REL001", U, "orders/dev"): "fail",
    ("OPS002", U, "shop/live"): "fail", ("REL001", U, "shop/live"): "fail",
    ("SEC005", U, "orders POST /orders"): "fail", ("SEC006", U, "orders POST /orders"): "fail",
    ("SEC005", U, "orders GET /"): "pass",
    ("SEC005", U, "shop GET /items"): "fail",
    ("SEC005", U, "shop POST /items"): "pass", ("SEC006", U, "shop POST /items"): "pass",
    # HTTP API stages
    ("REL002", U, "web/$default"): "pass", ("REL002", U, "web/beta"): "fail",
    # Step Functions
    ("OPS003", U, "sm-traced"): "pass", ("OPS003", U, "sm-plain"): "fail",
    # IAM: the functions' role carries a correct guardrail; an unattached policy a wrong one
    ("SEC001", "global", "app-role"): "pass", ("SEC001", "global", "weak-guard"): "fail",
}


def test_scan_matches_the_expected_outcome_of_every_rule_on_every_resource(aws: None) -> None:
    labels = seed()
    doc = scan()
    assert outcomes(doc, labels) == EXPECTED
    # None of RULES reads a function's recursion config: the call planner never asks it, so moto's
    # missing GetFunctionRecursionConfig (MOTO_GAPS) leaves no gap here.
    assert gap_kinds(doc) == set()
    assert doc["scan"]["source"] == "account"
    assert doc["scan"]["accounts"] == [ACCOUNT]
    assert doc["scan"]["regions"] == [REGION, OTHER]
    assert doc["scan"]["api_calls"]["lambda"] > 0 and doc["scan"]["api_calls"]["sts"] == 1


def test_every_finding_carries_arn_account_and_region(aws: None) -> None:
    seed()
    doc = scan()
    assert doc["findings"]
    for f in doc["findings"]:
        r = f["resource"]
        assert r["arn"] and r["arn"].startswith("arn:aws:"), r
        assert r["account"] == ACCOUNT
        assert r["region"] in (REGION, OTHER, "global")
        assert f["location"] is None


def test_only_account_scoped_rules_run(aws: None) -> None:
    """Template-only rules (what a template leaves unset or spells) never run on an account."""
    seed()
    doc = scan(select=[])
    from walens.rules import load_rules

    template_only = {r.id for r in load_rules() if "account" not in r.scope}
    assert template_only, "the catalogue has template-only rules to prove this with"
    assert not {f["rule_id"] for f in doc["findings"]} & template_only
    assert not [g for g in doc["gaps"] if g["kind"] == "internal"]


def test_secrets_never_reach_the_review(aws: None) -> None:
    seed()
    for fmt in ("json", "console", "markdown", "html", "sarif"):
        from walens import reporters

        text = reporters.render(fmt, scan(select=[]), "en")
        assert "hunter2" not in text


def test_services_option_limits_the_scan(aws: None) -> None:
    seed()
    doc = scan(services=["apigatewayv2"])
    assert {f["rule_id"] for f in doc["findings"] if f["resource"]["name"] != "*"} == {"REL002"}
    # The other rules are not assessed, saying which service was left out (walens.needs), never silent.
    others = [f for f in doc["findings"] if f["resource"]["name"] == "*"]
    assert others and {f["status"] for f in others} == {"not_assessed"}
    assert all(f["reason"].startswith("not scanned: --services leaves out ") for f in others)
    assert set(doc["scan"]["api_calls"]) == {"apigatewayv2", "sts"}


def test_max_workers_does_not_change_the_review(aws: None) -> None:
    labels = seed()
    assert outcomes(scan(max_workers=1), labels) == outcomes(scan(max_workers=16), labels) == EXPECTED


def test_roles_nothing_uses_are_left_out(aws: None) -> None:
    from walens.pipeline import assemble_account
    from walens.scanners import account

    seed()
    collected = account.collect(regions=[REGION], services=["lambda", "iam", "stepfunctions"])
    resources = assemble_account(collected, ["lambda", "iam", "stepfunctions"])
    names = {r.name for r in resources if r.type.startswith("AWS::IAM::")}
    assert names == {"app-role", "app-logs", "weak-guard"}
    fn = next(r for r in resources if r.name == "good-fn")
    assert fn.related["role"]["name"] == "app-role"
    assert sorted(p["name"] for p in fn.related["role_policies"]) == ["app-logs", "vpc-guard"]
    assert "Environment" not in fn.properties
