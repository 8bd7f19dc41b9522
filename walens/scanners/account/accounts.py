"""Several accounts in one review: assume a role into each listed account, or into every active account of
the organization.

``--accounts ID,... --role-name NAME [--external-id X]`` assumes ``arn:<partition>:iam::ID:role/NAME``
(``sts:AssumeRole``, session name ``walens-<UTC timestamp>``) with the caller's credentials;
``--organization --role-name NAME`` first lists the organization's active accounts
(``organizations:ListAccounts``, every page). The caller's own account is read with the caller's own
credentials (no role to assume into oneself). Credentials refresh themselves before they expire, so a long
scan never fails half-way. A role that cannot be assumed is a gap for that account (``sts:AssumeRole``
denied ...): the other accounts are still reviewed, never a crash.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import botocore.exceptions
import botocore.session
from botocore.credentials import RefreshableCredentials

from walens.errors import UsageError

# The organizations "collector": one declared read, called with the caller's credentials.
ORGANIZATIONS = SimpleNamespace(__name__=__name__, SERVICE="organizations", OPERATIONS={"ListAccounts": ()})
# What the caller needs on top of the read-only policy in every scanned account.
CALLER_ACTIONS = ("sts:AssumeRole", "organizations:ListAccounts")

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,512}$")


def session_name(now: datetime | None = None) -> str:
    """``walens-<UTC timestamp>``: how the scan shows up in each account's CloudTrail."""
    return "walens-" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def check_options(accounts: Sequence[str], organization: bool, role_name: str | None,
                  external_id: str | None) -> list[str]:
    """The account IDs as given (deduplicated, in order); UsageError on a combination that cannot work."""
    ids = list(dict.fromkeys(a.strip() for a in accounts if a.strip()))
    if ids and organization:
        raise UsageError("--accounts and --organization exclude each other")
    if (ids or organization) and not role_name:
        raise UsageError(f"{'--organization' if organization else '--accounts'} needs --role-name "
                         "(the role to assume in each account)")
    if role_name and not (ids or organization):
        raise UsageError("--role-name needs --accounts or --organization")
    if external_id and not role_name:
        raise UsageError("--external-id needs --role-name")
    if role_name and not _ROLE_NAME.match(role_name.strip("/")):
        raise UsageError(f"--role-name {role_name!r}: not an IAM role name")
    bad = [a for a in ids if not _ACCOUNT_ID.match(a)]
    if bad:
        raise UsageError(f"--accounts {bad[0]!r}: expected a 12-digit AWS account ID")
    return ids


def role_arn(partition: str, account: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name.strip('/')}"


def organization_accounts(scope: Any, region: str) -> list[str]:
    """The IDs of the organization's ACTIVE accounts, from the caller's credentials (every page)."""
    from walens.scanners.account.core import CallFailed, Ctx

    ctx = Ctx(scope, region, ORGANIZATIONS)
    try:
        listed = ctx.pages("ListAccounts", "Accounts", record=False)
    except CallFailed as exc:
        raise UsageError(f"--organization: cannot list the organization's accounts: {exc.gap.reason} "
                         "(run from the management account or a delegated administrator)") from exc
    # "State" is the newer field (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED); "Status" the older one.
    return sorted(str(a["Id"]) for a in listed if str(a.get("State") or a.get("Status") or "ACTIVE") == "ACTIVE")


@dataclass
class Target:
    """One account to review: its scope (clients with that account's credentials) or the gap that stopped it."""

    account: str
    scope: Any = None
    gap: Any = None


def _assumed_session(fetch: Callable[[], dict[str, Any]], region: str) -> Any:
    import boto3

    credentials = RefreshableCredentials.create_from_metadata(metadata=fetch(), refresh_using=fetch,
                                                              method="sts-assume-role")
    core = botocore.session.get_session()
    core._credentials = credentials  # the documented way to give a session refreshable credentials
    return boto3.Session(botocore_session=core, region_name=region)


