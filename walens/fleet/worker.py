"""One partition of a fleet run: the account scan of one (account, region), classified for retry or report.

:func:`scan_partition` is a thin call into :func:`walens.pipeline.scan_account` (the function ``walens scan
account`` calls) with ``accounts=[account]`` and ``role_name``: the account scan itself assumes the role (the
caller's own account is read with the caller's credentials). Its outcome is classified:

- **assessed**: a review document; its gaps (a denied read, an unsupported service) are reported as usual;
- **throttled** (:class:`PartitionThrottled`): some reads were still throttled after botocore's retries; the
  review is kept and the partition is worth another try later (local runner: backoff; Step Functions: Retry);
- **failed** (:class:`PartitionFailed`): nothing was reviewed (the role could not be assumed, the account
  could not be identified, an AWS error ended the scan). After its retries, :func:`not_assessed` turns it
  into a review document with no findings and one gap naming the partition and why, so it is reported as
  not assessed and never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from walens.errors import AwsError
from walens.fleet.plan import Partition

# Gap kinds worth another attempt later.
RETRYABLE_KINDS = frozenset({"throttled"})
ASSESSED, PARTIAL, NOT_ASSESSED = "assessed", "partial", "not_assessed"


class PartitionError(Exception):
    """A partition that did not end as assessed; ``review`` is what it did see (None: nothing)."""

    error_code = "PartitionError"

    def __init__(self, partition: Partition, code: str, reason: str, review: dict[str, Any] | None = None) -> None:
        super().__init__(f"{partition.key}: {reason}")
        self.partition = partition
        self.code = code
        self.reason = reason
        self.review = review


class PartitionThrottled(PartitionError):
    """Reads of the partition were still throttled after botocore's retries: try the partition again later."""


class PartitionFailed(PartitionError):
    """Nothing of the partition was reviewed (role not assumed, account not identified, the scan failed)."""


@dataclass
class ScanOptions:
    """What every partition's scan uses (the same for the local runner and the Lambda worker)."""

    role_name: str | None = None
    external_id: str | None = None
    services: Sequence[str] = ()
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    rules_dirs: Sequence[str] = ()
    lang: str = "en"
    fail_on: str = "high"
    max_workers: int = 4
    logs_insights: bool = True
    waivers_path: str | None = None
    hooks: Sequence[Any] = field(default_factory=tuple)
    # --strict: a gap or a not-assessed result marks the review incomplete (exit 5), as in ``scan account``.
    strict: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"role_name": self.role_name, "external_id": self.external_id, "services": list(self.services),
                "select": list(self.select), "ignore": list(self.ignore), "lang": self.lang,
                "fail_on": self.fail_on, "max_workers": self.max_workers, "logs_insights": self.logs_insights,
                "strict": self.strict}


def _waivers(path: str | None) -> Any:
    """A fresh WaiverSet per partition (it records which waivers it used)."""
    if not path:
        return None
    from walens.waivers import WaiverSet

    return WaiverSet.load(path)


def scan_partition(partition: Partition, options: ScanOptions, *, session: Any = None,
                   session_for: Callable[[Partition], Any] | None = None) -> dict[str, Any]:
    """The review document of one partition; raises :class:`PartitionThrottled` or :class:`PartitionFailed`.

    ``session`` is the caller's boto3 session (the role is assumed from it); ``session_for`` gives a session
    that already acts in the partition's account (a local AWS profile) and then no role is assumed.
    """
    import botocore.exceptions

    from walens.pipeline import scan_account

    try:
        direct = session_for(partition) if session_for is not None else None
        multi = direct is None and bool(options.role_name)
        doc = scan_account(
            session=direct if direct is not None else session,
            regions=[partition.region],
            services=options.services,
            max_workers=options.max_workers,
            lang=options.lang,
            fail_on=options.fail_on,
            select=options.select,
            ignore=options.ignore,
            rules_dirs=options.rules_dirs,
            hooks=options.hooks,
            accounts=[partition.account] if multi else (),
            role_name=options.role_name if multi else None,
            external_id=options.external_id if multi else None,
            logs_insights=options.logs_insights,
            waivers=_waivers(options.waivers_path),
            strict=options.strict,
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise PartitionFailed(partition, type(exc).__name__, f"the scan failed: {exc}") from exc
    except AwsError as exc:  # no credentials, refused or expired ones: this partition, not the run
        raise PartitionFailed(partition, type(exc).__name__, str(exc)) from exc
    return classify(partition, doc)


def classify(partition: Partition, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` when the partition was reviewed; the matching :class:`PartitionError` when not (fully)."""
    gaps = doc.get("gaps") or []
    assume = [g for g in gaps if g.get("operation") == "AssumeRole" and str(g.get("account")) == partition.account]
    if assume:
        gap = assume[0]
        cls = PartitionThrottled if gap.get("kind") in RETRYABLE_KINDS else PartitionFailed
        raise cls(partition, str(gap.get("error_code")), str(gap.get("reason")))
    accounts = [str(a) for a in (doc.get("scan") or {}).get("accounts") or []]
    if accounts != [partition.account]:
        raise PartitionFailed(partition, "WrongAccount",
                              f"the credentials act in account {', '.join(accounts) or '(none)'}, "
                              f"not in {partition.account}: nothing was reviewed")
    throttled = [g for g in gaps if g.get("kind") in RETRYABLE_KINDS]
    if throttled:
        ops = sorted({str(g.get("action") or g.get("operation")) for g in throttled})
        raise PartitionThrottled(partition, "Throttled", f"still throttled after retries: {', '.join(ops)}",
                                 review=doc)
    return doc


def not_assessed(partition: Partition, code: str, reason: str, options: ScanOptions,
                 attempts: int) -> dict[str, Any]:
    """A review document for a partition that was not reviewed: no findings, one gap naming it and why."""
    from walens import engine
    from walens.rules import load_rules, select_rules

    rules = [r for r in select_rules(load_rules(options.rules_dirs), options.select, options.ignore)
             if "account" in r.scope]
    now = datetime.now(UTC)
    gap = {"account": partition.account, "region": partition.region, "service": "walens", "operation": "ScanPartition",
           "action": "walens:ScanPartition", "error_code": code, "kind": NOT_ASSESSED,
           "reason": f"partition {partition.key} was not assessed after {attempts} attempt(s): {reason}",
           "count": 1, "rules": sorted(r.id for r in rules)}
    doc = engine.build_review(findings=[], rules=rules, source="account", inputs=None, lang=options.lang,
                              fail_on=options.fail_on, started_at=now, finished_at=now, gaps=[gap])
    doc["scan"]["accounts"] = [partition.account]
    doc["scan"]["regions"] = [partition.region]
    engine.mark_incomplete(doc, options.strict)  # its gap counts, as any gap of a scan does
    return doc


def outcome(partition: Partition, doc: Mapping[str, Any], status: str, attempts: int,
            error: str | None = None) -> dict[str, Any]:
    """What the fleet review lists for one partition."""
    summary = doc.get("summary") or {}
    return {**partition.to_dict(), "status": status, "attempts": attempts, "error": error,
            "findings": len(doc.get("findings") or []), "by_status": dict(summary.get("by_status") or {}),
            "gaps": len(doc.get("gaps") or [])}
