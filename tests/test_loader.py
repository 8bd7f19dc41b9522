"""The template loader: short-form tags, positions, scalar typing, bad input, discovery."""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

from walens.errors import InputError, NotATemplate
from walens.scanners import template as loader
from walens.nodes import DictNode, ListNode, StrNode, mark, to_plain
from walens.scanners.template import decode_text, discover, load_file, load_text

FIXTURES = Path(__file__).parent / "fixtures" / "loader"

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"


def _value(snippet: str) -> Any:
    """The plain value of ``v`` in a one-key YAML document."""
    return to_plain(decode_text(f"v: {snippet}\n", "t.yaml"))["v"]


def _error(data: bytes | str, name: str = "bad.yaml") -> InputError:
    with pytest.raises(InputError) as info:
        load_text(data, name)
    return info.value


# --- short-form tags -------------------------------------------------------------------------

def test_every_short_form_tag_becomes_long_form() -> None:
    # load_text: decoding only (load_file would also resolve the AWS::Include the fixture names)
    t = load_text((FIXTURES / "short_tags.yaml").read_bytes(), "short_tags.yaml")
    data = to_plain(t.data)
    assert data["Conditions"] == {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsProd"},
                             {"Fn::Or": [{"Condition": "NotProd"}, {"Condition": "IsProd"}]}]},
    }
    assert data["Resources"]["Fn"]["Properties"] == {
        "Ref": {"Ref": "Env"},
        "GetAttDot": {"Fn::GetAtt": ["Table", "Arn"]},
        "GetAttTwoDots": {"Fn::GetAtt": ["Stack", "Outputs.Name"]},
        "GetAttList": [{"Fn::GetAtt": ["Table", "StreamArn"]}],
        "Sub": {"Fn::Sub": "${Env}-fn"},
        "SubList": {"Fn::Sub": ["${A}-x", {"A": {"Ref": "Env"}}]},
        "Join": {"Fn::Join": ["-", ["a", {"Ref": "Env"}]]},
        "If": {"Fn::If": ["IsProd", 512, {"Ref": "AWS::NoValue"}]},
        "Select": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "Split": {"Fn::Split": [",", "a,b"]},
        "FindInMap": {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]},
        "ImportValue": {"Fn::ImportValue": "shared-vpc"},
        "Base64": {"Fn::Base64": "echo hi"},
        "Cidr": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
        "Transform": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
        "Length": {"Fn::Length": [1, 2]},
        "ToJsonString": {"Fn::ToJsonString": {"a": 1}},
        "ForEach": {"Fn::ForEach": ["Topics", ["a", "b"], {"Topic${Topics}": {"Type": "AWS::SNS::Topic"}}]},
    }
    assert t.is_sam is True


@pytest.mark.parametrize(("snippet", "expected"), [
    ("!GetAtt Fn.Arn", {"Fn::GetAtt": ["Fn", "Arn"]}),
    ("!GetAtt Stack.Outputs.Url", {"Fn::GetAtt": ["Stack", "Outputs.Url"]}),
    ("!GetAtt NoDot", {"Fn::GetAtt": ["NoDot"]}),
    ("!GetAtt [Fn, Arn]", {"Fn::GetAtt": ["Fn", "Arn"]}),
    ("!GetAtt [Fn, !Ref Attr]", {"Fn::GetAtt": ["Fn", {"Ref": "Attr"}]}),
    ("!GetAtt {}", {"Fn::GetAtt": []}),
    ("{'Fn::GetAtt': Fn.Arn}", {"Fn::GetAtt": "Fn.Arn"}),  # long form is never split
])
def test_getatt_forms(snippet: str, expected: Any) -> None:
    assert _value(snippet) == expected


@pytest.mark.parametrize(("snippet", "expected"), [
    ("!Ref 123", {"Ref": "123"}),  # a tagged scalar is its raw text
    ("!Ref", {"Ref": ""}),
    ("!Sub true", {"Fn::Sub": "true"}),
    ("!Sub {x: 1, x: 2}", {"Fn::Sub": {"x": 2}}),  # cfn-lint skips the duplicate check here
    ("!Unknown x", {"Fn::Unknown": "x"}),
])
def test_tagged_scalars_keep_raw_text_like_cfn_lint(snippet: str, expected: Any) -> None:
    assert _value(snippet) == expected


def test_short_form_positions_point_at_the_tag() -> None:
    data = decode_text("a:\n  b: !GetAtt Fn.Arn\n", "t.yaml")
    getatt = data["a"]["b"]
    assert isinstance(getatt, DictNode)
    assert (getatt.line, getatt.col) == (2, 6)
    assert getatt.key_marks == {"Fn::GetAtt": (2, 6)}
    assert mark(getatt["Fn::GetAtt"][0]) == (2, 6)


