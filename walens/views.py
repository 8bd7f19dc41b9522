"""CloudFormation's documented defaults, and the views (JMESPath roots) rules read."""

from __future__ import annotations

import copy
from typing import Any

from walens.model import Resource, Unknown

# What CloudFormation (or the service) uses when a property is absent. Declared once, here, so that a
# rule can read `Properties.MemorySize` and still tell "left unset" from `facts.defaulted`.
DEFAULTS: dict[str, dict[str, Any]] = {
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html
    "AWS::Lambda::Function": {
        "MemorySize": 128,
        "Timeout": 3,
        "Architectures": ["x86_64"],
        "TracingConfig": {"Mode": "PassThrough"},
        "PackageType": "Zip",
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text"},
    },
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventinvokeconfig.html
    # (the service retries async events twice and keeps them for 6 hours when unset)
    "AWS::Lambda::EventInvokeConfig": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-url.html
    "AWS::Lambda::Url": {"InvokeMode": "BUFFERED"},
    # BatchSize of an EventSourceMapping depends on the source: deliberately no default.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
    "AWS::Lambda::EventSourceMapping": {"Enabled": True},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-stage.html
    "AWS::ApiGateway::Stage": {"TracingEnabled": False, "CacheClusterEnabled": False},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-restapi.html
    "AWS::ApiGateway::RestApi": {"EndpointConfiguration": {"Types": ["EDGE"]}},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-method.html
    "AWS::ApiGateway::Method": {"ApiKeyRequired": False, "AuthorizationType": "NONE"},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html
    "AWS::StepFunctions::StateMachine": {"StateMachineType": "STANDARD"},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html
    "AWS::SQS::Queue": {
        "VisibilityTimeout": 30,
        "MessageRetentionPeriod": 345600,
        "DelaySeconds": 0,
        "ReceiveMessageWaitTimeSeconds": 0,
        "FifoQueue": False,
    },
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html
    "AWS::DynamoDB::Table": {"BillingMode": "PROVISIONED"},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kinesis-stream.html
    "AWS::Kinesis::Stream": {"RetentionPeriodHours": 24},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sns-subscription.html
    "AWS::SNS::Subscription": {"RawMessageDelivery": False},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html
    "AWS::CloudWatch::Alarm": {"ActionsEnabled": True, "TreatMissingData": "missing"},
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-events-rule.html
    "AWS::Events::Rule": {"State": "ENABLED"},
}


def _fill(props: dict[str, Any], defaults: dict[str, Any], prefix: str, out: list[str]) -> None:
    for key, default in defaults.items():
        if key not in props:
            props[key] = copy.deepcopy(default)
            if isinstance(default, dict):
                out.extend(_leaves(default, prefix + key + "."))
            else:
                out.append(prefix + key)
        elif isinstance(default, dict) and isinstance(props[key], dict):
            _fill(props[key], default, prefix + key + ".", out)
        # An Unknown (or otherwise shaped) value is left alone: the template decides, we do not know how.


def _leaves(node: dict[str, Any], prefix: str) -> list[str]:
    out: list[str] = []
    for key, value in node.items():
        if isinstance(value, dict):
            out.extend(_leaves(value, prefix + key + "."))
        else:
            out.append(prefix + key)
    return out


def apply_defaults(resource_type: str, properties: dict[str, Any]) -> list[str]:
    """Fill absent properties of ``properties`` in place from DEFAULTS; return the dotted names filled."""
    defaults = DEFAULTS.get(resource_type)
    if not defaults:
        return []
    out: list[str] = []
    _fill(properties, defaults, "", out)
    return out


def base_view(r: Resource) -> dict[str, Any]:
    """The view of a resource without ``related``: what a related resource looks like inside another's view."""
    # Properties, Metadata and facts are shared, not copied: facts computed after the graph is linked
    # still show through the related views stored earlier.
    return {
        "id": r.id,
        "type": r.type,
        "name": r.name,
        "source": r.source,
        "origin": r.origin,
        "origin_type": r.origin_type,
        "arn": r.arn,
        "account": r.account,
        "region": r.region,
        "Properties": r.properties,
        "Metadata": r.metadata,
        "facts": r.facts,
    }


def view(r: Resource, params: dict[str, Any]) -> dict[str, Any]:
    """The JMESPath root a rule evaluates (docs/ARCHITECTURE.md §5)."""
    out = base_view(r)
    out["related"] = r.related
    out["params"] = params
    return out


def is_unknown(value: Any) -> bool:
    """True when ``value`` is an Unknown."""
    return isinstance(value, Unknown)
