"""The partitions of a fleet run: each (account, region) to review, from a list, AWS profiles or Organizations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from walens.errors import UsageError

_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Partition:
    """One unit of work: one account in one region (``profile`` when a local profile reaches the account)."""

    account: str
    region: str
    profile: str | None = None

    @property
    def key(self) -> str:
        """The partition's name in stores and reports: ``<account>/<region>``."""
        return f"{self.account}/{self.region}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"account": self.account, "region": self.region}
        if self.profile:
            out["profile"] = self.profile
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Partition:
        if not isinstance(data, dict) or not data.get("account") or not data.get("region"):
            raise UsageError(f"not a fleet partition (needs account and region): {data!r}")
        return cls(str(data["account"]), str(data["region"]), data.get("profile") or None)


def partitions(accounts: Sequence[str], regions: Sequence[str]) -> list[Partition]:
    """Every (account, region), account-major, each once."""
    if not regions:
        raise UsageError("walens fleet needs at least one --region")
    ids = list(dict.fromkeys(a.strip() for a in accounts if a.strip()))
    bad = [a for a in ids if not _ACCOUNT_ID.match(a)]
    if bad:
        raise UsageError(f"--accounts {bad[0]!r}: expected a 12-digit AWS account ID")
    if not ids:
        raise UsageError("walens fleet needs accounts: --accounts, --profiles or --organization")
    return [Partition(a, r) for a in ids for r in dict.fromkeys(regions)]


def profile_partitions(profiles: Sequence[str], regions: Sequence[str], account_of: Any) -> list[Partition]:
    """Partitions of the accounts that AWS profiles reach (``account_of(profile)`` says which account)."""
    if not regions:
        raise UsageError("walens fleet needs at least one --region")
    out: list[Partition] = []
    seen: set[str] = set()
    for profile in dict.fromkeys(profiles):
        account = str(account_of(profile))
        if account in seen:
            continue
        seen.add(account)
        out += [Partition(account, r, profile) for r in dict.fromkeys(regions)]
    return out


def organization_accounts(session: Any, region: str) -> list[str]:
    """The organization's ACTIVE accounts (organizations:ListAccounts, every page), as the account scan lists them."""
    from walens.scanners.account.accounts import organization_accounts as listed
    from walens.scanners.account.core import Collected, Scope

    scope = Scope(session, "", "aws", Collected(), 1, ())
    return listed(scope, region)
