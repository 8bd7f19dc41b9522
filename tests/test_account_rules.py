"""Account-mode results of account-scope rules the other account tests do not cover, on moto.

The scenario is the shared one (``test_account_scan.seed``) plus what these rules judge: log groups no
function writes to, state machines that log everything or call Lambda, usage plans, an API-key method,
token-authorized methods. Each rule has a resource that must fail and, where the service lets moto build
it, one that must pass; the test asserts the exact (rule, resource) -> status map of these rules.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402

from test_account_scan import ACCOUNT, REGION, TRUST, _zip, aws, seed  # noqa: E402,F401

RULES = ["COST004", "COST005", "COST009", "PERF009", "REL018", "REL005", "REL006", "REL007", "SEC018",
         "SEC009", "SEC012", "SEC013", "REL014", "PERF006"]


def seed_more() -> dict[str, str]:
    """Add what RULES judge to the shared scenario; resource id -> label for generated ids."""
    labels = seed()
    logs = boto3.client("logs", region_name=REGION)
    # Log groups no function writes to: retention forever / 10 years / 30 days (COST004, COST005 max 731).
    logs.create_log_group(logGroupName="/app/audit")
    logs.create_log_group(logGroupName="/app/archive")
    logs.put_retention_policy(logGroupName="/app/archive", retentionInDays=3653)
    logs.create_log_group(logGroupName="/app/short")
    logs.put_retention_policy(logGroupName="/app/short", retentionInDays=30)

    iam = boto3.client("iam", region_name=REGION)
    sfn_role = iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/sfn:*"
    logs.create_log_group(logGroupName="/app/sfn")
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:good-fn"

    def machine(name: str, states: dict[str, Any], level: str | None = None, data: bool = False) -> None:
        extra: dict[str, Any] = {}
        if level:
            extra["loggingConfiguration"] = {"level": level, "includeExecutionData": data,
                                             "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}]}
        first = next(iter(states))
        sfn.create_state_machine(name=name, roleArn=sfn_role,
                                 definition=json.dumps({"StartAt": first, "States": states}), **extra)

    lambda_task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": fn, "Payload.$": "$"}}
    retry = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]
    # Only a Lambda task, retried: REL018 passes, PERF009 fails (every task is a Lambda function).
    machine("sm-lambda", {"Call": {**lambda_task, "Retry": retry, "End": True}}, level="ALL", data=True)
    # A Lambda task without Retry/Catch, then a direct DynamoDB call: REL018 fails, PERF009 passes.
    machine("sm-mixed", {"Call": {**lambda_task, "Next": "Put"},
                         "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                                 "Parameters": {"TableName": "t", "Item": {}}, "Retry": retry, "End": True}},
            level="ALL", data=False)

    apigw = boto3.client("apigateway", region_name=REGION)
    keyed = apigw.create_rest_api(name="keyed", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    unplanned = apigw.create_rest_api(name="unplanned", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    for api, api_name in ((keyed, "keyed"), (unplanned, "unplanned")):
        labels[f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/prod"] = f"{api_name}/prod"
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE",
                         apiKeyRequired=True)
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
    # Token-authorized methods, with and without scopes (SEC018).
    pool = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_abc"
    auth = apigw.create_authorizer(restApiId=keyed, name="users", type="COGNITO_USER_POOLS",
                                   providerARNs=[pool], identitySource="method.request.header.Authorization")["id"]
    root = apigw.get_resources(restApiId=keyed)["items"][0]["id"]
    for path, scopes in (("scoped", ["orders/read"]), ("unscoped", [])):
        res = apigw.create_resource(restApiId=keyed, parentId=root, pathPart=path)["id"]
        apigw.put_method(restApiId=keyed, resourceId=res, httpMethod="GET", authorizationType="COGNITO_USER_POOLS",
                         authorizerId=auth, **({"authorizationScopes": scopes} if scopes else {}))
        apigw.put_integration(restApiId=keyed, resourceId=res, httpMethod="GET", type="MOCK")
    apigw.create_usage_plan(name="limited", apiStages=[{"apiId": keyed, "stage": "prod"}],
                            throttle={"burstLimit": 10, "rateLimit": 5.0}, quota={"limit": 1000, "period": "DAY"})
    apigw.create_usage_plan(name="open")
    apigw.create_rest_api(name="compressed", minimumCompressionSize=1024,
                          endpointConfiguration={"types": ["REGIONAL"]})
    return labels


def results(doc: dict[str, Any], labels: dict[str, str]) -> dict[tuple[str, str], str]:
    out = {}
    for f in doc["findings"]:
        key = (f["rule_id"], labels.get(f["resource"]["id"], f["resource"]["name"]))
        assert key not in out, key
        out[key] = f["status"]
    return out


EXPECTED = {
    # COST004: a group nothing writes to keeps logs forever; COST005: ... or longer than 731 days.
    ("COST004", "/app/audit"): "fail", ("COST004", "/app/archive"): "pass", ("COST004", "/app/short"): "pass",
    ("COST004", "/app/sfn"): "fail",  # written by state machines, not functions: no retention
    ("COST005", "/app/archive"): "fail", ("COST005", "/app/short"): "pass",
    # COST009: logging ALL with execution data.
    ("COST009", "sm-lambda"): "fail", ("COST009", "sm-mixed"): "pass",
    # PERF009: state machines whose every task is a Lambda function.
    ("PERF009", "sm-lambda"): "fail", ("PERF009", "sm-mixed"): "pass",
    # REL018: a Lambda task without Retry or Catch.
    ("REL018", "sm-lambda"): "pass", ("REL018", "sm-mixed"): "fail",
    # REL005/REL006: usage plan throttle and quota.
    ("REL005", "limited"): "pass", ("REL005", "open"): "fail",
    ("REL006", "limited"): "pass", ("REL006", "open"): "fail",
    # REL007: an API with API-key methods needs a usage plan.
    ("REL007", "keyed"): "pass", ("REL007", "unplanned"): "fail",
    # SEC018: token-authorized methods need scopes.
    ("SEC018", "keyed GET /scoped"): "pass", ("SEC018", "keyed GET /unscoped"): "fail",
    # SEC009: a secret-like variable name holding a literal (bad-fn's DB_PASSWORD).
    ("SEC009", "bad-fn"): "fail",
    # SEC012: the three functions share app-role.
    ("SEC012", "bad-fn"): "fail", ("SEC012", "good-fn"): "fail", ("SEC012", "hoard-fn"): "fail",
    # SEC013: app-role allows logs:PutLogEvents only (no broad action or resource wildcard on a service).
    ("SEC013", "app-role"): "pass",
    ("SEC013", "sfn-role"): "pass",  # trusts lambda.amazonaws.com (TRUST), no policy at all
    # REL014: queue visibility timeout (30 s default) over the function timeout, at least 6: good-fn 30 s
    # gives 1, bad-fn 3 s gives 10.
    ("REL014", "jobs->good-fn"): "fail", ("REL014", "legacy->bad-fn"): "pass",
    # PERF006: batch size above 1 (both mappings use 10).
    ("PERF006", "jobs->good-fn"): "pass", ("PERF006", "legacy->bad-fn"): "pass",
}


def test_account_rules_judge_the_scenario(aws: None) -> None:
    from walens.pipeline import scan_account

    labels = seed_more()
    doc = scan_account(regions=[REGION], select=RULES, fail_on="never", logs_insights=False)
    got = results(doc, labels)
    assert got == EXPECTED


MORE = ["OPS017", "OPS016", "PERF007", "PERF008", "OPS014", "REL013", "REL022", "SEC011", "COST007", "COST011",
        "COST008", "OPS008", "OPS010"]
REST_STAGES = ("orders/dev", "orders/prod", "shop/live", "keyed/prod", "unplanned/prod")
MORE_EXPECTED = {
    # OPS017: execution logging on state machines (only the two seeded here log).
    ("OPS017", "sm-plain"): "fail", ("OPS017", "sm-traced"): "fail",
    ("OPS017", "sm-lambda"): "pass", ("OPS017", "sm-mixed"): "pass",
    # OPS010: no state machine has an alarm on failed executions.
    **{("OPS010", sm): "fail" for sm in ("sm-plain", "sm-traced", "sm-lambda", "sm-mixed")},
    # OPS016 (execution logging), PERF007 (cache), OPS014 (access logs): no REST stage has them.
    **{(rule, stage): "fail" for rule in ("OPS016", "PERF007") for stage in REST_STAGES},
    **{("OPS014", stage): "fail" for stage in (*REST_STAGES, "web/$default", "web/beta")},
    # PERF008: only "compressed" sets a minimum compression size.
    **{("PERF008", api): "fail" for api in ("hidden", "orders", "shop", "internal", "keyed", "unplanned")},
    ("PERF008", "compressed"): "pass",
    # REL013: both queues Lambda consumes lack a dead-letter queue.
    ("REL013", "jobs"): "fail", ("REL013", "legacy"): "fail",
    # REL022 (timeout >= 600 s), SEC011 (static AWS keys), COST007 (debug logs), COST011 (memory for a
    # short Python function): none of the three functions (3-30 s, 128-1024 MB, no AWS key) trips them.
    **{(rule, fn): "pass" for rule in ("REL022", "COST007", "COST011") for fn in ("good-fn", "bad-fn", "hoard-fn")},
    ("SEC011", "bad-fn"): "pass",  # the only one with variables: DB_PASSWORD is no access key
    # COST008: no stage logs full requests and responses.
    **{("COST008", stage): "pass" for stage in (*REST_STAGES, "web/$default", "web/beta")},
    # OPS008: no function has alarms on all its key metrics (bad-fn has Errors only).
    **{("OPS008", fn): "fail" for fn in ("good-fn", "bad-fn", "hoard-fn")},
}


def test_more_account_rules_judge_the_scenario(aws: None) -> None:
    from walens.pipeline import scan_account

    labels = seed_more()
    doc = scan_account(regions=[REGION], select=MORE, fail_on="never", logs_insights=False)
    assert results(doc, labels) == MORE_EXPECTED


def seed_alarms_and_permissions() -> dict[str, str]:
    """The shared scenario plus a 5XXError alarm on "orders", a backlog alarm on "jobs" that notifies a topic,
    and a permission anyone may use on hoard-fn."""
    labels = seed()
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="oncall")["TopicArn"]
    cw = boto3.client("cloudwatch", region_name=REGION)
    cw.put_metric_alarm(AlarmName="orders-5xx", Namespace="AWS/ApiGateway", MetricName="5XXError",
                        Dimensions=[{"Name": "ApiName", "Value": "orders"}], Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[topic])
    cw.put_metric_alarm(AlarmName="jobs-age", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
                        Dimensions=[{"Name": "QueueName", "Value": "jobs"}], Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=300, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[topic])
    boto3.client("lambda", region_name=REGION).add_permission(
        FunctionName="hoard-fn", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*")
    return labels


def test_alarm_and_permission_rules_judge_the_scenario(aws: None) -> None:
    from walens.pipeline import scan_account

    labels = seed_alarms_and_permissions()
    doc = scan_account(regions=[REGION], select=["OPS009", "OPS011", "OPS012", "SEC014"], fail_on="never",
                       logs_insights=False)
    got = {(f["rule_id"], f["resource"]["id"].rsplit(":function:", 1)[-1] if f["rule_id"] == "SEC014"
            else f["resource"]["name"]): f["status"] for f in doc["findings"]}
    assert got == {
        # OPS009: only "orders" has an alarm on server errors (REST APIs by ApiName; "web" is an HTTP API).
        ("OPS009", "orders"): "pass",
        **{("OPS009", name): "fail" for name in ("hidden", "shop", "internal", "web")},
        # OPS011: "jobs" has a backlog alarm, "legacy" none.
        ("OPS011", "jobs"): "pass", ("OPS011", "legacy"): "fail",
        # OPS012: an alarm no deployment uses must notify someone: the two new ones notify "oncall",
        # bad-fn-errors has no action.
        ("OPS012", "orders-5xx"): "pass", ("OPS012", "jobs-age"): "pass", ("OPS012", "bad-fn-errors"): "fail",
        # SEC014: S3 permissions scoped by SourceArn pass; Principal "*" without a condition fails.
        ("SEC014", "good-fn/permission/s3"): "pass", ("SEC014", "bad-fn/permission/s3"): "pass",
        ("SEC014", "hoard-fn/permission/anyone"): "fail",
    }



def test_layers_from_another_account_fail_and_the_accounts_own_pass(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """SEC020 on an account: moto cannot attach another account's layer, so the listing is answered as Lambda
    answers it; a layer the function's own account published is not external."""
    from test_account_services import answer_calls

    from walens.pipeline import scan_account

    own = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:own:1"
    external = f"arn:aws:lambda:{REGION}:111111111111:layer:ext:3"
    role = f"arn:aws:iam::{ACCOUNT}:role/app-role"

    def function(name: str, layer: str) -> dict[str, Any]:
        return {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                "Runtime": "python3.13", "Role": role, "Handler": "index.handler", "Layers": [{"Arn": layer}]}

    answer_calls(monkeypatch, {("lambda", "ListFunctions"): lambda p: {
        "Functions": [function("own-layer-fn", own), function("ext-layer-fn", external)]}})
    doc = scan_account(regions=[REGION], services=["lambda"], select=["SEC020"], fail_on="never")
    got = {f["resource"]["name"]: f["status"] for f in doc["findings"]}
    assert got == {"own-layer-fn": "pass", "ext-layer-fn": "fail"}
    failing = next(f for f in doc["findings"] if f["status"] == "fail")
    assert "111111111111" in failing["message"]


