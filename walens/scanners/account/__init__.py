"""The account scanner: a live AWS account, read-only, into the same resource model as a template.

``collect()`` resolves the session, account and regions, runs one task per (region, service) (and the
tasks those spawn) on a bounded thread pool, and returns what it gathered, gaps included;
``assemble()`` prunes, applies defaults, links the graph and computes facts per (account, region)
partition (``walens.partition``, the path templates take too) and marks as Unknown what a gap hid. Importing this package imports boto3: template mode never does.
See docs/ARCHITECTURE.md, "Account mode".
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from walens.errors import AwsError, UsageError, WalensError, aws_error, did_you_mean
from walens.model import Resource, Unknown

# Service name (as --services takes it) -> collector module, in the order tasks start.
SERVICE_MODULES: dict[str, str] = {
    "lambda": "lambda_",
    "logs": "logs",
    "apigateway": "apigateway",
    "apigatewayv2": "apigatewayv2",
    "iam": "iam",
    "sqs": "sqs",
    "stepfunctions": "stepfunctions",
    "cloudwatch": "cloudwatch",
    "sns": "sns",
    "events": "events",
    "dynamodb": "dynamodb",
    "appsync": "appsync",
    "wafv2": "wafv2",
    "codedeploy": "codedeploy",
    "organizations": "organizations",
    "ec2": "ec2",
}
SERVICE_ALIASES = {"states": "stepfunctions", "sfn": "stepfunctions", "http-api": "apigatewayv2",
                   "apigw": "apigateway", "cw": "cloudwatch", "cloudwatch-logs": "logs",
                   "eventbridge": "events", "ddb": "dynamodb", "waf": "wafv2", "scp": "organizations"}


def module(service: str) -> ModuleType:
    """The collector module of ``service``."""
    return importlib.import_module(f"walens.scanners.account.{SERVICE_MODULES[service]}")


def resolve_services(names: Sequence[str]) -> list[str]:
    """``--services`` values as collector names (all of them when empty); UsageError on an unknown one."""
    if not names:
        return list(SERVICE_MODULES)
    out: list[str] = []
    for name in names:
        key = SERVICE_ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in SERVICE_MODULES:
            raise UsageError(f"--services {name!r}: expected some of {', '.join(SERVICE_MODULES)}"
                             + did_you_mean(name.strip(), [*SERVICE_MODULES, *SERVICE_ALIASES]))
        if key not in out:
            out.append(key)
    return out


def declared_operations() -> dict[str, list[str]]:
    """Every operation each collector declares it may call (``walens iam-policy`` and the read-only test)."""
    return {service: sorted(module(service).OPERATIONS) for service in SERVICE_MODULES}


def collect(*, profile: str | None = None, regions: Sequence[str] = (), all_regions: bool = False,
            services: Sequence[str] = (), max_workers: int = 8, session: Any = None,
            hooks: Sequence[Callable[[Any], None]] = (),
            progress: Callable[[int, int], None] | None = None,
            accounts: Sequence[str] = (), organization: bool = False, role_name: str | None = None,
            external_id: str | None = None, logs_insights: bool = True, insights_days: int = 14,
            insights_wait: float = 120.0, plan: Any = None) -> Any:
    """Gather the account's resources (or several accounts', through ``role_name``); a :class:`core.Collected`.

    A second phase reads what the functions did (Logs Insights, CloudWatch metrics, Compute Optimizer:
    ``insights.plan``) once the first has listed them.

    ``plan`` (walens.needs.plan of the selected rules) keeps the calls to what those rules read: a collector
    none of whose types they read is not run, per-function details they do not read are not asked, the
    second phase runs only for a rule on what functions did. None makes every call.
    """
    import boto3
    import botocore.exceptions

    from walens.scanners.account import accounts as multi
    from walens.scanners.account import insights
    from walens.scanners.account.core import Collected, Ctx, Gap, Scope, run_tasks, task_key

    if max_workers < 1:
        raise UsageError("--max-workers must be at least 1")
    multi.check_options(accounts, organization, role_name, external_id)
    names = planned_services(resolve_services(services), plan)
    modules = {name: module(name) for name in names}
    try:
        session = session or boto3.Session(profile_name=profile)
    except botocore.exceptions.BotoCoreError as exc:  # no such profile, a malformed config file
        raise _aws_error(exc, "open the AWS session") from exc
    home = (list(regions) or [session.region_name or ""])[0]
    if not home and not all_regions:
        raise UsageError("no region: pass --region (or --all-regions), or set AWS_REGION or a profile region")
    home = home or "us-east-1"
    collected = Collected(plan=plan)
    partition = session.get_partition_for_region(home) if hasattr(session, "get_partition_for_region") else "aws"
    scope = Scope(session, "", partition, collected, max_workers, hooks)
    try:
        identity = scope.client("sts", home).get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        # No credentials, expired or refused ones, an unreachable endpoint: one line, exit 4.
        raise _aws_error(exc, "identify the account (sts:GetCallerIdentity)") from exc
    scope.account = str(identity.get("Account"))
    arn = str(identity.get("Arn") or "")
    if arn.startswith("arn:"):
        scope.partition = arn.split(":")[1]
    scopes = [scope]
    if accounts or organization:
        found = multi.targets(scope, home, accounts=accounts, organization=organization, role_name=role_name,
                              external_id=external_id)
        collected.accounts = [t.account for t in found]
        scopes = [t.scope for t in found if t.scope is not None]
    else:
        collected.accounts = [scope.account]
    tasks = []
    all_regions_seen: list[str] = []
    for one in scopes:
        region_list = _regions(one, home, list(regions), all_regions)
        all_regions_seen += [r for r in region_list if r not in all_regions_seen]
        for name, mod in modules.items():
            ctx_regions = [home if home in region_list else region_list[0]] if getattr(mod, "GLOBAL", False) else region_list
            offered = set(session.get_available_regions(mod.SERVICE, scope.partition) or ())
            for region in ctx_regions:
                ctx = Ctx(one, region, mod)
                if offered and region not in offered and not getattr(mod, "GLOBAL", False):
                    collected.add_gap(Gap(one.account, region, mod.SERVICE, "*", "NotOffered", "not_offered",
                                          f"{mod.SERVICE} is not offered in {region}: nothing of it to review there"))
                    continue
                tasks.append((ctx, mod.collect, (ctx,)))
    collected.regions = all_regions_seen or list(regions) or [home]
    plan = getattr(progress, "plan", None)
    if plan is not None:
        plan([task_key(t) for t in tasks])
    try:
        run_tasks(tasks, max_workers, progress)
        # Second phase: what the functions listed above did (memory used, init duration, metrics).
        activity = collected.plan is None or collected.plan.wants_activity()
        after = insights.plan(collected, scopes, collected.regions, names, logs_insights=logs_insights,
                              days=insights_days, wait=insights_wait) if activity else []
        if plan is not None:
            plan([task_key(t) for t in after])
        run_tasks(after, max_workers, progress)
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsError("AWS credentials disappeared during the scan") from exc
    if activity:
        insights.finish(collected, names)
    return collected


def _aws_error(exc: Exception, doing: str) -> WalensError:
    """The one-line error for a failure to reach AWS or to authenticate (exit 4)."""
    return aws_error(exc, doing) or AwsError(f"cannot {doing}: {exc}")


def planned_services(names: Sequence[str], plan: Any) -> list[str]:
    """The collectors a plan needs: those providing a type its rules read (all of ``names`` without a plan).

    IAM keeps only the roles something scanned uses: when roles are read, the collectors of what uses a
    role (functions, state machines) run too.
    """
    if plan is None:
        return list(names)
    from walens.scanners.account import iam

    wanted = [n for n in names if any(plan.wants(t) for t in module(n).PROVIDES)]
    if plan.wants_activity():  # Logs Insights queries the log groups the logs sweep found
        wanted += ["lambda", "logs"]
    if any(plan.wants(t) for t in iam.PROVIDES):
        users = set(iam.ROLE_USERS)
        wanted += [n for n in names if n not in wanted and users & set(module(n).PROVIDES)]
    return [n for n in names if n in wanted]


def _regions(scope: Any, home: str, regions: list[str], all_regions: bool) -> list[str]:
    if not all_regions:
        return list(dict.fromkeys(regions)) or [home]
    from walens.scanners.account import ec2
    from walens.scanners.account.core import CallFailed, Ctx

    ctx = Ctx(scope, home, ec2.REGIONS)
    try:
        # Only the regions the account has enabled (an opt-in region left disabled is not listed).
        found = [r["RegionName"] for r in ctx.pages("DescribeRegions", "Regions")]
    except CallFailed:
        found = scope.session.get_available_regions("lambda", scope.partition)
    return sorted(found) or [home]


def finalize(collected: Any, services: Sequence[str] = ()) -> list[Resource]:
    """The collected resources in a stable order, after each chosen collector's own ``finalize``."""
    resources: list[Resource] = sorted(collected.resources, key=lambda r: (r.account or "", r.region or "",
                                                                            r.type, r.id))
    for name in resolve_services(services):
        finish = getattr(module(name), "finalize", None)
        if finish is not None:
            resources = finish(resources)
    return resources


