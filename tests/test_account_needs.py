"""Rules whose data no chosen collector provides are not assessed, naming that data; never pass, never absent.

Each collector declares ``PROVIDES`` (resource type -> Properties it fills); ``walens.needs`` reads what a
rule's expressions read (own properties, related resources, fact inputs). Checked before any call.
"""

from __future__ import annotations

from typing import Any

import pytest

from walens import needs
from walens.rules import load_rules

UNREADABLE = {
    # rule -> what its reason must name
    "SEC015": "AWS::Lambda::LayerVersionPermission",
    "SEC022": "AWS::RDS::DBInstance",
    "SEC024": "AWS::ECR::Repository",
    "REL016": "AWS::Scheduler::Schedule",
    "OPS022": "AWS::Lambda::Function RuntimeManagementConfig",
    "PERF003": "AWS::Lambda::Alias ProvisionedConcurrencyConfig",
}


def _rule(rule_id: str) -> Any:
    return next(r for r in load_rules([]) if r.id == rule_id)


def test_reads_follow_projections_into_related_resources() -> None:
    rule = _rule("PERF003")
    paths = {p for e in needs._expressions(rule) for p in needs.reads(e)}
    assert ("related", "aliases", "Properties", "ProvisionedConcurrencyConfig") in paths
    assert ("Properties", "SnapStart", "ApplyOn") in paths
    assert ("facts", "runtime_support", "family") in paths
    found = {(n.type, n.property) for n in needs.rule_needs(rule)}
    assert ("AWS::Lambda::Alias", "ProvisionedConcurrencyConfig") in found
    assert ("AWS::Lambda::Function", "SnapStart") in found


def test_the_check_names_exactly_the_rules_no_collector_can_feed() -> None:
    from walens.scanners import account

    reasons = account.unprovided(load_rules([]))
    assert set(reasons) == set(UNREADABLE)
    for rule_id, data in UNREADABLE.items():
        assert reasons[rule_id].startswith("the account scanner does not read ") and data in reasons[rule_id]


def test_services_left_out_name_the_collector() -> None:
    from walens.scanners import account

    reasons = account.unprovided(load_rules([]), ["lambda"])
    assert reasons["COST001"] == ("not scanned: --services leaves out logs, which reads AWS::Logs::LogGroup "
                                  "RetentionInDays (read by facts.log_retention)")
    assert "OPS001" not in reasons  # tracing is on the function itself
    assert reasons["PERF003"].startswith("the account scanner does not read")  # never readable wins


# ---- on moto ----------------------------------------------------------------------------------

pytest.importorskip("moto")
from test_account_scan import REGION, aws, seed  # noqa: E402,F401


def test_unreadable_rules_are_not_assessed_in_a_scan(aws: None) -> None:
    from walens.pipeline import scan_account

    seed()
    doc = scan_account(regions=[REGION], select=sorted(UNREADABLE), fail_on="never")
    account = doc["scan"]["accounts"][0]
    got = {f["rule_id"]: f for f in doc["findings"]}
    assert sorted(got) == sorted(UNREADABLE)
    assert len(doc["findings"]) == len(UNREADABLE)  # one per rule and account, no pass anywhere
    for rule_id, data in UNREADABLE.items():
        f = got[rule_id]
        assert f["status"] == "not_assessed" and data in f["reason"]
        assert (f["resource"]["account"], f["resource"]["name"]) == (account, "*")
    lens = {e["choice"]: e["status"] for e in doc["lens"]}
    assert {lens[f["lens"]["choice"]] for f in doc["findings"]} == {"not_assessed"}


def test_a_service_left_out_is_not_a_false_failure(aws: None) -> None:
    """Without the logs collector no log group is seen: COST001 must not fail every function for it."""
    from walens.pipeline import scan_account

    seed()
    doc = scan_account(regions=[REGION], services=["lambda"], select=["COST001", "OPS001"], fail_on="never")
    cost001 = [f for f in doc["findings"] if f["rule_id"] == "COST001"]
    assert [(f["status"], f["resource"]["name"]) for f in cost001] == [("not_assessed", "*")]
    assert "--services leaves out logs" in cost001[0]["reason"]
    assert {f["status"] for f in doc["findings"] if f["rule_id"] == "OPS001"} == {"pass", "fail"}


def test_provides_covers_every_property_a_scan_fills(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The declarations are not narrower than the collectors: every property of every scanned resource is declared."""
    from test_account_services import answer_calls, seed_services, service_answers

    from walens.scanners import account

    seed()
    answer_calls(monkeypatch, service_answers(seed_services()))
    collected = account.collect(regions=[REGION])
    declared = account.provides()
    undeclared = sorted({(r.type, key) for r in collected.resources for key in r.properties
                         if key not in declared.get(r.type, frozenset())})
    assert undeclared == []
    assert len({r.type for r in collected.resources}) >= 20
