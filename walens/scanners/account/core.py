"""What every collector uses: clients with retries, counted read-only calls, gaps, and the task pool.

A collector is a module with ``SERVICE`` (the boto3 client name), ``OPERATIONS`` (every API operation it
may call, each mapped to the resource types the operation *lists*: a denied listing hides those types
entirely; a detail call maps to ``()``), optional ``GLOBAL = True`` (called once per account, not per
region), and ``collect(ctx)``. ``collect`` adds resources with :meth:`Ctx.add` and may spawn further
tasks with :meth:`Ctx.spawn` (per-function detail calls), which the pool runs concurrently.

A call that fails for lack of permission (or an opt-in region that is disabled, a service the region
does not offer, retries exhausted ...) becomes a :class:`Gap`, never a silent empty answer: the call
raises :class:`CallFailed`, and the collector marks what it could not see as :class:`Unknown` so the
rules that read it end ``not_assessed``.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
from botocore import xform_name
from botocore.config import Config

from walens import __version__
from walens.errors import UsageError
from walens.model import Resource, Unknown

log = logging.getLogger("walens.account")

# Error codes that mean "you may not look at this" (each service spells it its own way).
DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
    "AuthorizationError", "AuthorizationErrorException", "Forbidden", "ForbiddenException",
    "NotAuthorized", "AccessDeniedForDependencyException", "UnauthorizedException",
})
# A region the account has not enabled (opt-in regions) answers with an authentication failure.
REGION_DISABLED_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired",
    "SubscriptionRequiredException", "InvalidSignatureException",
})
THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "SlowDown", "RequestThrottled", "RequestThrottledException",
})
NOT_FOUND_CODES = frozenset({
    "ResourceNotFoundException", "NotFoundException", "NoSuchEntity", "NoSuchEntityException",
    "ResourceNotFound", "StateMachineDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
})
# Services read for optional facts (walens.scanners.account.metrics): few attempts, so an endpoint that
# answers 5xx (an emulator without the service) costs a second, not adaptive backoff's half a minute.
# STS is the first call (GetCallerIdentity) and AssumeRole: an unreachable endpoint or refused
# credentials end the run with one line in about a second, not after ten adaptive attempts.
FEW_RETRIES = {"compute-optimizer": 2, "sts": 3}
# Client-side pacing: requests per second per (account, region, service), every attempt counted; a
# "service:Operation" entry gives that operation a bucket of its own. AWS throttles control-plane reads
# per account and region: Lambda allows 15 requests per second to its control plane, GetPolicy 15 and
# GetFunction 100 apart from it (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests),
# API Gateway 10 (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
# ``WALENS_RATE_LIMITS="lambda=15,lambda:GetPolicy=15,default=50"`` overrides; 0 turns pacing off there,
# ``off`` everywhere (an emulator without quotas).
RATE_LIMITS: dict[str, float] = {"lambda": 15.0, "lambda:GetPolicy": 15.0, "lambda:GetFunction": 100.0,
                                 "apigateway": 10.0}
DEFAULT_RATE = 50.0
# Throttling is retried by walens (not botocore, whose retry quota runs dry under sustained throttling and
# then fails calls at once): exponential backoff with full jitter, up to this many attempts, then a gap.
THROTTLE_ATTEMPTS = 10
BACKOFF_BASE_S = 0.25
BACKOFF_CAP_S = 20.0
# Operations a read-only scan may call: the verbs below, plus the few reads named explicitly.
READ_PREFIXES = ("Describe", "Get", "List", "BatchGet")
READ_EXTRA = frozenset({"logs:StartQuery", "logs:StopQuery", "logs:GetQueryResults", "cloudwatch:GetMetricData",
                        "cloudwatch:GetMetricStatistics"})


def is_read_only(service: str, operation: str) -> bool:
    """Whether ``service:operation`` is a read (the contract every collector keeps)."""
    return operation.startswith(READ_PREFIXES) or f"{service}:{operation}" in READ_EXTRA


@dataclass(slots=True)
class Gap:
    """Something the scan could not see: an operation that failed, where, and why."""

    account: str | None
    region: str | None
    service: str
    operation: str
    error_code: str
    kind: str  # denied | region_disabled | not_offered | throttled | not_supported | error | internal
    reason: str
    count: int = 1
    rules: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        return f"{IAM_PREFIX.get(self.service, self.service)}:{self.operation}"

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "region": self.region, "service": self.service,
                "operation": self.operation, "action": self.action, "error_code": self.error_code,
                "kind": self.kind, "reason": self.reason, "count": self.count, "rules": list(self.rules)}


# boto3 client names whose IAM action prefix differs.
IAM_PREFIX = {"stepfunctions": "states", "apigatewayv2": "apigateway", "cloudwatch": "cloudwatch",
              "logs": "logs", "wafv2": "wafv2", "elbv2": "elasticloadbalancing"}


class CallFailed(Exception):
    """An API call failed and was recorded as a gap; ``unknown`` says so in the model."""

    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.reason)
        self.gap = gap

    @property
    def unknown(self) -> Unknown:
        return Unknown(self.gap.reason)


def _kind(code: str, status: int | None) -> str:
    if code in DENIED_CODES or (status == 403 and code not in REGION_DISABLED_CODES):
        return "denied"
    if code in REGION_DISABLED_CODES:
        return "region_disabled"
    if code in THROTTLE_CODES:
        return "throttled"
    if status in (404, 501) or code in ("UnknownOperationException", "InvalidAction", "NotImplemented"):
        return "not_supported"
    return "error"


_KIND_TEXT = {
    "denied": "denied",
    "region_disabled": "refused: the region is not enabled for this account",
    "not_offered": "not offered in this region",
    "throttled": "still throttled after retries",
    "not_supported": "not supported by the endpoint",
    "error": "failed",
    "internal": "failed inside walens",
}


@dataclass
class Collected:
    """Everything a scan gathered: resources, gaps, per-service call counts, what stayed unknown."""

    resources: list[Resource] = field(default_factory=list)
    gaps: dict[tuple[Any, ...], Gap] = field(default_factory=dict)
    api_calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)  # throttling answers received, per service
    retries: Counter[str] = field(default_factory=Counter)  # attempts walens repeated after throttling
    # resource id -> [(section, key, Unknown)], applied after the graph is linked and facts computed.
    unknowns: dict[str, list[tuple[str, str, Unknown]]] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a gap (Compute Optimizer not enabled)
    plan: Any = None  # walens.needs.Plan: what the selected rules read (None: everything)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_gap(self, gap: Gap) -> Gap:
        key = (gap.account, gap.region, gap.service, gap.operation, gap.error_code)
        with self.lock:
            known = self.gaps.get(key)
            if known is not None:
                known.count += 1
                return known
            self.gaps[key] = gap
            return gap

    def gap_list(self) -> list[Gap]:
        return sorted(self.gaps.values(), key=lambda g: (g.account or "", g.region or "", g.service, g.operation))


def rate_limits() -> dict[str, float]:
    """Requests per second per service (``default`` for the others): RATE_LIMITS, WALENS_RATE_LIMITS over it."""
    limits = {**RATE_LIMITS, "default": DEFAULT_RATE}
    for item in os.environ.get("WALENS_RATE_LIMITS", "").split(","):
        if not item.strip():
            continue
        if item.strip() == "off":
            limits = {key: 0.0 for key in limits}
            continue
        name, _, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not name.strip() or not rate >= 0:  # NaN too
            raise UsageError(f"WALENS_RATE_LIMITS: {item.strip()!r} is not service[:Operation]=requests-per-second")
        limits[name.strip()] = rate
    return limits


class Pace:
    """A token bucket for one (account, region, service): every request attempt takes a token.

    Adaptive: a throttling answer halves the rate (at most once a second, so a burst of answers to
    requests already in flight counts once), and each answer that is not throttled wins back 2% of the
    configured rate, up to it. Callers reserve their slot under the lock and sleep outside it.
    """

    def __init__(self, rate: float, *, floor: float = 0.5) -> None:
        self.limit = rate
        self.rate = rate
        self.floor = min(floor, rate)
        self.burst = 1.0  # no bursts: a burst is what an endpoint's own bucket punishes
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._cut_at = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)

    def throttled(self) -> None:
        """The endpoint said too fast: halve the rate."""
        with self._lock:
            now = time.monotonic()
            if now - self._cut_at >= 1.0:
                self.rate = max(self.floor, self.rate / 2)
                self._cut_at = now

    def answered(self) -> None:
        """A request went through: creep back towards the configured rate."""
        if self.rate < self.limit:
            with self._lock:
                self.rate = min(self.limit, self.rate + self.limit * 0.02)


def throttle_code(response: Any) -> str | None:
    """The throttling error code of a botocore ``needs-retry`` response (None when it is not throttling)."""
    if not response:
        return None
    http, parsed = response
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    code = str(error.get("Code") or "") if isinstance(error, dict) else ""
    if code in THROTTLE_CODES:
        return code
    if http is not None and getattr(http, "status_code", None) == 429:
        return code or "429"
    return None


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential backoff with full jitter."""
    return random.uniform(0.0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))


