"""Derived facts: pure functions of a resource (and the inventory) that a JMESPath cannot state.

Each fact module registers its functions with :func:`fact`; :func:`compute` runs them after the graph
is linked and stores each result in ``resource.facts[name]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from walens.model import Resource

FactFn = Callable[[Resource, Sequence[Resource]], Any]

_REGISTRY: list[tuple[str, frozenset[str], FactFn]] = []

# Modules that register facts; imported on first compute().
FACT_MODULES = (
    "walens.facts.iam",
    "walens.facts.apigateway",
    "walens.facts.runtime",
    "walens.facts.lambda_",
    "walens.facts.ops_alarms",
    "walens.facts.ops_logging",
    "walens.facts.ops_deploy",
    "walens.facts.ops_config",
    "walens.facts.cost_logs",
    "walens.facts.cost_patterns",
    "walens.facts.perf_integrations",
    "walens.facts.reliability_api",
    "walens.facts.reliability_lambda",
    "walens.facts.stepfunctions",
    "walens.facts.security_api",
    "walens.facts.security_lambda",
)


def fact(name: str, types: Sequence[str]) -> Callable[[FactFn], FactFn]:
    """Register ``fn`` as the fact ``name`` for resources of ``types``."""

    def register(fn: FactFn) -> FactFn:
        _REGISTRY.append((name, frozenset(types), fn))
        return fn

    return register


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in FACT_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    _loaded = True


def compute(resources: Sequence[Resource]) -> None:
    """Compute every registered fact for every resource of a matching type."""
    _load()
    for resource in resources:
        for name, types, fn in _REGISTRY:
            if resource.type in types:
                resource.facts[name] = fn(resource, resources)
