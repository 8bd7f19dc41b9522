"""SQS: queues and their attributes (one ``GetQueueAttributes`` per queue)."""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import boolean, number, parse_json

SERVICE = "sqs"
QUEUE = "AWS::SQS::Queue"

OPERATIONS: dict[str, tuple[str, ...]] = {"ListQueues": (QUEUE,), "GetQueueAttributes": ()}

_NUMBERS = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize", "KmsDataKeyReusePeriodSeconds")
_BOOLEANS = ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled")
_TEXT = ("KmsMasterKeyId", "DeduplicationScope", "FifoThroughputLimit")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    QUEUE: frozenset({"QueueName", *_NUMBERS, *_BOOLEANS, *_TEXT, "RedrivePolicy", "RedriveAllowPolicy"}),
}


def queue_properties(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """``GetQueueAttributes`` (All) as ``AWS::SQS::Queue`` properties."""
    props: dict[str, Any] = {"QueueName": name}
    for key in _NUMBERS:
        if key in attrs:
            props[key] = number(attrs[key])
    for key in _BOOLEANS:
        if key in attrs:
            props[key] = boolean(attrs[key])
    for key in _TEXT:
        if attrs.get(key):
            props[key] = attrs[key]
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if attrs.get(key):
            props[key] = parse_json(attrs[key])
    return props


def collect(ctx: Ctx) -> None:
    for url in ctx.pages("ListQueues", "QueueUrls"):
        ctx.spawn(_queue, ctx, url)


def _queue(ctx: Ctx, url: str) -> None:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    arn = ctx.arn("sqs", name)
    try:
        answer = ctx.call("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"], missing_ok=True)
    except CallFailed as exc:
        # The queue exists, its configuration is unknown: every property a rule reads ends not_assessed.
        props: dict[str, Any] = {"QueueName": name}
        for key in (*_NUMBERS, *_BOOLEANS, "RedrivePolicy", "KmsMasterKeyId"):
            props[key] = exc.unknown
        ctx.add(Resource(id=arn, type=QUEUE, properties=props, name=name, arn=arn, metadata={"QueueUrl": url}))
        return
    if answer is None:
        return  # deleted between the listing and now
    attrs = answer.get("Attributes") or {}
    arn = attrs.get("QueueArn") or arn
    ctx.add(Resource(id=arn, type=QUEUE, properties=queue_properties(name, attrs), name=name, arn=arn,
                     metadata={"QueueUrl": url}))
