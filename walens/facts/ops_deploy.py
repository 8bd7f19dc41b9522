"""Rollout facts: how CodeDeploy shifts traffic to new Lambda versions (OPS 2, rollout deployment)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from walens.facts import fact, of_type
from walens.model import DEPLOYMENT_TYPES, Resource, Unknown

FUNCTION = "AWS::Lambda::Function"
DEPLOYMENT_GROUP = "AWS::CodeDeploy::DeploymentGroup"
APPLICATION = "AWS::CodeDeploy::Application"
DEPLOYMENT_CONFIG = "AWS::CodeDeploy::DeploymentConfig"
ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
# Properties only EC2/on-premises or ECS deployment groups have.
_NON_LAMBDA_TARGETS = ("Ec2TagFilters", "Ec2TagSet", "AutoScalingGroups", "OnPremisesInstanceTagFilters",
                       "OnPremisesTagSet", "ECSServices", "LoadBalancerInfo")
_REF = re.compile(r"^\{\{ref:([^}]+)\}\}$")


def _props(r: Any) -> dict[str, Any]:
    props = r.get("Properties") if isinstance(r, dict) else getattr(r, "properties", None)
    return props if isinstance(props, dict) else {}


def _find(value: Any, kind: str, name_prop: str, inventory: Sequence[Resource]) -> Resource | None:
    """The resource of ``kind`` that ``value`` names, by Ref or by its literal name."""
    if not isinstance(value, str):
        return None
    m = _REF.match(value)
    for r in of_type(inventory, kind):
        if (m and r.id == m.group(1)) or _props(r).get(name_prop) == value:
            return r
    return None


@fact("lambda_deployment", types=[DEPLOYMENT_GROUP])
def lambda_deployment(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """For a deployment group: whether it deploys Lambda, its configuration, and whether that shifts all at once.

    ``lambda`` is decided by the application's ComputePlatform, else by a ``CodeDeployDefault.Lambda*``
    configuration, else by the absence of EC2/on-premises/ECS targets. ``all_at_once`` is an Unknown
    when the configuration is not set or not resolvable.
    """
    props = _props(resource)
    config = props.get("DeploymentConfigName")
    if isinstance(config, str) and config in DEPLOYMENT_TYPES and resource.origin not in (None, resource.id):
        # SAM maps a DeploymentPreference Type that resolves to a predefined name (through !Sub, !If or
        # a parameter) to CodeDeployDefault.Lambda<Type>, as samtranslator's deployment_preference does.
        config = "CodeDeployDefault.Lambda" + config
    app = _find(props.get("ApplicationName"), APPLICATION, "ApplicationName", inventory)
    custom = _find(config, DEPLOYMENT_CONFIG, "DeploymentConfigName", inventory)
    platform: Any = _props(app).get("ComputePlatform") if app is not None else None
    if platform is None and custom is not None:
        platform = _props(custom).get("ComputePlatform")
    if isinstance(platform, str):
        is_lambda: Any = platform == "Lambda"
    elif isinstance(platform, Unknown):
        is_lambda = platform
    elif isinstance(config, str) and config.startswith("CodeDeployDefault."):
        is_lambda = config.startswith("CodeDeployDefault.Lambda")
    else:
        is_lambda = not any(key in props for key in _NON_LAMBDA_TARGETS)
    all_at_once: Any
    if isinstance(config, Unknown):
        all_at_once = config
    elif config is None:
        all_at_once = Unknown("DeploymentConfigName is not set, so the group's deployment configuration "
                              "is not shown in the template")
    elif custom is not None:
        routing = _props(custom).get("TrafficRoutingConfig")
        kind = routing.get("Type") if isinstance(routing, dict) else None
        all_at_once = kind if isinstance(kind, Unknown) else kind in (None, "AllAtOnce")
    elif isinstance(config, str) and config.startswith("CodeDeployDefault."):
        all_at_once = config == ALL_AT_ONCE
    else:
        all_at_once = Unknown(f"deployment configuration {config} is not defined in this template")
    alarm_config = props.get("AlarmConfiguration")
    alarms: Any = []
    if isinstance(alarm_config, Unknown):
        alarms = alarm_config
    elif isinstance(alarm_config, dict):
        enabled = alarm_config.get("Enabled", True)
        listed = alarm_config.get("Alarms")
        if isinstance(enabled, Unknown) or isinstance(listed, Unknown):
            alarms = enabled if isinstance(enabled, Unknown) else listed
        elif enabled is not False and str(enabled).lower() != "false" and isinstance(listed, list):
            alarms = [a.get("Name") if isinstance(a, dict) else a for a in listed]
    return {"lambda": is_lambda, "config": config, "all_at_once": all_at_once, "rollback_alarms": alarms}


def _is_hook(fn: Resource, inventory: Sequence[Resource]) -> bool:
    """Whether the function is a CodeDeploy lifecycle hook (PreTraffic/PostTraffic), not application code."""
    # CodeDeploy's AWSCodeDeployRoleForLambda policy lets hooks be invoked only when named CodeDeployHook_*.
    if isinstance(fn.name, str) and fn.name.startswith("CodeDeployHook_"):
        return True
    keys = {"{{ref:" + fn.id + "}}", "{{getatt:" + fn.id + ".Arn}}"}
    for group in of_type(inventory, DEPLOYMENT_GROUP):
        hooks = _props(group).get("Hooks")
        if isinstance(hooks, dict) and any(value in keys for value in hooks.values() if isinstance(value, str)):
            return True
    return False


@fact("rollout", types=[FUNCTION])
def rollout(resource: Resource, inventory: Sequence[Resource]) -> Any:
    """How new versions of the function reach traffic: ``codedeploy``, ``weighted`` alias, or ``none``
    (``hook`` for a CodeDeploy lifecycle hook function, which is not itself deployed gradually).

    An Unknown when the template has a plain-CloudFormation CodeDeploy deployment group for Lambda:
    it names its function only in an alias's ``UpdatePolicy``, which walens does not read.
    """
    if _is_hook(resource, inventory):
        return "hook"
    if resource.related.get("deployment_group") is not None:
        return "codedeploy"
    for alias in resource.related.get("aliases") or []:
        if _props(alias).get("RoutingConfig") is not None:
            return "weighted"
    unlinked = [r.id for r in of_type(inventory, DEPLOYMENT_GROUP) if r.origin in (None, r.id)]
    if unlinked and resource.related.get("aliases"):
        return Unknown(f"deployment group {unlinked[0]} may shift this function's alias; the link is in the "
                       "alias's UpdatePolicy, which walens does not read")
    return "none"
