"""Security facts about a template's Outputs: which outputs publish a resource's secret attribute.

Outputs are shown to everyone who can describe the stack (console, ``describe-stacks``, exports that
other stacks import), and NoEcho does not mask them
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from walens.facts import fact
from walens.facts.security_lambda import authored_template
from walens.model import Resource, Unknown

# Resource type → the attribute that returns the secret itself (not an ID or ARN).
SECRET_ATTRIBUTES = {
    "AWS::AppSync::ApiKey": "ApiKey",
    "AWS::IAM::AccessKey": "SecretAccessKey",
    "AWS::Cognito::UserPoolClient": "ClientSecret",
}
SAM_GRAPHQL = "AWS::Serverless::GraphQLApi"
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def _getatts(node: Any) -> Iterable[tuple[str, str]]:
    """Every (logical ID, attribute) a value reads through ``Fn::GetAtt`` or ``Fn::Sub``."""
    if isinstance(node, dict):
        if set(node) == {"Fn::GetAtt"}:
            arg = node["Fn::GetAtt"]
            if isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
                yield arg[0], arg[1]
            elif isinstance(arg, str) and "." in arg:
                logical_id, attr = arg.split(".", 1)
                yield logical_id, attr
            return
        if set(node) == {"Fn::Sub"}:
            arg = node["Fn::Sub"]
            text, local = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
            if isinstance(text, str):
                for var in _SUB_VARIABLE.findall(text):
                    if "." in var and not (isinstance(local, dict) and var in local):
                        logical_id, attr = var.split(".", 1)
                        yield logical_id, attr
            if isinstance(local, dict):
                for value in local.values():
                    yield from _getatts(value)
            return
        for value in node.values():
            yield from _getatts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _getatts(item)


def _secret_targets(resource: Resource) -> set[tuple[str, str]] | Unknown:
    """The (logical ID, attribute) pairs that read this resource's secret."""
    if resource.type in SECRET_ATTRIBUTES:
        return {(resource.id, SECRET_ATTRIBUTES[resource.type])}
    # SAM names the key of ApiKeys entry K of GraphQL API A as A + K (an AWS::AppSync::ApiKey).
    keys = resource.properties.get("ApiKeys") if isinstance(resource.properties, dict) else None
    if isinstance(keys, Unknown):
        return keys
    return {(resource.id + str(name), "ApiKey") for name in keys} if isinstance(keys, dict) else set()


@fact("secret_outputs", types=[*SECRET_ATTRIBUTES, SAM_GRAPHQL])
def secret_outputs(resource: Resource, inventory: Sequence[Resource]) -> list[str] | Unknown:
    """The template's outputs whose value carries the resource's secret (``Output (Resource.Attribute)``):
    an AppSync API key, an IAM access key's secret, a Cognito app client's secret."""
    if resource.source != "template":
        return []
    targets = _secret_targets(resource)
    if isinstance(targets, Unknown):
        return targets
    if not targets:
        return []
    data = authored_template(resource)
    if data is None:
        return Unknown("the authored template's outputs are not available")
    outputs = data.get("Outputs")
    found: list[str] = []
    for name, output in (outputs.items() if isinstance(outputs, dict) else []):
        value = output.get("Value") if isinstance(output, dict) else None
        for logical_id, attr in _getatts(value):
            entry = f"{name} ({logical_id}.{attr})"
            if (logical_id, attr) in targets and entry not in found:
                found.append(entry)
    return found