def test_stream_retries_and_access_log_format(aws: None) -> None:
    """REL012: a Kinesis mapping must bound its retries; OPS015: access logs in JSON."""
    from walens.pipeline import scan_account

    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="stream-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    lam.create_function(FunctionName="stream-fn", Runtime="python3.13", Role=role, Handler="index.handler",
                        Code={"ZipFile": _zip()})
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    unbounded = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="stream-fn",
                                                StartingPosition="LATEST", BatchSize=10)["UUID"]
    bounded = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="stream-fn",
                                              StartingPosition="LATEST", BatchSize=10, MaximumRetryAttempts=3)["UUID"]
    apigw = boto3.client("apigateway", region_name=REGION)
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:access"
    formats = {"json-logs": '{"requestId":"$context.requestId","status":"$context.status"}',
               "clf-logs": '$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod '
                           '$context.resourcePath $context.protocol" $context.status $context.requestId'}
    for name, fmt in formats.items():
        api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
        apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": group},
            {"op": "replace", "path": "/accessLogSettings/format", "value": fmt}])
    doc = scan_account(regions=[REGION], select=["REL012", "OPS015"], fail_on="never", logs_insights=False)
    got = {(f["rule_id"], f["resource"]["name"] if f["rule_id"] == "REL012" else f["resource"]["id"].split("/")[2]):
           f["status"] for f in doc["findings"]}
    apis = {a["name"]: a["id"] for a in apigw.get_rest_apis()["items"]}
    assert got == {("REL012", unbounded): "fail", ("REL012", bounded): "pass",
                   ("OPS015", apis["json-logs"]): "pass", ("OPS015", apis["clf-logs"]): "fail"}


