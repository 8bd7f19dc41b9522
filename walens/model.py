"""The shared vocabulary: severities, statuses, pillars, locations, resources and findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe: high=3 ... info=0."""
        return {"high": 3, "medium": 2, "low": 1, "info": 0}[self.value]


class Status(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    NOT_ASSESSED = "not_assessed"
    SUPPRESSED = "suppressed"
    ACCEPTED = "accepted"


class Pillar(StrEnum):
    """WA Tool PillarIds of the pillars the Serverless Lens has questions in."""

    OPERATIONAL_EXCELLENCE = "operationalExcellence"
    SECURITY = "security"
    RELIABILITY = "reliability"
    PERFORMANCE = "performance"
    COST_OPTIMIZATION = "costOptimization"


# Orders every layer sorts by (reviews, diffs, histories, reports): severity high first, the WA Tool pillar order.
SEVERITIES = tuple(s.value for s in Severity)
PILLARS = tuple(p.value for p in Pillar)
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_PILLAR_RANK = {p: i for i, p in enumerate(PILLARS)}


# The predefined CodeDeploy configurations of a SAM DeploymentPreference ``Type`` (walens.scanners.sam_function
# expands them; walens.facts.ops_deploy recognises them in the expansion).
DEPLOYMENT_TYPES = frozenset({
    "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes",
    "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes",
    "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes", "AllAtOnce",
})

# How a finding changed between two reviews (walens.diff), in the order diffs list them.
DIFF_KINDS = ("new", "resolved", "changed_severity", "persisting")


class ReviewRef(TypedDict):
    """One side of a diff: the review (history ID or file), its workload, when it finished, the walens version."""

    ref: str | None
    workload: str | None
    finished_at: str | None
    tool_version: str | None


class DiffDocument(TypedDict):
    """What ``walens.diff.diff`` computes and ``walens.reporters.diff`` renders (``walens diff --format json``).

    ``summary``: kind (``DIFF_KINDS``) -> count; ``by_practice``: ``{pillar, question, choice, <kind>: count}``
    rows in lens order; ``findings``: kind -> items (a finding's fingerprint, rule, pillar, best practice,
    severity, resource, location, message, and what changed: ``was``, ``now``, ``old_severity``, ``waiver``).
    """

    walens_diff: int
    old_review: ReviewRef
    new_review: ReviewRef
    summary: dict[str, int]
    by_practice: list[dict[str, Any]]
    findings: dict[str, list[dict[str, Any]]]


def severity_rank(severity: object) -> int:
    """Sort key: high first, unknown severities last."""
    return _SEVERITY_RANK.get(str(severity), len(SEVERITIES))


def pillar_rank(pillar: object) -> int:
    """Sort key: the WA Tool pillar order, unknown pillars last."""
    return _PILLAR_RANK.get(str(pillar), len(PILLARS))


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: a file and 1-based line and column."""

    file: str
    line: int
    column: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}


class Unknown:
    """A value the template does not determine (a parameter without default, an import, ...).

    Rules that need it end ``not_assessed`` with ``reason``; never a false ``fail``.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("Unknown", self.reason))


@dataclass(slots=True)
class Resource:
    """One resource in CloudFormation's vocabulary, from a template or from an account.

    ``properties`` are CloudFormation-shaped, intrinsics resolved as far as the template allows
    (see docs/ARCHITECTURE.md: placeholders for references, :class:`Unknown` for the unknowable).
    ``origin`` is the logical ID as the author wrote it (for a SAM-generated resource, the
    ``AWS::Serverless::*`` resource that generated it); ``location`` is that resource's line.
    """

    id: str
    type: str
    properties: dict[str, Any]
    location: Location | None = None
    origin: str | None = None
    origin_type: str | None = None
    source: str = "template"
    name: str | None = None
    arn: str | None = None
    account: str | None = None
    region: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None
    related: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    # Template mode: the template as the loader decoded it (shared, not copied), for the few facts that
    # read what resolution discards (Parameters, Globals, authored intrinsics); None in account mode.
    template: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class CfnResource:
    """A CloudFormation resource before intrinsic resolution: what ``sam.expand`` yields.

    Plain CloudFormation resources pass through with ``origin == logical_id``; resources that SAM
    would generate carry the authored ``AWS::Serverless::*`` resource as ``origin``/``origin_type``
    and its line. ``properties`` keep intrinsics as written (long form).
    """

    logical_id: str
    type: str
    properties: dict[str, Any]
    origin: str
    origin_type: str
    line: int = 0
    col: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None


# What a message shows for a value walens could not read (an Unknown, an absent path): never "None".
MISSING_TEXT = "—"

# The message of a not_assessed finding: the rule's own message states a problem that was not established.
NOT_ASSESSED_MESSAGE = {
    "en": "{name} could not be checked for “{title}”: {reason}",
    "ja": "{name} は「{title}」を判定できませんでした: {reason}",
}


def not_assessed_message(lang: str, name: str, title: str, reason: str | None) -> str:
    """What a not_assessed finding says: which check on which resource, and why it could not be made."""
    template = NOT_ASSESSED_MESSAGE.get(lang) or NOT_ASSESSED_MESSAGE["en"]
    return template.format(name=name, title=title, reason=reason or "—")
