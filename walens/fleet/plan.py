"""The partitions of a fleet run: each (account, region) to review, from a list, AWS profiles or Organizations."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from walens.errors import AwsError, UsageError, WalensError, aws_error

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


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region name the installed botocore knows, in every partition (its endpoints and partitions data)."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.get_session()
    names: set[str] = set()
    for data in ("endpoints", "partitions"):  # partitions.json is newer (and lists newer regions)
        try:
            listed = session.get_data(data)
        except botocore.exceptions.DataNotFoundError:
            continue
        for partition in listed.get("partitions") or []:
            # "aws-global" and the like name a global endpoint, not a region a fleet can be reviewed in.
            names.update(r for r in partition.get("regions") or {} if not r.endswith("-global"))
    return frozenset(names)


def check_regions(regions: Sequence[str]) -> list[str]:
    """The regions, each once, in order; UsageError on none, or on one botocore does not know (the closest named)."""
    names = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    if not names:
        raise UsageError("walens fleet needs at least one --region")
    known = known_regions()
    for name in names:
        if name not in known:
            import botocore

            closest = _closest(name, known)
            raise UsageError(f"--region {name!r}: not an AWS region botocore {botocore.__version__} knows"
                             + (f" (did you mean {closest!r}?)" if closest else ""))
    return names


def _closest(name: str, known: frozenset[str]) -> str | None:
    """The known region most like ``name``; of equally close ones the first in order (us-east-1 before -2)."""
    from difflib import SequenceMatcher

    scored = [(SequenceMatcher(None, name.casefold(), r).ratio(), r) for r in known]
    best = max((score for score, _ in scored), default=0.0)
    return min(r for score, r in scored if score == best) if best >= 0.6 else None


def check_accounts(accounts: Sequence[str]) -> list[str]:
    """The account IDs, each once, in order; UsageError on one that is not 12 digits."""
    ids = list(dict.fromkeys(a.strip() for a in accounts if a.strip()))
    bad = [a for a in ids if not _ACCOUNT_ID.match(a)]
    if bad:
        raise UsageError(f"--accounts {bad[0]!r}: expected a 12-digit AWS account ID")
    return ids


def partitions(accounts: Sequence[str], regions: Sequence[str]) -> list[Partition]:
    """Every (account, region), account-major, each once."""
    names = check_regions(regions)
    ids = check_accounts(accounts)
    if not ids:
        raise UsageError("walens fleet needs accounts: --accounts, --profiles or --organization")
    return [Partition(a, r) for a in ids for r in names]


def profile_partitions(profiles: Sequence[str], regions: Sequence[str], account_of: Any,
                       note: Callable[[str], object] | None = None) -> list[Partition]:
    """Partitions of the accounts that AWS profiles reach (``account_of(profile)`` says which account).

    Two profiles acting in one account review it once, through the first; ``note`` is told so.
    """
    names = check_regions(regions)
    out: list[Partition] = []
    seen: dict[str, str] = {}
    for profile in dict.fromkeys(p.strip() for p in profiles if p.strip()):
        account = str(account_of(profile))
        if account in seen:
            if note is not None:
                note(f"profiles {seen[account]!r} and {profile!r} both act in account {account}: "
                     f"it is reviewed once, through {seen[account]!r}")
            continue
        seen[account] = profile
        out += [Partition(account, r, profile) for r in names]
    return out


def caller_account(session: Any, region: str, who: str = "") -> str:
    """The account ``session``'s credentials act in (sts:GetCallerIdentity, no permission needed).

    Raises the one-line error ``walens scan account`` gives (exit 4) when there are no credentials, AWS refuses
    them or cannot be reached; ``who`` (e.g. "profile 'prod'") names whose credentials in that line.
    """
    import botocore.exceptions

    from walens.scanners.account.core import Collected, Scope

    scope = Scope(session, "", "aws", Collected(), 1, ())
    try:
        return str(scope.client("sts", region).get_caller_identity()["Account"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        doing = "identify the account (sts:GetCallerIdentity)"
        error: WalensError = aws_error(exc, doing) or AwsError(f"cannot {doing}: {exc}")
        if who:
            error = type(error)(f"{who}: {error}")
        raise error from exc


def organization_accounts(session: Any, region: str) -> list[str]:
    """The organization's ACTIVE accounts (organizations:ListAccounts, every page), as the account scan lists them."""
    from walens.scanners.account.accounts import organization_accounts as listed
    from walens.scanners.account.core import Collected, Scope

    scope = Scope(session, "", "aws", Collected(), 1, ())
    ids = listed(scope, region)
    if not ids:
        raise UsageError("--organization: the organization lists no active account")
    return ids