def pace_client(client: Any, service: str, limits: dict[str, float], collected: Collected) -> None:
    """Pace ``client``'s requests per ``limits`` and retry its throttled requests with backoff (event hooks)."""
    event = client.meta.service_model.service_id.hyphenize()
    rate = limits.get(service, limits.get("default", 0.0))
    paces: dict[str, Pace | None] = {service: Pace(rate) if rate > 0 else None}
    for key, value in limits.items():
        if key.startswith(service + ":"):
            paces[key] = Pace(value) if value > 0 else None

    def pace_of(event_name: str) -> Pace | None:
        return paces.get(f"{service}:{event_name.rsplit('.', 1)[-1]}", paces[service])

    def before_send(event_name: str, **_: Any) -> None:
        pace = pace_of(event_name)
        if pace is not None:
            pace.acquire()

    def on_answer(event_name: str, attempts: int, response: Any = None, **_: Any) -> float | bool | None:
        pace = pace_of(event_name)
        if throttle_code(response) is None:
            if pace is not None and response:
                pace.answered()
            return None  # not throttling: botocore's own retry policy decides
        with collected.lock:
            collected.throttled[service] += 1
        if pace is not None:
            pace.throttled()
        if attempts >= THROTTLE_ATTEMPTS:
            return False  # give up: the caller records the gap
        with collected.lock:
            collected.retries[service] += 1
        return backoff_delay(attempts)

    client.meta.events.register(f"before-send.{event}", before_send)
    # First on the same event as botocore's retry handler, whose answer endpoint.py would otherwise take.
    client.meta.events.register_first(f"needs-retry.{event}", on_answer)


