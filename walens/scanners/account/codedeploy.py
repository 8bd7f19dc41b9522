"""CodeDeploy: Lambda deployment groups (traffic shifting configuration, rollback alarms).

``ListApplications``, then per application ``ListDeploymentGroups`` and one ``BatchGetDeploymentGroups``
(up to 100 groups a call; ``GetDeploymentGroup`` per group on an endpoint without the batch call). Only
groups of the Lambda compute platform are kept, shaped as the ``AWS::CodeDeploy::DeploymentGroup`` that
SAM's ``DeploymentPreference`` generates (``DeploymentConfigName``, ``AlarmConfiguration.Alarms[].Name``,
``AutoRollbackConfiguration``, ``DeploymentStyle``), with the ``AWS::CodeDeploy::Application`` they belong
to, so OPS019 (all at once) and OPS020 (rollback alarms) judge them. A custom deployment configuration
(not ``CodeDeployDefault.*``) is read with ``GetDeploymentConfig`` into ``AWS::CodeDeploy::DeploymentConfig``.
"""

from __future__ import annotations

from typing import Any

from walens.model import Resource
from walens.scanners.account.core import CallFailed, Ctx
from walens.scanners.account.shape import capitalize_keys, pick

SERVICE = "codedeploy"
APPLICATION = "AWS::CodeDeploy::Application"
DEPLOYMENT_GROUP = "AWS::CodeDeploy::DeploymentGroup"
DEPLOYMENT_CONFIG = "AWS::CodeDeploy::DeploymentConfig"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "ListApplications": (APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_CONFIG),
    "ListDeploymentGroups": (DEPLOYMENT_GROUP,),
    "BatchGetDeploymentGroups": (DEPLOYMENT_GROUP,),
    "GetDeploymentGroup": (DEPLOYMENT_GROUP,),
    "GetDeploymentConfig": (),
}
_BATCH = 100
# What this collector fills in (walens.needs): resource type -> the Properties it sets when the account has them.
PROVIDES: dict[str, frozenset[str]] = {
    APPLICATION: frozenset({"ApplicationName", "ComputePlatform"}),
    DEPLOYMENT_GROUP: frozenset({"ApplicationName", "DeploymentGroupName", "DeploymentConfigName", "ServiceRoleArn",
                                 "AlarmConfiguration", "AutoRollbackConfiguration", "DeploymentStyle",
                                 "TriggerConfigurations"}),
    DEPLOYMENT_CONFIG: frozenset({"DeploymentConfigName", "ComputePlatform", "TrafficRoutingConfig"}),
}


def group_properties(info: dict[str, Any]) -> dict[str, Any]:
    """A ``deploymentGroupInfo`` as ``AWS::CodeDeploy::DeploymentGroup`` properties."""
    props: dict[str, Any] = pick(info, {"applicationName": "ApplicationName",
                                        "deploymentGroupName": "DeploymentGroupName",
                                        "deploymentConfigName": "DeploymentConfigName",
                                        "serviceRoleArn": "ServiceRoleArn"})
    alarms = info.get("alarmConfiguration") or {}
    if alarms:
        props["AlarmConfiguration"] = {
            "Enabled": bool(alarms.get("enabled", False)),
            "Alarms": [{"Name": a.get("name")} for a in alarms.get("alarms") or [] if isinstance(a, dict)],
            **pick(alarms, {"ignorePollAlarmFailure": "IgnorePollAlarmFailure"})}
    rollback = info.get("autoRollbackConfiguration") or {}
    if rollback:
        props["AutoRollbackConfiguration"] = {"Enabled": bool(rollback.get("enabled", False)),
                                              **pick(rollback, {"events": "Events"})}
    style = info.get("deploymentStyle") or {}
    if style:
        props["DeploymentStyle"] = pick(style, {"deploymentType": "DeploymentType",
                                                "deploymentOption": "DeploymentOption"})
    if info.get("triggerConfigurations"):
        props["TriggerConfigurations"] = capitalize_keys(info["triggerConfigurations"])
    return props


