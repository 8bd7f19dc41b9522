"""The built-in catalogue keeps the severity policy of walens/severity.py: high only with a stated reason, and
tuning, cost and observability rules below high unless explicitly allowed."""

from __future__ import annotations

from walens import severity
from walens.rules import load_rules


def test_a_rule_is_high_exactly_when_the_policy_gives_its_reason() -> None:
    rules = load_rules()
    high = {r.id for r in rules if r.severity == "high"}
    assert high == set(severity.HIGH), (
        f"high without a reason in walens/severity.py: {sorted(high - set(severity.HIGH))}; "
        f"listed there but not high: {sorted(set(severity.HIGH) - high)}")
    for rule_id, reason in severity.HIGH.items():
        for lang in ("en", "ja"):
            assert reason[lang].strip() and "\n" not in reason[lang], (rule_id, lang)


def test_tuning_cost_and_observability_rules_are_not_high_unless_allowed() -> None:
    assert severity.HIGH_OUTSIDE_POLICY_PILLARS <= set(severity.HIGH)
    offending = sorted(r.id for r in load_rules() if r.pillar in severity.TUNING_PILLARS and r.severity == "high"
                       and r.id not in severity.HIGH_OUTSIDE_POLICY_PILLARS)
    assert offending == []


def test_heuristic_rules_are_info() -> None:
    heuristics = [r for r in load_rules() if "(heuristic)" in r.title["en"]]
    assert heuristics
    assert sorted(r.id for r in heuristics if r.severity != "info") == []


def test_every_level_is_described_in_both_languages() -> None:
    assert list(severity.LEVELS) == ["high", "medium", "low", "info"]
    assert all(text["en"].strip() and text["ja"].strip() for text in severity.LEVELS.values())
