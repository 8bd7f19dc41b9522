"""CloudWatch Logs: log groups, in one ``DescribeLogGroups`` sweep per region."""

from __future__ import annotations

from walens.model import Resource
from walens.scanners.account.core import Ctx
from walens.scanners.account.shape import pick

SERVICE = "logs"
LOG_GROUP = "AWS::Logs::LogGroup"

OPERATIONS: dict[str, tuple[str, ...]] = {"DescribeLogGroups": (LOG_GROUP,)}
# Without the sweep no function's or state machine's log group (and its retention) can be seen.
REGION_UNKNOWNS: dict[str, list[tuple[str, str, str]]] = {
    "DescribeLogGroups": [("AWS::Lambda::Function", "related", "log_group"),
                          ("AWS::StepFunctions::StateMachine", "related", "log_group")],
}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    LOG_GROUP: frozenset({"LogGroupName", "RetentionInDays", "KmsKeyId", "LogGroupClass"}),
}


def collect(ctx: Ctx) -> None:
    for group in ctx.pages("DescribeLogGroups", "logGroups"):
        name = group["logGroupName"]
        arn = group.get("logGroupArn") or str(group.get("arn") or "").removesuffix(":*") or ctx.arn(
            "logs", f"log-group:{name}")
        # RetentionInDays absent: the group keeps its events forever, exactly as an unset template property.
        props = {"LogGroupName": name, **pick(group, {"retentionInDays": "RetentionInDays", "kmsKeyId": "KmsKeyId",
                                                     "logGroupClass": "LogGroupClass"})}
        ctx.add(Resource(id=arn, type=LOG_GROUP, properties=props, name=name, arn=arn,
                         metadata=pick(group, ("storedBytes", "creationTime"))))
