"""CloudWatch: metric alarms, in one ``DescribeAlarms`` sweep per region."""

from __future__ import annotations

from walens.model import Resource
from walens.scanners.account.core import Ctx
from walens.scanners.account.shape import pick

SERVICE = "cloudwatch"
ALARM = "AWS::CloudWatch::Alarm"

OPERATIONS: dict[str, tuple[str, ...]] = {"DescribeAlarms": (ALARM,)}
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "DescribeAlarms": [(t, "related", "alarms") for t in (
        "AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::ApiGateway::RestApi", "AWS::StepFunctions::StateMachine")],
}

_KEYS = ("AlarmName", "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic",
         "Period", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ThresholdMetricId", "ComparisonOperator",
         "TreatMissingData", "EvaluateLowSampleCountPercentile", "ActionsEnabled", "AlarmActions", "OKActions",
         "InsufficientDataActions", "Metrics", "Unit")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {ALARM: frozenset(_KEYS)}


def collect(ctx: Ctx) -> None:
    for alarm in ctx.pages("DescribeAlarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]):
        arn = alarm.get("AlarmArn") or ctx.arn("cloudwatch", f"alarm:{alarm['AlarmName']}")
        props = pick(alarm, _KEYS)
        if not props.get("Metrics"):
            props.pop("Metrics", None)
        ctx.add(Resource(id=arn, type=ALARM, properties=props, name=alarm["AlarmName"], arn=arn,
                         metadata=pick(alarm, ("StateValue",))))
