"""Configuration facts (OPS 2): values written into a template that tie it to one account or environment.

Both are heuristics: a literal account ID in an ARN, or a literal endpoint URL in a function's
environment, usually means the same template cannot be deployed unchanged to another stage's account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource

FUNCTION = "AWS::Lambda::Function"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"
ESM = "AWS::Lambda::EventSourceMapping"

# arn:partition:service:region:account:resource; layers are published by other accounts (AWS, vendors)
# on purpose, so they are not the template's own account hard-coded.
_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:(\d{12}):(\S*)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://([^/:?#@]+@)?([^/:?#]+)", re.IGNORECASE)
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every string inside ``value``."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


@fact("literal_account_ids", types=[FUNCTION, STATE_MACHINE, ESM])
def literal_account_ids(resource: Resource, inventory: Sequence[Resource]) -> dict[str, list[str]]:
    """Account IDs written literally in ARNs in the resource's properties, and the properties that hold them."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    accounts: set[str] = set()
    paths: list[str] = []
    for path, text in _strings(props, ""):
        for m in _ARN_ACCOUNT.finditer(text):
            if m.group(1) == "lambda" and m.group(3).startswith("layer:"):
                continue
            accounts.add(m.group(2))
            if path not in paths:
                paths.append(path)
    return {"accounts": sorted(accounts), "properties": paths}


@fact("literal_endpoints", types=[FUNCTION])
def literal_endpoints(resource: Resource, inventory: Sequence[Resource]) -> list[str]:
    """Names of environment variables whose value is a literal URL to a remote host (values are never kept)."""
    props = resource.properties if isinstance(resource.properties, dict) else {}
    env = props.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    out = []
    for name, value in variables.items() if isinstance(variables, dict) else ():
        # A value assembled from a Ref/GetAtt/Sub is not literal: the template derives it.
        if not isinstance(value, str) or "{{" in value:
            continue
        m = _URL.match(value.strip())
        if m and m.group(2).lower() not in _LOCAL_HOSTS:
            out.append(str(name))
    return sorted(out)