# --- scalar typing (YAML 1.1, as cfn-lint) ----------------------------------------------------

@pytest.mark.parametrize(("snippet", "expected"), [
    ("2010-09-09", datetime.date(2010, 9, 9)),
    ("'2010-09-09'", "2010-09-09"),
    ("[yes, No, on, OFF, y, n, True]", [True, False, True, False, "y", "n", True]),
    ("[0755, 0x1F, 0b101, 1_000, 1:20, 09, 0o17, +12]", [493, 31, 5, 1000, 80, "09", "0o17", 12]),
    ("[1.5, 1e5, 1.0e+5, -.5, .inf]", [1.5, "1e5", 100000.0, "-.5", float("inf")]),
    ("[~, null, Null, '', \"\"]", [None, None, None, "", ""]),
    ("'0755'", "0755"),
])
def test_scalar_typing(snippet: str, expected: Any) -> None:
    assert _value(snippet) == expected


def test_scalar_typing_equals_cfn_lint() -> None:
    from cfnlint.decode import decode_str

    text = ("v: [2010-09-09, yes, on, 0755, 0x1F, 1:20, 1e5, 1.0e+5, .NaN, ~, '', !!binary aGk=, "
            "!!str 12, 190:20:30, 2001-12-14 21:59:43.10 -5]\n")
    theirs, matches = decode_str(text)
    assert matches == []
    ours = to_plain(decode_text(text, "t.yaml"))["v"]
    expected = to_plain(theirs)["v"]
    assert ours[8] != ours[8] and expected[8] != expected[8]  # NaN compares unequal to itself
    assert ours[:8] + ours[9:] == expected[:8] + expected[9:]


def test_merge_keys_and_anchors() -> None:
    data = decode_text("b: &b {k: 1, j: 2}\nc:\n  <<: *b\n  k: 3\nd: *b\n", "t.yaml")
    assert to_plain(data) == {"b": {"k": 1, "j": 2}, "c": {"k": 3, "j": 2}, "d": {"k": 1, "j": 2}}
    assert data["d"] is data["b"]  # an alias stays one shared object, as in cfn-lint


# --- positions --------------------------------------------------------------------------------

def test_positions_of_nodes_and_keys() -> None:
    data = decode_text("Resources:\n  Fn:\n    Type: X\n    Tags: [a, b]\n", "t.yaml")
    fn = data["Resources"]["Fn"]
    assert data.key_marks == {"Resources": (1, 1)}
    assert data["Resources"].key_marks == {"Fn": (2, 3)}
    assert fn.key_marks == {"Type": (3, 5), "Tags": (4, 5)}
    assert (fn["Tags"].line, fn["Tags"].col) == (4, 11)
    assert (fn["Tags"][1].line, fn["Tags"][1].col) == (4, 15)
    assert mark(fn, "Tags") == (4, 5)
    assert mark(fn, "Missing") is None
    assert mark(fn["Type"]) == (3, 11)
    assert mark(42) is None


def test_nodes_are_plain_values_and_survive_copy_and_pickle() -> None:
    data = decode_text("a: {b: [x]}\n", "t.yaml")
    assert data == {"a": {"b": ["x"]}}
    assert isinstance(data["a"]["b"], ListNode) and isinstance(data["a"]["b"][0], StrNode)
    for clone in (copy.deepcopy(data), pickle.loads(pickle.dumps(data))):
        assert clone == data
        assert clone["a"].key_marks == {"b": (1, 5)}
        assert (clone["a"]["b"][0].line, clone["a"]["b"][0].col) == (1, 9)
    assert {"x": 1}[StrNode("x", 3, 4)] == 1


def test_json_template_values_and_lines() -> None:
    t = load_file(str(FIXTURES / "template.json"))
    path = str(FIXTURES / "template.json")
    assert to_plain(t.data) == json.loads(Path(path).read_text())
    assert t.data["Resources"].key_marks == {"Queue": (4, 5), "Topic": (8, 5)}
    assert t.data["Resources"]["Topic"]["Properties"].key_marks == {
        "TopicName": (10, 22), "Ratio": (10, 71), "Empty": (10, 85)}
    assert (t.path, t.is_sam) == (path, False)


