"""``walens fleet``: the fleet run on this machine, and the member-account role template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

fleet_app = typer.Typer(help="Review every account and region of a fleet (an organization, a list, profiles).",
                        no_args_is_help=True)


@fleet_app.command("run")
def run_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory of the fleet's runs (latest.json, "
                                                                 "runs/<run>/fleet.{json,md,html}).")],
    region: Annotated[list[str], typer.Option("--region", help="Regions to review in every account (repeatable, "
                                                                "or comma-separated).")],
    accounts: Annotated[list[str] | None, typer.Option("--accounts", help="Account IDs (comma-separated), "
                                                                          "reviewed through --role-name.")] = None,
    organization: Annotated[bool, typer.Option("--organization", help="Every active account of the organization "
                                                                      "(organizations:ListAccounts).")] = False,
    profiles: Annotated[list[str] | None, typer.Option("--profiles", help="AWS profiles, one per account "
                                                                          "(no role is assumed).")] = None,
    role_name: Annotated[str | None, typer.Option("--role-name", help="Read-only role in each account "
                                                                      "(deploy/fleet/member-role.yaml).")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id", help="External ID the role asks for.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Caller's AWS profile (the one assuming the "
                                                                  "role).")] = None,
    services: Annotated[list[str] | None, typer.Option("--services", help="Only these services.")] = None,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules or pillars.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules or pillars.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64, help="Partitions reviewed at once.")] = 4,
    per_account: Annotated[int, typer.Option("--per-account", min=1, max=16,
                                             help="Partitions of one account reviewed at once.")] = 2,
    retries: Annotated[int, typer.Option("--retries", min=0, max=10, help="Tries again of a throttled or failed "
                                                                          "partition (exponential backoff).")] = 2,
    backoff: Annotated[float, typer.Option("--backoff", min=0.0, help="Backoff base in seconds.")] = 2.0,
    no_logs_insights: Annotated[bool, typer.Option("--no-logs-insights", help="Skip the Logs Insights query.")] = False,
    waivers_file: Annotated[Path | None, typer.Option("--waivers", help="Accepted risks for the whole fleet "
                                                                        "(per account: an 'account' glob).")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 when a finding at or above this fails.")] = "high",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when a partition was not assessed.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="en or ja.")] = "en",
) -> None:
    """Review every (account, region) partition side by side; write the fleet review and its diff with the last run."""
    from walens.cli import _exit_code, _split
    from walens.errors import EXIT_FINDINGS, UsageError, need_extra

    need_extra("boto3", "walens fleet run")
    import boto3

    from walens.fleet import merge, plan, runner, store, worker

    ids, names = _split(accounts), _split(profiles)
    if sum(map(bool, (ids, names, organization))) != 1:
        raise UsageError("walens fleet run needs exactly one of --accounts, --organization or --profiles")
    if (ids or organization) and not role_name:
        raise UsageError("--accounts and --organization need --role-name (deploy/fleet/member-role.yaml)")
    if waivers_file is not None and not waivers_file.is_file():
        raise UsageError("--waivers: no such file", file=str(waivers_file))
    regions = _split(region)
    options = worker.ScanOptions(role_name=role_name if not names else None, external_id=external_id,
                                 services=_split(services), select=_split(select), ignore=_split(ignore),
                                 lang=lang, fail_on=fail_on, logs_insights=not no_logs_insights,
                                 waivers_path=str(waivers_file) if waivers_file else None)
    caller: Any = None
    session_for = None
    if names:
        def account_of(name: str) -> str:
            sts = boto3.Session(profile_name=name, region_name=regions[0] if regions else None).client("sts")
            return str(sts.get_caller_identity()["Account"])

        parts = plan.profile_partitions(names, regions, account_of)

        def session_for(p: plan.Partition) -> Any:
            return boto3.Session(profile_name=p.profile, region_name=p.region)
    else:
        caller = boto3.Session(profile_name=profile)
        if organization:
            ids = plan.organization_accounts(caller, regions[0] if regions else "us-east-1")
        parts = plan.partitions(ids, regions)
    run = store.run_id()
    target = store.LocalStore(output)
    store.save_plan(target, run, parts)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rwalens fleet: partitions {done}/{total}" + ("\n" if done == total else ""))

    results = runner.run(parts, lambda p: worker.scan_partition(p, options, session=caller, session_for=session_for),
                         options, jobs=jobs, per_account=per_account, retries=retries, backoff=backoff,
                         progress=progress)
    for r in results:
        merge.save_result(target, run, r)
    written = merge.finish(target, run, results, lang=lang)
    typer.echo(merge.summary_text(written.review, target.where(written.keys["html"]), lang))
    code = _exit_code(written.review)
    if strict and written.review["fleet"]["coverage"].get(worker.NOT_ASSESSED):
        code = code or EXIT_FINDINGS
    raise typer.Exit(code)


@fleet_app.command("role-template")
def role_template_command(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")] = None,
    services: Annotated[list[str] | None, typer.Option("--services", help="Only what these services need.")] = None,
    partition: Annotated[str, typer.Option("--partition", help="aws, aws-cn or aws-us-gov.")] = "aws",
) -> None:
    """Print the member accounts' read-only role as a CloudFormation StackSet template (from 'walens iam-policy')."""
    from walens.cli import _split, _write_text
    from walens.errors import need_extra

    need_extra("botocore", "walens fleet role-template")
    from walens.fleet.role import render

    _write_text(render(_split(services), partition=partition), output)
