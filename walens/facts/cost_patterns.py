"""Cost-aware usage pattern facts (COST 1): what a function's role lets it do that hints at costlier patterns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource

FUNCTION = "AWS::Lambda::Function"
PUT_METRIC_DATA = "cloudwatch:putmetricdata"
# SAM policy templates that grant cloudwatch:PutMetricData (samtranslator policy_templates.json).
_PUT_METRIC_TEMPLATES = frozenset({"CloudWatchPutMetricPolicy"})


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _names_action(doc: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement names ``action`` explicitly (a wildcard is no evidence of intent)."""
    for stmt in _as_list(doc.get("Statement")):
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow":
            continue
        if any(isinstance(a, str) and a.lower() == action for a in _as_list(stmt.get("Action"))):
            return True
    return False


@fact("puts_metric_data", types=[FUNCTION])
def puts_metric_data(resource: Resource, inventory: Sequence[Resource]) -> bool:
    """Whether the function's role explicitly allows ``cloudwatch:PutMetricData`` (synchronous custom metrics)."""
    role = resource.related.get("role")
    if isinstance(role, dict):
        metadata = role.get("Metadata")
        templates = metadata.get("SamPolicyTemplates") if isinstance(metadata, dict) else None
        if any(isinstance(t, dict) and t.get("Name") in _PUT_METRIC_TEMPLATES for t in _as_list(templates)):
            return True
    for policy in resource.related.get("role_policies") or []:
        props = policy.get("Properties") if isinstance(policy, dict) else None
        doc = _document(props.get("PolicyDocument")) if isinstance(props, dict) else None
        if doc is not None and _names_action(doc, PUT_METRIC_DATA):
            return True
    return False