def test_json_indented_with_tabs_keeps_lines() -> None:
    text = '{\n\t"Resources": {\n\t\t"Q": {"Type": "AWS::SQS::Queue"}\n\t}\n}\n'
    t = load_text(text, "tabs.json")
    assert to_plain(t.data) == {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    assert t.data["Resources"].key_marks == {"Q": (3, 3)}


def test_template_fields() -> None:
    raw = b"Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\nResources:\n  Q: {Type: X}\n"
    t = load_text(raw, "t.yaml")
    assert t.sha256 == hashlib.sha256(raw).hexdigest()
    assert t.is_sam is True
    assert load_text(HEAD, "t.yaml").is_sam is False
    assert load_text("Transform: AWS::Serverless-2016-10-31\nResources: {Q: {Type: X}}\n", "t").is_sam


def test_empty_or_null_parameters_are_fine() -> None:
    for params in ("Parameters:\n", "Parameters: {}\n"):
        t = load_text(params + HEAD, "t.yaml")
        assert set(t.data) == {"Parameters", "AWSTemplateFormatVersion", "Resources"}


# --- bad input --------------------------------------------------------------------------------

def test_duplicate_key_message() -> None:
    exc = _error("Resources:\n  Fn:\n    Type: A\n  Fn:\n    Type: B\n", "dup.yaml")
    assert exc.kind == "duplicate-key"
    assert str(exc) == "dup.yaml:4: duplicate key 'Fn' (first at line 2)"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("Resources:\n  Fn:\n    Type: [unclosed\n", 4,
     "invalid YAML: while parsing a flow sequence did not find expected ',' or ']'"),
    ("a: 1\n b: 2\n", 2, "invalid YAML: mapping values are not allowed in this context"),
    ("a: *nope\n", 1, "invalid YAML: found undefined alias"),
    ("a: !<tag:x.com,2000:y> 1\n", 1, "unsupported YAML tag 'tag:x.com,2000:y'"),
    ("a: 1\n---\nb: 2\n", 2,
     "invalid YAML: expected a single document in the stream but found another document"),
])
def test_malformed_yaml_names_file_and_line(text: str, line: int, message: str) -> None:
    exc = _error(text)
    assert (exc.kind, exc.file, exc.line, exc.message) == ("yaml", "bad.yaml", line, message)


def test_malformed_json_kind() -> None:
    exc = _error('{\n  "Resources": {"Q": {"Type": "X"}},,\n}\n', "bad.json")
    assert (exc.kind, exc.file, exc.line, exc.message) == (
        "json", "bad.json", 2, "invalid JSON: while parsing a flow node did not find expected node content")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("- a\n- b\n", 1, "the top level must be a mapping, not a list"),
    ("just text\n", 1, "the top level must be a mapping, not a scalar"),
    ("AWSTemplateFormatVersion: '2010-09-09'\nResources: [a]\n", 2,
     "'Resources' must be a non-empty mapping of resources"),
    ("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n", 2,
     "'Resources' must be a non-empty mapping of resources"),
    ("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n", 2,
     "'Resources' must be a non-empty mapping of resources"),
    ("AWSTemplateFormatVersion: '2010-09-09'\nOutputs: {}\n", 1, "'Resources' is missing"),
    ("Resources:\n  Fn:\n    Properties: {}\n", 2, "resource Fn has no Type"),
    ("Resources:\n  Fn:\n    Type:\n      AWS::Serverless::Function: x\n", 2,
     "resource Fn Type must be a string"),
    ("Resources:\n  Ok: {Type: X}\n  Fn: [a]\n", 3, "resource Fn must be a mapping"),
    ("Resources:\n  Fn:\n    Type: 12\n", 2, "resource Fn Type must be a string"),
])
def test_structure_errors_name_the_logical_id_and_line(text: str, line: int, message: str) -> None:
    exc = _error(text)
    assert (exc.kind, exc.file, exc.line, exc.message) == ("structure", "bad.yaml", line, message)
    assert str(exc).startswith(f"bad.yaml:{line}: ")


def test_binary_file() -> None:
    exc = _error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.yaml")
    assert (exc.kind, exc.file) == ("binary", "logo.yaml")
    assert "logo.yaml" in str(exc)


def test_undecodable_bytes() -> None:
    exc = _error(b"Resources:\n  Q: {Type: \xff\xfe}\n", "latin.yaml")
    assert (exc.kind, exc.file, exc.line) == ("encoding", "latin.yaml", 2)
    assert str(exc) == "latin.yaml:2: not UTF-8 text (byte 23)"


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(loader.MAX_BYTES + 1)  # sparse: refused from its size alone
    with pytest.raises(InputError) as info:
        load_file(str(big))
    assert (info.value.kind, info.value.file) == ("too-large", str(big))
    assert str(info.value) == f"{big}: file is larger than 5242880 bytes (5242881)"
    assert _error(b"#" * (loader.MAX_BYTES + 1), "big.yaml").kind == "too-large"