class Scope:
    """One account's session: clients (created once, under a lock) with retries and call counting."""

    def __init__(self, session: Any, account: str, partition: str, collected: Collected, max_workers: int,
                 hooks: Sequence[Callable[[Any], None]] = ()) -> None:
        self.session = session
        self.account = account
        self.partition = partition
        self.collected = collected
        self.max_workers = max_workers
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._limits = rate_limits()
        self._hooks = list(hooks)
        self.hooks = self._hooks  # an assumed-role scope (accounts.py) shares them
        self._config = Config(
            retries={"mode": os.environ.get("WALENS_RETRY_MODE", "standard"), "max_attempts": 10},
            user_agent_extra=f"walens/{__version__}",
            max_pool_connections=max(10, max_workers * 2),
            connect_timeout=10,
            read_timeout=60,
        )

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = self._config
                if service in FEW_RETRIES:  # optional reads: a failing endpoint must not hold the scan up
                    config = config.merge(Config(retries={"mode": "standard", "max_attempts": FEW_RETRIES[service]}))
                client = self.session.client(service, region_name=region, config=config)
                counter = self.collected.api_calls
                lock = self.collected.lock

                def count(**_: Any) -> None:
                    with lock:
                        counter[service] += 1

                client.meta.events.register("before-call.*.*", count)
                pace_client(client, service, self._limits, self.collected)
                for hook in self._hooks:
                    hook(client)
                self._clients[key] = client
            return client


