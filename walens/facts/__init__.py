"""Derived facts: pure functions of a resource (and the inventory) that a JMESPath cannot state.

Each fact module registers its functions with :func:`fact`; :func:`compute` runs them after the graph
is linked and stores each result in ``resource.facts[name]``. :func:`registry` names every fact a rule
may read (those and the ones set elsewhere, :data:`PROVIDED`): rule expressions are checked against it
when rules load (walens.vocabulary).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    "walens.facts.security_outputs",
)


@dataclass(frozen=True)
class FactInfo:
    """A fact rules may read: its name, the resource types it is set on (None: every type), what it says."""

    name: str
    types: frozenset[str] | None
    description: str
    source: str  # the module that sets it


FUNCTION = "AWS::Lambda::Function"
# Facts set outside the registered functions: by the view builder, by the account scanner's second
# phase (walens.scanners.account.insights), directly on the functions it measured, and the judgement of
# those measures (walens.facts.memory, run by walens.pipeline.assemble_account on the same functions).
PROVIDED: tuple[FactInfo, ...] = (
    FactInfo("defaulted", None, "Dotted names of the properties CloudFormation's documented defaults filled in.",
             "walens.views"),
    FactInfo("memory_usage", frozenset({FUNCTION}), "Memory used over the last days, from Logs Insights (account).",
             "walens.scanners.account.insights"),
    FactInfo("metrics", frozenset({FUNCTION}), "CloudWatch metrics of the function (account).",
             "walens.scanners.account.metrics"),
    FactInfo("compute_optimizer", frozenset({FUNCTION}), "Compute Optimizer's memory recommendation (account).",
             "walens.scanners.account.metrics"),
    FactInfo("memory_recommendation", frozenset({FUNCTION}),
             "Configured, measured and suggested memory, from Compute Optimizer or Logs Insights (account).",
             "walens.facts.memory"),
)


def registry() -> dict[str, FactInfo]:
    """Every fact by name: the registered functions (types merged per name) and PROVIDED."""
    _load()
    out: dict[str, FactInfo] = {info.name: info for info in PROVIDED}
    for name, types, fn in _REGISTRY:
        known = out.get(name)
        doc = (fn.__doc__ or "").strip()
        description = " ".join(doc.split("\n\n")[0].split())
        if known is not None and known.types is not None:
            types = known.types | types
            description = known.description or description
        out[name] = FactInfo(name, types, description, fn.__module__)
    return out


def fact(name: str, types: Sequence[str]) -> Callable[[FactFn], FactFn]:
    """Register ``fn`` as the fact ``name`` for resources of ``types``."""

    def register(fn: FactFn) -> FactFn:
        _REGISTRY.append((name, frozenset(types), fn))
        _BY_TYPE.clear()
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


_BY_TYPE: dict[str, list[tuple[str, FactFn]]] = {}  # cleared whenever a fact registers


def _for_type(rtype: str) -> list[tuple[str, FactFn]]:
    """The (name, fn) facts registered for ``rtype``, in registration order (memoised)."""
    found = _BY_TYPE.get(rtype)
    if found is None:
        found = _BY_TYPE[rtype] = [(name, fn) for name, types, fn in _REGISTRY if rtype in types]
    return found


# Values derived from the whole inventory (resources by type, functions by role ...), built once per
# compute() call instead of once per resource: an account has thousands of functions, and a fact that
# scans the inventory for each of them is quadratic (3 s of facts for 1,000 functions before this).
_SHARED: dict[str, Any] = {}
_SHARED_FOR: list[int] = []  # id() of the inventory compute() is working on; empty outside compute()


def shared(inventory: Sequence[Resource], key: str, build: Callable[[Sequence[Resource]], Any]) -> Any:
    """``build(inventory)``, computed once per :func:`compute` over ``inventory`` (every call outside it)."""
    if not _SHARED_FOR or _SHARED_FOR[-1] != id(inventory):
        return build(inventory)
    if key not in _SHARED:
        _SHARED[key] = build(inventory)
    return _SHARED[key]


def of_type(inventory: Sequence[Resource], rtype: str) -> list[Resource]:
    """The resources of ``rtype`` in ``inventory``, in inventory order."""
    index: dict[str, list[Resource]] = shared(inventory, "by_type", _index_by_type)
    return index.get(rtype, [])


def _index_by_type(inventory: Sequence[Resource]) -> dict[str, list[Resource]]:
    index: dict[str, list[Resource]] = {}
    for r in inventory:
        index.setdefault(r.type, []).append(r)
    return index


def compute(resources: Sequence[Resource], targets: Sequence[Resource] | None = None) -> None:
    """Compute every registered fact for every resource of a matching type.

    ``resources`` is the inventory facts look across (a template, or one partition: walens.partition);
    ``targets`` (default: all of them) the resources whose facts are computed.
    """
    _load()
    _SHARED.clear()
    _SHARED_FOR.append(id(resources))
    try:
        for resource in resources if targets is None else targets:
            for name, fn in _for_type(resource.type):
                resource.facts[name] = fn(resource, resources)
    finally:
        _SHARED_FOR.pop()
        _SHARED.clear()
