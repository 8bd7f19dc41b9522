"""The rule schema: every malformed rule is a RuleError naming the file and the field."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from walens.errors import RuleError, UsageError
from walens.rules import load_rules, select_rules

RULES_DIR = Path(__file__).resolve().parents[1] / "walens" / "rules"


def builtin(pillar_dir: str = "*") -> set[str]:
    """The rule IDs shipped in walens/rules, read from the file names (one rule per file)."""
    return {p.stem for p in RULES_DIR.glob(f"{pillar_dir}/*.yaml")}


BUILTIN_IDS = builtin()

VALID: dict[str, Any] = {
    "id": "COST901",
    "name": "custom-memory-too-large",
    "pillar": "costOptimization",
    "lens": {"question": "cost_q1", "choice": "cost_cost_q1_a3"},
    "severity": "low",
    "resource": "AWS::Lambda::Function",
    "scope": ["template"],
    "status": "preview",
    "since": "0.1.0",
    "params": {"max_memory_mb": 3008},
    "when": "Properties.PackageType != 'Image'",
    "assert": "Properties.MemorySize <= params.max_memory_mb",
    "message_args": {"memory": "Properties.MemorySize"},
    "title": {"en": "Function with more memory than allowed", "ja": "許可より多いメモリを持つ関数"},
    "message": {"en": "Function {name} has {memory} MB (max {params.max_memory_mb})",
                "ja": "関数 {name} のメモリは {memory} MB です (上限 {max_memory_mb})"},
    "rationale": {"en": "Memory costs money.", "ja": "メモリにはコストがかかります。"},
    "remediation": {"en": "Lower MemorySize.", "ja": "MemorySize を下げてください。", "example": "MemorySize: 512\n"},
    "references": ["https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"],
}


def write(folder: Path, data: Any, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rule_error(tmp_path: Path, data: Any, name: str | None = None) -> tuple[RuleError, Path]:
    path = write(tmp_path / "custom", data, name)
    with pytest.raises(RuleError) as info:
        load_rules([str(tmp_path / "custom")])
    return info.value, path


def mutated(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


DELETE = object()


def test_builtin_catalogue_loads() -> None:
    assert {r.id for r in load_rules()} == BUILTIN_IDS


def test_valid_custom_rule_loads_with_the_catalogue(tmp_path: Path) -> None:
    path = write(tmp_path / "custom", VALID)
    rules = {r.id: r for r in load_rules([str(tmp_path / "custom")])}
    assert set(rules) == BUILTIN_IDS | {"COST901"}
    custom = rules["COST901"]
    assert (custom.path, custom.resource_types, custom.scope, dict(custom.params)) == (
        str(path), ("AWS::Lambda::Function",), ("template",), {"max_memory_mb": 3008})
    assert custom.assert_.expression == VALID["assert"]
    assert set(custom.message_args) == {"memory"}


@pytest.mark.parametrize("field", ["id", "name", "pillar", "lens", "severity", "resource", "scope", "status",
                                   "since", "assert", "title", "message", "rationale", "remediation",
                                   "references"])
def test_missing_required_field(tmp_path: Path, field: str) -> None:
    data = mutated(**{field: DELETE})
    err, path = rule_error(tmp_path, data, name="COST901")
    assert err.file == str(path)
    assert f"field '{field}'" in err.message and "required" in err.message


# (changes, the field the error must name, a word the message must carry)
CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"id": "cost-1"}, "id", "<PILLAR><NNN>"),
    ({"id": "COST902"}, "id", "file name"),
    ({"name": "Custom_Memory"}, "name", "kebab-case"),
    ({"lens__choice": "cost_cost_q1_a9"}, "lens.choice", "unknown ChoiceId"),
    ({"lens__choice": "cost_cost_q1_no"}, "lens.choice", "unknown ChoiceId"),
    ({"lens__question": "cost_q2"}, "lens.question", "cost_q1"),
    ({"lens__question": "ops_q1", "lens__choice": "ops_ops_q1_a3"}, "pillar", "ops_ops_q1_a3"),
    ({"pillar": "sustainability"}, "pillar", "not one of"),
    ({"severity": "critical"}, "severity", "not one of"),
    ({"status": "beta"}, "status", "not one of"),
    ({"since": 0.1}, "since", "version"),
    ({"scope": ["template", "cloud"]}, "scope", "template, account"),
    ({"scope": []}, "scope", "non-empty"),
    ({"resource": "Lambda Function"}, "resource", "resource type"),
    ({"title__en": "Ensure functions have small memory"}, "title.en", "Ensure"),
    ({"title__ja": DELETE}, "title.ja", "missing"),
    ({"message__ja": ""}, "message.ja", "missing"),
    ({"rationale__ja": DELETE}, "rationale.ja", "missing"),
    ({"remediation__en": DELETE}, "remediation.en", "missing"),
    ({"remediation__fr": "x"}, "remediation.fr", "unknown field"),
    ({"remediation__example_cfn": ["Resources: {}"]}, "remediation.example_cfn", "string"),
    ({"remediation__example_cfn": "  "}, "remediation.example_cfn", "string"),
    ({"message__en": "Function {arn} is big"}, "message.en", "{arn}"),
    ({"message__ja": "関数 {params.nope}"}, "message.ja", "no param 'nope'"),
    ({"message__en": "Function {name"}, "message.en", "placeholder"),
    ({"assert": "Properties.MemorySize <="}, "assert", "does not compile"),
    ({"when": "Properties.[["}, "when", "does not compile"),
    ({"message_args__memory": "Properties.("}, "message_args.memory", "does not compile"),
    ({"message_args__name": "Properties.FunctionName"}, "message_args.name", "shadows"),
    ({"references": ["http://example.com"]}, "references", "https://"),
    ({"params": ["max_memory_mb"]}, "params", "mapping"),
    ({"asert": "true"}, "asert", "unknown field"),
]


@pytest.mark.parametrize(("changes", "field", "word"), CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_malformed_rule(tmp_path: Path, changes: dict[str, Any], field: str, word: str) -> None:
    err, path = rule_error(tmp_path, mutated(**changes), name="COST901")
    assert err.file == str(path)
    assert f"field '{field}'" in err.message
    assert word in err.message
    assert str(err).startswith(f"{path}: ")


def test_not_a_mapping_and_invalid_yaml(tmp_path: Path) -> None:
    err, path = rule_error(tmp_path, ["id", "COST901"], name="COST901")
    assert (err.file, err.message) == (str(path), "a rule file must be a YAML mapping")
    bad = tmp_path / "yaml" / "COST901.yaml"
    bad.parent.mkdir()
    bad.write_text("id: COST901\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules([str(bad.parent)])
    assert info.value.file == str(bad) and info.value.message.startswith("not valid YAML")


def test_pillar_folder_must_match(tmp_path: Path) -> None:
    path = write(tmp_path / "security", VALID)
    with pytest.raises(RuleError) as info:
        load_rules([str(tmp_path)])
    assert info.value.file == str(path)
    assert "field 'pillar'" in info.value.message and "'security'" in info.value.message


def test_duplicate_id_across_dirs(tmp_path: Path) -> None:
    first = write(tmp_path / "a", VALID)
    second = write(tmp_path / "b", mutated(name="another-name"))
    with pytest.raises(RuleError) as info:
        load_rules([str(tmp_path / "a"), str(tmp_path / "b")])
    assert info.value.file == str(second)
    assert info.value.message == f"field 'id': duplicate rule ID COST901 (also in {first})"


def test_duplicate_of_a_builtin_id_and_name(tmp_path: Path) -> None:
    err, path = rule_error(tmp_path, mutated(id="COST001"), name="COST001")
    assert err.file == str(path) and "field 'id': duplicate rule ID COST001" in err.message
    err, path = rule_error(tmp_path / "n", mutated(name="lambda-log-retention-unset"))
    assert err.file == str(path) and "field 'name': duplicate rule name" in err.message


def test_missing_rules_dir_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nowhere"):
        load_rules([str(tmp_path / "nowhere")])


def test_with_params(tmp_path: Path) -> None:
    write(tmp_path / "custom", VALID)
    rule = next(r for r in load_rules([str(tmp_path / "custom")]) if r.id == "COST901")
    assert dict(rule.with_params({"max_memory_mb": 1024}).params) == {"max_memory_mb": 1024}
    assert dict(rule.params) == {"max_memory_mb": 3008}
    with pytest.raises(RuleError) as info:
        rule.with_params({"max_memory": 1024})
    assert info.value.file == rule.path and "field 'params.max_memory'" in info.value.message
    with pytest.raises(RuleError) as info:
        rule.with_params({"max_memory_mb": "1024"})
    assert "field 'params.max_memory_mb': expected int" in info.value.message
    with pytest.raises(RuleError):
        rule.with_params({"max_memory_mb": True})


def test_select_and_ignore() -> None:
    rules = load_rules()
    ids = lambda chosen: {r.id for r in chosen}  # noqa: E731
    assert ids(select_rules(rules)) == BUILTIN_IDS
    assert ids(select_rules(rules, ["COST001", "lambda-url-auth-none"])) == {"COST001", "SEC004"}
    assert ids(select_rules(rules, ["RELIABILITY"])) == builtin("reliability")
    assert ids(select_rules(rules, ["cost_optimization"], ["COST003"])) == builtin("cost_optimization") - {"COST003"}
    assert ids(select_rules(rules, ["costOptimization"], ["lambda-x86-architecture", "COST002"])) == (
        builtin("cost_optimization") - {"COST002", "COST003"})
    assert ids(select_rules(rules, ignore=["security", "operationalexcellence", "performance"])) == (
        builtin("cost_optimization") | builtin("reliability"))


@pytest.mark.parametrize("selector", ["COST999", "cost001", "Lambda-Url-Auth-None", "sustainability"])
def test_unknown_selector_is_a_usage_error(selector: str) -> None:
    with pytest.raises(UsageError) as info:
        select_rules(load_rules(), [selector])
    assert repr(selector) in info.value.message
    with pytest.raises(UsageError):
        select_rules(load_rules(), ignore=[selector])


def test_deprecated_rules_run_only_when_named(tmp_path: Path) -> None:
    write(tmp_path / "custom", mutated(status="deprecated"))
    rules = load_rules([str(tmp_path / "custom")])
    assert "COST901" not in {r.id for r in select_rules(rules)}
    assert "COST901" not in {r.id for r in select_rules(rules, ["costOptimization"])}
    assert {r.id for r in select_rules(rules, ["COST901"])} == {"COST901"}


def test_folded_japanese_lines_join_without_a_space_but_latin_words_keep_theirs() -> None:
    from walens.rules import join_folded_cjk

    assert join_folded_cjk("関数に ついては AWS Lambda の 設定") == "関数については AWS Lambda の設定"
    gap = re.compile("[\u3040-\u30ff\u4e00-\u9fff] [\u3040-\u30ff\u4e00-\u9fff]")
    for rule in load_rules():
        for texts in (rule.title, rule.message, rule.rationale, rule.remediation):
            assert not gap.search(texts["ja"]), (rule.id, gap.search(texts["ja"]))
