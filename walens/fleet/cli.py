"""``walens fleet``: the fleet run on this machine, and the member-account role template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from walens.choices import FailOn, Lang
from walens.errors import UsageError

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
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity "
                                                              "fails.")] = FailOn.high,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 5 when anything could not be judged: a partition "
                                                          "not assessed, a gap (denied or failed call) or a "
                                                          "not-assessed result.")] = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the reports.")] = Lang.en,
) -> None:
    """Review every (account, region) partition side by side; write the fleet review and its diff with the last run."""
    from walens.cli import _exit_code, _split
    from walens.errors import need_extra

    need_extra("boto3", "walens fleet run")
    import boto3

    from walens.fleet import merge, plan, runner, store, worker

    # Everything the user typed is checked before any AWS call and before anything is written.
    ids, names = _split(accounts), _split(profiles)
    if sum(map(bool, (ids, names, organization))) != 1:
        raise UsageError("walens fleet run needs exactly one of --accounts, --organization or --profiles")
    if names:
        given = [flag for flag, value in (("--role-name", role_name), ("--external-id", external_id),
                                          ("--profile", profile)) if value]
        if given:
            raise UsageError(f"--profiles reviews each profile's own account with its own credentials: "
                             f"{' and '.join(given)} would be ignored; drop {'them' if len(given) > 1 else 'it'}")
    else:
        from walens.scanners.account.accounts import check_options

        check_options(ids, organization, role_name, external_id)  # --role-name needed and well-formed
        ids = plan.check_accounts(ids)
    regions = plan.check_regions(_split(region))
    options = worker.ScanOptions(role_name=role_name if not names else None, external_id=external_id,
                                 services=_split(services), select=_split(select), ignore=_split(ignore),
                                 lang=lang.value, fail_on=fail_on.value, logs_insights=not no_logs_insights,
                                 waivers_path=str(waivers_file) if waivers_file else None, strict=strict)
    _check_options(options)
    _check_output(output)
    if names:
        _check_profiles(names)

    caller: Any = None
    session_for = None
    if names:
        def account_of(name: str) -> str:
            return plan.caller_account(boto3.Session(profile_name=name), regions[0], f"--profiles {name!r}")

        parts = plan.profile_partitions(names, regions, account_of,
                                        note=lambda text: sys.stderr.write(f"walens: {text}\n"))

        def session_for(p: plan.Partition) -> Any:
            return boto3.Session(profile_name=p.profile, region_name=p.region)
    else:
        caller = boto3.Session(profile_name=profile)
        # No credentials, refused or expired ones, AWS unreachable: one line, exit 4, as 'scan account' says it.
        plan.caller_account(caller, regions[0])
        if organization:
            ids = plan.organization_accounts(caller, regions[0])
        parts = plan.partitions(ids, regions)
    _check_output(output, make=True)
    run = store.run_id()
    target = store.LocalStore(output)
    store.save_plan(target, run, parts)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\rwalens fleet: partitions {done}/{total}" + ("\n" if done == total else ""))

    def keep(result: runner.Result) -> None:
        # Stored as soon as it is done, then let go: the merge reads every partition back from the store, as
        # the Step Functions Merge task does, so the run never holds all the reviews and the merge at once.
        merge.save_result(target, run, result)
        result.review = {}

    runner.run(parts, lambda p: worker.scan_partition(p, options, session=caller, session_for=session_for),
               options, jobs=jobs, per_account=per_account, retries=retries, backoff=backoff, progress=progress,
               on_result=keep)
    written = merge.finish(target, run, merge.load_results(target, run, parts, options), lang=options.lang)
    typer.echo(merge.summary_text(written.review, target.where(written.keys["html"]), options.lang))
    summary = written.review["summary"]
    if summary.get("incomplete"):
        typer.echo(f"--strict: {summary.get('gaps', 0)} gap(s) and {summary.get('not_assessed', 0)} result(s) "
                   "not assessed: exit 5.")
    # The same exit code as 'walens scan account' on the merged review: 5 under --strict when anything was not
    # judged (a partition not assessed is a gap), else 1 for failing findings at or above --fail-on.
    raise typer.Exit(_exit_code(written.review))


def _check_options(options: Any) -> None:
    """--services, --select/--ignore and --waivers as every partition's scan would read them: UsageError now."""
    from walens.rules import load_rules, select_rules
    from walens.scanners.account import resolve_services

    resolve_services(options.services)
    select_rules(load_rules(options.rules_dirs), options.select, options.ignore)
    if options.waivers_path is not None:
        from walens.waivers import load_for_scan

        load_for_scan(options.waivers_path)


def _check_output(output: Path, *, make: bool = False) -> None:
    """``-o`` is a directory of runs: an existing file there, or a directory that cannot be made, is a usage error."""
    if output.exists() and not output.is_dir():
        raise UsageError("--output: not a directory (walens fleet run writes a directory of runs)", file=str(output))
    above = next((d for d in output.absolute().parents if d.exists()), None)
    if above is not None and not above.is_dir():
        raise UsageError(f"--output: {above} is a file, not a directory", file=str(output))
    if not make:
        return
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output: cannot create the directory: {exc.strerror}", file=str(output)) from exc


def _check_profiles(names: list[str]) -> None:
    """Every --profiles name is in the shared config or credentials files (exit 4, as 'scan account --profile')."""
    import botocore.session

    from walens.errors import AwsError, did_you_mean

    known = botocore.session.Session().available_profiles
    for name in names:
        if name not in known:
            raise AwsError(f"--profiles: AWS profile {name!r} not found in the shared config and credentials "
                           f"files{did_you_mean(name, known)} (see 'aws configure list-profiles')")


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