def test_alias_bomb() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    exc = _error("\n".join(lines) + "\nResources: {Q: {Type: X}}\n", "laughs.yaml")
    assert (exc.kind, exc.file) == ("alias-bomb", "laughs.yaml")
    assert exc.message == "YAML aliases expand to more than 100000 nodes"


def test_modest_alias_reuse_is_fine() -> None:
    text = "x: &env {A: 1, B: 2}\nResources:\n" + "".join(
        f"  F{i}: {{Type: X, Properties: {{Env: *env}}}}\n" for i in range(50))
    t = load_text(text, "ok.yaml")
    assert to_plain(t.data["Resources"]["F49"]) == {"Type": "X", "Properties": {"Env": {"A": 1, "B": 2}}}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 101 + "]" * 101 + "\n",  # constructor guard (composes fine)
    "a: " + "[" * 300_000 + "]" * 300_000 + "\n",  # would overflow libyaml's C stack
    "a: " + "[" * 1001 + "]" * 1001 + "\n",  # composed directly: past libyaml 0.2.6's own limit of 1000
    "{" + '"a": {' * 1001 + "}" * 1002 + "\n",  # the same in JSON
    "".join(" " * i + "k:\n" for i in range(150)) + " " * 150 + "k: 1\n",  # block nesting
    "a: &x [*x]\n",  # a recursive alias nests forever
])
def test_too_deep(text: str) -> None:
    exc = _error(text, "deep.yaml")
    assert (exc.kind, exc.file) == ("too-deep", "deep.yaml")
    assert exc.message == "nesting deeper than 100 levels"


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_file(str(tmp_path))
    assert (info.value.kind, info.value.file) == ("io", str(tmp_path))
    assert str(info.value) == f"{tmp_path}: cannot read: Is a directory"
    with pytest.raises(InputError) as info:
        load_file(str(tmp_path / "missing.yaml"))
    assert (info.value.kind, str(info.value)) == (
        "io", f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory")


def test_null_and_unhashable_keys() -> None:
    assert _error("~: 1\n").message == "null key '~' not supported"
    assert _error("? [a]\n: b\n").message == "a mapping key must be a scalar, not a mapping or a list"


@pytest.mark.parametrize("name", ["package.json", "docker-compose.yaml"])
def test_not_a_template(name: str) -> None:
    path = str(FIXTURES / name)
    with pytest.raises(NotATemplate) as info:
        load_file(path)
    assert str(info.value) == f"{path}: no Resources, AWSTemplateFormatVersion or Transform"


def test_empty_file_is_not_a_template() -> None:
    with pytest.raises(NotATemplate):
        load_text(b"# only a comment\n", "empty.yaml")
    assert decode_text("", "empty.yaml") == {}


# --- stdin and discovery ----------------------------------------------------------------------

class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(HEAD.encode()))
    t = load_file("-")
    assert t.path == "<stdin>"
    assert to_plain(t.data["Resources"]) == {"Q": {"Type": "AWS::SQS::Queue"}}
    monkeypatch.setattr(sys, "stdin", _Stdin(b"- a\n"))
    with pytest.raises(InputError) as info:
        load_file("-")
    assert str(info.value) == "<stdin>:1: the top level must be a mapping, not a list"


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(HEAD)


def test_discover_folders_globs_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "app/template.yaml", "app/b.yml", "app/nested/c.json", "app/d.template",
           "app/README.md", "app/node_modules/x.yaml", "app/.aws-sam/build/template.yaml",
           "app/cdk.out/Stack.template.json", "app/.git/config.yaml", "other/e.yaml", "empty/notes.txt")
    files, missing = discover(["app", "app/template.yaml", "./app/b.yml", "other/*.yaml",
                               "app/**/*.json", "nope.yaml", "none/*.yaml", "empty", "-"])
    assert files == ["-", "app/b.yml", "app/d.template", "app/nested/c.json", "app/template.yaml",
                     "other/e.yaml"]
    assert missing == [
        ("nope.yaml", "no such file or directory"),
        ("none/*.yaml", "no files match this pattern"),
        ("empty", "no .yaml, .yml, .json or .template files in this folder"),
    ]


def test_discover_keeps_an_explicit_file_of_any_extension(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path, "stack.cfn", "a/node_modules/x.yaml")
    assert discover([str(tmp_path / "stack.cfn")]) == ([str(tmp_path / "stack.cfn")], [])
    assert discover(["**/node_modules/*.yaml"]) == ([], [("**/node_modules/*.yaml", "no files match this pattern")])


