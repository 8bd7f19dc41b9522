"""The local fleet runner: partitions side by side, at most ``per_account`` at once in any account, retries.

A partition that raises :class:`~walens.fleet.worker.PartitionThrottled` or
:class:`~walens.fleet.worker.PartitionFailed` is tried again after an exponential backoff with full jitter
(``backoff * 2**attempt`` seconds at most), up to ``retries`` more times, the same policy the Step Functions
Retry of ``deploy/fleet`` states. After the last attempt a throttled partition keeps what it did review
(status ``partial``, its throttled reads are gaps); a failed one becomes a not-assessed review document.
No partition is dropped: the run returns one result per planned partition, in plan order. Anything else
``scan`` raises (a user error, a bug) is no partition's outcome: it ends the run at once, and the partitions
not started yet are cancelled.
"""

from __future__ import annotations

import gc
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from walens.fleet.plan import Partition
from walens.fleet.worker import (
    ASSESSED,
    NOT_ASSESSED,
    PARTIAL,
    PartitionError,
    PartitionThrottled,
    ScanOptions,
    not_assessed,
    outcome,
)


@dataclass
class Result:
    """One partition's review document and what the fleet review lists for it."""

    partition: Partition
    review: dict[str, Any]
    outcome: dict[str, Any]


class AccountLimiter:
    """At most ``limit`` partitions of one account at once (API quotas are per account and region)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}

    def slot(self, account: str) -> threading.Semaphore:
        with self._lock:
            return self._slots.setdefault(account, threading.BoundedSemaphore(self.limit))


def delay(attempt: int, backoff: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, full jitter."""
    return float(backoff * (2 ** attempt) * rand())


def run_one(partition: Partition, scan: Callable[[Partition], dict[str, Any]], options: ScanOptions, *,
            retries: int = 2, backoff: float = 2.0, sleep: Callable[[float], None] = time.sleep,
            limiter: AccountLimiter | None = None) -> Result:
    """One partition with its retries; never raises a :class:`PartitionError`."""
    last: PartitionError | None = None
    attempts = 0
    for attempt in range(retries + 1):
        if attempt:
            sleep(delay(attempt - 1, backoff))
        attempts += 1
        slot = limiter.slot(partition.account) if limiter is not None else None
        if slot is not None:
            slot.acquire()
        try:
            doc = scan(partition)
        except PartitionError as exc:
            last = exc
            continue
        finally:
            if slot is not None:
                slot.release()
        return Result(partition, doc, outcome(partition, doc, ASSESSED, attempts))
    assert last is not None
    if isinstance(last, PartitionThrottled) and last.review is not None:
        return Result(partition, last.review, outcome(partition, last.review, PARTIAL, attempts, last.reason))
    doc = not_assessed(partition, last.code, last.reason, options, attempts)
    return Result(partition, doc, outcome(partition, doc, NOT_ASSESSED, attempts, f"{last.code}: {last.reason}"))


def run(partitions: Sequence[Partition], scan: Callable[[Partition], dict[str, Any]], options: ScanOptions, *,
        jobs: int = 4, per_account: int = 2, retries: int = 2, backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int, int], None] | None = None,
        on_result: Callable[[Result], object] | None = None) -> list[Result]:
    """Every partition, ``jobs`` at once; one :class:`Result` each, in plan order.

    ``on_result`` gets each result as soon as its partition is done (``walens fleet run`` stores it then, as
    the Step Functions scan task does): a run that stops early keeps what it finished."""
    limiter = AccountLimiter(per_account)
    done = 0
    lock = threading.Lock()

    def one(p: Partition) -> Result:
        nonlocal done
        result = run_one(p, scan, options, retries=retries, backoff=backoff, sleep=sleep, limiter=limiter)
        if on_result is not None:
            on_result(result)
        with lock:
            done += 1
            collect = done % max(1, jobs) == 0
            if progress is not None:
                progress(done, len(partitions))
        if collect:
            # Each partition leaves boto3 sessions and clients behind, full of reference cycles, and the CLI
            # collects rarely (cli.main's gc thresholds): without this, 400 partitions peaked at 7 GiB.
            gc.collect()
        return result

    # Accounts interleaved (every account's first region, then every second one, ...): a worker waiting on
    # an account's limit would hold a pool slot that another account's partition could use.
    seen: dict[str, int] = {}
    rank = []
    for i, p in enumerate(partitions):
        seen[p.account] = seen.get(p.account, -1) + 1
        rank.append((seen[p.account], i))
    order = [i for _, i in sorted(rank)]
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="walens-fleet") as pool:
        futures = {i: pool.submit(one, partitions[i]) for i in order}
        try:
            for future in as_completed(futures.values()):
                future.result()
        except BaseException:
            # A user error, a bug or Ctrl-C ends the run now: the partitions not started yet never start
            # (those running finish their current scan; a thread cannot be stopped).
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return [futures[i].result() for i in range(len(partitions))]