def assume(caller: Any, region: str, account: str, role_name: str, external_id: str | None,
           name: str) -> Target:
    """A scope in ``account`` through ``role_name``, or the gap saying why not."""
    from walens.scanners.account.core import Gap, Scope, _kind

    arn = role_arn(caller.partition, account, role_name)
    sts = caller.client("sts", region)
    params: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": name}
    if external_id:
        params["ExternalId"] = external_id
    lock = threading.Lock()

    def fetch() -> dict[str, Any]:
        with lock:
            creds = sts.assume_role(**params)["Credentials"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": _iso(creds["Expiration"])}

    try:
        session = _assumed_session(fetch, region)
    except botocore.exceptions.NoCredentialsError:
        raise
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "Unknown")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        kind = _kind(code, status)
        text = {"denied": "denied", "region_disabled": "refused", "throttled": "still throttled after retries"}.get(
            kind, "failed")
        reason = f"sts:AssumeRole into {arn} {text} ({code}): account {account} was not reviewed"
        return Target(account, gap=Gap(account, region, "sts", "AssumeRole", code, kind, reason))
    except botocore.exceptions.BotoCoreError as exc:
        reason = (f"sts:AssumeRole into {arn} failed ({type(exc).__name__}): account {account} was not reviewed")
        return Target(account, gap=Gap(account, region, "sts", "AssumeRole", type(exc).__name__, "error", reason))
    scope = Scope(session, account, caller.partition, caller.collected, caller.max_workers, caller.hooks)
    return Target(account, scope=scope)


def targets(caller: Any, region: str, *, accounts: Sequence[str] = (), organization: bool = False,
            role_name: str | None = None, external_id: str | None = None) -> list[Target]:
    """Every account to review, in account order; the caller's own account uses the caller's scope.

    Failed role assumptions are recorded as gaps on ``caller.collected`` and returned without a scope.
    """
    ids = check_options(accounts, organization, role_name, external_id)
    if organization:
        ids = organization_accounts(caller, region)
        if not ids:
            raise UsageError("--organization: the organization lists no active account")
    name = session_name()

    def one(account: str) -> Target:
        if account == caller.account:
            return Target(account, scope=caller)
        return assume(caller, region, account, str(role_name), external_id, name)

    # A fleet of accounts: the role assumptions run side by side (bounded like every other call).
    with ThreadPoolExecutor(max_workers=max(1, min(caller.max_workers, len(ids))),
                            thread_name_prefix="walens-sts") as pool:
        out = list(pool.map(one, ids))
    for target in out:
        if target.gap is not None:
            caller.collected.add_gap(target.gap)
    return out


class Progress:
    """The one-line progress display (stderr, a terminal only): accounts, regions and services done.

    ``run_tasks`` calls it with (tasks done, tasks known) after each task and ``finished(key)`` when an
    (account, region, collector) has nothing left to run; ``plan(keys)`` announces the keys to expect.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.keys: set[tuple[str, str, str]] = set()
        self.done: set[tuple[str, str, str]] = set()
        self._width = 0

    def plan(self, keys: Sequence[tuple[str, str, str]]) -> None:
        self.keys |= set(keys)

    def finished(self, key: tuple[str, str, str]) -> None:
        self.done.add(key)

    def line(self, done: int, total: int) -> str:
        def complete(group: Callable[[tuple[str, str, str]], Any]) -> tuple[int, int]:
            todo: set[Any] = set()
            every: set[Any] = set()
            for key in self.keys:
                every.add(group(key))
                if key not in self.done:
                    todo.add(group(key))
            return len(every - todo), len(every)

        accounts = complete(lambda k: k[0])
        regions = complete(lambda k: (k[0], k[1]))
        services = complete(lambda k: k)
        return (f"walens: accounts {accounts[0]}/{accounts[1]} · regions {regions[0]}/{regions[1]} · "
                f"services {services[0]}/{services[1]} · tasks {done}/{total}")

    def __call__(self, done: int, total: int) -> None:
        text = self.line(done, total)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        if done >= total and self.keys and self.keys <= self.done:
            self.stream.write("\n")
            self._width = 0
        self.stream.flush()


def _iso(moment: Any) -> str:
    return moment.isoformat() if isinstance(moment, datetime) else str(moment)
