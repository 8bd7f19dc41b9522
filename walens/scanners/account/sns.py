"""SNS: topics with their access policies, and subscriptions (filter policy, redrive policy).

One ``ListTopics`` and one ``ListSubscriptions`` sweep per region, then one attributes call per topic and
per confirmed subscription (the listing does not carry filter or redrive policies). A topic's policy
becomes the ``AWS::SNS::TopicPolicy`` a template would declare (SEC023 judges it); a subscription is an
``AWS::SNS::Subscription`` (COST013 filter policies, REL017 dead-letter queues), and a ``lambda``
subscription relates its function to the topic as an asynchronous invoker, as in a template.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import boolean, parse_json

SERVICE = "sns"
TOPIC = "AWS::SNS::Topic"
TOPIC_POLICY = "AWS::SNS::TopicPolicy"
SUBSCRIPTION = "AWS::SNS::Subscription"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ListTopics": (TOPIC, TOPIC_POLICY),
    "GetTopicAttributes": (TOPIC_POLICY,),
    "ListSubscriptions": (SUBSCRIPTION,),
    "GetSubscriptionAttributes": (),
}

_TOPIC_TEXT = ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig", "ArchivePolicy")
_TOPIC_BOOLEANS = ("FifoTopic", "ContentBasedDeduplication")
# Subscription attributes a rule may read; JSON ones are parsed as a template would write them.
_SUB_JSON = ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy")
_SUB_TEXT = ("FilterPolicyScope", "SubscriptionRoleArn")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    TOPIC: frozenset({"TopicName", *_TOPIC_TEXT, *_TOPIC_BOOLEANS}),
    TOPIC_POLICY: frozenset({"Topics", "PolicyDocument"}),
    SUBSCRIPTION: frozenset({"TopicArn", "Protocol", "Endpoint", *_SUB_JSON, *_SUB_TEXT, "RawMessageDelivery"}),
}


def topic_properties(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """``GetTopicAttributes`` as ``AWS::SNS::Topic`` properties (the policy goes to a TopicPolicy)."""
    props: dict[str, Any] = {"TopicName": name}
    for key in _TOPIC_TEXT:
        if attrs.get(key):
            props[key] = attrs[key]
    for key in _TOPIC_BOOLEANS:
        if key in attrs:
            props[key] = boolean(attrs[key])
    return props


def subscription_properties(item: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    """``ListSubscriptions`` entry plus ``GetSubscriptionAttributes`` as ``AWS::SNS::Subscription`` properties."""
    props: dict[str, Any] = {"TopicArn": item.get("TopicArn"), "Protocol": item.get("Protocol"),
                             "Endpoint": item.get("Endpoint")}
    for key in _SUB_JSON:
        if attrs.get(key):
            props[key] = parse_json(attrs[key])
    for key in _SUB_TEXT:
        if attrs.get(key):
            props[key] = attrs[key]
    if "RawMessageDelivery" in attrs:
        props["RawMessageDelivery"] = boolean(attrs["RawMessageDelivery"])
    return props


def subscription_name(item: dict[str, Any]) -> str:
    """``<topic> -> <protocol>:<target>``: an AWS resource's name as target, else the subscription's id.

    An HTTP(S) endpoint may carry a token in its query string, an email or SMS one a person: never shown.
    """
    topic = str(item.get("TopicArn") or "").rsplit(":", 1)[-1]
    protocol = str(item.get("Protocol") or "")
    endpoint = str(item.get("Endpoint") or "")
    if protocol in ("lambda", "sqs", "firehose", "application") and endpoint.startswith("arn:"):
        target = endpoint.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    else:
        target = str(item.get("SubscriptionArn") or "").rsplit(":", 1)[-1]
    return f"{topic} -> {protocol}:{target}"


def collect(ctx: Ctx) -> None:
    ctx.spawn(_subscriptions, ctx)  # its own task: it runs even when the topic listing is denied
    for item in ctx.pages("ListTopics", "Topics"):
        ctx.spawn(_topic, ctx, item["TopicArn"])


def _topic(ctx: Ctx, arn: str) -> None:
    name = arn.rsplit(":", 1)[-1]
    try:
        answer = ctx.call("GetTopicAttributes", TopicArn=arn, missing_ok=True)
    except CallFailed as exc:
        ctx.add(Resource(id=arn, type=TOPIC, properties={"TopicName": name}, name=name, arn=arn))
        ctx.add(Resource(id=f"{arn}/policy", type=TOPIC_POLICY, name=name, arn=arn,
                         properties={"Topics": [arn], "PolicyDocument": exc.unknown}))
        return
    if answer is None:
        return  # deleted between the listing and now
    attrs = answer.get("Attributes") or {}
    ctx.add(Resource(id=arn, type=TOPIC, properties=topic_properties(name, attrs), name=name, arn=arn,
                     metadata={k: attrs[k] for k in ("SubscriptionsConfirmed", "SubscriptionsPending") if k in attrs}))
    policy = parse_json(attrs.get("Policy"))
    if policy:
        ctx.add(Resource(id=f"{arn}/policy", type=TOPIC_POLICY, name=name, arn=arn,
                         properties={"Topics": [arn], "PolicyDocument": policy}))


def _subscriptions(ctx: Ctx) -> None:
    for item in ctx.pages("ListSubscriptions", "Subscriptions"):
        arn = str(item.get("SubscriptionArn") or "")
        if not arn.startswith("arn:"):
            continue  # "PendingConfirmation" / "Deleted": nothing is delivered to it yet
        ctx.spawn(_subscription, ctx, item)


def _subscription(ctx: Ctx, item: dict[str, Any]) -> None:
    arn = item["SubscriptionArn"]
    name = subscription_name(item)
    try:
        answer = ctx.call("GetSubscriptionAttributes", SubscriptionArn=arn, missing_ok=True)
    except CallFailed as exc:
        props = subscription_properties(item, {})
        for key in ("FilterPolicy", "RedrivePolicy"):
            props[key] = exc.unknown
        ctx.add(Resource(id=arn, type=SUBSCRIPTION, properties=props, name=name, arn=arn))
        return
    if answer is None:
        return
    attrs = answer.get("Attributes") or {}
    ctx.add(Resource(id=arn, type=SUBSCRIPTION, properties=subscription_properties(item, attrs), name=name, arn=arn,
                     metadata={"PendingConfirmation": attrs.get("PendingConfirmation")}
                     if attrs.get("PendingConfirmation") else {}))
