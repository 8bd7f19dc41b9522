"""EC2, for one thing only: the regions the account has enabled (``--all-regions``)."""

from __future__ import annotations

SERVICE = "ec2"
OPERATIONS: dict[str, tuple[str, ...]] = {"DescribeRegions": ()}
PROVIDES: dict[str, frozenset[str]] = {}
