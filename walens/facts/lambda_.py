"""Lambda facts: role sharing and asynchronous invocation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource

FUNCTION = "AWS::Lambda::Function"


def _role_key(fn: Resource) -> str | None:
    """What identifies a function's role: the linked role's id, else the literal Role value."""
    role = fn.related.get("role")
    if isinstance(role, dict):
        return "id:" + str(role["id"])
    value = fn.properties.get("Role") if isinstance(fn.properties, dict) else None
    return "arn:" + value if isinstance(value, str) else None


@fact("role_shared_with", types=[FUNCTION])
def role_shared_with(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """The ids of the other functions that use the same execution role, sorted."""
    key = _role_key(resource)
    if key is None:
        return []
    return sorted(r.id for r in inventory if r.type == FUNCTION and r is not resource and _role_key(r) == key)


@fact("invoked_async", types=[FUNCTION])
def invoked_async(resource: Resource, inventory: Sequence[Resource]) -> bool:
    """Whether something invokes the function asynchronously (async invokers or an EventInvokeConfig)."""
    related: dict[str, Any] = resource.related
    return bool(related.get("async_invokers")) or related.get("event_invoke_config") is not None
