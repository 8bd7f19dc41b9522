"""DynamoDB: tables (key schema, billing mode, streams, encryption), one ``DescribeTable`` each.

Point-in-time recovery and TTL (``DescribeContinuousBackups``, ``DescribeTimeToLive``) are not read: no
account-scoped rule judges them, and they would cost two calls per table. A table's stream ARN is kept
in ``metadata.stream_arn``; event source mappings are judged from their own ``EventSourceArn``.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import pick

SERVICE = "dynamodb"
TABLE = "AWS::DynamoDB::Table"

OPERATIONS: dict[str, tuple[str, ...]] = {"ListTables": (TABLE,), "DescribeTable": ()}

_INDEX_KEYS = ("IndexName", "KeySchema", "Projection")
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    TABLE: frozenset({"TableName", "KeySchema", "AttributeDefinitions", "DeletionProtectionEnabled", "BillingMode",
                      "ProvisionedThroughput", "StreamSpecification", "SSESpecification", "TableClass",
                      "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "Replicas"}),
}


def table_properties(table: dict[str, Any]) -> dict[str, Any]:
    """``DescribeTable`` as ``AWS::DynamoDB::Table`` properties."""
    props = pick(table, ("TableName", "KeySchema", "AttributeDefinitions", "DeletionProtectionEnabled"))
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    props["BillingMode"] = billing
    if billing == "PROVISIONED":
        props["ProvisionedThroughput"] = pick(table.get("ProvisionedThroughput"),
                                              ("ReadCapacityUnits", "WriteCapacityUnits"))
    stream = table.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        props["StreamSpecification"] = pick(stream, ("StreamViewType",))
    sse = table.get("SSEDescription") or {}
    if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING"):
        props["SSESpecification"] = {"SSEEnabled": True, **pick(sse, {"SSEType": "SSEType",
                                                                      "KMSMasterKeyArn": "KMSMasterKeyId"})}
    table_class = (table.get("TableClassSummary") or {}).get("TableClass")
    if table_class:
        props["TableClass"] = table_class
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if table.get(key):
            props[key] = [pick(index, _INDEX_KEYS) for index in table[key]]
    if table.get("Replicas"):
        props["Replicas"] = [pick(r, {"RegionName": "Region"}) for r in table["Replicas"]]
    return props


def collect(ctx: Ctx) -> None:
    for name in ctx.pages("ListTables", "TableNames"):
        ctx.spawn(_table, ctx, name)


def _table(ctx: Ctx, name: str) -> None:
    arn = ctx.arn("dynamodb", f"table/{name}")
    try:
        answer = ctx.call("DescribeTable", TableName=name, missing_ok=True)
    except CallFailed as exc:
        ctx.add(Resource(id=arn, type=TABLE, name=name, arn=arn,
                         properties={"TableName": name, "BillingMode": exc.unknown,
                                     "StreamSpecification": exc.unknown}))
        return
    if answer is None:
        return  # deleted between the listing and now
    table = answer.get("Table") or {}
    arn = table.get("TableArn") or arn
    metadata = pick(table, {"TableStatus": "TableStatus", "LatestStreamArn": "stream_arn", "ItemCount": "ItemCount"})
    ctx.add(Resource(id=arn, type=TABLE, properties=table_properties(table), name=name, arn=arn, metadata=metadata))
