"""Nightly sales report (stub)."""

from __future__ import annotations

import logging
from typing import Any

LOG = logging.getLogger()


def handler(event: dict[str, Any], context: object) -> None:
    """Summarise yesterday's orders (left out of the example)."""
    LOG.info("nightly report", extra={"scheduled_time": event.get("time")})
