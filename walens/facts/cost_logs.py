"""Log retention facts: how long a function's logs are kept, and which log groups are functions' (COST 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from walens.facts import fact, of_type, shared
from walens.model import Resource, Unknown

FUNCTION = "AWS::Lambda::Function"
LOG_GROUP = "AWS::Logs::LogGroup"


def _props(r: Any) -> dict[str, Any]:
    props = r.get("Properties") if isinstance(r, dict) else getattr(r, "properties", None)
    return props if isinstance(props, dict) else {}


@fact("log_retention", types=[FUNCTION])
def log_retention(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """The function's log group and its ``RetentionInDays``.

    ``days`` is None when the group keeps logs forever: the template defines it without retention, or
    does not define the default ``/aws/lambda/<name>`` group, which Lambda then creates without
    retention. It is an Unknown when the group is ``LoggingConfig.LogGroup`` naming a group this
    template does not define (its retention is set wherever it is managed), or is not resolvable.
    """
    logging = _props(resource).get("LoggingConfig")
    custom = logging.get("LogGroup") if isinstance(logging, dict) else None
    group = resource.related.get("log_group")
    if isinstance(group, dict):
        name = _props(group).get("LogGroupName")
        return {"group": name if isinstance(name, str) else group.get("id"), "custom": custom is not None,
                "defined": True, "days": _props(group).get("RetentionInDays")}
    if isinstance(custom, Unknown):
        return {"group": custom, "custom": True, "defined": None,
                "days": Unknown(f"LoggingConfig.LogGroup is not known from the template: {custom.reason}")}
    if custom is not None:
        return {"group": custom, "custom": True, "defined": False,
                "days": Unknown(f"log group {custom} (LoggingConfig.LogGroup) is not defined in this template, "
                                "so its retention is not known")}
    literal = isinstance(resource.name, str) and not resource.name.startswith("{{")
    # A generated function name is not known before deployment: show which function's group it is.
    name = resource.name if literal else f"<{resource.id}>"
    return {"group": f"/aws/lambda/{name}", "custom": False, "defined": False, "days": None}


@fact("log_group_writers", types=[LOG_GROUP])
def log_group_writers(resource: Resource, inventory: Sequence[Resource]) -> dict[str, list[str]]:
    """Ids of the Lambda functions that write to this log group (their retention is judged on the function)."""
    writers: dict[Any, list[str]] = shared(inventory, "log_group_writers", _writers_by_group)
    return {"functions": list(writers.get(resource.id, ()))}


def _writers_by_group(inventory: Sequence[Resource]) -> dict[Any, list[str]]:
    """Log group id -> the sorted ids of the functions whose linked log group it is."""
    out: dict[Any, list[str]] = {}
    for r in of_type(inventory, FUNCTION):
        group = r.related.get("log_group")
        if isinstance(group, dict):
            out.setdefault(group.get("id"), []).append(r.id)
    for ids in out.values():
        ids.sort()
    return out


_VERBOSE = frozenset({"DEBUG", "TRACE"})
# Environment variables the AWS runtimes and Powertools for AWS Lambda read as the log level.
_LEVEL_VARIABLES = ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


@fact("verbose_logging", types=[FUNCTION])
def verbose_logging(resource: Resource, inventory: Sequence[Resource]) -> Any:
    """The settings that make the function log at DEBUG or TRACE, e.g. ``["LoggingConfig.ApplicationLogLevel"]``.

    Lambda's log levels count only with LogFormat JSON (lambda-log-level-without-json reports them with
    Text). An Unknown when no setting is known to be verbose but one is not resolvable.
    """
    props = _props(resource)
    found: list[str] = []
    unknown: Unknown | None = None
    logging = props.get("LoggingConfig")
    if isinstance(logging, dict) and logging.get("LogFormat") == "JSON":
        for key in ("ApplicationLogLevel", "SystemLogLevel"):
            level = logging.get(key)
            if isinstance(level, Unknown):
                unknown = unknown or level
            elif isinstance(level, str) and level.upper() in _VERBOSE:
                found.append(f"LoggingConfig.{key}")
    env = props.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    if isinstance(variables, dict):
        for key in _LEVEL_VARIABLES:
            level = variables.get(key)
            if isinstance(level, Unknown):
                unknown = unknown or level
            elif isinstance(level, str) and level.upper() in _VERBOSE:
                found.append(f"Environment.Variables.{key}")
    if not found and unknown is not None:
        return Unknown(f"the log level is not known from the template: {unknown.reason}")
    return found