class Ctx:
    """What a collector sees: one account, one region, one service."""

    _local = threading.local()

    def __init__(self, scope: Scope, region: str, module: Any) -> None:
        self.scope = scope
        self.region = region
        self.module = module
        self.service: str = module.SERVICE
        self.operations: dict[str, tuple[str, ...]] = module.OPERATIONS

    # -- identity ---------------------------------------------------------------------------
    @property
    def account(self) -> str:
        return self.scope.account

    @property
    def partition(self) -> str:
        return self.scope.partition

    @property
    def client(self) -> Any:
        return self.scope.client(self.service, self.region)

    def wants(self, rtype: str, prop: str | None = None) -> bool:
        """Whether a selected rule reads ``rtype`` (and its ``prop``): the call planner (walens.needs.plan)."""
        plan = self.scope.collected.plan
        return plan is None or bool(plan.wants(rtype, prop))

    # -- calls --------------------------------------------------------------------------------
    def _check(self, operation: str) -> None:
        if operation not in self.operations:
            raise AssertionError(f"{self.module.__name__} calls {operation}, which its OPERATIONS do not declare")
        if not is_read_only(IAM_PREFIX.get(self.service, self.service), operation):
            raise AssertionError(f"{self.service}:{operation} is not a read: walens never writes to an account")

    def gap(self, operation: str, code: str, kind: str, detail: str = "", *, record: bool = True) -> Gap:
        action = f"{IAM_PREFIX.get(self.service, self.service)}:{operation}"
        reason = f"{action} {_KIND_TEXT[kind]} in {self.region} ({code}{': ' + detail if detail else ''})"
        gap = Gap(self.account, self.region, self.service, operation, code, kind, reason)
        return self.scope.collected.add_gap(gap) if record else gap

    def _failed(self, operation: str, exc: Exception, record: bool = True) -> CallFailed:
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {}) or {}
            code = str(err.get("Code") or "Unknown")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return CallFailed(self.gap(operation, code, _kind(code, status), record=record))
        if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.UnknownEndpointError)):
            return CallFailed(self.gap(operation, type(exc).__name__, "not_offered", record=record))
        if isinstance(exc, NotImplementedError):  # an emulator (moto in-process) without this operation
            return CallFailed(self.gap(operation, "NotImplemented", "not_supported", record=record))
        return CallFailed(self.gap(operation, type(exc).__name__, "error", str(exc)[:200], record=record))

    def call(self, operation: str, *, missing_ok: bool = False, record: bool = True,
             **params: Any) -> dict[str, Any] | None:
        """One read; None when ``missing_ok`` and the thing does not exist; CallFailed on failure.

        The failure is recorded as a gap unless ``record`` is false (the caller has another way to ask).
        """
        self._check(operation)
        try:
            return getattr(self.client, xform_name(operation))(**params)  # type: ignore[no-any-return]
        except botocore.exceptions.NoCredentialsError:
            raise
        except botocore.exceptions.ClientError as exc:
            if missing_ok and exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                return None
            raise self._failed(operation, exc, record) from exc
        except (botocore.exceptions.BotoCoreError, NotImplementedError) as exc:
            raise self._failed(operation, exc, record) from exc

    def all_pages(self, operation: str, *, record: bool = True, **params: Any) -> list[dict[str, Any]]:
        """Every page of the answer (a paginator where botocore has one; else the single answer)."""
        self._check(operation)
        client = self.client
        method = xform_name(operation)
        try:
            if client.can_paginate(method):
                return list(client.get_paginator(method).paginate(**params))
            return [getattr(client, method)(**params)]
        except botocore.exceptions.NoCredentialsError:
            raise
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, NotImplementedError) as exc:
            raise self._failed(operation, exc, record) from exc

    def pages(self, operation: str, key: str, *, record: bool = True, **params: Any) -> list[Any]:
        """Every item under ``key`` across all pages."""
        return [item for page in self.all_pages(operation, record=record, **params) for item in page.get(key) or []]

    # -- results -----------------------------------------------------------------------------
    def add(self, resource: Resource) -> Resource:
        resource.source = "account"
        resource.account = resource.account or self.account
        resource.region = resource.region or ("global" if getattr(self.module, "GLOBAL", False) else self.region)
        with self.scope.collected.lock:
            self.scope.collected.resources.append(resource)
        return resource

    def unknown(self, resource: Resource, section: str, key: str, failure: CallFailed) -> None:
        """Mark ``section.key`` (``related.log_group``, ``facts.invoked_async``) of ``resource`` unknown."""
        with self.scope.collected.lock:
            self.scope.collected.unknowns.setdefault(resource.id, []).append((section, key, failure.unknown))

    def spawn(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` as a further task on the pool (after the current task returns)."""
        self._local.spawned.append((self, fn, args))

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")


Task = tuple[Ctx, Callable[..., None], tuple[Any, ...]]


def _run(task: Task) -> list[Task]:
    ctx, fn, args = task
    Ctx._local.spawned = []
    try:
        fn(*args)
    except CallFailed:
        pass  # recorded where it happened
    except botocore.exceptions.NoCredentialsError:
        raise
    except Exception as exc:  # a collector bug on an answer it did not expect: a gap, not a crash
        name = getattr(fn, "__name__", "collect")
        log.debug("collector %s failed", name, exc_info=True)
        if os.environ.get("WALENS_DEBUG"):
            traceback.print_exc()
        ctx.scope.collected.add_gap(Gap(ctx.account, ctx.region, ctx.service, name, type(exc).__name__, "internal",
                                        f"walens could not read {ctx.service} in {ctx.region}: "
                                        f"{type(exc).__name__}: {str(exc)[:200]}"))
    spawned: list[Task] = Ctx._local.spawned
    Ctx._local.spawned = []
    return spawned


def run_tasks(tasks: Iterable[Task], max_workers: int, progress: Callable[[int, int], None] | None = None) -> None:
    """Run tasks (and what they spawn) on a bounded pool until none is left."""
    done_count = 0
    # A (account, region, collector) is done when its task and every task it spawned are: a progress
    # display with a ``finished(key)`` method hears of it (accounts/regions/services done).
    open_tasks: Counter[tuple[str, str, str]] = Counter()
    keys: dict[Future[list[Task]], tuple[str, str, str]] = {}
    finished_key = getattr(progress, "finished", None)

    def submit(pool: ThreadPoolExecutor, task: Task) -> Future[list[Task]]:
        key = task_key(task)
        open_tasks[key] += 1
        future = pool.submit(_run, task)
        keys[future] = key
        return future

    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="walens") as pool:
        pending: set[Future[list[Task]]] = {submit(pool, t) for t in tasks}
        total = len(pending)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                children = future.result()  # re-raises NoCredentialsError
                done_count += 1
                total += len(children)
                pending |= {submit(pool, child) for child in children}
                key = keys.pop(future)
                open_tasks[key] -= 1
                if not open_tasks[key] and finished_key is not None:
                    finished_key(key)
            if progress is not None:
                progress(done_count, total)


def task_key(task: Task) -> tuple[str, str, str]:
    """(account, region, collector module) of a task: what a progress display counts as one service done."""
    ctx = task[0]
    return (ctx.account, ctx.region, getattr(ctx.module, "__name__", ctx.service))
