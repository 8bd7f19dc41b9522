"""Rule expressions name only facts and relations that exist: checked when rules load (walens.vocabulary).

A misspelt ``facts.X`` is valid JMESPath that reads null on every resource; without the check a custom
rule with a typo fails (or passes) on every function. Here: a typo is a one-line error naming the file,
the name and the nearest known one; every built-in rule passes the check; removing any fact or relation
the catalogue reads from the registry makes the load fail naming it; and the registry describes what
facts and links really produce on the example applications.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_rules_schema import VALID, rule_error

from walens import facts, graph, pipeline
from walens.errors import RuleError
from walens.rules import load_rules
from walens.vocabulary import Vocabulary, check_rule, vocabulary

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = load_rules()


def _custom(**fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data.update(fields)
    return data


@pytest.mark.parametrize(("fields", "name", "hint"), [
    ({"when": "facts.runtime_lifecyle.state == 'deprecated'"}, "fact 'runtime_lifecyle'", "'runtime_lifecycle'"),
    ({"assert": "!(facts.secret_parameter)"}, "fact 'secret_parameter'", "'secret_parameters'"),
    ({"message_args": {"memory": "facts.memory_recomendation.suggested_mb"}}, "fact 'memory_recomendation'",
     "'memory_recommendation'"),
    ({"assert": "related.log_grup.Properties.RetentionInDays != null"}, "relation 'log_grup'", "'log_group'"),
    # A fact read on a related resource is checked against the related resource's type.
    ({"assert": "length(related.event_sources[?facts.esm_source_knd == 'sqs']) == `0`"},
     "fact 'esm_source_knd'", "'esm_source_kind'"),
    ({"assert": "sort_by(related.event_sources, &facts.sqs_visibilty)[0] != null"}, "fact 'sqs_visibilty'",
     "'sqs_visibility'"),
    ({"assert": "related.role.facts.broad_permission == `null`"}, "fact 'broad_permission'", "'broad_permissions'"),
])
def test_an_unknown_name_is_an_error_naming_it(tmp_path: Path, fields: dict[str, Any], name: str, hint: str) -> None:
    err, path = rule_error(tmp_path, _custom(**fields))
    assert err.file == str(path)
    assert name in err.message and f"did you mean {hint}" in err.message, err.message
    field = next(iter(fields))
    assert err.message.startswith(f"field '{field}")


def test_a_field_of_a_negation_is_an_error(tmp_path: Path) -> None:
    """`!facts.x` is `(!facts).x`: null on every resource, so the rule would pass everywhere."""
    err, _ = rule_error(tmp_path, _custom(**{"assert": "!facts.secret_parameters"}))
    assert err.message.startswith("field 'assert': '.secret_parameters' reads a field of the true/false value")
    assert "'!(facts.secret_parameters)'" in err.message


def test_a_fact_of_another_type_is_unknown(tmp_path: Path) -> None:
    """runtime_lifecycle exists, but not on a queue."""
    err, _ = rule_error(tmp_path, _custom(resource="AWS::SQS::Queue", when=None, message_args=None,
                                          message={"en": "Queue {name}", "ja": "キュー {name}"},
                                          **{"assert": "facts.runtime_lifecycle == `null`"}))
    assert "unknown fact 'runtime_lifecycle'" in err.message and "AWS::SQS::Queue" in err.message


def test_known_names_pass(tmp_path: Path) -> None:
    path = tmp_path / "custom"
    from test_rules_schema import write

    write(path, _custom(**{"when": "facts.runtime_lifecycle.state != 'deprecated'",
                           "assert": "related.log_group.Properties.RetentionInDays != null "
                                     "&& length(related.event_sources[?facts.esm_source_kind == 'sqs']) >= `0` "
                                     "&& !contains(facts.defaulted, 'MemorySize')"}))
    assert [r.id for r in load_rules([str(path)]) if r.id == "COST901"] == ["COST901"]


def test_the_command_line_says_it_in_one_line(tmp_path: Path) -> None:
    from test_rules_schema import write

    write(tmp_path, _custom(**{"assert": "facts.runtime_lifecyle == `null`"}))
    proc = subprocess.run([sys.executable, "-m", "walens", "scan", "template", "examples/minimal", "--rules-dir",
                           str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"}, check=False)
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert "COST901.yaml" in line and "'runtime_lifecyle'" in line and "did you mean 'runtime_lifecycle'" in line


def test_every_builtin_rule_names_known_facts_and_relations() -> None:
    vocab = vocabulary()
    for rule in CATALOGUE:
        check_rule(rule, vocab)


def _names_read(prefix: str) -> set[str]:
    pattern = re.compile(prefix + r"\.([A-Za-z_][A-Za-z0-9_]*)")
    return {m for rule in CATALOGUE for key in ("when", "assert") for m in pattern.findall(str(rule.raw.get(key)))}


@pytest.mark.parametrize("name", sorted(_names_read("facts")))
def test_removing_a_fact_from_the_registry_fails_the_load_naming_it(name: str) -> None:
    vocab = vocabulary()
    without = Vocabulary({k: v for k, v in vocab.facts.items() if k != name}, vocab.relations)
    errors = []
    for rule in CATALOGUE:
        try:
            check_rule(rule, without)
        except RuleError as exc:
            errors.append(exc)
    assert errors, f"no rule noticed that fact {name!r} is gone"
    assert all(f"unknown fact '{name}'" in e.message for e in errors)


@pytest.mark.parametrize("name", sorted(_names_read("related")))
def test_removing_a_relation_from_the_registry_fails_the_load_naming_it(name: str) -> None:
    vocab = vocabulary()
    without = Vocabulary(vocab.facts, {t: {k: v for k, v in rel.items() if k != name}
                                       for t, rel in vocab.relations.items()})
    errors = []
    for rule in CATALOGUE:
        try:
            check_rule(rule, without)
        except RuleError as exc:
            errors.append(exc)
    assert errors and all(f"unknown relation '{name}'" in e.message for e in errors)


def test_the_registry_describes_what_facts_and_links_produce() -> None:
    """On the example applications and the rule fixtures, every fact a resource carries and every relation it
    has is declared for its type; every declared fact has a one-line description."""
    registry = facts.registry()
    assert all(info.description and "\n" not in info.description for info in registry.values())
    vocab = vocabulary()
    resources = pipeline.inventory([str(REPO / "examples"), str(REPO / "tests" / "fixtures" / "rules")]).resources
    assert len(resources) > 500
    for r in resources:
        assert set(r.facts) <= vocab.facts_of([r.type]), (r.type, set(r.facts) - vocab.facts_of([r.type]))
        assert set(r.related) <= set(vocab.relations_of([r.type])), r.type
    assert {k for r in resources for k in r.related} == {rel.name for rel in graph.RELATIONS}