def collect(ctx: Ctx) -> None:
    for name in ctx.pages("ListApplications", "applications"):
        ctx.spawn(_application, ctx, name)


def _application(ctx: Ctx, app: str) -> None:
    names = ctx.pages("ListDeploymentGroups", "deploymentGroups", applicationName=app)
    if not names:
        return
    infos = _groups(ctx, app, names)
    lambda_infos = [i for i in infos if i.get("computePlatform") == "Lambda"]
    if not lambda_infos:
        return
    app_arn = ctx.arn("codedeploy", f"application:{app}")
    ctx.add(Resource(id=app_arn, type=APPLICATION, name=app, arn=app_arn,
                     properties={"ApplicationName": app, "ComputePlatform": "Lambda"}))
    configs: set[str] = set()
    for info in lambda_infos:
        name = info["deploymentGroupName"]
        arn = ctx.arn("codedeploy", f"deploymentgroup:{app}/{name}")
        ctx.add(Resource(id=arn, type=DEPLOYMENT_GROUP, properties=group_properties(info), name=name, arn=arn,
                         metadata=pick(info, {"deploymentGroupId": "physical_id"})))
        config = info.get("deploymentConfigName")
        if isinstance(config, str) and not config.startswith("CodeDeployDefault.") and config not in configs:
            configs.add(config)
            _config(ctx, config)


def _groups(ctx: Ctx, app: str, names: list[str]) -> list[dict[str, Any]]:
    infos: list[dict[str, Any]] = []
    for i in range(0, len(names), _BATCH):
        chunk = names[i:i + _BATCH]
        try:
            answer = ctx.call("BatchGetDeploymentGroups", applicationName=app, deploymentGroupNames=chunk,
                              record=False) or {}
        except CallFailed as exc:
            if exc.gap.kind != "not_supported":
                ctx.scope.collected.add_gap(exc.gap)
                raise
            # An endpoint without the batch call (an emulator): one call per group.
            for name in chunk:
                one = ctx.call("GetDeploymentGroup", applicationName=app, deploymentGroupName=name, missing_ok=True)
                if one and one.get("deploymentGroupInfo"):
                    infos.append(one["deploymentGroupInfo"])
            continue
        infos.extend(answer.get("deploymentGroupsInfo") or [])
    return infos


def _config(ctx: Ctx, name: str) -> None:
    arn = ctx.arn("codedeploy", f"deploymentconfig:{name}")
    try:
        answer = ctx.call("GetDeploymentConfig", deploymentConfigName=name, missing_ok=True)
    except CallFailed as exc:
        # Its traffic routing is unknown: whether the group shifts all at once ends not_assessed.
        ctx.add(Resource(id=arn, type=DEPLOYMENT_CONFIG, name=name, arn=arn,
                         properties={"DeploymentConfigName": name, "ComputePlatform": "Lambda",
                                     "TrafficRoutingConfig": {"Type": exc.unknown}}))
        return
    info = (answer or {}).get("deploymentConfigInfo") or {}
    if not info:
        return
    props: dict[str, Any] = {"DeploymentConfigName": name, **pick(info, {"computePlatform": "ComputePlatform"})}
    routing = info.get("trafficRoutingConfig")
    if isinstance(routing, dict):
        props["TrafficRoutingConfig"] = capitalize_keys(routing)
    ctx.add(Resource(id=arn, type=DEPLOYMENT_CONFIG, properties=props, name=name, arn=arn))


def finalize(resources: list[Resource]) -> list[Resource]:
    """One custom deployment configuration per region, however many applications use it."""
    seen: set[str] = set()
    out = []
    for r in resources:
        if r.type == DEPLOYMENT_CONFIG and r.source == "account":
            if r.id in seen:
                continue
            seen.add(r.id)
        out.append(r)
    return out
