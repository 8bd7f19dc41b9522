"""EventBridge OrderShipped: email the customer (stub)."""

from __future__ import annotations

import os
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
SES = boto3.client("ses")


def handler(event: dict[str, Any], context: object) -> None:
    """Send the shipment email for the order in the event."""
    order = TABLE.get_item(Key={"orderId": event["detail"]["orderId"]})["Item"]
    SES.send_email(
        Source="orders@orders.example.com",
        Destination={"ToAddresses": [order["email"]]},
        Message={"Subject": {"Data": "Your order has shipped"},
                 "Body": {"Text": {"Data": f"Order {order['orderId']} is on its way."}}},
    )
