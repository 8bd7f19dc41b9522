"""The loader equals cfn-lint's decoder on every template of the SAM translator corpus.

Values are compared as plain Python; positions are compared for every mapping key cfn-lint marks
(keys it creates itself, like ``Fn::Sub`` from ``!Sub``, carry no mark of their own there).
The translator's outputs (CloudFormation JSON) are compared too, as written and re-indented with
tabs (which sends cfn-lint down its JSON fallback).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from corpus import INPUT, OUTPUT
from walens.errors import InputError, NotATemplate
from walens.nodes import DictNode, to_plain
from walens.scanners.template import decode_text, load_file

INPUTS = sorted(INPUT.glob("*.yaml"))
OUTPUTS = sorted(OUTPUT.glob("*.json"))

# Deliberate differences: cfn-lint decodes these, but CloudFormation rejects a resource whose Type
# is missing or not a string, so the loader reports a structure error (file, logical ID, line).
# The translator itself accepts the two without the error_ prefix (it passes unknown resources through).
REJECTED: dict[str, tuple[str, int, str]] = {
    "error_connector.yaml": ("structure", 20, "resource MyResourceWithoutType has no Type"),
    "error_embedded_connectors.yaml": ("structure", 114, "resource MyResourceWithoutType has no Type"),
    "error_resource_not_dict.yaml": ("structure", 6, "resource NotADit must be a mapping"),
    "resource_with_invalid_type.yaml": ("structure", 2, "resource FunctionInvalid Type must be a string"),
    "unsupported_resources.yaml": ("structure", 5, "resource ResourceMissingTypeShouldBeAccepted has no Type"),
}
NOT_TEMPLATES = {"error_invalid_template.yaml"}  # a bare string list: no Resources at all


def _cfn_lint(text: str) -> Any:
    from cfnlint.decode import decode_str

    decoded, matches = decode_str(text)
    assert matches == [], f"cfn-lint could not decode: {matches}"
    return decoded


def _same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return bool(ours == theirs)


def _mark_differences(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """Every key cfn-lint marks whose (line, col) differs from ours."""
    out: list[str] = []
    if isinstance(theirs, dict):
        assert isinstance(ours, DictNode), path
        for key, value in theirs.items():
            start = getattr(key, "start_mark", None)
            if start is not None:
                expected = (start.line + 1, start.column + 1)
                if ours.key_marks.get(key) != expected:
                    out.append(f"{path}/{key}: ours {ours.key_marks.get(key)} cfn-lint {expected}")
            out += _mark_differences(value, ours[key], f"{path}/{key}")
    elif isinstance(theirs, list):
        for index, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            out += _mark_differences(a, b, f"{path}/{index}")
    return out


def _compare(text: str, name: str) -> None:
    theirs = _cfn_lint(text)
    ours = decode_text(text.encode(), name)
    assert _same(to_plain(ours), to_plain(theirs))
    assert _mark_differences(theirs, ours) == []


@pytest.mark.corpus
def test_corpus_is_there() -> None:
    assert (len(INPUTS), len(OUTPUTS)) == (831, 834)


@pytest.mark.corpus
@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_input_values_and_marks_equal_cfn_lint(path: Path) -> None:
    _compare(path.read_text(encoding="utf-8"), path.name)


@pytest.mark.corpus
@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: p.name)
def test_output_json_equals_cfn_lint_and_json(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    _compare(text, path.name)
    assert to_plain(decode_text(text, path.name)) == json.loads(text)
    _compare(json.dumps(json.loads(text), indent="\t"), path.name)


@pytest.mark.corpus
def test_every_input_loads_except_the_listed_ones() -> None:
    rejected: dict[str, tuple[str, int | None, str]] = {}
    skipped: set[str] = set()
    sam = 0
    for path in INPUTS:
        try:
            sam += load_file(str(path)).is_sam
        except InputError as exc:
            assert exc.file == str(path)
            rejected[path.name] = (exc.kind, exc.line, exc.message)
        except NotATemplate:
            skipped.add(path.name)
    assert rejected == REJECTED
    assert skipped == NOT_TEMPLATES
    assert sam == 129


@pytest.mark.parametrize("text", [
    "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n",  # duplicate key
    "a: [1, 2\n",  # unclosed flow sequence
    "~: 1\n",  # null key
    "? [a]\n: b\n",  # unhashable key
    "a: *undefined\n",
    "a: 1\n---\nb: 2\n",
    "a: !<tag:example.com,2000:x> 1\n",
    "a: =\n",  # YAML 1.1 value key used as a value: no constructor in either
    "a: &x [*x]\n",  # recursive alias
])
def test_cfn_lint_decode_errors_are_input_errors(text: str) -> None:
    from cfnlint.decode import decode_str

    assert decode_str(text)[1] != []
    with pytest.raises(InputError):
        decode_text(text, "bad.yaml")
