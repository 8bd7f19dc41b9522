"""Integration facts (PERF 1): which Step Functions tasks invoke Lambda and which call services directly."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource, Unknown

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
_FUNCTION_PLACEHOLDER = re.compile(r"^\{\{(?:ref|getatt):([^.}]+)")


def _definition(props: dict[str, Any]) -> Any:
    """The state machine definition as a mapping, or an Unknown saying why it cannot be read."""
    if "Definition" in props:
        definition = props["Definition"]
    elif "DefinitionString" in props:
        definition = props["DefinitionString"]
    elif "DefinitionS3Location" in props:
        return Unknown("the definition is in S3 (DefinitionS3Location/DefinitionUri), not in the template")
    else:
        return Unknown("the state machine has no definition in the template")
    if isinstance(definition, Unknown):
        return definition
    if isinstance(definition, str):
        subs = props.get("DefinitionSubstitutions")
        if isinstance(subs, dict):
            definition = _SUBSTITUTION.sub(
                lambda m: subs[m.group(1)] if isinstance(subs.get(m.group(1)), str) else m.group(0), definition)
        try:
            definition = json.loads(definition)
        except ValueError:
            return Unknown("DefinitionString is not valid JSON once resolved")
    if not isinstance(definition, dict):
        return Unknown("the definition is not a mapping")
    return definition


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, including those inside Parallel branches and Map iterators."""
    states = definition.get("States")
    for state in states.values() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        yield state
        branches = state.get("Branches")
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, dict):
                yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key])


def _substituted(value: Any, subs: Any) -> Any:
    """A ``${name}`` SAM/Step Functions substitution in a Definition map, replaced by its value."""
    if isinstance(value, str) and isinstance(subs, dict):
        m = _SUBSTITUTION.fullmatch(value)
        if m and m.group(1) in subs:
            return subs[m.group(1)]
    return value


def task_kind(resource: Any, functions: set[str]) -> str:
    """``lambda`` (Lambda invoke), ``service`` (an optimized or AWS SDK integration), ``activity`` or ``unknown``."""
    if isinstance(resource, Unknown) or not isinstance(resource, str):
        return "unknown"
    if ":states:::lambda:invoke" in resource or (":lambda:" in resource and ":function:" in resource):
        return "lambda"
    m = _FUNCTION_PLACEHOLDER.match(resource)
    if m:
        return "lambda" if m.group(1) in functions else "unknown"
    if ":states:::" in resource:
        return "service"
    if ":activity:" in resource:
        return "activity"
    return "unknown"


@fact("task_integrations", types=[STATE_MACHINE])
def task_integrations(resource: Resource, inventory: Sequence[Resource]) -> Any:
    """Counts of Task states by integration: ``{"tasks", "lambda", "service", "activity", "unknown"}``.

    An Unknown when the definition is not readable from the template.
    """
    props = resource.properties if isinstance(resource.properties, dict) else {}
    definition = _definition(props)
    if isinstance(definition, Unknown):
        return definition
    functions = {r.id for r in inventory if r.type == "AWS::Lambda::Function"}
    counts = {"tasks": 0, "lambda": 0, "service": 0, "activity": 0, "unknown": 0}
    subs = props.get("DefinitionSubstitutions")
    for state in _states(definition):
        if state.get("Type") != "Task":
            continue
        counts["tasks"] += 1
        counts[task_kind(_substituted(state.get("Resource"), subs), functions)] += 1
    return counts