# --- local files: AWS::Include and DefinitionUri (walens.scanners.includes) --------------------

def _include(location: str) -> str:
    return f"Fn::Transform: {{Name: AWS::Include, Parameters: {{Location: '{location}'}}}}"


def test_local_includes_are_inserted(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "queue.yaml").write_text(
        "Type: AWS::SQS::Queue\nProperties:\n  " + _include("settings.yaml") + "\n", encoding="utf-8")
    (tmp_path / "parts" / "settings.yaml").write_text("VisibilityTimeout: 60\n", encoding="utf-8")
    (tmp_path / "parts" / "topics.yaml").write_text("Topic:\n  Type: AWS::SNS::Topic\n", encoding="utf-8")
    (tmp_path / "t.yaml").write_text(
        "Resources:\n"
        f"  Queue:\n    {_include('parts/queue.yaml')}\n"
        f"  {_include('./parts/topics.yaml')}\n", encoding="utf-8")
    data = to_plain(load_file(str(tmp_path / "t.yaml")).data)
    assert data["Resources"] == {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
                                 "Topic": {"Type": "AWS::SNS::Topic"}}


@pytest.mark.parametrize(("location", "reason"), [
    ("s3://bucket/snippet.yaml", "AWS::Include: s3://bucket/snippet.yaml is not a local file"),
    ("/etc/snippet.yaml", "AWS::Include: /etc/snippet.yaml is an absolute path"),
    ("missing.yaml", "AWS::Include: local file missing.yaml cannot be read"),
    ("t.yaml", "AWS::Include: t.yaml includes itself"),
    ("bad.yaml", "AWS::Include: local file bad.yaml is not a YAML or JSON document"),
])
def test_includes_not_read_become_unknown(tmp_path: Path, location: str, reason: str) -> None:
    (tmp_path / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    (tmp_path / "t.yaml").write_text(
        f"Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      {_include(location)}\n",
        encoding="utf-8")
    with pytest.raises(InputError) as info:  # defaults in its place would be guesses
        load_file(str(tmp_path / "t.yaml"))
    assert info.value.kind == "include" and info.value.message.startswith(f"resource Queue Properties: {reason}")
    (tmp_path / "t.yaml").write_text(
        f"Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n"
        f"        {_include(location)}\n", encoding="utf-8")
    value = load_file(str(tmp_path / "t.yaml")).data["Resources"]["Queue"]["Properties"]["RedrivePolicy"]
    assert type(value).__name__ == "Unknown" and value.reason.startswith(reason)


def test_include_next_to_other_keys_that_cannot_be_read_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(f"Resources:\n  {_include('missing.yaml')}\n  Q:\n    Type: AWS::SQS::Queue\n",
                                     encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_file(str(tmp_path / "t.yaml"))
    assert info.value.kind == "include" and "missing.yaml" in info.value.message


def test_definition_uri_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "api.yaml").write_text("openapi: '3.0.1'\npaths: {}\n", encoding="utf-8")
    (tmp_path / "sm.asl.json").write_text('{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": ${Delay}}}}',
                                          encoding="utf-8")
    text = ("Transform: AWS::Serverless-2016-10-31\nResources:\n"
            "  Api:\n    Type: AWS::Serverless::Api\n    Properties: {StageName: v1, DefinitionUri: api.yaml}\n"
            "  Packaged:\n    Type: AWS::Serverless::Api\n    Properties: {StageName: v1, DefinitionUri: s3://b/k.yaml}\n"
            "  Flow:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: sm.asl.json}\n"
            "  Gone:\n    Type: AWS::Serverless::StateMachine\n    Properties: {DefinitionUri: gone.json}\n")
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    local = load_file(str(tmp_path / "t.yaml")).local_files
    assert set(local) == {"api.yaml", "sm.asl.json", "gone.json"}
    assert to_plain(local["api.yaml"]) == {"openapi": "3.0.1", "paths": {}}
    assert local["sm.asl.json"].startswith('{"StartAt"')  # decodes only after DefinitionSubstitutions
    assert local["gone.json"].reason.startswith("DefinitionUri: local file gone.json cannot be read")
    # Standard input has no folder: nothing is read, and the reason says so.
    monkeypatch.setattr(sys, "stdin", _Stdin(text.encode()))
    assert load_file("-").local_files["api.yaml"].reason == (
        "DefinitionUri: api.yaml is relative to the template's folder, unknown for a template read from standard input")
    # load_text alone (what decoding tests use) reads nothing.
    assert load_text(text, "t.yaml").local_files == {}
