"""Step Functions: state machines (one ``DescribeStateMachine`` each)."""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import capitalize_keys, parse_json, pick

SERVICE = "stepfunctions"
STATE_MACHINE = "AWS::StepFunctions::StateMachine"

OPERATIONS: dict[str, tuple[str, ...]] = {"ListStateMachines": (STATE_MACHINE,), "DescribeStateMachine": ()}
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    STATE_MACHINE: frozenset({"StateMachineName", "StateMachineType", "RoleArn", "Definition", "DefinitionString",
                              "LoggingConfiguration", "TracingConfiguration", "EncryptionConfiguration"}),
}


def state_machine_properties(sm: dict[str, Any]) -> dict[str, Any]:
    """``DescribeStateMachine`` as ``AWS::StepFunctions::StateMachine`` properties."""
    props: dict[str, Any] = {"StateMachineName": sm.get("name"), **pick(sm, {"type": "StateMachineType",
                                                                             "roleArn": "RoleArn"})}
    definition = parse_json(sm.get("definition"))
    if isinstance(definition, dict):
        props["Definition"] = definition
    elif definition is not None:
        props["DefinitionString"] = definition
    for api_key, cfn_key in (("loggingConfiguration", "LoggingConfiguration"),
                             ("tracingConfiguration", "TracingConfiguration"),
                             ("encryptionConfiguration", "EncryptionConfiguration")):
        if isinstance(sm.get(api_key), dict):
            # level/includeExecutionData/destinations[].cloudWatchLogsLogGroup.logGroupArn -> PascalCase
            props[cfn_key] = capitalize_keys(sm[api_key])
    return props


def collect(ctx: Ctx) -> None:
    for item in ctx.pages("ListStateMachines", "stateMachines"):
        ctx.spawn(_state_machine, ctx, item)


def _state_machine(ctx: Ctx, item: dict[str, Any]) -> None:
    arn = item["stateMachineArn"]
    try:
        sm = ctx.call("DescribeStateMachine", stateMachineArn=arn, missing_ok=True)
    except CallFailed as exc:
        props = {"StateMachineName": item.get("name"), "StateMachineType": item.get("type"),
                 "TracingConfiguration": exc.unknown, "LoggingConfiguration": exc.unknown,
                 "RoleArn": exc.unknown, "Definition": exc.unknown}
        ctx.add(Resource(id=arn, type=STATE_MACHINE, properties=props, name=item.get("name"), arn=arn))
        return
    if sm is None:
        return
    ctx.add(Resource(id=arn, type=STATE_MACHINE, properties=state_machine_properties(sm), name=sm.get("name"),
                     arn=arn, metadata=pick(sm, ("status",))))
