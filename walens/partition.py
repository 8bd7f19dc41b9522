"""One model-building path for both scanners: relations and facts are computed per partition.

A partition is what one review judges as a whole: a template, or one (account, region) of an account
scan together with the account's global resources (IAM roles and policies, Organizations policies),
which every region's resources may relate to. Nothing links, and no fact looks, across partitions: two
regions' reserved concurrency never add up, a guardrail policy of one account never counts for
another's functions. A template review is the one-partition case. Findings are per resource, so the
findings of the partitions together are the review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from walens import facts, graph
from walens.model import Resource

GLOBAL_REGION = "global"


@dataclass(slots=True)
class Partition:
    """Resources reviewed together (``resources``), and what they may see but another partition owns."""

    account: str | None
    region: str | None
    resources: list[Resource]
    # Resources relations and facts may read but that are built elsewhere (the account's global ones
    # for a regional partition; every regional one of the account for its global partition).
    context: list[Resource] = field(default_factory=list)

    @property
    def inventory(self) -> list[Resource]:
        """Everything facts of this partition's resources may look at."""
        return self.resources + self.context


def template(resources: list[Resource]) -> Partition:
    """A template: one partition, no account, no region."""
    return Partition(None, None, resources)


def split(resources: Sequence[Resource]) -> list[Partition]:
    """Account resources as one partition per (account, region), plus one per account for its global ones.

    A regional partition's context is its account's global resources; the global partition's context is
    every regional resource of its account (a role is used by functions of every region).
    """
    regional: dict[tuple[str | None, str | None], list[Resource]] = {}
    global_: dict[str | None, list[Resource]] = {}
    for r in resources:
        if r.region == GLOBAL_REGION:
            global_.setdefault(r.account, []).append(r)
        else:
            regional.setdefault((r.account, r.region), []).append(r)
    out = [Partition(account, region, group, list(global_.get(account, ())))
           for (account, region), group in regional.items()]
    for account, group in global_.items():
        everything = [r for (a, _), rs in regional.items() if a == account for r in rs]
        out.append(Partition(account, GLOBAL_REGION, group, everything))
    return out


def link(partition: Partition) -> None:
    """Relate the partition's resources to each other and to its context.

    A global partition is linked by the regional partitions of its account (with them as context); on its
    own only when its account has no regional resource.
    """
    if partition.region == GLOBAL_REGION and partition.context:
        return
    graph.link(partition.inventory)


def compute_facts(partition: Partition) -> list[Resource]:
    """Compute the facts of the partition's resources over its inventory; returns that inventory."""
    inventory = partition.inventory
    facts.compute(inventory, targets=partition.resources)
    return inventory


def build(partition: Partition) -> None:
    """Link, then compute facts: the model rules judge."""
    link(partition)
    compute_facts(partition)
