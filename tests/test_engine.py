"""The engine on hand-built resources: outcomes, Unknowns, messages, fingerprints and the review document."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from walens import engine, lens
from walens.errors import UsageError
from walens.model import Location, Resource, Unknown
from walens.rules import Rule, parse_rule

BASE: dict[str, Any] = {
    "id": "COST901",
    "name": "test-rule",
    "pillar": "costOptimization",
    "lens": {"question": "cost_q1", "choice": "cost_cost_q1_a3"},
    "severity": "medium",
    "resource": "AWS::Lambda::Function",
    "scope": ["template", "account"],
    "status": "stable",
    "since": "0.1.0",
    "params": {"max_mb": 1024},
    "assert": "Properties.MemorySize <= params.max_mb",
    "title": {"en": "Big function", "ja": "大きな関数"},
    "message": {"en": "Function {name} ({id}, {type}) has {mem} MB > {params.max_mb}",
                "ja": "関数 {name} のメモリ {mem} MB は上限 {max_mb} MB を超えています"},
    "message_args": {"mem": "Properties.MemorySize"},
    "rationale": {"en": "Why.", "ja": "理由。"},
    "remediation": {"en": "Fix.", "ja": "修正。", "example": "MemorySize: 512\n"},
    "references": ["https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"],
}


def rule(rule_id: str = "COST901", **changes: Any) -> Rule:
    data = copy.deepcopy(BASE)
    data["id"] = rule_id
    data["name"] = f"test-rule-{rule_id.lower()}"
    data.update(changes)
    return parse_rule(data, f"custom/{rule_id}.yaml")


def fn(logical_id: str, line: int = 5, file: str = "t.yaml", **props: Any) -> Resource:
    return Resource(id=logical_id, type="AWS::Lambda::Function", properties=props,
                    location=Location(file, line, 3), origin=logical_id,
                    origin_type="AWS::Serverless::Function", name="{{ref:" + logical_id + "}}")


def outcomes(findings: list[engine.Finding]) -> set[tuple[str, str, str, str | None]]:
    return {(f.rule_id, f.resource["id"], f.status, f.reason) for f in findings}


def test_pass_fail_and_messages() -> None:
    resources = [fn("Small", MemorySize=512), fn("Big", MemorySize=2048),
                 Resource(id="Queue", type="AWS::SQS::Queue", properties={})]
    findings = engine.evaluate(resources, [rule()])
    assert outcomes(findings) == {("COST901", "Small", "pass", None), ("COST901", "Big", "fail", None)}
    big = next(f for f in findings if f.resource["id"] == "Big")
    assert big.message == "Function Big (Big, AWS::Lambda::Function) has 2048 MB > 1024"
    assert big.params == {"max_mb": 1024, "mem": 2048}
    ja = engine.evaluate([resources[1]], [rule()], lang="ja")[0]
    assert ja.message == "関数 Big のメモリ 2048 MB は上限 1024 MB を超えています"


def test_literal_names_show_in_messages_and_lists_are_joined() -> None:
    r = rule(message_args={"mem": "Properties.Tags[].Key"})
    res = fn("Big", MemorySize=4096, Tags=[{"Key": "a"}, {"Key": "b"}])
    res.name = "orders-fn"
    (finding,) = engine.evaluate([res], [r])
    assert finding.message == "Function orders-fn (Big, AWS::Lambda::Function) has a, b MB > 1024"
    assert finding.resource == {"id": "Big", "type": "AWS::Lambda::Function", "name": "orders-fn", "arn": None,
                                "account": None, "region": None, "origin": "Big",
                                "origin_type": "AWS::Serverless::Function"}


def test_params_override_changes_outcome_and_message() -> None:
    (finding,) = engine.evaluate([fn("Big", MemorySize=2048)], [rule().with_params({"max_mb": 4096})])
    assert (finding.status, finding.params["max_mb"]) == ("pass", 4096)


def test_when_falsy_gives_no_result() -> None:
    r = rule(when="Properties.PackageType != 'Image'")
    findings = engine.evaluate([fn("Img", PackageType="Image", MemorySize=4096), fn("Zip", MemorySize=4096)], [r])
    assert outcomes(findings) == {("COST901", "Zip", "fail", None)}


def test_scope_excludes_other_sources() -> None:
    r = rule(scope=["account"])
    assert engine.evaluate([fn("Big", MemorySize=2048)], [r], source="template") == []
    assert outcomes(engine.evaluate([fn("Big", MemorySize=2048)], [r], source="account")) == {
        ("COST901", "Big", "fail", None)}


def test_rule_for_several_types_and_view_fields() -> None:
    r = rule(resource=["AWS::Lambda::Function", "AWS::SQS::Queue"],
             **{"assert": "source == 'template' && origin_type != null && params.max_mb == `1024`"})
    q = Resource(id="Q", type="AWS::SQS::Queue", properties={}, origin="Q", origin_type="AWS::SQS::Queue")
    assert outcomes(engine.evaluate([fn("F"), q], [r])) == {("COST901", "F", "pass", None),
                                                            ("COST901", "Q", "pass", None)}


UNKNOWN = Unknown("parameter Memory has no default")


@pytest.mark.parametrize(("props", "expression"), [
    ({"MemorySize": UNKNOWN}, "Properties.MemorySize <= params.max_mb"),          # comparison gives null
    ({"MemorySize": UNKNOWN}, "to_number(Properties.MemorySize) <= params.max_mb"),  # function raises
    ({"MemorySize": UNKNOWN}, "contains(Properties.MemorySize, 'x')"),            # JMESPath type error
    ({"TracingConfig": UNKNOWN}, "Properties.TracingConfig.Mode == 'Active'"),    # Unknown at a prefix
    ({"Environment": {"Variables": {"A": UNKNOWN}}}, "length(Properties.Environment.Variables) > `5`"),  # beneath
    ({"Layers": ["arn:a", UNKNOWN]}, "length(Properties.Layers[?starts_with(@, 'arn:b')])"),  # in a filter
    ({"Policy": UNKNOWN}, "Properties.Policy != null"),                          # truthy, but read Unknown
])
def test_unknown_on_a_read_path_is_not_assessed(props: dict[str, Any], expression: str) -> None:
    r = rule(message_args={}, message={"en": "Function {name}", "ja": "関数 {name}"}, **{"assert": expression})
    (finding,) = engine.evaluate([fn("F", **props)], [r])
    assert (finding.status, finding.reason) == ("not_assessed", "parameter Memory has no default")


def test_unknown_beneath_a_truthy_result_does_not_block_a_pass() -> None:
    r = rule(message_args={}, message={"en": "Function {name}", "ja": "関数 {name}"},
             **{"assert": "Properties.Environment.Variables.A == 'x'"})
    res = fn("F", Environment={"Variables": {"A": "x", "B": UNKNOWN}})
    assert outcomes(engine.evaluate([res], [r])) == {("COST901", "F", "pass", None)}


def test_unknown_in_when_is_not_assessed() -> None:
    r = rule(when="Properties.PackageType != 'Image'")
    (finding,) = engine.evaluate([fn("F", PackageType=UNKNOWN, MemorySize=1)], [r])
    assert (finding.status, finding.reason) == ("not_assessed", UNKNOWN.reason)


def test_unknown_off_the_read_paths_is_ignored() -> None:
    (finding,) = engine.evaluate([fn("F", MemorySize=4096, Description=UNKNOWN)], [rule()])
    assert (finding.status, finding.reason) == ("fail", None)


def test_shape_error_without_unknown_is_not_assessed_with_the_error() -> None:
    r = rule(message_args={}, message={"en": "Function {name}", "ja": "関数 {name}"},
             **{"assert": "contains(Properties.Architectures, 'arm64')"})
    (finding,) = engine.evaluate([fn("F", Architectures={"bad": "shape"})], [r])
    assert finding.status == "not_assessed"
    assert finding.reason is not None and finding.reason.startswith("cannot evaluate assert: ")


def test_unknown_message_argument_renders_as_a_dash_never_none_or_unknown() -> None:
    r = rule(**{"assert": "`false`"})
    (finding,) = engine.evaluate([fn("F", MemorySize=UNKNOWN)], [r])
    assert finding.message == "Function F (F, AWS::Lambda::Function) has — MB > 1024"
    assert finding.params["mem"] is None  # JSON null: the value was not read
    r = rule(message_args={"mem": "Properties.Absent"}, **{"assert": "`false`"})
    (finding,) = engine.evaluate([fn("F", MemorySize=12)], [r])
    assert finding.message == "Function F (F, AWS::Lambda::Function) has — MB > 1024"


def test_fingerprint_is_sha256_of_rule_file_and_resource_and_stable() -> None:
    want = hashlib.sha256(b"COST901\x00t.yaml\x00Big").hexdigest()
    first = engine.evaluate([fn("Big", MemorySize=2048)], [rule()])[0]
    second = engine.evaluate([fn("Big", MemorySize=2048, line=40)], [rule()])[0]
    assert first.fingerprint == second.fingerprint == want
    other_file = engine.evaluate([fn("Big", file="u.yaml", MemorySize=2048)], [rule()])[0]
    assert other_file.fingerprint != want


def test_finding_to_dict_shape() -> None:
    (finding,) = engine.evaluate([fn("Big", MemorySize=2048)], [rule()])
    assert finding.to_dict() == {
        "rule_id": "COST901", "rule_name": "test-rule-cost901", "pillar": "costOptimization",
        "lens": {"question": "cost_q1", "choice": "cost_cost_q1_a3"}, "severity": "medium", "status": "fail",
        "resource": {"id": "Big", "type": "AWS::Lambda::Function", "name": "{{ref:Big}}", "arn": None,
                     "account": None, "region": None, "origin": "Big", "origin_type": "AWS::Serverless::Function"},
        "location": {"file": "t.yaml", "line": 5, "column": 3},
        "message": "Function Big (Big, AWS::Lambda::Function) has 2048 MB > 1024",
        "params": {"max_mb": 1024, "mem": 2048}, "reason": None,
        "fingerprint": hashlib.sha256(b"COST901\x00t.yaml\x00Big").hexdigest(),
    }


# ------------------------------------------------------------------------- review document

START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 23, 9, 0, 1, tzinfo=UTC)


def review(findings: list[engine.Finding], rules: list[Rule], **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(findings=findings, rules=rules, source="template",
                                inputs=[{"path": "t.yaml", "sha256": "ab"}], started_at=START, finished_at=END)
    args.update(kw)
    return engine.build_review(**args)


def test_review_document_top_level_and_sorting() -> None:
    high = rule("COST902", severity="high")
    rules = [rule(), high]
    resources = [fn("Late", line=30, MemorySize=2048), fn("Early", line=4, MemorySize=2048),
                 fn("Other", line=1, file="a.yaml", MemorySize=1)]
    doc = review(engine.evaluate(resources, rules), rules,
                 errors=[{"file": "x.yaml", "kind": "yaml", "message": "bad", "line": 2}],
                 skipped=[{"path": "package.json", "reason": "not a template"}])
    assert set(doc) == {"schema_version", "tool", "scan", "lang", "findings", "lens", "errors", "skipped",
                        "gaps", "rules", "summary"}
    assert doc["schema_version"] == "1" and doc["lang"] == "en" and doc["gaps"] == []
    assert doc["tool"]["name"] == "walens"
    assert doc["scan"] == {"source": "template", "inputs": [{"path": "t.yaml", "sha256": "ab"}], "accounts": [],
                           "regions": [], "started_at": "2026-11-23T09:00:00+00:00",
                           "finished_at": "2026-11-23T09:00:01+00:00", "api_calls": {}}
    assert [(f["location"]["file"], f["location"]["line"], f["rule_id"]) for f in doc["findings"]] == [
        ("a.yaml", 1, "COST901"), ("a.yaml", 1, "COST902"), ("t.yaml", 4, "COST901"), ("t.yaml", 4, "COST902"),
        ("t.yaml", 30, "COST901"), ("t.yaml", 30, "COST902")]
    assert doc["errors"] == [{"file": "x.yaml", "kind": "yaml", "message": "bad", "line": 2}]
    assert doc["skipped"] == [{"path": "package.json", "reason": "not a template"}]
    assert set(doc["rules"]) == {"COST901", "COST902"}
    assert doc["rules"]["COST902"]["title"] == {"en": "Big function", "ja": "大きな関数"}
    assert doc["rules"]["COST902"]["remediation"]["example"] == "MemorySize: 512\n"
    assert doc["summary"] == {"by_status": {"fail": 4, "pass": 2}, "by_severity": {"high": 2, "medium": 2},
                              "by_pillar": {"costOptimization": 4}, "fail_on": "high", "failed": True}


@pytest.mark.parametrize(("fail_on", "failed"), [("high", False), ("medium", True), ("low", True),
                                                 ("info", True), ("never", False)])
def test_fail_on_threshold(fail_on: str, failed: bool) -> None:
    doc = review(engine.evaluate([fn("Big", MemorySize=2048)], [rule()]), [rule()], fail_on=fail_on)
    assert (doc["summary"]["fail_on"], doc["summary"]["failed"]) == (fail_on, failed)


def test_bad_fail_on_and_lang_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="fail-on"):
        review([], [rule()], fail_on="critical")
    with pytest.raises(UsageError, match="lang"):
        review([], [rule()], lang="fr")


PRACTICES = [("a_fail", "q", "p", "AUTO"), ("a_pass", "q", "p", "AUTO"), ("a_none", "q", "p", "AUTO"),
             ("a_na_only", "q", "p", "AUTO"), ("m_pass", "q", "p", "MANUAL"), ("p_none", "q", "p", "PARTIAL"),
             ("p_pass", "q", "p", "PARTIAL"), ("h_fail", "q", "p", "HINT"), ("m_none", "q", "p", "MANUAL")]


def finding(choice: str, status: str, rule_id: str = "COST901") -> engine.Finding:
    return engine.Finding(rule_id=rule_id, rule_name="r", pillar="p", lens_question="q", lens_choice=choice,
                          severity="low", status=status, resource={"id": "X"}, location=None, message="")


def test_lens_coverage_statuses() -> None:
    findings = [finding("a_fail", "fail"), finding("a_fail", "pass"), finding("a_pass", "pass"),
                finding("a_na_only", "not_assessed"), finding("m_pass", "pass"), finding("p_pass", "pass"),
                finding("h_fail", "fail")]
    coverage = engine.lens_coverage(findings, [rule()], PRACTICES)
    # a_none: no rule of it ran, so nothing shows it does not apply (walens.lens.assess).
    assert {c["choice"]: c["status"] for c in coverage} == {
        "a_fail": "risk", "a_pass": "evidenced", "a_none": "needs_answer", "a_na_only": "not_assessed",
        "m_pass": "needs_answer", "p_none": "needs_answer", "p_pass": "evidenced", "h_fail": "risk",
        "m_none": "needs_answer"}
    assert all(c["answer"] is None for c in coverage)


def test_lens_coverage_covers_all_38_practices_with_their_rules() -> None:
    r = rule()
    doc = review(engine.evaluate([fn("Big", MemorySize=2048)], [r]), [r])
    assert len(doc["lens"]) == 38
    by_choice = {c["choice"]: c for c in doc["lens"]}
    ask = lens.choice("cost_cost_q1_a3").manual_question
    assert by_choice["cost_cost_q1_a3"] == {"choice": "cost_cost_q1_a3", "question": "cost_q1",
                                            "pillar": "costOptimization", "tier": "G", "check": "PARTIAL",
                                            "status": "risk", "rules": ["COST901"], "results": {"fail": 1},
                                            "failing_rules": ["COST901"], "ask": {"en": ask.en, "ja": ask.ja},
                                            "answer": None}
    assert by_choice["ops_ops_q1_a2"]["status"] == "needs_answer"  # MANUAL
    assert by_choice["rel_rel_q1_a1"]["status"] == "needs_answer"  # AUTO, but none of its rules ran
    assert by_choice["rel_rel_q1_a1"]["ask"]["en"] == lens.UNCHECKED_QUESTION.en
    r2 = rule("REL901", pillar="reliability", lens={"question": "rel_q1", "choice": "rel_rel_q1_a1"})
    doc = review(engine.evaluate([fn("Big", MemorySize=2048)], [r, r2]), [r, r2])
    by_choice = {c["choice"]: c for c in doc["lens"]}
    assert by_choice["rel_rel_q1_a1"]["status"] == "risk"
    r2 = rule("REL901", pillar="reliability", lens={"question": "rel_q1", "choice": "rel_rel_q1_a1"}, when="Properties.Nope")
    doc = review(engine.evaluate([fn("Big", MemorySize=2048)], [r, r2]), [r, r2])
    by_choice = {c["choice"]: c for c in doc["lens"]}
    assert (by_choice["rel_rel_q1_a1"]["status"], by_choice["rel_rel_q1_a1"]["ask"]) == ("not_applicable", None)


def test_message_argument_that_cannot_evaluate_is_null() -> None:
    r = rule(message_args={"mem": "to_number(Properties.MemorySize)"}, **{"assert": "`false`"})
    (finding,) = engine.evaluate([fn("F", MemorySize=UNKNOWN, Tracing=UNKNOWN)], [r])
    assert (finding.status, finding.params["mem"]) == ("fail", None)
    r = rule(message_args={"mem": "contains(Properties.MemorySize, 'x')"}, **{"assert": "`false`"})
    (finding,) = engine.evaluate([fn("F", MemorySize=12)], [r])
    assert finding.params["mem"] is None


def test_long_lists_in_messages_show_ten_items_and_how_many_more() -> None:
    r = rule(message_args={"mem": "Properties.Tags[].Key"})
    tags = [{"Key": f"k{i:03d}"} for i in range(250)]
    (finding,) = engine.evaluate([fn("Big", MemorySize=4096, Tags=tags)], [r])
    shown = ", ".join(f"k{i:03d}" for i in range(10))
    assert finding.params["mem"] == f"{shown}, … (+240)"
    assert finding.message == f"Function Big (Big, AWS::Lambda::Function) has {shown}, … (+240) MB > 1024"
    (exact,) = engine.evaluate([fn("Ten", MemorySize=4096, Tags=tags[:10])], [r])
    assert exact.params["mem"] == shown


def test_a_passing_finding_carries_no_message_and_no_message_arguments() -> None:
    r = rule(message_args={"mem": "Properties.MemorySize"})
    (finding,) = engine.evaluate([fn("Small", MemorySize=512)], [r])
    assert (finding.status, finding.message, finding.params) == ("pass", "", {"max_mb": 1024})


def test_a_dotted_placeholder_on_a_message_argument_still_renders() -> None:
    # str.format_map would look up an attribute of the string; the general formatter reads a key (None here).
    r = rule(message={"en": "Function {name}: {mem.x} / {params.max_mb}", "ja": "関数 {name}"})
    (finding,) = engine.evaluate([fn("Big", MemorySize=2048)], [r])
    assert finding.message == "Function Big: None / 1024"


def test_an_unknown_inside_a_list_read_only_for_its_truth_does_not_undecide_the_condition() -> None:
    import jmespath

    consumer = {"Properties": {"RecursiveLoop": Unknown("lambda:GetFunctionRecursionConfig was denied")}}
    view = {"related": {"consumers": [consumer]}, "facts": {"dlq_for": []}}
    # A non-empty list is true whatever it holds: the queue has a consumer, decided.
    assert engine._decide(jmespath.compile("!(related.consumers) && !(facts.dlq_for)"), view, "when", True) is False
    assert engine._decide(jmespath.compile("related.consumers || facts.dlq_for"), view, "when", True) is True
    # Read for its content, the same Unknown decides nothing.
    with pytest.raises(engine._Undecided, match="denied"):
        engine._decide(jmespath.compile("related.consumers[?Properties.RecursiveLoop == 'Allow']"), view, "x", True)
    with pytest.raises(engine._Undecided, match="denied"):
        engine._decide(jmespath.compile("length(related.consumers[0].Properties) == `0`"), view, "x", True)
    # An Unknown in place of the list itself is still undecided.
    unknown_list = {"related": {"consumers": Unknown("the listing was denied")}, "facts": {"dlq_for": []}}
    with pytest.raises(engine._Undecided, match="listing was denied"):
        engine._decide(jmespath.compile("!(related.consumers)"), unknown_list, "when", True)
