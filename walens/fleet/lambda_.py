"""The Step Functions tasks of ``deploy/fleet`` (Lambda handlers), on the same worker and merge as the local run.

Configuration comes from the function's environment (set by the SAM template):
``BUCKET`` / ``PREFIX`` (where runs live), ``REGIONS`` (comma-separated), ``ACCOUNTS`` (comma-separated; empty:
every active account of the organization), ``ROLE_NAME``, ``EXTERNAL_ID``, ``SERVICES``, ``SELECT``, ``IGNORE``,
``FAIL_ON``, ``LANG_REPORT`` (en or ja), ``MAX_WORKERS``, ``LOGS_INSIGHTS`` (``false`` skips it), ``WAIVERS_KEY`` (a waiver file in the bucket),
``PARTITION_RETRIES`` (the state machine's Retry MaxAttempts: a failed partition was tried once more than
that) and ``TOPIC_ARN`` (optional notification).

- :func:`plan`: the partitions, grouped by account for the Distributed Map (``runs/<run>/items.json``);
- :func:`scan`: one partition; raises ``PartitionThrottled`` / ``PartitionFailed`` (Step Functions Retry
  names them), a throttled partition's review is stored first so that the last try's review is kept;
- :func:`record`: the Catch of a partition that failed every try: its not-assessed review (a stored partial
  review is kept);
- :func:`merge`: the fleet review, the diff with the previous run, the notification.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from walens.fleet import merge as fleet_merge
from walens.fleet import plan as fleet_plan
from walens.fleet.plan import Partition
from walens.fleet.runner import Result
from walens.fleet.store import (
    S3Store,
    dump,
    load_plan,
    partition_key,
    run_id,
    save_plan,
)
from walens.fleet.worker import (
    ASSESSED,
    NOT_ASSESSED,
    PARTIAL,
    PartitionError,
    PartitionThrottled,
    ScanOptions,
    not_assessed,
    outcome,
    scan_partition,
)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _list(name: str) -> list[str]:
    return [v.strip() for v in _env(name).split(",") if v.strip()]


def _session() -> Any:
    import boto3

    return boto3.Session()


def _store(session: Any) -> S3Store:
    return S3Store(session.client("s3"), _env("BUCKET"), _env("PREFIX"))


def options(store: S3Store | None = None) -> ScanOptions:
    """The scan options from the environment (the waiver file, when named, fetched to /tmp)."""
    waivers_path = None
    key = _env("WAIVERS_KEY")
    if key and store is not None:
        text = store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
        with tempfile.NamedTemporaryFile("wb", suffix=".yml", delete=False) as handle:  # read back by path
            handle.write(text)
        waivers_path = handle.name
    return ScanOptions(role_name=_env("ROLE_NAME") or None, external_id=_env("EXTERNAL_ID") or None,
                       services=_list("SERVICES"), select=_list("SELECT"), ignore=_list("IGNORE"),
                       lang=_env("LANG_REPORT", "en") or "en", fail_on=_env("FAIL_ON", "high") or "high",
                       max_workers=int(_env("MAX_WORKERS", "4") or 4),
                       logs_insights=_env("LOGS_INSIGHTS", "true").lower() != "false", waivers_path=waivers_path)


def _partition(event: Mapping[str, Any]) -> Partition:
    return Partition(str(event["account"]), str(event["region"]))


def plan(event: Mapping[str, Any], context: Any = None, *, session: Any = None) -> dict[str, Any]:
    """Plan the run: store ``plan.json`` and the Distributed Map's items (one per account, with its regions)."""
    session = session or _session()
    store = _store(session)
    regions = _list("REGIONS")
    accounts = _list("ACCOUNTS")
    if not accounts:
        accounts = fleet_plan.organization_accounts(session, regions[0] if regions else "us-east-1")
    parts = fleet_plan.partitions(accounts, regions)
    run = str(event.get("run") or run_id())
    save_plan(store, run, parts)
    items: dict[str, list[str]] = {}
    for p in parts:
        items.setdefault(p.account, []).append(p.region)
    key = f"runs/{run}/items.json"
    store.put(key, dump([{"account": a, "regions": r} for a, r in items.items()]))
    return {"run": run, "bucket": store.bucket, "items_key": store.prefix + key, "accounts": len(items),
            "partitions": len(parts)}


