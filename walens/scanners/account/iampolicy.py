"""``walens iam-policy``: the minimal read-only IAM policy an account scan needs, from what collectors declare.

Every collector declares in ``OPERATIONS`` each API operation it may call (``Ctx`` refuses any other),
and so do the second-phase readers (Logs Insights, CloudWatch metrics, Compute Optimizer: collector-like
namespaces in ``insights``/``metrics``). The policy is those operations as IAM actions: the boto3 client
name becomes its IAM prefix (``stepfunctions`` -> ``states``); API Gateway (REST and HTTP APIs) is
authorised by HTTP verb on resource paths, so its operations become ``apigateway:GET`` on exactly the
paths they read. ``sts:GetCallerIdentity`` needs no permission. With ``role_name`` (multi-account
scans) a second statement gives the caller what it needs on top: ``sts:AssumeRole`` on that role in
every account, and listing the organization's accounts.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from walens.scanners.account import module, resolve_services
from walens.scanners.account.core import IAM_PREFIX, is_read_only

# boto3 client name -> IAM service prefix, where they differ (core.IAM_PREFIX plus API Gateway v2).
PREFIX = {**IAM_PREFIX, "apigatewayv2": "apigateway"}
# Operations that need no IAM permission at all.
NO_PERMISSION = frozenset({("sts", "GetCallerIdentity")})
# API Gateway operation -> the resource path its GET reads ("*" for any API id).
APIGATEWAY_PATHS: dict[tuple[str, str], str] = {
    ("apigateway", "GetRestApis"): "/restapis",
    ("apigateway", "GetAccount"): "/account",
    ("apigateway", "GetStages"): "/restapis/*/stages",
    ("apigateway", "GetResources"): "/restapis/*/resources",
    ("apigateway", "GetRequestValidators"): "/restapis/*/requestvalidators",
    ("apigateway", "GetAuthorizers"): "/restapis/*/authorizers",
    ("apigateway", "GetModels"): "/restapis/*/models",
    ("apigateway", "GetUsagePlans"): "/usageplans",
    ("apigatewayv2", "GetApis"): "/apis",
    ("apigatewayv2", "GetStages"): "/apis/*/stages",
    ("apigatewayv2", "GetRoutes"): "/apis/*/routes",
    ("apigatewayv2", "GetAuthorizers"): "/apis/*/authorizers",
}
APIGATEWAY_SERVICES = frozenset({"apigateway", "apigatewayv2"})
# Modules whose collector-like namespaces read what the listed functions did (planned when lambda is scanned).
FUNCTION_PHASE = ("insights", "metrics")


def _namespaces(obj: Any) -> Iterable[Any]:
    """``obj`` itself and its module-level attributes that declare SERVICE and OPERATIONS."""
    for candidate in [obj, *vars(obj).values()]:
        if isinstance(getattr(candidate, "SERVICE", None), str) and isinstance(getattr(candidate, "OPERATIONS", None), dict):
            yield candidate


def declared(services: Sequence[str] = ()) -> set[tuple[str, str]]:
    """(boto3 service, operation) of every call a scan of ``services`` (all when empty) may make."""
    names = resolve_services(services)
    out: set[tuple[str, str]] = set()
    mods = [module(n) for n in names]
    mods.append(importlib.import_module("walens.scanners.account.ec2").REGIONS)  # --all-regions
    if "lambda" in names:
        for name in FUNCTION_PHASE:
            try:
                mods.append(importlib.import_module(f"walens.scanners.account.{name}"))
            except ImportError:
                continue
    for mod in mods:
        for ns in _namespaces(mod):
            out |= {(ns.SERVICE, op) for op in ns.OPERATIONS}
    out.add(("sts", "GetCallerIdentity"))
    return out


def action(service: str, operation: str) -> str:
    """The IAM action of ``service:operation`` (API Gateway: ``apigateway:GET``)."""
    if service in APIGATEWAY_SERVICES:
        return "apigateway:GET"
    return f"{PREFIX.get(service, service)}:{operation}"


def apigateway_resource(service: str, operation: str, partition: str = "aws") -> str:
    """The resource ARN an API Gateway read is authorised on (any path of the API when the operation is new)."""
    path = APIGATEWAY_PATHS.get((service, operation), "/*")
    return f"arn:{partition}:apigateway:*::{path}"


def policy(services: Sequence[str] = (), *, role_name: str | None = None, partition: str = "aws") -> dict[str, Any]:
    """The policy document (IAM JSON) for a scan of ``services``."""
    calls = declared(services) - NO_PERMISSION
    actions = sorted({action(s, op) for s, op in calls if s not in APIGATEWAY_SERVICES})
    for a in actions:
        prefix, _, op = a.partition(":")
        if not is_read_only(prefix, op):
            raise AssertionError(f"{a} is not a read: walens never writes to an account")
    statements: list[dict[str, Any]] = [
        {"Sid": "WalensReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}]
    paths = sorted({apigateway_resource(s, op, partition) for s, op in calls if s in APIGATEWAY_SERVICES})
    if paths:
        statements.append({"Sid": "WalensApiGatewayRead", "Effect": "Allow", "Action": "apigateway:GET",
                           "Resource": paths})
    if role_name:
        try:
            from walens.scanners.account.accounts import CALLER_ACTIONS

            caller_actions: tuple[str, ...] = CALLER_ACTIONS
        except ImportError:  # pragma: no cover - the multi-account module is part of the package
            caller_actions = ("sts:AssumeRole",)
        statements.append({"Sid": "WalensAssumeScanRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                           "Resource": f"arn:{partition}:iam::*:role/{role_name}"})
        others = sorted(a for a in caller_actions if a != "sts:AssumeRole")
        if others:
            statements.append({"Sid": "WalensListAccounts", "Effect": "Allow", "Action": others, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
