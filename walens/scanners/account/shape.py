"""Small helpers that turn API answers into CloudFormation-shaped properties."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def pick(source: Mapping[str, Any] | None, names: Mapping[str, str] | tuple[str, ...]) -> dict[str, Any]:
    """The keys of ``source`` that are present and not None, renamed by ``names`` (api key -> CFN key)."""
    out: dict[str, Any] = {}
    if not isinstance(source, Mapping):
        return out
    pairs = names.items() if isinstance(names, Mapping) else ((n, n) for n in names)
    for api_key, cfn_key in pairs:
        value = source.get(api_key)
        if value is not None:
            out[cfn_key] = value
    return out


def parse_json(value: Any) -> Any:
    """A policy or definition the API returns as JSON text, as data; the text itself when it is not JSON.

    API Gateway returns a REST API's policy with its quotes backslash-escaped; both forms are accepted.
    """
    if not isinstance(value, str):
        return value
    for text in (value, value.replace('\\"', '"').replace("\\\\", "\\")):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return value


def number(value: Any) -> Any:
    """A numeric attribute the API returns as text ("30"), as an int (or float); other values unchanged."""
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    return value


def boolean(value: Any) -> Any:
    """"true"/"false" text as a bool; other values unchanged."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def capitalize_keys(value: Any) -> Any:
    """camelCase keys as CloudFormation's PascalCase (``tracingEnabled`` -> ``TracingEnabled``), recursively."""
    if isinstance(value, Mapping):
        return {(k[:1].upper() + k[1:] if isinstance(k, str) else k): capitalize_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [capitalize_keys(v) for v in value]
    return value
