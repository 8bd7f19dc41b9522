"""Logging facts: API Gateway access logs and data tracing, AppSync field logging (OPS 1, COST 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from walens.facts import fact
from walens.model import Resource, Unknown

REST_STAGE = "AWS::ApiGateway::Stage"
REST_DEPLOYMENT = "AWS::ApiGateway::Deployment"
V2_STAGE = "AWS::ApiGatewayV2::Stage"
APPSYNC = "AWS::AppSync::GraphQLApi"
SAM_GRAPHQL = "AWS::Serverless::GraphQLApi"


def _props(r: Resource) -> dict[str, Any]:
    return r.properties if isinstance(r.properties, dict) else {}


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@fact("access_log", types=[REST_STAGE, V2_STAGE])
def access_log(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Whether the stage writes access logs, and whether their format is JSON (``json``/``text``/None)."""
    setting = _props(resource).get("AccessLogSetting" if resource.type == REST_STAGE else "AccessLogSettings")
    if isinstance(setting, Unknown):
        return {"enabled": setting, "format": setting}
    if not isinstance(setting, dict):
        return {"enabled": False, "format": None}
    destination = setting.get("DestinationArn")
    enabled: Any = isinstance(destination, Unknown) or (isinstance(destination, str) and destination != "")
    fmt = setting.get("Format")
    shape: Any
    if isinstance(fmt, Unknown):
        shape = fmt
    elif isinstance(fmt, str) and fmt.strip():
        shape = "json" if fmt.strip().startswith("{") else "text"
    else:
        shape = None
    return {"enabled": enabled, "format": shape}


def _method_settings(settings: Any, where: str) -> tuple[list[str], Unknown | None]:
    """The ``HttpMethod ResourcePath`` of each REST method setting with DataTraceEnabled."""
    if isinstance(settings, Unknown):
        return [], settings
    found: list[str] = []
    unknown: Unknown | None = None
    for item in settings if isinstance(settings, list) else []:
        if not isinstance(item, dict):
            continue
        flag = item.get("DataTraceEnabled")
        if isinstance(flag, Unknown):
            unknown = unknown or flag
        elif _is_true(flag):
            method = item.get("HttpMethod", "*")
            path = item.get("ResourcePath", "/*")
            found.append(f"{where}{method if isinstance(method, str) else '?'} "
                         f"{path if isinstance(path, str) else '?'}")
    return found, unknown


@fact("data_trace", types=[REST_STAGE, REST_DEPLOYMENT, V2_STAGE])
def data_trace(resource: Resource, inventory: Sequence[Resource]) -> dict[str, Any]:
    """Where API Gateway data tracing (full request and response logging) is on: ``enabled_on`` list.

    ``enabled_on`` is an Unknown when nothing is known to be on but some setting is not known.
    """
    props = _props(resource)
    found: list[str] = []
    unknown: Unknown | None = None
    if resource.type == REST_STAGE:
        found, unknown = _method_settings(props.get("MethodSettings"), "")
    elif resource.type == REST_DEPLOYMENT:
        desc = props.get("StageDescription")
        if isinstance(desc, Unknown):
            unknown = desc
        elif isinstance(desc, dict):
            flag = desc.get("DataTraceEnabled")
            if isinstance(flag, Unknown):
                unknown = flag
            elif _is_true(flag):
                found.append("* /*")
            more, unknown2 = _method_settings(desc.get("MethodSettings"), "")
            found.extend(more)
            unknown = unknown or unknown2
    else:
        default = props.get("DefaultRouteSettings")
        routes = props.get("RouteSettings")
        entries: list[tuple[str, Any]] = [("DefaultRouteSettings", default)]
        if isinstance(routes, dict):
            entries.extend((str(key), value) for key, value in routes.items())
        elif isinstance(routes, Unknown):
            unknown = routes
        for label, settings in entries:
            if isinstance(settings, Unknown):
                unknown = unknown or settings
                continue
            flag = settings.get("DataTraceEnabled") if isinstance(settings, dict) else None
            if isinstance(flag, Unknown):
                unknown = unknown or flag
            elif _is_true(flag):
                found.append(label)
    result: Any = found
    if not found and unknown is not None:
        result = Unknown(f"DataTraceEnabled is not known from the template: {unknown.reason}")
    return {"enabled_on": result}


@fact("appsync_field_log_level", types=[APPSYNC, SAM_GRAPHQL])
def appsync_field_log_level(resource: Resource, inventory: Sequence[Resource]) -> Any:
    """The API's field log level (NONE when logging is off); SAM's GraphQLApi logs ALL unless ``Logging: false``."""
    props = _props(resource)
    if resource.type == SAM_GRAPHQL:
        # samtranslator sam_resources.py: no Logging, Logging: true, or a Logging map without
        # FieldLogLevel all give FieldLogLevel ALL; Logging: false gives no LogConfig.
        logging = props.get("Logging")
        if isinstance(logging, Unknown):
            return logging
        if logging is None or logging is True:
            return "ALL"
        if logging is False:
            return "NONE"
        if isinstance(logging, dict):
            level = logging.get("FieldLogLevel")
            return level if level is not None else "ALL"
        return "NONE"
    config = props.get("LogConfig")
    if isinstance(config, Unknown):
        return config
    if not isinstance(config, dict):
        return "NONE"
    level = config.get("FieldLogLevel")
    return level if level is not None else "NONE"