def _own_account(session: Any, opts: ScanOptions) -> Any:
    """For the scanner's own account: a session in the member role there too (the Lambda's own role may not read).

    The account scan reads the caller's own account with the caller's credentials; here those are the
    function's execution role, which only writes to the bucket and assumes roles. So the scanner account
    is read through the same read-only role as every member (deploy member-role.yaml there as a stack).
    """
    import boto3

    if not opts.role_name:
        return None
    identity = session.client("sts").get_caller_identity()
    own, partition = str(identity["Account"]), str(identity.get("Arn") or "arn:aws").split(":")[1]

    def session_for(p: Partition) -> Any:
        if p.account != own:
            return None
        params: dict[str, Any] = {"RoleArn": f"arn:{partition}:iam::{own}:role/{opts.role_name}",
                                  "RoleSessionName": "walens-fleet"}
        if opts.external_id:
            params["ExternalId"] = opts.external_id
        creds = session.client("sts").assume_role(**params)["Credentials"]
        return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=p.region)

    return session_for


def scan(event: Mapping[str, Any], context: Any = None, *, session: Any = None) -> dict[str, Any]:
    """Review one partition and store its result; raise for Step Functions to retry (or catch)."""
    session = session or _session()
    store = _store(session)
    run, p = str(event["run"]), _partition(event)
    attempts = int(event.get("attempt") or 0) + 1
    opts = options(store)
    try:
        doc = scan_partition(p, opts, session=session, session_for=_own_account(session, opts))
    except PartitionThrottled as exc:
        if exc.review is not None:
            fleet_merge.save_result(store, run, Result(p, exc.review, outcome(p, exc.review, PARTIAL, attempts,
                                                                              exc.reason)))
        raise
    fleet_merge.save_result(store, run, Result(p, doc, outcome(p, doc, ASSESSED, attempts)))
    return {"run": run, **p.to_dict(), "status": ASSESSED, "attempts": attempts}


def record(event: Mapping[str, Any], context: Any = None, *, session: Any = None) -> dict[str, Any]:
    """The Catch of a partition that failed its last try: it is reported, never dropped."""
    session = session or _session()
    store = _store(session)
    run, p = str(event["run"]), _partition(event)
    error = event.get("error") or {}
    code = str(error.get("Error") or "States.TaskFailed")
    cause = str(error.get("Cause") or "")
    try:  # a Lambda error's Cause is the JSON of the exception (errorMessage, errorType, ...)
        cause = str(json.loads(cause).get("errorMessage") or cause)
    except (ValueError, AttributeError):
        pass
    attempts = int(_env("PARTITION_RETRIES", "0") or 0) + 1
    stored = store.get(partition_key(run, p))
    if stored is not None and json.loads(stored)["outcome"]["status"] == PARTIAL:
        return {"run": run, **p.to_dict(), "status": PARTIAL}
    doc = not_assessed(p, code, cause or code, options(), attempts)
    fleet_merge.save_result(store, run, Result(p, doc, outcome(p, doc, NOT_ASSESSED, attempts, f"{code}: {cause}")))
    return {"run": run, **p.to_dict(), "status": NOT_ASSESSED}


def merge(event: Mapping[str, Any], context: Any = None, *, session: Any = None) -> dict[str, Any]:
    """The fleet review of the run, its diff with the previous run, and the notification."""
    session = session or _session()
    store = _store(session)
    run = str(event["run"])
    opts = options()
    results = fleet_merge.load_results(store, run, load_plan(store, run), opts)
    written = fleet_merge.finish(store, run, results, fail_on=opts.fail_on, lang=opts.lang)
    text = fleet_merge.summary_text(written.review, store.where(written.keys["html"]), opts.lang)
    topic = _env("TOPIC_ARN")
    if topic:
        session.client("sns").publish(TopicArn=topic, Subject=fleet_merge.subject(written.review, opts.lang),
                                      Message=text)
    return {"run": run, "keys": {k: store.prefix + v for k, v in written.keys.items()},
            "coverage": written.review["fleet"]["coverage"], "summary": text}


TASKS = {"plan": plan, "scan": scan, "record": record, "merge": merge}


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The one Lambda entry point: ``event["task"]`` names the task (the state machine sets it)."""
    task = TASKS.get(str(event.get("task")))
    if task is None:
        raise ValueError(f"unknown walens fleet task {event.get('task')!r} (expected one of {', '.join(TASKS)})")
    return task(event, context)


__all__ = ["PartitionError", "handler", "merge", "plan", "record", "scan"]