def relink(resources: list[Resource], base_view: Callable[[Resource], dict[str, Any]]) -> None:
    """Relations graph.link cannot see in account data: a stage's web ACL, a state machine's log group ARN."""
    by_id = {r.id: r for r in resources}
    log_groups = {(r.account, r.region, r.name): r for r in resources if r.type == "AWS::Logs::LogGroup"}
    for r in resources:
        if r.type == "AWS::WAFv2::WebACLAssociation" and r.source == "account":
            stage = by_id.get(str(r.properties.get("ResourceArn")))
            if stage is None:
                continue
            stage.related["waf"] = base_view(r)
            api = by_id.get(stage.id.rsplit("/stages/", 1)[0])
            if api is not None:
                api.related["waf"] = base_view(r)
        elif r.type == "AWS::StepFunctions::StateMachine" and r.related.get("log_group") is None:
            logging = r.properties.get("LoggingConfiguration")
            for dest in (logging.get("Destinations") or []) if isinstance(logging, dict) else []:
                arn = ((dest or {}).get("CloudWatchLogsLogGroup") or {}).get("LogGroupArn")
                if isinstance(arn, str) and ":log-group:" in arn:
                    name = arn.split(":log-group:", 1)[1].removesuffix(":*")
                    group = log_groups.get((r.account, r.region, name))
                    if group is not None:
                        r.related["log_group"] = base_view(group)
                        break


