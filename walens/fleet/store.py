"""Where a fleet run keeps its files: a local directory or an S3 prefix, with the same layout.

``runs/<run>/plan.json`` (the partitions), ``runs/<run>/partitions/<account>-<region>.json`` (each partition's
``{"outcome", "review"}``), ``runs/<run>/fleet.{json,md,html}`` (the fleet review) and ``latest.json`` (the
last finished run: the next run's diff and trend start from it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from walens.fleet.plan import Partition


def run_id(now: datetime | None = None) -> str:
    """``<UTC timestamp>``: runs sort by time."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def partition_key(run: str, partition: Partition) -> str:
    return f"runs/{run}/partitions/{partition.account}-{partition.region}.json"


class Store(Protocol):
    """Text objects by key."""

    def put(self, key: str, text: str, content_type: str = "application/json") -> None: ...

    def get(self, key: str) -> str | None: ...

    def where(self, key: str) -> str: ...


class LocalStore:
    """A directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put(self, key: str, text: str, content_type: str = "application/json") -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")

    def get(self, key: str) -> str | None:
        path = self.root / key
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def where(self, key: str) -> str:
        return str(self.root / key)


class S3Store:
    """An S3 bucket and prefix (the Step Functions run's)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def put(self, key: str, text: str, content_type: str = "application/json") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=text.encode("utf-8"),
                               ContentType=content_type)

    def get(self, key: str) -> str | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return str(body.decode("utf-8"))

    def where(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


def dump(data: Any) -> str:
    """Compact JSON: with ``indent`` the json module falls back to its pure-Python encoder, which held a fleet
    review of 20,000 functions (292 MiB of JSON) as millions of small strings: the merge peaked at 3.3 GiB,
    over the Merge function's memory. ``walens report`` or ``jq`` pretty-print it."""
    return json.dumps(data, separators=(",", ":")) + "\n"


def save_plan(store: Store, run: str, partitions: Sequence[Partition]) -> str:
    key = f"runs/{run}/plan.json"
    store.put(key, dump([p.to_dict() for p in partitions]))
    return key


def load_plan(store: Store, run: str) -> list[Partition]:
    text = store.get(f"runs/{run}/plan.json")
    if text is None:
        from walens.errors import UsageError

        raise UsageError(f"fleet run {run}: no plan.json in {store.where(f'runs/{run}/')}")
    return [Partition.from_dict(p) for p in json.loads(text)]


def previous_review(store: Store) -> dict[str, Any] | None:
    """The last finished run's fleet review (None on the first run)."""
    latest = store.get("latest.json")
    if latest is None:
        return None
    text = store.get(str(json.loads(latest)["key"]))
    return json.loads(text) if text is not None else None
