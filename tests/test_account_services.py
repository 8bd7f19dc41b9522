"""Account mode for SNS, EventBridge, DynamoDB, AppSync, WAF, CodeDeploy and Organizations, end to end on moto.

A scenario of its own (``seed_services``) with the expected status of every (rule, resource) written down;
the scan must match it exactly. What moto does not implement (``wafv2:ListResourcesForWebACL``,
``codedeploy:BatchGetDeploymentGroups``/``GetDeploymentConfig``, an AppSync API's ``wafWebAclArn``,
alarm configurations of deployment groups) is answered by a ``before-call`` hook the way the service
would (as botocore's Stubber does), so the collectors' real code paths run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402
import botocore.session  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from test_account_scan import ACCOUNT, REGION, TRUST, _doc, _zip, aws, outcomes  # noqa: E402,F401

SERVICES = ["lambda", "sqs", "apigateway", "sns", "events", "dynamodb", "appsync", "wafv2", "codedeploy",
            "organizations"]
NEW = {"sns", "events", "dynamodb", "appsync", "wafv2", "codedeploy", "organizations"}
RULES = ["COST013", "REL017", "REL003", "REL015", "SEC023", "REL010", "REL011", "OPS013", "OPS018", "SEC007",
         "REL009", "REL008", "SEC002", "OPS019", "OPS020", "SEC001", "SEC008"]
VPC_GUARD = [{"Sid": "RequireVpc", "Effect": "Deny",
              "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"], "Resource": "*",
              "Condition": {"Null": {"lambda:VpcIds": "true"}}}]
WEAK_GUARD = [{"Sid": "CreateOnly", "Effect": "Deny", "Action": "lambda:CreateFunction", "Resource": "*",
               "Condition": {"Null": {"lambda:VpcIds": "true"}}}]
VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def seed_services() -> dict[str, Any]:
    """Build the scenario; returns what the stubbed calls answer (generated ids and ARNs)."""
    iam, lam, sqs = client("iam"), client("lambda"), client("sqs")
    role = iam.create_role(RoleName="svc-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fanout_url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    fanout = sqs.get_queue_attributes(QueueUrl=fanout_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    common = {"Role": role, "Handler": "index.handler", "Code": {"ZipFile": _zip()}, "Runtime": "python3.13"}
    sub_fn = lam.create_function(FunctionName="sub-fn", **common)["FunctionArn"]
    nofilter_fn = lam.create_function(FunctionName="nofilter-fn", **common)["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName="nofilter-fn", DestinationConfig={
        "OnFailure": {"Destination": dlq}})
    stream_fn = lam.create_function(FunctionName="stream-fn", **common)["FunctionArn"]

    # SNS: a topic with the default policy and one open to anyone; lambda and SQS subscriptions.
    sns = client("sns")
    orders = sns.create_topic(Name="orders-topic")["TopicArn"]
    open_topic = sns.create_topic(Name="open-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=open_topic, AttributeName="Policy", AttributeValue=_doc([
        {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": open_topic}]))
    sns.subscribe(TopicArn=orders, Protocol="lambda", Endpoint=sub_fn, ReturnSubscriptionArn=True, Attributes={
        "FilterPolicy": json.dumps({"kind": ["order"]}),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})})
    sns.subscribe(TopicArn=orders, Protocol="lambda", Endpoint=nofilter_fn, ReturnSubscriptionArn=True)
    sns.subscribe(TopicArn=open_topic, Protocol="sqs", Endpoint=fanout, ReturnSubscriptionArn=True)

    # EventBridge: a schedule with a DLQ, a pattern rule without, and a partner bus open to everyone.
    events = client("events")
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "fn", "Arn": sub_fn, "DeadLetterConfig": {"Arn": dlq},
                                                 "RetryPolicy": {"MaximumRetryAttempts": 4}}])
    events.put_rule(Name="on-order", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="on-order", Targets=[{"Id": "fn", "Arn": nofilter_fn}])
    events.create_event_bus(Name="partners")
    events.put_permission(EventBusName="partners", Policy=_doc([
        {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
         "Resource": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/partners"}]))
    events.put_rule(Name="partner-in", EventBusName="partners", EventPattern=json.dumps({"source": ["p"]}))
    events.put_targets(Rule="partner-in", EventBusName="partners",
                       Targets=[{"Id": "q", "Arn": fanout, "DeadLetterConfig": {"Arn": dlq}}])

    # DynamoDB: a table whose stream feeds a function with no failure handling.
    ddb = client("dynamodb")
    table = ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST",
                             StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
    esm = lam.create_event_source_mapping(EventSourceArn=table["LatestStreamArn"], FunctionName=stream_fn,
                                          StartingPosition="LATEST", BatchSize=100)
    labels = {esm.get("EventSourceMappingArn")
              or f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{esm['UUID']}": "orders-stream->stream-fn"}

    # AppSync: an IAM-authorized, traced, logged API; an API-key-only one with nothing.
    appsync = client("appsync")
    good_gql = appsync.create_graphql_api(name="good-gql", authenticationType="AWS_IAM", xrayEnabled=True,
                                          logConfig={"fieldLogLevel": "ERROR", "cloudWatchLogsRoleArn": role}
                                          )["graphqlApi"]["arn"]
    appsync.create_graphql_api(name="key-gql", authenticationType="API_KEY")

    # REST APIs with an open method: only a web ACL can pass SEC002.
    apigw = client("apigateway")
    stages = {}
    for name in ("pub", "pub2", "bare"):
        api = apigw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
        stages[name] = f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/prod"

    # WAF: a rate-limiting web ACL on pub and good-gql, a plain one on pub2, an idle one. The associations
    # are made only through the stubbed ListResourcesForWebACL (moto's stages then carry no webAclArn).
    waf = client("wafv2")
    rate_rule = {"Name": "per-ip", "Priority": 0, "Action": {"Block": {}}, "VisibilityConfig": VISIBILITY,
                 "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}}}
    acls = {}
    for name, rules in (("rate-acl", [rate_rule]), ("plain-acl", []), ("idle-acl", [])):
        acls[name] = waf.create_web_acl(Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=rules,
                                        VisibilityConfig=VISIBILITY)["Summary"]["ARN"]
    protected = {acls["rate-acl"]: {"API_GATEWAY": [stages["pub"]], "APPSYNC": [good_gql]},
                 acls["plain-acl"]: {"API_GATEWAY": [stages["pub2"]], "APPSYNC": []},
                 acls["idle-acl"]: {"API_GATEWAY": [], "APPSYNC": []}}

    # CodeDeploy: canary with alarms, all-at-once, a custom linear configuration; an EC2 application.
    cd = client("codedeploy")
    cd.create_application(applicationName="svc", computePlatform="Lambda")
    cd.create_application(applicationName="fleet", computePlatform="Server")
    style = {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
    groups = {"canary": "CodeDeployDefault.LambdaCanary10Percent5Minutes", "yolo": "CodeDeployDefault.LambdaAllAtOnce",
              "linear": "Linear5PercentEvery2Minutes"}
    for group, config in groups.items():
        cd.create_deployment_group(applicationName="svc", deploymentGroupName=group, deploymentConfigName=config,
                                   serviceRoleArn=role, deploymentStyle=style)
    cd.create_deployment_group(applicationName="fleet", deploymentGroupName="servers", serviceRoleArn=role,
                               deploymentConfigName="CodeDeployDefault.AllAtOnce")

    # Organizations: this account manages an organization with a correct and a weak VPC guardrail SCP.
    org = client("organizations")
    org.create_organization(FeatureSet="ALL")
    for name, statements in (("lambda-vpc", VPC_GUARD), ("weak-scp", WEAK_GUARD)):
        org.create_policy(Name=name, Type="SERVICE_CONTROL_POLICY", Description=name, Content=_doc(statements))
    return {"protected": protected, "groups": groups, "role": role, "good_gql": good_gql, "acls": acls,
            "labels": labels}


def answer_calls(monkeypatch: pytest.MonkeyPatch,
                 answers: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]) -> list[str]:
    """Answer ``(service, operation)`` calls with ``answers[...](params)`` (a dict, or raise ``Refuse``)."""
    answered: list[str] = []
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def keep(params: Any, context: Any, **_: Any) -> None:
            context["test_params"] = dict(params)  # before-call sees only the serialised request

        def answer(model: Any, context: Any, **_: Any) -> Any:
            fn = answers.get((service, model.name))
            if fn is None:
                return None
            answered.append(f"{service}:{model.name}")
            try:
                body = fn(context.get("test_params") or {})
                status = 200
            except Refuse as exc:
                status = 403 if "Denied" in exc.code else 400
                body = {"Error": {"Code": exc.code, "Message": "refused by the test"}}
            return (AWSResponse("https://stub", status, {}, None),
                    {**body, "ResponseMetadata": {"HTTPStatusCode": status}})

        client.meta.events.register("before-parameter-build.*.*", keep)
        client.meta.events.register("before-call.*.*", answer)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    return answered


class Refuse(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _group_info(name: str, config: str, role: str) -> dict[str, Any]:
    alarms = {"canary": {"enabled": True, "alarms": [{"name": "svc-errors"}]},
              "linear": {"enabled": False, "alarms": [{"name": "svc-errors"}]}}.get(name, {})
    return {"applicationName": "svc", "deploymentGroupId": f"id-{name}", "deploymentGroupName": name,
            "deploymentConfigName": config, "serviceRoleArn": role, "alarmConfiguration": alarms,
            "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
            "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            "computePlatform": "Lambda"}


def service_answers(seeded: dict[str, Any]) -> dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]:
    """What the real services answer for the calls moto lacks, for the seeded scenario."""
    protected, groups, role = seeded["protected"], seeded["groups"], seeded["role"]

    def resources_for_web_acl(params: dict[str, Any]) -> dict[str, Any]:
        return {"ResourceArns": protected[params["WebACLArn"]][params["ResourceType"]]}

    def deployment_groups(params: dict[str, Any]) -> dict[str, Any]:
        if params["applicationName"] != "svc":
            return {"deploymentGroupsInfo": [{"applicationName": params["applicationName"],
                                              "deploymentGroupName": n, "computePlatform": "Server",
                                              "deploymentConfigName": "CodeDeployDefault.AllAtOnce"}
                                             for n in params["deploymentGroupNames"]]}
        return {"deploymentGroupsInfo": [_group_info(n, groups[n], role) for n in params["deploymentGroupNames"]]}

    def deployment_config(params: dict[str, Any]) -> dict[str, Any]:
        assert params["deploymentConfigName"] == "Linear5PercentEvery2Minutes"
        return {"deploymentConfigInfo": {
            "deploymentConfigName": params["deploymentConfigName"], "computePlatform": "Lambda",
            "trafficRoutingConfig": {"type": "TimeBasedLinear",
                                     "timeBasedLinear": {"linearPercentage": 5, "linearInterval": 2}}}}

    return {("wafv2", "ListResourcesForWebACL"): resources_for_web_acl,
            ("codedeploy", "BatchGetDeploymentGroups"): deployment_groups,
            ("codedeploy", "GetDeploymentConfig"): deployment_config}


def scan(**kw: Any) -> dict[str, Any]:
    from walens.pipeline import scan_account

    kw.setdefault("regions", [REGION])
    kw.setdefault("services", SERVICES)
    kw.setdefault("select", RULES)
    kw.setdefault("fail_on", "never")
    return scan_account(**kw)


def new_gaps(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(g["service"], g["operation"], g["kind"]) for g in doc["gaps"] if g["service"] in NEW}


def got(doc: dict[str, Any], labels: dict[str, str]) -> dict[tuple[str, str], str]:
    """(rule, resource name or label) -> status, for the rules this file is about."""
    return {(rule, name): status for (rule, _region, name), status in outcomes(doc, labels).items()}


G = "global"
EXPECTED: dict[tuple[str, str], str] = {
    # SNS subscriptions: a filter policy (COST013, lambda only) and a dead-letter queue (REL017)
    ("COST013", "orders-topic -> lambda:sub-fn"): "pass", ("REL017", "orders-topic -> lambda:sub-fn"): "pass",
    ("COST013", "orders-topic -> lambda:nofilter-fn"): "fail", ("REL017", "orders-topic -> lambda:nofilter-fn"): "fail",
    ("REL017", "open-topic -> sqs:fanout"): "fail",
    # SNS and EventBridge invoke functions asynchronously (no Lambda permission was added by the seed)
    ("REL003", "sub-fn"): "fail", ("REL003", "nofilter-fn"): "pass",
    # EventBridge rules: every target needs a DLQ
    ("REL015", "nightly"): "pass", ("REL015", "on-order"): "fail", ("REL015", "partner-in"): "pass",
    # Resource policies: the SNS default policy is scoped to the owner; "*" without a condition is public
    ("SEC023", "orders-topic"): "pass", ("SEC023", "open-topic"): "fail", ("SEC023", "partners"): "fail",
    # A DynamoDB stream mapping without an on-failure destination or bisect
    ("REL010", "orders-stream->stream-fn"): "fail", ("REL011", "orders-stream->stream-fn"): "fail",
    # AppSync
    ("OPS013", "good-gql"): "pass", ("OPS018", "good-gql"): "pass", ("REL009", "good-gql"): "pass",
    ("OPS013", "key-gql"): "fail", ("OPS018", "key-gql"): "fail", ("REL009", "key-gql"): "fail",
    ("SEC007", "key-gql"): "fail",
    # WAF: web ACLs protecting APIs need a rate-based rule; a web ACL on the stage passes SEC002
    ("REL008", "rate-acl"): "pass", ("REL008", "plain-acl"): "fail",
    ("SEC002", "pub"): "pass", ("SEC002", "pub2"): "pass", ("SEC002", "bare"): "fail",
    # CodeDeploy Lambda deployment groups (the EC2 application's group is not reviewed)
    ("OPS019", "canary"): "pass", ("OPS020", "canary"): "pass",
    ("OPS019", "yolo"): "fail",
    ("OPS019", "linear"): "pass", ("OPS020", "linear"): "fail",
    # Organizations: SCPs as VPC guardrails; one that requires a VPC makes SEC008 judge every function
    ("SEC001", "lambda-vpc"): "pass", ("SEC001", "weak-scp"): "fail",
    ("SEC008", "sub-fn"): "fail", ("SEC008", "nofilter-fn"): "fail", ("SEC008", "stream-fn"): "fail",
}


def test_new_services_match_the_expected_outcome_of_every_rule(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed_services()
    answered = answer_calls(monkeypatch, service_answers(seeded))
    doc = scan()
    assert got(doc, seeded["labels"]) == EXPECTED
    assert new_gaps(doc) == set()
    assert {"wafv2:ListResourcesForWebACL", "codedeploy:BatchGetDeploymentGroups",
            "codedeploy:GetDeploymentConfig"} <= set(answered)
    for service in NEW:
        assert doc["scan"]["api_calls"][service] > 0, service


def test_where_moto_lacks_a_call_the_scan_falls_back_or_says_so(aws: None) -> None:
    """No stub: BatchGetDeploymentGroups falls back to GetDeploymentGroup (moto drops alarm configurations),
    GetDeploymentConfig is a gap that leaves the custom configuration not_assessed, and the web ACL
    associations moto cannot list are simply not seen (moto's stages carry no webAclArn either)."""
    seeded = seed_services()
    doc = scan()
    expected = dict(EXPECTED)
    expected.update({("OPS020", "canary"): "fail",  # moto keeps no alarm configuration
                     ("OPS019", "linear"): "not_assessed", ("OPS020", "linear"): "not_assessed",
                     ("SEC002", "pub"): "fail", ("SEC002", "pub2"): "fail", ("REL009", "good-gql"): "fail"})
    for key in (("REL008", "rate-acl"), ("REL008", "plain-acl")):
        del expected[key]  # the web ACLs protect nothing that was seen
    assert got(doc, seeded["labels"]) == expected
    assert new_gaps(doc) == {("codedeploy", "GetDeploymentConfig", "not_supported")}
    gap = next(g for g in doc["gaps"] if g["operation"] == "GetDeploymentConfig")
    assert gap["action"] == "codedeploy:GetDeploymentConfig" and "OPS019" in gap["rules"]
    assert doc["scan"]["api_calls"]["codedeploy"] >= 1 + 2 + 2 + 3 + 1  # list, groups per app, batch, get, config


def test_an_account_outside_any_organization_has_no_scp_and_no_gap(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_services()

    def not_in_use(_params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("AWSOrganizationsNotInUseException")

    answered = answer_calls(monkeypatch, {("organizations", "ListPolicies"): not_in_use})
    doc = scan(services=["lambda", "organizations"], select=["SEC001", "SEC008"])
    assert answered == ["organizations:ListPolicies"]
    assert doc["findings"] == [] and [g for g in doc["gaps"] if g["service"] == "organizations"] == []


def test_scps_a_member_account_may_not_read_are_a_gap(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_services()

    def denied(_params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("AccessDeniedException")

    answer_calls(monkeypatch, {("organizations", "ListPolicies"): denied})
    doc = scan(services=["lambda", "organizations"], select=["SEC001"])
    # No SCP was seen: the guardrail rule is not assessed for the account, not passed and not "not applicable".
    assert [(f["rule_id"], f["status"], f["resource"]["name"], f["resource"]["region"]) for f in doc["findings"]] == [
        ("SEC001", "not_assessed", "*", "global")]
    [gap] = [g for g in doc["gaps"] if g["service"] == "organizations"]
    assert (gap["service"], gap["action"], gap["kind"], gap["region"]) == (
        "organizations", "organizations:ListPolicies", "denied", REGION)
    assert gap["rules"] == ["SEC001"]


def test_denied_details_leave_the_rules_that_need_them_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded = seed_services()

    def denied(_params: dict[str, Any]) -> dict[str, Any]:
        raise Refuse("AccessDeniedException")

    answers = service_answers(seeded)
    for op in (("sns", "GetSubscriptionAttributes"), ("events", "ListTargetsByRule"), ("wafv2", "ListWebACLs"),
               ("codedeploy", "GetDeploymentConfig"), ("sns", "GetTopicAttributes")):
        answers[op] = denied
    answer_calls(monkeypatch, answers)
    doc = scan()
    result = got(doc, seeded["labels"])
    for rule, name in EXPECTED:
        if rule in ("COST013", "REL017", "REL015", "REL009", "SEC023") and name != "partners":
            assert result[(rule, name)] == "not_assessed", (rule, name)
    assert result[("OPS019", "linear")] == "not_assessed"
    assert result[("SEC023", "partners")] == "fail"  # the bus policy comes with ListEventBuses
    assert {k: v for k, v in result.items() if k[0] == "REL008"} == {("REL008", "*"): "not_assessed"}  # no web ACL seen
    assert result[("SEC002", "bare")] == "fail" and result[("SEC002", "pub")] == "fail"
    assert {(g["service"], g["operation"]) for g in doc["gaps"] if g["service"] in NEW} == {
        ("sns", "GetSubscriptionAttributes"), ("events", "ListTargetsByRule"), ("wafv2", "ListWebACLs"),
        ("codedeploy", "GetDeploymentConfig"), ("sns", "GetTopicAttributes")}
    assert {g["kind"] for g in doc["gaps"] if g["service"] in NEW} == {"denied"}
    assert "REL009" in next(g for g in doc["gaps"] if g["operation"] == "ListWebACLs")["rules"]


def test_the_console_report_shows_api_calls_per_service(aws: None) -> None:
    from walens import reporters

    seed_services()
    doc = scan(services=["sns", "events"], select=["REL015", "REL017"])
    calls = doc["scan"]["api_calls"]
    assert set(calls) == {"sns", "events", "sts"}
    line = next(x for x in reporters.render("console", doc, "en").splitlines() if x.startswith("API calls ("))
    assert line.startswith(f"API calls ({sum(calls.values())}): ")
    assert f"sns {calls['sns']}" in line and f"events {calls['events']}" in line and "sts 1" in line
    assert f"API 呼び出し ({sum(calls.values())})" in reporters.render("console", doc, "ja")


def test_iam_keeps_the_roles_of_rules_targets_and_integrations() -> None:
    """SEC025 judges the roles EventBridge and API Gateway run as: the IAM sweep keeps them."""
    from walens.model import Resource
    from walens.scanners.account import iam as iam_module

    def role(name: str) -> Resource:
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        return Resource(id=arn, type="AWS::IAM::Role", properties={"RoleName": name}, name=name, arn=arn,
                        source="account")

    roles = [role("rule-role"), role("target-role"), role("integration-role"), role("unused")]
    rule = Resource(id="r", type="AWS::Events::Rule", source="account", properties={
        "RoleArn": roles[0].arn, "Targets": [{"Id": "t", "Arn": "arn:aws:sqs:x", "RoleArn": roles[1].arn}]})
    method = Resource(id="m", type="AWS::ApiGateway::Method", source="account", properties={
        "Integration": {"Type": "AWS", "Credentials": roles[2].arn}})
    kept = iam_module.finalize([*roles, rule, method])
    assert {r.name for r in kept if r.type == "AWS::IAM::Role"} == {"rule-role", "target-role", "integration-role"}
