"""SQS worker: store each queued order and start its fulfilment workflow (stub)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
SFN = boto3.client("stepfunctions")
STATE_MACHINE_ARN = os.environ["FULFILMENT_STATE_MACHINE_ARN"]


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """Process a batch; report only the failed messages so the rest are not retried."""
    failures = []
    for record in event["Records"]:
        try:
            order = json.loads(record["body"])
            # The conditional write makes a redelivered message a no-op (SQS delivers at least once).
            TABLE.put_item(Item=order, ConditionExpression="attribute_not_exists(orderId)")
            SFN.start_execution(stateMachineArn=STATE_MACHINE_ARN, name=order["orderId"],
                                input=json.dumps({"orderId": order["orderId"]}))
        except TABLE.meta.client.exceptions.ConditionalCheckFailedException:
            continue
        except (ValueError, KeyError, SFN.exceptions.ExecutionAlreadyExists):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
