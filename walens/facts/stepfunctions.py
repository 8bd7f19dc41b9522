"""Step Functions facts: the state machine's definition, and which Task states handle errors.

The definition comes from ``Definition`` (an object), ``DefinitionString`` (JSON text, often built with
``Fn::Sub``/``Fn::Join``) or ``DefinitionS3Location``; SAM's ``DefinitionUri`` pointing at a local file
(what ``sam build`` packages) was read by the loader (scanners/includes.py) into ``Definition`` or
``DefinitionString``. A definition in S3 or an unresolvable intrinsic is an :class:`Unknown`, so rules
reading it end ``not_assessed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from walens.facts import fact
from walens.model import Resource, Unknown

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
_SUBSTITUTION = re.compile(r"\$\{([^}]+)\}")


def _props(r: Resource) -> dict[str, Any]:
    return r.properties if isinstance(r.properties, dict) else {}


def _substitute(text: str, substitutions: Any) -> str:
    """``${Name}`` replaced by DefinitionSubstitutions values (scalars only), others left as written."""
    if not isinstance(substitutions, dict):
        return text

    def repl(m: re.Match[str]) -> str:
        value = substitutions.get(m.group(1))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        return m.group(0)

    return _SUBSTITUTION.sub(repl, text)


def _parse(text: str, substitutions: Any, what: str) -> dict[str, Any] | Unknown:
    for candidate in (text, _substitute(text, substitutions)):
        try:
            doc = json.loads(candidate)
        except ValueError:
            try:
                doc = yaml.safe_load(candidate)
            except yaml.YAMLError:
                continue
        if isinstance(doc, dict):
            return doc
    return Unknown(f"{what} is not a JSON or YAML state machine definition")


def definition(resource: Resource) -> dict[str, Any] | Unknown | None:
    """The state machine's definition as a mapping; Unknown when it cannot be read; None when absent."""
    props = _props(resource)
    subs = props.get("DefinitionSubstitutions")
    if "Definition" in props:
        value = props["Definition"]
        if isinstance(value, Unknown) or isinstance(value, dict):
            return value
        return Unknown("Definition is not a mapping")
    if "DefinitionString" in props:
        value = props["DefinitionString"]
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, str):
            return Unknown("DefinitionString is not a string")
        return _parse(value, subs, "DefinitionString")
    if "DefinitionS3Location" in props:
        value = props["DefinitionS3Location"]
        if isinstance(value, Unknown):
            return value
        return Unknown("the definition is stored in S3")
    return None


def _states(container: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    states = container.get("States") if isinstance(container, dict) else None
    if isinstance(states, dict):
        for name, state in states.items():
            if isinstance(state, dict):
                yield str(name), state


def _handles_errors(state: dict[str, Any]) -> bool | None:
    """True with a non-empty Retry or Catch, None when one is an Unknown, else False."""
    retry, catch = state.get("Retry"), state.get("Catch")
    if (isinstance(retry, list) and retry) or (isinstance(catch, list) and catch):
        return True
    return None if isinstance(retry, Unknown) or isinstance(catch, Unknown) else False


def _either(a: bool | None, b: bool | None) -> bool | None:
    """Three-valued OR: True if either is True, None (unknown) if either is None, else False."""
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _walk(container: Any, prefix: str, covered: bool | None, out: dict[str, list[str]]) -> None:
    """Record each Task as handled or not; a Parallel or Map state's own Retry/Catch covers its branches."""
    if isinstance(container, dict) and isinstance(container.get("States"), Unknown):
        out["unknown"].append(prefix.rstrip(".") or "States")
    for name, state in _states(container):
        path = prefix + name
        kind = state.get("Type")
        if kind == "Task":
            handles = _either(covered, _handles_errors(state))
            out["handled" if handles else "unknown" if handles is None else "unhandled"].append(path)
        elif kind == "Parallel":
            inner = _either(covered, _handles_errors(state))
            branches = state.get("Branches")
            for i, branch in enumerate(branches if isinstance(branches, list) else []):
                _walk(branch, f"{path}.Branches[{i}].", inner, out)
        elif kind == "Map":
            inner = _either(covered, _handles_errors(state))
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    _walk(state[key], f"{path}.", inner, out)


def task_error_handling(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The Task states of a definition with and without Retry/Catch (their own or an enclosing state's)."""
    out: dict[str, list[str]] = {"handled": [], "unhandled": [], "unknown": []}
    _walk(doc, "", False, out)
    return out


@fact("sfn_tasks", types=[STATE_MACHINE])
def sfn_tasks(resource: Resource, inventory: Sequence[Resource]) -> dict[str, list[str]] | Unknown | None:
    """``{handled, unhandled, unknown}`` Task state paths; Unknown when the definition is unreadable, or
    when no Task is known to lack error handling but some depend on an unresolvable value."""
    doc = definition(resource)
    if doc is None or isinstance(doc, Unknown):
        return doc
    result = task_error_handling(doc)
    if result["unknown"] and not result["unhandled"]:
        return Unknown(f"Retry/Catch of {', '.join(result['unknown'])} cannot be resolved")
    return result
