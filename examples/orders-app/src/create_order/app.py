"""POST /orders: accept an order and queue it for processing (stub)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3

SQS = boto3.client("sqs")  # created once per execution environment, reused across invocations
QUEUE_URL = os.environ["ORDERS_QUEUE_URL"]


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Queue the order in the request body and answer 202 with its id."""
    order = json.loads(event.get("body") or "{}")
    order["orderId"] = str(uuid.uuid4())
    SQS.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(order))
    return {"statusCode": 202, "body": json.dumps({"orderId": order["orderId"]})}
