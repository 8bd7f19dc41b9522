"""The call planner: a review of some rules makes only the calls those rules need, with the same results.

``walens.needs.plan`` reads what the selected rules read; collectors none of whose types they read are not
run, per-function Lambda details they do not read are not asked, the second phase (what functions did)
runs only for a rule on it. Each pillar alone must judge exactly as the full review judges that pillar.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

pytest.importorskip("moto")

from test_account_scan import REGION, aws, seed  # noqa: E402,F401

PER_FUNCTION = ("GetFunctionConcurrency", "GetFunctionRecursionConfig", "ListFunctionEventInvokeConfigs",
                "ListFunctionUrlConfigs", "ListAliases", "GetPolicy")


def _counting() -> tuple[Counter[str], Any]:
    calls: Counter[str] = Counter()

    def hook(client: Any) -> None:
        service = client.meta.service_model.service_name

        def count(model: Any, **_: Any) -> None:
            calls[f"{service}:{model.name}"] += 1

        client.meta.events.register("before-call.*.*", count)

    return calls, hook


def _scan(**kw: Any) -> dict[str, Any]:
    from walens.pipeline import scan_account

    return scan_account(regions=[REGION], fail_on="never", logs_insights=False, **kw)


def _results(doc: dict[str, Any], pillar: str | None = None) -> set[tuple[str, str, str, str | None]]:
    return {(f["rule_id"], f["resource"]["id"], f["status"], f["reason"]) for f in doc["findings"]
            if pillar is None or f["pillar"] == pillar}


def test_each_pillar_alone_judges_as_the_full_review(aws: None) -> None:
    seed()
    full = _scan()
    for pillar in ("security", "reliability", "operationalExcellence", "performance", "costOptimization"):
        alone = _scan(select=[pillar])
        assert _results(alone) == _results(full, pillar), pillar


def test_each_rule_alone_judges_as_the_full_review(aws: None) -> None:
    """The strongest form: a dependency the plan misses (a fact reading another collector's resources)
    changes that rule's results when it is selected alone."""
    from walens.rules import load_rules

    seed()
    full = _scan()
    for rule in load_rules([]):
        if "account" in rule.scope:
            alone = _scan(select=[rule.id])
            assert _results(alone) == {r for r in _results(full) if r[0] == rule.id}, rule.id


def test_a_security_review_asks_only_what_security_rules_read(aws: None) -> None:
    seed()
    calls, hook = _counting()
    _scan(select=["security"], hooks=[hook])
    functions = 3
    # Security rules read function URLs and resource policies (and code signing, in bulk): nothing else per function.
    # (moto lacks ListFunctionUrlConfigs: asked once, then GetFunctionUrlConfig per function.)
    assert calls["lambda:ListFunctionUrlConfigs"] + calls["lambda:GetFunctionUrlConfig"] >= functions
    assert calls["lambda:GetPolicy"] == functions
    for operation in ("GetFunctionConcurrency", "GetFunctionRecursionConfig", "ListFunctionEventInvokeConfigs",
                      "ListAliases", "GetAccountSettings", "ListEventSourceMappings"):
        assert calls[f"lambda:{operation}"] == 0, operation
    # No security rule reads log groups, alarms or queues.
    assert not [c for c in calls if c.split(":")[0] in ("logs", "cloudwatch", "sqs")]

    full_calls, full_hook = _counting()
    _scan(hooks=[full_hook])
    assert all(full_calls[f"lambda:{op}"] >= 1 for op in PER_FUNCTION if op != "GetFunctionConcurrency")
    assert sum(calls.values()) < sum(full_calls.values())


def test_one_rule_asks_one_detail(aws: None) -> None:
    seed()
    calls, hook = _counting()
    doc = _scan(select=["COST010"], services=["lambda"], hooks=[hook])  # recursive loop detection
    # (moto lacks GetFunctionRecursionConfig: asked once, then known unsupported in the region.)
    assert calls["lambda:GetFunctionRecursionConfig"] >= 1
    assert {op: calls[f"lambda:{op}"] for op in PER_FUNCTION if op != "GetFunctionRecursionConfig"} == {
        op: 0 for op in PER_FUNCTION if op != "GetFunctionRecursionConfig"}
    assert {f["rule_id"] for f in doc["findings"]} == {"COST010"}


def test_the_plan_of_the_full_catalogue_asks_everything() -> None:
    from walens import needs
    from walens.rules import load_rules

    plan = needs.plan(load_rules([]))
    assert not plan.everything  # every fact an account rule reads is traced
    for rtype, prop in (("AWS::Lambda::Function", "ReservedConcurrentExecutions"),
                        ("AWS::Lambda::Function", "RecursiveLoop"), ("AWS::Lambda::Function", "CodeSigningConfigArn")):
        assert plan.wants(rtype, prop)
    for rtype in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Url", "AWS::Lambda::Alias",
                  "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::CloudWatch::Alarm"):
        assert plan.wants(rtype)
    assert plan.wants_activity()
