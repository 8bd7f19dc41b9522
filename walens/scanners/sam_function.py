"""SAM functions and state machines: the resources SAM generates for them and for their events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walens.model import DEPLOYMENT_TYPES, Unknown
from walens.scanners.sam import (
    ApiEvent, Expansion, Source, as_list, as_map, id_hash, is_intrinsic, managed_policy_arn, ref_target,
    s3_location, sam_error, tag_list,
)

ESM_EVENTS = frozenset({"SQS", "Kinesis", "DynamoDB", "MSK", "MQ", "SelfManagedKafka", "DocumentDB"})
SOURCE_KIND = "WalensSourceKind"  # Metadata key of a SAM-derived event source mapping: its event type's source
_EVENT_SOURCE_KINDS = {"SQS": "sqs", "Kinesis": "kinesis", "DynamoDB": "dynamodb", "MSK": "kafka", "MQ": "mq",
                       "SelfManagedKafka": "kafka", "DocumentDB": "docdb"}
ESM_PASS = (
    "StartingPosition", "StartingPositionTimestamp", "BatchSize", "Enabled",
    "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
    "MaximumRecordAgeInSeconds", "ParallelizationFactor", "Topics", "Queues",
    "SourceAccessConfigurations", "TumblingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria",
    "KmsKeyArn", "ScalingConfig", "ProvisionedPollerConfig", "MetricsConfig", "LoggingConfig",
)
# Managed policy SAM attaches to the generated role for each pull event source.
ESM_POLICY = {
    "SQS": "service-role/AWSLambdaSQSQueueExecutionRole",
    "Kinesis": "service-role/AWSLambdaKinesisExecutionRole",
    "DynamoDB": "service-role/AWSLambdaDynamoDBExecutionRole",
    "MSK": "service-role/AWSLambdaMSKExecutionRole",
}
FUNCTION_PASS = (
    "FunctionName", "Handler", "Runtime", "Description", "MemorySize", "Timeout", "VpcConfig",
    "Environment", "KmsKeyArn", "ReservedConcurrentExecutions", "Layers", "FileSystemConfigs",
    "ImageConfig", "PackageType", "Architectures", "SnapStart", "EphemeralStorage",
    "CodeSigningConfigArn", "RuntimeManagementConfig", "LoggingConfig", "TenancyConfig",
    "RecursiveLoop", "DurableConfig", "FunctionScalingConfig", "PublishToLatestPublished",
)
_LAMBDA_INVOKE_URI = ("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/"
                      "functions/${{{arn}}}/invocations")
_DLQ_TYPES = {"SQS": "sqs:SendMessage", "SNS": "sns:Publish"}


def _assume_role(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [service]}}]}


def _is_policy_template(policy: Mapping[str, Any]) -> bool:
    # SAM policy templates are one-key maps such as "SQSPollerPolicy: {QueueName: ...}"
    return len(policy) == 1 and not is_intrinsic(policy) and "::" not in str(next(iter(policy)))


def build_role(exp: Expansion, src: Source, props: Mapping[str, Any], service: str,
               managed: list[Any], statements: list[dict[str, Any]]) -> None:
    """Generate ``<Id>Role`` from ``Policies`` the way SAM does when no ``Role`` is given."""
    role_id = f"{src.logical_id}Role"
    managed_arns = list(managed)
    inline: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = []
    policies = props.get("Policies")
    if isinstance(policies, Mapping) and not is_intrinsic(policies):
        policies = [policies]  # a single policy document or template
    for index, policy in enumerate(as_list(policies, src.logical_id, "Policies", src.line)):
        if isinstance(policy, str):
            managed_arns.append(policy if policy.startswith("arn:") else managed_policy_arn(policy))
        elif is_intrinsic(policy):
            managed_arns.append(policy)
        elif isinstance(policy, Mapping) and "Statement" in policy:
            inline.append({"PolicyName": f"{role_id}Policy{index}", "PolicyDocument": policy})
        elif isinstance(policy, Mapping) and _is_policy_template(policy):
            name, params = next(iter(policy.items()))
            # Kept by name: expanding SAM's ~80 templates is the translator's job; rules read the name.
            templates.append({"Name": name, "Parameters": params, "PolicyName": f"{role_id}Policy{index}"})
        else:
            raise sam_error(src.logical_id, f"'Policies' item {index} is not a policy name, ARN, document "
                            "or policy template", src.line)
    for index, statement in enumerate(statements):
        inline.append({"PolicyName": f"{role_id}Generated{index}",
                       "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}})
    role: dict[str, Any] = {
        "AssumeRolePolicyDocument": props.get("AssumeRolePolicyDocument") or _assume_role(service),
        "ManagedPolicyArns": managed_arns,
    }
    if inline:
        role["Policies"] = inline
    for name, target in (("PermissionsBoundary", "PermissionsBoundary"), ("RolePath", "Path")):
        if props.get(name) is not None:
            role[target] = props[name]
    if props.get("Tags") is not None:
        role["Tags"] = tag_list(props["Tags"], ("lambda:createdBy", "SAM") if service.startswith("lambda")
                                else None)
    exp.add(role_id, "AWS::IAM::Role", role, src,
            {"SamPolicyTemplates": templates} if templates else None)


def _code(props: Mapping[str, Any]) -> Any:
    if props.get("InlineCode") is not None:
        return {"ZipFile": props["InlineCode"]}
    if props.get("ImageUri") is not None:
        return {"ImageUri": props["ImageUri"]}
    if props.get("CodeUri") is not None:
        return s3_location(props["CodeUri"], "S3Bucket", "S3Key", "S3ObjectVersion")
    return {}


def _permission(exp: Expansion, src: Source, logical_id: str, target: Any, principal: str,
                source_arn: Any = None, source_account: Any = None) -> None:
    perm: dict[str, Any] = {"Action": "lambda:InvokeFunction", "FunctionName": target, "Principal": principal}
    if source_arn is not None:
        perm["SourceArn"] = source_arn
    if source_account is not None:
        perm["SourceAccount"] = source_account
    exp.add(logical_id, "AWS::Lambda::Permission", perm, src)


def expand_function(exp: Expansion, src: Source, props: Mapping[str, Any], metadata: dict[str, Any]) -> None:
    """Expand one ``AWS::Serverless::Function`` into the resources SAM generates for it."""
    fid = src.logical_id
    fn: dict[str, Any] = {name: props[name] for name in FUNCTION_PASS if props.get(name) is not None}
    fn["Code"] = _code(props)
    tracing = exp.literal(props.get("Tracing"))
    # Tracing: Disabled is the same as leaving it out (sam_resources._construct_lambda_function).
    if props.get("Tracing") and tracing != "Disabled":
        fn["TracingConfig"] = {"Mode": props["Tracing"]}
    if props.get("DeadLetterQueue") is not None:
        dlq = as_map(props["DeadLetterQueue"], fid, "DeadLetterQueue", src.line)
        if "TargetArn" not in dlq or not isinstance(dlq.get("Type"), str) or dlq["Type"] not in _DLQ_TYPES:
            raise sam_error(fid, "'DeadLetterQueue' needs Type (SQS or SNS) and TargetArn", src.line)
        fn["DeadLetterConfig"] = {"TargetArn": dlq["TargetArn"]}
    fn["Tags"] = tag_list(props.get("Tags"), ("lambda:createdBy", "SAM"))
    managed: list[Any] = [managed_policy_arn("service-role/AWSLambdaBasicExecutionRole")]
    statements: list[dict[str, Any]] = []
    if "TracingConfig" in fn:
        managed.append(managed_policy_arn("AWSXrayWriteOnlyAccess"))
    if props.get("VpcConfig") is not None:
        managed.append(managed_policy_arn("service-role/AWSLambdaVPCAccessExecutionRole"))
    if "DeadLetterConfig" in fn:
        statements.append({"Action": _DLQ_TYPES[props["DeadLetterQueue"]["Type"]], "Effect": "Allow",
                           "Resource": fn["DeadLetterConfig"]["TargetArn"]})
    fn["Role"] = props["Role"] if props.get("Role") is not None else {"Fn::GetAtt": [f"{fid}Role", "Arn"]}
    exp.add(fid, "AWS::Lambda::Function", fn, src, metadata)

    target_name: Any = {"Ref": fid}  # what events and configs point at: the alias when one is published
    target_arn: Any = {"Fn::GetAtt": [fid, "Arn"]}
    qualifier: Any = "$LATEST"
    alias_name = exp.literal(props.get("AutoPublishAlias"))
    if props.get("AutoPublishAlias") is not None:
        if not isinstance(alias_name, str) or not alias_name:
            raise sam_error(fid, "'AutoPublishAlias' must be a string or a Ref to a parameter with a Default",
                            src.line)
        alias_id = f"{fid}Alias{alias_name.replace('-', 'D').replace('_', 'U')}"
        # SAM hashes the code and properties into the Version's ID; any stable suffix serves here.
        version_id = f"{fid}Version{id_hash(fn.get('Code'))}"
        exp.add(version_id, "AWS::Lambda::Version", {"FunctionName": {"Ref": fid}}, src)
        alias: dict[str, Any] = {"FunctionName": {"Ref": fid}, "Name": alias_name,
                                 "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}}
        if props.get("ProvisionedConcurrencyConfig") is not None:
            alias["ProvisionedConcurrencyConfig"] = props["ProvisionedConcurrencyConfig"]
        exp.add(alias_id, "AWS::Lambda::Alias", alias, src)
        target_name = target_arn = {"Ref": alias_id}
        qualifier = alias_name
    _deployment_preference(exp, src, props, alias_name if props.get("AutoPublishAlias") else None)
    _event_invoke_config(exp, src, props, qualifier, statements)
    _function_url(exp, src, props, target_name, qualifier)

    events = as_map(props.get("Events"), fid, "Events", src.line)
    for event_name, event in events.items():
        managed_policy, event_statements = _function_event(
            exp, src, str(event_name), event, target_name, target_arn)
        if managed_policy and managed_policy_arn(managed_policy) not in managed:
            managed.append(managed_policy_arn(managed_policy))
        statements.extend(event_statements)
    if props.get("Role") is None:
        build_role(exp, src, props, "lambda.amazonaws.com", managed, statements)


def _deployment_preference(exp: Expansion, src: Source, props: Mapping[str, Any], alias: str | None) -> None:
    if props.get("DeploymentPreference") is None:
        return
    pref = as_map(props["DeploymentPreference"], src.logical_id, "DeploymentPreference", src.line)
    enabled = exp.literal(pref.get("Enabled", True))
    if enabled is False or (isinstance(enabled, str) and enabled.lower() == "false"):
        return
    if alias is None:
        raise sam_error(src.logical_id, "'DeploymentPreference' requires 'AutoPublishAlias'", src.line)
    if "ServerlessDeploymentApplication" not in exp.taken:
        exp.add("ServerlessDeploymentApplication", "AWS::CodeDeploy::Application",
                {"ComputePlatform": "Lambda"}, src)
    kind = exp.literal(pref.get("Type"))
    config: Any = kind
    if isinstance(kind, str) and kind in DEPLOYMENT_TYPES:
        config = {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": kind}]}
    group: dict[str, Any] = {
        "ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
        "AutoRollbackConfiguration": {"Enabled": True, "Events": [
            "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]},
        "DeploymentConfigName": config,
        "DeploymentStyle": {"DeploymentOption": "WITH_TRAFFIC_CONTROL", "DeploymentType": "BLUE_GREEN"},
        "ServiceRoleArn": pref.get("Role") or {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]},
    }
    alarms = pref.get("Alarms")
    if isinstance(alarms, list) and alarms:
        group["AlarmConfiguration"] = {"Alarms": [{"Name": a} for a in alarms], "Enabled": True}
    elif alarms is not None and not isinstance(alarms, list):
        group["AlarmConfiguration"] = {"Alarms": alarms, "Enabled": True}
    if pref.get("TriggerConfigurations") is not None:
        group["TriggerConfigurations"] = pref["TriggerConfigurations"]
    if pref.get("Hooks") is not None:
        # Extra property: SAM puts hooks on the alias's UpdatePolicy; kept here so one resource tells all.
        group["Hooks"] = pref["Hooks"]
    if pref.get("Role") is None and "CodeDeployServiceRole" not in exp.taken:
        exp.add("CodeDeployServiceRole", "AWS::IAM::Role", {
            "AssumeRolePolicyDocument": _assume_role("codedeploy.amazonaws.com"),
            "ManagedPolicyArns": [managed_policy_arn("service-role/AWSCodeDeployRoleForLambda")]}, src)
    exp.add(f"{src.logical_id}DeploymentGroup", "AWS::CodeDeploy::DeploymentGroup", group, src)


def _event_invoke_config(exp: Expansion, src: Source, props: Mapping[str, Any], qualifier: Any,
                         statements: list[dict[str, Any]]) -> None:
    if props.get("EventInvokeConfig") is None:
        return
    fid = src.logical_id
    config = as_map(props["EventInvokeConfig"], fid, "EventInvokeConfig", src.line)
    eic: dict[str, Any] = {"FunctionName": {"Ref": fid}, "Qualifier": qualifier}
    for name in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts"):
        if config.get(name) is not None:
            eic[name] = config[name]
    if config.get("DestinationConfig") is not None:
        dests = as_map(config["DestinationConfig"], fid, "EventInvokeConfig.DestinationConfig", src.line)
        out: dict[str, Any] = {}
        for key in ("OnSuccess", "OnFailure"):
            if dests.get(key) is None:
                continue
            dest = as_map(dests[key], fid, f"EventInvokeConfig.DestinationConfig.{key}", src.line)
            kind = dest.get("Type")
            arn = dest.get("Destination")
            no_value_branch = _no_value_branch(arn)
            if kind in ("SQS", "SNS") and (arn is None or no_value_branch is not None):
                # SAM creates the queue or topic when Destination is absent, or in the branch of an Fn::If
                # that is AWS::NoValue (the translator's function_with_event_dest output does the same).
                gen_id = f"{fid}EventInvokeConfig{key}{'Queue' if kind == 'SQS' else 'Topic'}"
                generated = {"Fn::GetAtt": [gen_id, "Arn"]} if kind == "SQS" else {"Ref": gen_id}
                if arn is None:
                    exp.add(gen_id, "AWS::SQS::Queue" if kind == "SQS" else "AWS::SNS::Topic", {}, src)
                    arn = generated
                elif no_value_branch is not None:  # always, with arn set (the condition above)
                    branches = list(arn["Fn::If"])
                    branches[no_value_branch] = generated
                    arn = {"Fn::If": branches}
                    if no_value_branch == 1 and isinstance(branches[0], str):
                        # Created under the If's condition; SAM's negated condition for the else branch is
                        # not modelled, so there only the reference stands for the resource.
                        created = exp.add(gen_id, "AWS::SQS::Queue" if kind == "SQS" else "AWS::SNS::Topic", {}, src)
                        created.condition = branches[0]
            elif arn is None:
                raise sam_error(fid, f"EventInvokeConfig.DestinationConfig.{key}: 'Destination' is required "
                                f"when Type is {kind}", src.line)
            out[key] = {"Destination": arn}
            action = {"SQS": "sqs:SendMessage", "SNS": "sns:Publish", "Lambda": "lambda:InvokeFunction",
                      "EventBridge": "events:PutEvents", "S3Bucket": "s3:PutObject"}.get(str(kind))
            if action:
                statements.append({"Action": action, "Effect": "Allow", "Resource": arn})
        eic["DestinationConfig"] = out
    exp.add(f"{fid}EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", eic, src)


def _no_value_branch(value: Any) -> int | None:
    """The index (1 or 2) of the ``AWS::NoValue`` branch of an ``Fn::If``, else None."""
    branches = value.get("Fn::If") if isinstance(value, Mapping) and len(value) == 1 else None
    if not isinstance(branches, list) or len(branches) != 3:
        return None
    for index in (1, 2):
        if branches[index] == {"Ref": "AWS::NoValue"}:
            return index
    return None


def _function_url(exp: Expansion, src: Source, props: Mapping[str, Any], target: Any, qualifier: Any) -> None:
    if props.get("FunctionUrlConfig") is None:
        return
    fid = src.logical_id
    config = as_map(props["FunctionUrlConfig"], fid, "FunctionUrlConfig", src.line)
    if config.get("AuthType") is None:
        raise sam_error(fid, "'FunctionUrlConfig' needs 'AuthType' (AWS_IAM or NONE)", src.line)
    url: dict[str, Any] = {"TargetFunctionArn": target, "AuthType": config["AuthType"]}
    if qualifier != "$LATEST":
        url["Qualifier"] = qualifier
    for name in ("Cors", "InvokeMode"):
        if config.get(name) is not None:
            url[name] = config[name]
    exp.add(f"{fid}Url", "AWS::Lambda::Url", url, src)
    if exp.literal(config["AuthType"]) == "NONE":
        exp.add(f"{fid}UrlPublicPermissions", "AWS::Lambda::Permission", {
            "Action": "lambda:InvokeFunctionUrl", "FunctionName": target, "Principal": "*",
            "FunctionUrlAuthType": "NONE"}, src)


def _esm(exp: Expansion, src: Source, lid: str, kind: str, ev: Mapping[str, Any], target: Any) -> None:
    esm: dict[str, Any] = {"FunctionName": target}
    arn = {"SQS": "Queue", "Kinesis": "Stream", "DynamoDB": "Stream", "MSK": "Stream", "MQ": "Broker",
           "DocumentDB": "Cluster"}.get(kind)
    if arn and ev.get(arn) is not None:
        esm["EventSourceArn"] = ev[arn]
    for name in ESM_PASS:
        if ev.get(name) is not None:
            esm[name] = ev[name]
    if ev.get("DestinationConfig") is not None:
        dest = as_map(ev["DestinationConfig"], lid, "DestinationConfig", src.line)
        on_failure = dest.get("OnFailure")
        if isinstance(on_failure, Mapping) and "Type" in on_failure:
            # SAM reads Type to pick the role policy, then drops it from the CloudFormation property.
            dest = {**dest, "OnFailure": {k: v for k, v in on_failure.items() if k != "Type"}}
        esm["DestinationConfig"] = dict(dest)
    if kind == "SelfManagedKafka" and ev.get("KafkaBootstrapServers") is not None:
        esm["SelfManagedEventSource"] = {"Endpoints": {"KafkaBootstrapServers": ev["KafkaBootstrapServers"]}}
    if kind in ("MSK", "SelfManagedKafka") and ev.get("ConsumerGroupId") is not None:
        key = ("AmazonManagedKafkaEventSourceConfig" if kind == "MSK"
               else "SelfManagedKafkaEventSourceConfig")
        esm[key] = {"ConsumerGroupId": ev["ConsumerGroupId"]}
    if kind == "DocumentDB":
        esm["DocumentDBEventSourceConfig"] = {
            k: ev[k] for k in ("DatabaseName", "CollectionName", "FullDocument") if ev.get(k) is not None}
    # The SAM event type names the source even when its ARN is a parameter or an import (facts.esm_source_kind).
    exp.add(lid, "AWS::Lambda::EventSourceMapping", esm, src, {SOURCE_KIND: _EVENT_SOURCE_KINDS[kind]})


def _rule_target(exp: Expansion, src: Source, lid: str, event_name: str, ev: Mapping[str, Any],
                 arn: Any, suffix: str) -> dict[str, Any]:
    custom = ev.get("Target")
    target_id = custom.get("Id") if isinstance(custom, Mapping) else None
    target: dict[str, Any] = {"Arn": arn, "Id": target_id if target_id is not None else f"{lid}{suffix}"[:64]}
    for name in ("Input", "InputPath", "InputTransformer"):
        if ev.get(name) is not None:
            target[name] = ev[name]
    if ev.get("DeadLetterConfig") is not None:
        dlc = as_map(ev["DeadLetterConfig"], src.logical_id, f"Events.{event_name}.DeadLetterConfig", src.line)
        if dlc.get("Arn") is not None:
            target["DeadLetterConfig"] = {"Arn": dlc["Arn"]}
        elif dlc.get("Type") == "SQS":
            queue_id = dlc.get("QueueLogicalId") or f"{lid}Queue"
            exp.add(str(queue_id), "AWS::SQS::Queue", {}, src)
            target["DeadLetterConfig"] = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        else:
            raise sam_error(src.logical_id, f"Events.{event_name}.DeadLetterConfig needs 'Arn' or 'Type: SQS'",
                            src.line)
    if ev.get("RetryPolicy") is not None:
        target["RetryPolicy"] = ev["RetryPolicy"]
    return target


def events_rule(exp: Expansion, src: Source, lid: str, event_name: str, kind: str, ev: Mapping[str, Any],
                arn: Any, suffix: str, role_arn: Any = None) -> None:
    """``AWS::Events::Rule`` for Schedule / CloudWatchEvent / EventBridgeRule events."""
    rule: dict[str, Any] = {}
    if kind == "Schedule":
        rule["ScheduleExpression"] = ev.get("Schedule")
        if ev.get("State") is not None and ev.get("Enabled") is not None:
            raise sam_error(src.logical_id, f"Events.{event_name}: State and Enabled cannot both be set",
                            src.line)
    else:
        if ev.get("Pattern") is not None:
            rule["EventPattern"] = ev["Pattern"]
        if ev.get("EventBusName") is not None:
            rule["EventBusName"] = ev["EventBusName"]
    if ev.get("State") is not None:
        rule["State"] = ev["State"]
    elif ev.get("Enabled") is not None:
        rule["State"] = "ENABLED" if exp.literal(ev["Enabled"]) is not False else "DISABLED"
    for name in ("Name", "Description"):
        if ev.get(name) is not None:
            rule[name] = ev[name]
    target = _rule_target(exp, src, lid, event_name, ev, arn, suffix)
    if role_arn is not None:
        target["RoleArn"] = role_arn
    rule["Targets"] = [target]
    exp.add(lid, "AWS::Events::Rule", rule, src)


def scheduler_schedule(exp: Expansion, src: Source, lid: str, event_name: str, ev: Mapping[str, Any],
                       arn: Any) -> None:
    """``AWS::Scheduler::Schedule`` for ScheduleV2 events."""
    sched: dict[str, Any] = {"ScheduleExpression": ev.get("ScheduleExpression"),
                             "FlexibleTimeWindow": ev.get("FlexibleTimeWindow") or {"Mode": "OFF"}}
    for name in ("Name", "Description", "State", "GroupName", "KmsKeyArn", "StartDate", "EndDate",
                 "ScheduleExpressionTimezone"):
        if ev.get(name) is not None:
            sched[name] = ev[name]
    target: dict[str, Any] = {"Arn": arn, "RoleArn": ev.get("RoleArn") or {"Fn::GetAtt": [f"{lid}Role", "Arn"]}}
    if ev.get("Input") is not None:
        target["Input"] = ev["Input"]
    if ev.get("DeadLetterConfig") is not None:
        dlc = as_map(ev["DeadLetterConfig"], src.logical_id, f"Events.{event_name}.DeadLetterConfig", src.line)
        if dlc.get("Arn") is not None:
            target["DeadLetterConfig"] = {"Arn": dlc["Arn"]}
        else:
            queue_id = dlc.get("QueueLogicalId") or f"{lid}Queue"
            exp.add(str(queue_id), "AWS::SQS::Queue", {}, src)
            target["DeadLetterConfig"] = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    if ev.get("RetryPolicy") is not None:
        target["RetryPolicy"] = ev["RetryPolicy"]
    sched["Target"] = target
    exp.add(lid, "AWS::Scheduler::Schedule", sched, src)


def event_props(src: Source, event_name: str, event: Any) -> tuple[str, Mapping[str, Any]]:
    """(Type, Properties) of one entry of ``Events``, InputError when malformed."""
    where = f"Events.{event_name}"
    ev = as_map(event, src.logical_id, where, src.line)
    kind = ev.get("Type")
    if not isinstance(kind, str):
        raise sam_error(src.logical_id, f"'{where}.Type' must be a string", src.line)
    return kind, as_map(ev.get("Properties"), src.logical_id, f"{where}.Properties", src.line)


def api_event(exp: Expansion, src: Source, event_name: str, kind: str, ev: Mapping[str, Any],
              uri: Any) -> str | None:
    """Register an Api/HttpApi event on its API; return that API's ID (None: an API SAM does not manage)."""
    if kind == "Api":
        path, method = ev.get("Path"), ev.get("Method")
        api_ref, api_id, api_type, registry = (ev.get("RestApiId"), "ServerlessRestApi", "AWS::Serverless::Api",
                                               exp.rest_events)
    else:
        path = ev.get("Path", "$default")
        method = ev.get("Method", "x-amazon-apigateway-any-method" if ev.get("Path") is None else "ANY")
        api_ref, api_id, api_type, registry = (ev.get("ApiId"), "ServerlessHttpApi", "AWS::Serverless::HttpApi",
                                               exp.http_events)
    if not isinstance(path, str) or not isinstance(method, str):
        raise sam_error(src.logical_id, f"Events.{event_name}: 'Path' and 'Method' must be strings", src.line)
    if isinstance(api_ref, str):
        api_ref = {"Ref": api_ref}  # SAM accepts the bare logical ID too
    if api_ref is not None:
        target = ref_target(api_ref)
        if target is None or exp.serverless_type(api_ref) != api_type:
            return None  # an API SAM does not manage: only the permission is generated
        api_id = target
    registry.setdefault(api_id, []).append(
        ApiEvent(path, method.lower(), ev, uri, src, f"Events.{event_name}"))
    return api_id


