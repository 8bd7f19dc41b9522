"""Facts that look across the inventory build their index once per facts.compute() (walens.facts.shared).

The cache must never change a fact's value (every fact, recomputed without it, on every corpus template),
and it must make those facts linear: an account with thousands of functions sharing one role or one log
group setup used to cost a scan of the inventory per function (counted here, not timed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corpus import linked_templates
from walens import facts, graph
from walens.facts import lambda_ as lambda_facts
from walens.model import Resource


@pytest.mark.corpus
def test_every_fact_has_the_same_value_with_and_without_the_shared_indexes() -> None:
    facts._load()
    compared = 0
    mismatches: list[tuple[str, str, str]] = []
    for path, resources in linked_templates():  # facts computed with the indexes
        for resource in resources:
            for name, types, fn in facts._REGISTRY:
                if resource.type in types:
                    compared += 1
                    again: Any = fn(resource, resources)  # outside compute(): built from scratch
                    if again != resource.facts[name]:
                        mismatches.append((Path(path).name, resource.id, name))
    assert compared > 10_000
    assert mismatches == []


def _account(functions: int) -> list[Resource]:
    role = "arn:aws:iam::123456789012:role/shared"
    out = [Resource(id=f"arn:aws:lambda:us-east-1:123456789012:function:fn-{i}", type="AWS::Lambda::Function",
                    properties={"Role": role, "Runtime": "python3.13", "ReservedConcurrentExecutions": 1},
                    name=f"fn-{i}") for i in range(functions)]
    out += [Resource(id=f"lg-{i}", type="AWS::Logs::LogGroup", properties={"LogGroupName": f"/aws/lambda/fn-{i}"})
            for i in range(functions)]
    graph.link(out)
    return out


def test_inventory_wide_facts_read_each_function_once_per_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"role_key": 0}
    real = lambda_facts._role_key

    def counting(fn: Resource) -> str | None:
        calls["role_key"] += 1
        return real(fn)

    monkeypatch.setattr(lambda_facts, "_role_key", counting)
    resources = _account(400)
    facts.compute(resources)
    first = resources[0]
    assert len(first.facts["role_shared_with"]) == 399
    assert first.facts["reserved_concurrency_total"] == 400
    assert resources[400].facts["log_group_writers"] == {"functions": [first.id]}
    # One role key per function for the index, one for each function's own lookup: 2N, not N².
    assert calls["role_key"] == 2 * 400
    # Outside compute() nothing is cached: a fact called directly sees the inventory as it is now.
    resources[1].properties["ReservedConcurrentExecutions"] = 5
    assert lambda_facts.role_shared_with(first, resources)[:1] == [resources[1].id]
    from walens.facts.reliability_lambda import reserved_concurrency_total

    assert reserved_concurrency_total(first, resources) == 404
