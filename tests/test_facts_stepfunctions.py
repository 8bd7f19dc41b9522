"""Step Functions facts: reading the definition (every source) and which Task states handle errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from walens import facts, graph
from walens.facts import stepfunctions
from walens.model import CfnResource, Resource, Unknown
from walens.scanners.intrinsics import resolve_resources

SM = "AWS::StepFunctions::StateMachine"


def _machine(props: dict[str, Any], template: str = "t.yaml", params: dict[str, Any] | None = None) -> Resource:
    cfn = [CfnResource("Machine", SM, props, origin="Machine", origin_type=SM, line=1),
           CfnResource("Worker", "AWS::Lambda::Function", {}, origin="Worker", origin_type="AWS::Lambda::Function")]
    out = resolve_resources({"Parameters": params or {}}, cfn, template)
    graph.link(out)
    facts.compute(out)
    return next(r for r in out if r.id == "Machine")


def _task(name: str, **extra: Any) -> dict[str, Any]:
    return {name: {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **extra}}


RETRY = [{"ErrorEquals": ["States.ALL"]}]
CATCH = [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]


@pytest.mark.parametrize(("definition", "expected"), [
    ({"StartAt": "A", "States": _task("A")}, {"handled": [], "unhandled": ["A"], "unknown": []}),
    ({"StartAt": "A", "States": _task("A", Retry=RETRY)}, {"handled": ["A"], "unhandled": [], "unknown": []}),
    ({"StartAt": "A", "States": _task("A", Catch=CATCH)}, {"handled": ["A"], "unhandled": [], "unknown": []}),
    # An empty Retry list retries nothing.
    ({"StartAt": "A", "States": _task("A", Retry=[])}, {"handled": [], "unhandled": ["A"], "unknown": []}),
    # A Parallel state's Catch covers the Tasks of its branches; a bare Parallel does not.
    ({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Catch": CATCH, "End": True,
              "Branches": [{"StartAt": "B", "States": _task("B")}, {"StartAt": "C", "States": _task("C")}]},
        "Q": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "D", "States": _task("D")}]}}},
     {"handled": ["P.Branches[0].B", "P.Branches[1].C"], "unhandled": ["Q.Branches[0].D"], "unknown": []}),
    # Map: ItemProcessor (current) and Iterator (legacy), nested in a Parallel branch.
    ({"StartAt": "M", "States": {
        "M": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "E", "States": _task("E")}},
        "N": {"Type": "Map", "Retry": RETRY, "End": True, "Iterator": {"StartAt": "F", "States": _task("F")}},
        "P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "M2", "States": {
            "M2": {"Type": "Map", "End": True, "Iterator": {"StartAt": "G", "States": _task("G", Catch=CATCH)}}}}]}}},
     {"handled": ["N.F", "P.Branches[0].M2.G"], "unhandled": ["M.E"], "unknown": []}),
    # States that are not Tasks are not counted.
    ({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "S"}, "S": {"Type": "Succeed"}}},
     {"handled": [], "unhandled": [], "unknown": []}),
])
def test_task_error_handling(definition: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert stepfunctions.task_error_handling(definition) == expected


def test_definition_object_and_string() -> None:
    definition = {"StartAt": "A", "States": _task("A")}
    assert _machine({"Definition": definition}).facts["sfn_tasks"]["unhandled"] == ["A"]
    text = json.dumps({"StartAt": "A", "States": _task("A", Retry=RETRY)})
    assert _machine({"DefinitionString": text}).facts["sfn_tasks"]["handled"] == ["A"]


def test_definition_string_built_with_sub_and_join() -> None:
    sub = {"Fn::Sub": '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Worker.Arn}", "End": true}}}'}
    assert _machine({"DefinitionString": sub}).facts["sfn_tasks"]["unhandled"] == ["A"]
    join = {"Fn::Join": ["", ['{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "',
                              {"Fn::GetAtt": ["Worker", "Arn"]}, '", "Catch": [], "End": true}}}']]}
    assert _machine({"DefinitionString": join}).facts["sfn_tasks"]["unhandled"] == ["A"]


def test_definition_substitutions_make_unquoted_placeholders_parse() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "x", "TimeoutSeconds": ${T}, "End": true}}}'
    machine = _machine({"DefinitionString": text, "DefinitionSubstitutions": {"T": 30}})
    assert machine.facts["sfn_tasks"]["unhandled"] == ["A"]


def test_local_definition_file_next_to_the_template(tmp_path: Path) -> None:
    """SAM DefinitionUri naming a local file: the loader reads it (YAML, JSON, or JSON that needs
    DefinitionSubstitutions first); a missing file is an Unknown naming it."""
    from walens.pipeline import inventory

    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "flow.asl.yaml").write_text(
        "StartAt: A\nStates:\n  A:\n    Type: Task\n    Resource: ${Fn}\n    Retry:\n"
        "      - ErrorEquals: [States.ALL]\n    End: true\n", encoding="utf-8")
    (tmp_path / "sm" / "wait.asl.json").write_text(
        '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": ${Delay}, "Next": "T"},'
        ' "T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}', encoding="utf-8")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: sm/flow.asl.yaml}\n"
        "  Wait:\n    Type: AWS::Serverless::StateMachine\n"
        "    Properties: {DefinitionUri: sm/wait.asl.json, DefinitionSubstitutions: {Delay: 5}}\n"
        "  Gone:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: missing/flow.json}\n",
        encoding="utf-8")
    machines = {r.id: r for r in inventory([str(tmp_path / "template.yaml")]).resources}
    assert machines["Flow"].facts["sfn_tasks"] == {"handled": ["A"], "unhandled": [], "unknown": []}
    assert machines["Wait"].facts["sfn_tasks"] == {"handled": [], "unhandled": ["T"], "unknown": []}
    assert machines["Gone"].facts["sfn_tasks"] == Unknown(
        "DefinitionUri: local file missing/flow.json cannot be read (No such file or directory)")


@pytest.mark.parametrize(("props", "reason"), [
    ({"DefinitionS3Location": {"Bucket": "b", "Key": "k"}}, "the definition is stored in S3"),
    ({"DefinitionS3Location": "s3://b/k.json"}, "the definition is stored in S3"),
    ({"DefinitionString": "not json: [", }, "DefinitionString is not a JSON or YAML state machine definition"),
    ({"Definition": "text"}, "Definition is not a mapping"),
])
def test_unreadable_definitions_are_unknown(props: dict[str, Any], reason: str) -> None:
    assert _machine(props).facts["sfn_tasks"] == Unknown(reason)


def test_definition_from_a_parameter_without_default_is_unknown() -> None:
    machine = _machine({"DefinitionString": {"Ref": "Def"}}, params={"Def": {"Type": "String"}})
    assert isinstance(machine.facts["sfn_tasks"], Unknown)


def test_unresolvable_retry_is_unknown_unless_another_task_is_unhandled() -> None:
    params = {"Retries": {"Type": "CommaDelimitedList"}}
    only = {"StartAt": "A", "States": _task("A", Retry={"Ref": "Retries"})}
    assert _machine({"Definition": only}, params=params).facts["sfn_tasks"] == Unknown(
        "Retry/Catch of A cannot be resolved")
    both = {"StartAt": "A", "States": {**_task("A", Retry={"Ref": "Retries"}), **_task("B")}}
    assert _machine({"Definition": both}, params=params).facts["sfn_tasks"] == {
        "handled": [], "unhandled": ["B"], "unknown": ["A"]}


def test_no_definition_is_none() -> None:
    assert _machine({"RoleArn": "arn:aws:iam::1:role/x"}).facts["sfn_tasks"] is None