def _function_event(exp: Expansion, src: Source, event_name: str, event: Any, target_name: Any,
                    target_arn: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """Generate one event's resources; return the managed policy and statements its role needs."""
    kind, ev = event_props(src, event_name, event)
    lid = f"{src.logical_id}{event_name}"
    perm = f"{lid}Permission"
    statements: list[dict[str, Any]] = []
    if kind in ESM_EVENTS:
        _esm(exp, src, lid, kind, ev, target_name)
        return ESM_POLICY.get(kind), statements
    if kind == "S3":
        bucket = ev.get("Bucket")
        _permission(exp, src, perm, target_name, "s3.amazonaws.com", source_account={"Ref": "AWS::AccountId"})
        bucket_id = ref_target(bucket)
        if bucket_id:
            exp.s3_notifications.append((bucket_id, ev, target_arn, src, event_name))
        return None, statements
    if kind == "SNS":
        topic = ev.get("Topic")
        sqs = ev.get("SqsSubscription")
        sub: dict[str, Any] = {"TopicArn": topic}
        enabled: Any
        for name in ("Region", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
            if ev.get(name) is not None:
                sub[name] = ev[name]
        if not sqs:
            _permission(exp, src, perm, target_name, "sns.amazonaws.com", source_arn=topic)
            exp.add(lid, "AWS::SNS::Subscription", {"Endpoint": target_arn, "Protocol": "lambda", **sub}, src)
            return None, statements
        if sqs is True:
            queue_id = f"{lid}Queue"
            exp.add(queue_id, "AWS::SQS::Queue", {}, src)
            queue_arn: Any = {"Fn::GetAtt": [queue_id, "Arn"]}
            queue_url: Any = {"Ref": queue_id}
            batch, enabled, policy_id = 10, True, f"{lid}QueuePolicy"  # SAM's defaults for a queue it makes
        else:
            conf = as_map(sqs, src.logical_id, f"Events.{event_name}.SqsSubscription", src.line)
            if conf.get("QueueArn") is None or conf.get("QueueUrl") is None:
                raise sam_error(src.logical_id, f"Events.{event_name}.SqsSubscription needs QueueArn and QueueUrl",
                                src.line)
            queue_arn, queue_url = conf["QueueArn"], conf["QueueUrl"]
            batch = conf.get("BatchSize") or 10
            enabled = conf.get("Enabled")
            policy_id = str(conf.get("QueuePolicyLogicalId") or f"{lid}QueuePolicy")
        exp.add(policy_id, "AWS::SQS::QueuePolicy", {"Queues": [queue_url], "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Action": "sqs:SendMessage", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]}}, src)
        exp.add(lid, "AWS::SNS::Subscription", {"Endpoint": queue_arn, "Protocol": "sqs", **sub}, src)
        esm: dict[str, Any] = {"BatchSize": batch, "EventSourceArn": queue_arn, "FunctionName": target_name}
        if enabled is not None:
            esm["Enabled"] = enabled
        exp.add(f"{lid}EventSourceMapping", "AWS::Lambda::EventSourceMapping", esm, src)
        return ESM_POLICY["SQS"], statements
    if kind in ("Schedule", "CloudWatchEvent", "EventBridgeRule"):
        events_rule(exp, src, lid, event_name, kind, ev, target_arn, "LambdaTarget")
        _permission(exp, src, perm, target_name, "events.amazonaws.com",
                    source_arn={"Fn::GetAtt": [lid, "Arn"]})
        return None, statements
    if kind == "ScheduleV2":
        scheduler_schedule(exp, src, lid, event_name, ev, target_arn)
        if ev.get("RoleArn") is None:
            exp.add(f"{lid}Role", "AWS::IAM::Role", {
                "AssumeRolePolicyDocument": _assume_role("scheduler.amazonaws.com"),
                "Policies": [{"PolicyName": f"{lid}LambdaPolicy", "PolicyDocument": {"Statement": [{
                    "Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": target_arn}]}}]}, src)
        return None, statements
    if kind in ("Api", "HttpApi"):
        uri = {"Fn::Sub": _LAMBDA_INVOKE_URI.format(arn=f"{src.logical_id}.Arn")}
        if target_arn != {"Fn::GetAtt": [src.logical_id, "Arn"]}:
            uri = {"Fn::Sub": _LAMBDA_INVOKE_URI.format(arn=ref_target(target_arn))}
        api_id = api_event(exp, src, event_name, kind, ev, uri)
        api_ref = {"Ref": api_id} if api_id else ev.get("RestApiId" if kind == "Api" else "ApiId")
        _permission(exp, src, f"{perm}{'Prod' if api_id == 'ServerlessRestApi' else ''}", target_name,
                    "apigateway.amazonaws.com", source_arn={"Fn::Sub": [
                        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/*",
                        {"__ApiId__": api_ref}]})
        return None, statements
    if kind == "CloudWatchLogs":
        exp.add(lid, "AWS::Logs::SubscriptionFilter", {
            "DestinationArn": target_arn, "FilterPattern": ev.get("FilterPattern"),
            "LogGroupName": ev.get("LogGroupName")}, src)
        _permission(exp, src, perm, target_name, "logs.amazonaws.com")
        return None, statements
    if kind == "IoTRule":
        exp.add(lid, "AWS::IoT::TopicRule", {"TopicRulePayload": {
            "AwsIotSqlVersion": ev.get("AwsIotSqlVersion"), "RuleDisabled": False, "Sql": ev.get("Sql"),
            "Actions": [{"Lambda": {"FunctionArn": target_arn}}]}}, src)
        _permission(exp, src, perm, target_name, "iot.amazonaws.com",
                    source_account={"Fn::Sub": "${AWS::AccountId}"})
        return None, statements
    if kind == "Cognito":
        _permission(exp, src, f"{src.logical_id}CognitoPermission", target_name, "cognito-idp.amazonaws.com",
                    source_arn=ev.get("UserPool"))
        return None, statements
    if kind == "AlexaSkill":
        _permission(exp, src, perm, target_name, "alexa-appkit.amazon.com")
        if ev.get("SkillId") is not None:
            exp.out[-1].properties["EventSourceToken"] = ev["SkillId"]
        return None, statements
    raise sam_error(src.logical_id, f"Events.{event_name}: unsupported event Type '{kind}'", src.line)


def expand_state_machine(exp: Expansion, src: Source, props: Mapping[str, Any],
                         metadata: dict[str, Any]) -> None:
    """Expand one ``AWS::Serverless::StateMachine`` (its role and event rules included)."""
    sid = src.logical_id
    sm: dict[str, Any] = {}
    renames = {"Name": "StateMachineName", "Type": "StateMachineType", "Tracing": "TracingConfiguration",
               "Logging": "LoggingConfiguration", "Definition": "Definition",
               "DefinitionSubstitutions": "DefinitionSubstitutions"}
    for name, target in renames.items():
        if props.get(name) is not None:
            sm[target] = props[name]
    if props.get("DefinitionUri") is not None:
        local = exp.local_definition(props["DefinitionUri"])
        if isinstance(local, str):  # a local file that decodes only after DefinitionSubstitutions
            sm["DefinitionString"] = local
        elif local is not None:  # a local file the loader read: its content, or an Unknown naming it
            sm["Definition"] = local if isinstance(local, (Mapping, Unknown)) else Unknown(
                f"DefinitionUri {props['DefinitionUri']} is not a state machine definition")
        else:
            sm["DefinitionS3Location"] = s3_location(props["DefinitionUri"], "Bucket", "Key", "Version")
    if props.get("Role") is not None:
        sm["RoleArn"] = props["Role"]
    else:
        sm["RoleArn"] = {"Fn::GetAtt": [f"{sid}Role", "Arn"]}
    sm["Tags"] = tag_list(props.get("Tags"), ("stateMachine:createdBy", "SAM"))
    exp.add(sid, "AWS::StepFunctions::StateMachine", sm, src, metadata)
    arn: Any = {"Ref": sid}
    if props.get("Role") is None:
        managed: list[Any] = []
        if isinstance(props.get("Tracing"), Mapping) and props["Tracing"].get("Enabled") is True:
            managed.append(managed_policy_arn("AWSXrayWriteOnlyAccess"))
        build_role(exp, src, props, "states.amazonaws.com", managed, [])
    events = as_map(props.get("Events"), sid, "Events", src.line)
    for event_name, event in events.items():
        kind, ev = event_props(src, str(event_name), event)
        lid = f"{sid}{event_name}"
        role_arn = {"Fn::GetAtt": [f"{lid}Role", "Arn"]}
        if kind in ("Schedule", "CloudWatchEvent", "EventBridgeRule"):
            events_rule(exp, src, lid, str(event_name), kind, ev, arn, "StepFunctionsTarget", role_arn)
        elif kind == "ScheduleV2":
            scheduler_schedule(exp, src, lid, str(event_name), ev, arn)
        elif kind == "Api":
            uri = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:states:action/StartExecution"}
            api_event(exp, src, str(event_name), kind, ev, uri)
        else:
            raise sam_error(sid, f"Events.{event_name}: unsupported event Type '{kind}'", src.line)
        if kind != "ScheduleV2" or ev.get("RoleArn") is None:
            principal = {"Api": "apigateway.amazonaws.com", "ScheduleV2": "scheduler.amazonaws.com"}.get(
                kind, "events.amazonaws.com")
            exp.add(f"{lid}Role", "AWS::IAM::Role", {
                "AssumeRolePolicyDocument": _assume_role(principal),
                "Policies": [{"PolicyName": f"{lid}RoleStartExecutionPolicy", "PolicyDocument": {"Statement": [{
                    "Action": "states:StartExecution", "Effect": "Allow", "Resource": arn}]}}]}, src)