def unknown_marks(collected: Any, resources: list[Resource],
                  services: Sequence[str] = ()) -> dict[str, list[tuple[str, str, Unknown]]]:
    """resource id -> [(section, key, Unknown)] from region-wide gaps and per-resource failures."""
    marks: dict[str, list[tuple[str, str, Unknown]]] = {}
    by_service = {m.SERVICE: m for m in (module(n) for n in resolve_services(services))}
    for gap in collected.gaps.values():
        mod = by_service.get(gap.service)
        unknowns = getattr(mod, "REGION_UNKNOWNS", {}) if mod else {}
        targets = list(unknowns.get(gap.operation, ()))
        if gap.kind == "internal" and mod is not None and gap.operation not in mod.OPERATIONS:
            # The collector failed inside walens: any of its listings may be incomplete there.
            targets = [t for items in unknowns.values() for t in items]
        if not targets:
            continue
        global_ = getattr(mod, "GLOBAL", False)
        value = Unknown(gap.reason)
        for r in resources:
            if r.account != gap.account or (not global_ and r.region != gap.region):
                continue
            for rtype, section, key, *only in targets:
                # An optional fourth item names a property the resource must have for the gap to touch it.
                if r.type == rtype and (not only or only[0] in r.properties):
                    marks.setdefault(r.id, []).append((section, key, value))
    known = {r.id for r in resources}
    for rid, items in collected.unknowns.items():
        if rid in known:
            marks.setdefault(rid, []).extend(items)
    return marks


def hidden_types(gap: Any) -> frozenset[str]:
    """The resource types a gap hid entirely where it happened (none when it hid only details).

    A failed listing hides the types its operation lists; a collector that failed inside walens may have
    stopped before listing anything, so it hides every type its module lists; a role that could not be
    assumed hides the whole account. A service the region does not offer hides nothing: there is nothing
    of it there.
    """
    if gap.kind == "not_offered":
        return frozenset()
    if gap.service == "sts" and gap.operation == "AssumeRole":
        return frozenset(t for name in SERVICE_MODULES for types in module(name).OPERATIONS.values() for t in types)
    mod = module_for(gap.service)
    if mod is None:
        return frozenset()
    if gap.kind == "internal" and gap.operation not in mod.OPERATIONS:
        return frozenset(t for types in mod.OPERATIONS.values() for t in types)
    return frozenset(mod.OPERATIONS.get(gap.operation, ()))


def provides(services: Sequence[str] = ()) -> dict[str, frozenset[str]]:
    """Resource type -> the Properties the chosen collectors fill (every collector's when ``services`` is empty)."""
    out: dict[str, set[str]] = {}
    for name in resolve_services(services):
        for rtype, props in module(name).PROVIDES.items():
            out.setdefault(rtype, set()).update(props)
    return {t: frozenset(p) for t, p in out.items()}


def unprovided(rules: Sequence[Any], services: Sequence[str] = ()) -> dict[str, str]:
    """Rule id -> why the account scan cannot judge it: data its expressions read that no chosen collector provides.

    Checked before any call. Data no collector reads at all is named as such; data a collector left out by
    ``--services`` would read names that collector.
    """
    from walens import needs

    names = resolve_services(services)
    chosen = provides(names)
    every = provides()
    out: dict[str, str] = {}
    for rule in rules:
        if "account" not in rule.scope:
            continue
        missing = needs.missing(rule, chosen)
        if not missing:
            continue
        never = needs.missing(rule, every)
        if never:
            out[rule.id] = f"the account scanner does not read {needs.describe(never)}"
            continue
        left_out = [n for n in missing if n.type in every and (n.property is None or n.property in every[n.type])]
        skipped = sorted({name for name in SERVICE_MODULES if name not in names for n in left_out
                          for t in (n.type, *(a for a, _ in n.alternatives)) if t in module(name).PROVIDES})
        out[rule.id] = f"not scanned: --services leaves out {', '.join(skipped)}, which reads {needs.describe(left_out)}"
    return out


def module_for(service: str) -> ModuleType | None:
    for name in SERVICE_MODULES:
        mod = module(name)
        if mod.SERVICE == service:
            return mod
    return None


def progress_printer(stream: Any = None) -> Callable[[int, int], None] | None:
    """A one-line progress display on stderr when it is a terminal (accounts/regions/services done); None otherwise."""
    from walens.scanners.account.accounts import Progress

    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return Progress(stream)
