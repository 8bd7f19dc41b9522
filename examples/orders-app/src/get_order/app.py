"""GET /orders/{orderId}: read one order (stub)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Return the order, or 404."""
    item = TABLE.get_item(Key={"orderId": event["pathParameters"]["orderId"]}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"message": "order not found"})}
    return {"statusCode": 200, "body": json.dumps(item, default=str)}