def test_a_lambda_proxy_behind_a_catch_all_path_is_flagged(aws: None) -> None:
    """SEC019: ANY /{proxy+} through a Lambda proxy integration, against a method on its own path."""
    from walens.pipeline import scan_account

    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="proxy-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    fn = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="proxy-fn", Runtime="python3.13", Role=role, Handler="index.handler",
        Code={"ZipFile": _zip()})["FunctionArn"]
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn}/invocations"
    apigw = boto3.client("apigateway", region_name=REGION)
    api = apigw.create_rest_api(name="monolith", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    for part, verb in (("{proxy+}", "ANY"), ("orders", "GET")):
        res = apigw.create_resource(restApiId=api, parentId=root, pathPart=part)["id"]
        apigw.put_method(restApiId=api, resourceId=res, httpMethod=verb, authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=res, httpMethod=verb, type="AWS_PROXY",
                              integrationHttpMethod="POST", uri=uri)
    apigw.create_deployment(restApiId=api, stageName="prod")
    doc = scan_account(regions=[REGION], select=["SEC019"], fail_on="never", logs_insights=False)
    got = {f["resource"]["name"]: f["status"] for f in doc["findings"]}
    assert got == {"monolith ANY /{proxy+}": "fail", "monolith GET /orders": "pass"}
