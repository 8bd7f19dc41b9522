"""The ``walens`` command line: parses options, calls the pipeline, maps outcomes to exit codes."""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from walens import __version__
from walens.choices import FailOn, Lang
from walens.errors import (EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError,
                           WalensError, aws_error, missing_extra, need_extra)

app = typer.Typer(
    name="walens",
    help="Review serverless workloads on AWS against the Well-Architected Serverless Lens.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
scan_app = typer.Typer(help="Scan templates or an AWS account.", no_args_is_help=True)
rules_app = typer.Typer(help="List and explain the rules.", no_args_is_help=True)
app.add_typer(scan_app, name="scan")
app.add_typer(rules_app, name="rules")
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
baseline_app = typer.Typer(help="Record today's findings so that only new ones fail the build.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(baseline_app, name="baseline")

_state = {"debug": False}


class Format(StrEnum):
    console = "console"
    json = "json"
    markdown = "markdown"
    html = "html"
    sarif = "sarif"
    junit = "junit"
    pdf = "pdf"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"walens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["debug"] = debug


def _split(values: list[str] | None) -> list[str]:
    """Accept both repeated options and comma-separated lists."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _use_color(fmt: Format, output: Path | None) -> bool:
    return fmt is Format.console and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _render(doc: dict[str, Any], fmt: Format, lang: Lang, output: Path | None,
            options: dict[str, Any] | None = None) -> None:
    from walens import reporters

    if fmt is Format.pdf:
        from walens.reporters import pdf

        if output is None:
            raise UsageError("--format pdf needs --output FILE")
        pdf.write(doc, str(output), lang.value, **(options or {}))
        _wrote(fmt.value, output)
        return
    color = _use_color(fmt, output)
    if output is None:
        reporters.write(fmt.value, doc, sys.stdout, lang.value, color=color, options=options)
        sys.stdout.flush()
        return
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            reporters.write(fmt.value, doc, handle, lang.value, color=color, options=options)
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror}", file=str(output)) from exc
    _wrote(fmt.value, output)


def _wrote(what: str, output: Path) -> None:
    """Say where ``-o`` wrote (on stderr: stdout stays free for what the run prints there)."""
    sys.stderr.write(f"walens: wrote the {what} report to {output}\n")


def _exit_code(doc: dict[str, Any]) -> int:
    # An unreadable input wins over failing findings: the review is incomplete either way.
    if doc.get("errors"):
        return EXIT_INPUT
    # --strict: what could not be judged (a gap, a not-assessed result) fails the run before any finding.
    if doc.get("summary", {}).get("incomplete"):
        return EXIT_INCOMPLETE
    if doc.get("summary", {}).get("failed"):
        return EXIT_FINDINGS
    return EXIT_OK


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 5 when anything could not be judged: a gap "
                                                          "(denied or failed call) or a not-assessed result.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of the report.")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Report title on the cover (HTML/PDF).")]
CustomerOpt = Annotated[str | None, typer.Option("--customer", help="Customer named on the cover (HTML/PDF).")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Author named on the cover (HTML/PDF).")]
LogoOpt = Annotated[Path | None, typer.Option("--logo", metavar="FILE", help="Logo image embedded on the cover "
                                                                             "(PNG, JPEG, GIF, WebP or SVG; HTML/PDF).")]
RepoUrlOpt = Annotated[str | None, typer.Option("--repo-url", metavar="URL", help="Link findings to file lines under URL "
                                                                                  "(Markdown), e.g. https://github.com/o/r/blob/main/")]


def _report_options(title: str | None, customer: str | None, author: str | None, logo: Path | None,
                    repo_url: str | None) -> dict[str, Any]:
    """Options of the HTML/PDF/Markdown reports; the logo is read (and checked) before the scan runs."""
    options: dict[str, Any] = {"title": title, "customer": customer, "author": author, "repo_url": repo_url}
    if logo is not None:
        from walens.reporters.html import logo_data_uri

        options["logo"] = logo_data_uri(logo)
    if repo_url is not None:
        from walens.reporters.markdown import check_repo_url

        check_repo_url(repo_url)
    return {k: v for k, v in options.items() if v is not None}
WorkloadOpt = Annotated[
    str | None, typer.Option("--workload", help="Workload name in the history [default: the folder of the first path].")
]
WaiversOpt = Annotated[
    Path | None, typer.Option("--waivers", help="Accepted risks file [default: the nearest .walens-waivers.yml].")
]
WaiversExpiringOpt = Annotated[
    int | None, typer.Option("--waivers-expiring-within", metavar="DAYS", min=0,
                             help="List the waivers that expire within DAYS days.")
]
HistoryOpt = Annotated[
    str | None, typer.Option("--history", help="History: a SQLite file or s3://bucket/prefix "
                                               "[default: $XDG_DATA_HOME/walens/history.sqlite].")
]


ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Configuration file (default: .walens.yml or [tool.walens] in "
                                               "pyproject.toml, found walking up to the repository root).")
]


def _config(config: Path | None, **flags: Any) -> Any:
    """The configuration file's values with the flags given on the command line on top."""
    from walens.config import load_config

    return load_config(str(config) if config is not None else None).with_flags(**flags)


def _default_paths(paths: list[str] | None, cfg: Any) -> list[str]:
    """No PATH: the repository root (the configuration's include/exclude then choose the files), said on stderr.

    Outside a repository (no ``.git`` above, no configuration file) there is no root to default to.
    """
    if paths:
        return paths
    from walens.config import find_root

    if cfg.path is None and find_root() is None:
        raise UsageError("no PATH: name template files, folders or globs, or - to read stdin (with no PATH, "
                         "walens reviews the repository root, and the current directory is in none)")
    rel = os.path.relpath(cfg.root)
    root = rel if not rel.startswith("..") else cfg.root
    rules = f", with the include/exclude of {cfg.path}" if cfg.path else ""
    sys.stderr.write(f"walens: no PATH given: reviewing the repository root {root}{rules}\n")
    return [root]


def _github(doc: dict[str, Any], fmt: Format, lang: str, output: Path | None) -> None:
    """Inside GitHub Actions: annotations on the failing lines, and the Markdown summary of the job."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from walens import github

    # Workflow commands are read from the step's output; keep a machine-readable report on stdout clean.
    stream = sys.stdout if output is not None or fmt in (Format.console, Format.markdown) else sys.stderr
    github.annotate(doc, stream, lang)
    stream.flush()
    github.write_step_summary(doc, lang)


@scan_app.command("template")
def scan_template(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Template files, folders, globs, or - for stdin (default: the repository root, "
                            "filtered by the configuration's include/exclude)."),
    ] = None,
    fmt: FormatOpt = Format.console,
    output: OutputOpt = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="Language of the report [default: en].")] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity fails "
                                                      "[default: high].")
    ] = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", help="Only these rule IDs/names, pillars or ChoiceIds (repeatable, or comma-separated).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rule IDs/names, pillars or ChoiceIds (repeatable, or comma-separated).")
    ] = None,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Extra rules (same schema); repeatable.")
    ] = None,
    cfn_lint: Annotated[
        bool, typer.Option("--cfn-lint", help="Also run cfn-lint's schema validation on the same files.")
    ] = False,
    config: ConfigOpt = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Baseline file: its findings are listed but do not fail the run.")
    ] = None,
    report_unused_suppressions: Annotated[
        bool, typer.Option("--report-unused-suppressions", help="List suppressions that matched nothing (and fail).")
    ] = False,
    changed_since: Annotated[
        str | None, typer.Option("--changed-since", metavar="REF", help="Only templates changed since this git ref "
                                                                       "(and uncommitted or untracked ones).")
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Store the review in the history (see 'walens history').")] = False,
    workload: WorkloadOpt = None,
    history_location: HistoryOpt = None,
    waivers_file: WaiversOpt = None,
    waivers_expiring_within: WaiversExpiringOpt = None,
    title: TitleOpt = None,
    customer: CustomerOpt = None,
    author: AuthorOpt = None,
    logo: LogoOpt = None,
    repo_url: RepoUrlOpt = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes for a batch of 24 or more files "
                                                             "(default: one per CPU, at most 8; 1 = none).")
    ] = None,
    strict: StrictOpt = False,
) -> None:
    """Review SAM/CloudFormation templates."""
    from walens.pipeline import scan_templates

    report_options = _report_options(title, customer, author, logo, repo_url)

    cfg = _config(
        config,
        lang=lang.value if lang else None,
        fail_on=fail_on.value if fail_on else None,
        select=_split(select) or None,
        ignore=_split(ignore) or None,
        rules_dirs=[str(p) for p in rules_dir] if rules_dir else None,
        baseline=str(baseline) if baseline else None,
        report_unused_suppressions=True if report_unused_suppressions else None,
    )
    if changed_since is not None:
        from walens.config import changed_files

        cfg.only = changed_files(changed_since, cfg.root)
    from walens import history, waivers

    scan_paths = _default_paths(paths, cfg)
    waiver_set = waivers.load_for_scan(str(waivers_file) if waivers_file else None)
    kept = history.prepare_scan(scan_paths, save=save, workload=workload, location=history_location)
    doc = scan_templates(scan_paths, cfn_lint=cfn_lint, config=cfg, waivers=waiver_set,
                         waivers_expiring_within=waivers_expiring_within, answers=kept.answers, jobs=jobs,
                         strict=strict)
    if changed_since is not None and not doc["scan"]["inputs"] and not doc.get("errors"):
        typer.echo(f"walens: no template changed since {changed_since}", err=True)
    note = history.record_scan(doc, kept)
    if note:
        typer.echo(note, err=True)
    _render(doc, fmt, Lang(cfg["lang"]), output, report_options)
    _github(doc, fmt, cfg["lang"], output)
    raise typer.Exit(_exit_code(doc))


@scan_app.command("account")
def scan_account(
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile (default: the standard credential chain).")] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Region to scan (repeatable, or comma-separated; default: the profile's).")
    ] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Scan every region the account has enabled.")] = False,
    services: Annotated[
        list[str] | None, typer.Option("--services", help="Only these services, e.g. lambda,apigateway (default: all).")
    ] = None,
    max_workers: Annotated[int, typer.Option("--max-workers", help="Concurrent API calls.", min=1, max=64)] = 8,
    fmt: FormatOpt = Format.console,
    output: OutputOpt = None,
    lang: LangOpt = Lang.en,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity fails.")
    ] = FailOn.high,
    select: Annotated[
        list[str] | None, typer.Option("--select", help="Only these rule IDs/names or pillars (repeatable, or comma-separated).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rule IDs/names or pillars (repeatable, or comma-separated).")
    ] = None,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Extra rules (same schema); repeatable.")
    ] = None,
    accounts: Annotated[
        list[str] | None, typer.Option("--accounts", help="Review these accounts (IDs, comma-separated) by assuming "
                                                          "--role-name in each; one consolidated review.")
    ] = None,
    organization: Annotated[
        bool, typer.Option("--organization", help="Review every active account of the organization "
                                                  "(organizations:ListAccounts), assuming --role-name in each.")
    ] = False,
    role_name: Annotated[
        str | None, typer.Option("--role-name", help="Role to assume in each account (arn:aws:iam::ID:role/NAME).")
    ] = None,
    external_id: Annotated[str | None, typer.Option("--external-id", help="External ID the role's trust policy asks for.")] = None,
    no_logs_insights: Annotated[
        bool, typer.Option("--no-logs-insights", help="Skip the Logs Insights query of functions' REPORT lines "
                                                      "(memory used, init duration).")
    ] = False,
    save: Annotated[bool, typer.Option("--save", help="Store the review in the history (see 'walens history').")] = False,
    workload: Annotated[
        str | None, typer.Option("--workload", help="Workload name in the history [default: aws-<account ID>].")
    ] = None,
    history_location: HistoryOpt = None,
    waivers_file: WaiversOpt = None,
    waivers_expiring_within: WaiversExpiringOpt = None,
    title: TitleOpt = None,
    customer: CustomerOpt = None,
    author: AuthorOpt = None,
    logo: LogoOpt = None,
    repo_url: RepoUrlOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Review a live AWS account, read-only (AWS_ENDPOINT_URL is respected)."""
    need_extra("boto3", "walens scan account")
    report_options = _report_options(title, customer, author, logo, repo_url)
    from walens import history, waivers
    from walens.pipeline import scan_account as run
    from walens.scanners.account import progress_printer

    if region and all_regions:
        raise UsageError("--region and --all-regions exclude each other")
    waiver_set = waivers.load_for_scan(str(waivers_file) if waivers_file else None)
    kept = None
    if workload is not None:  # named: the history (and its answers) is opened before the scan
        kept = history.prepare_scan([], save=save, workload=workload, location=history_location)
    doc = run(
        profile=profile,
        regions=_split(region),
        all_regions=all_regions,
        services=_split(services),
        max_workers=max_workers,
        lang=lang.value,
        fail_on=fail_on.value,
        select=_split(select),
        ignore=_split(ignore),
        rules_dirs=[str(p) for p in rules_dir or []],
        progress=progress_printer(),
        accounts=_split(accounts),
        organization=organization,
        role_name=role_name,
        external_id=external_id,
        logs_insights=not no_logs_insights,
        waivers=waiver_set,
        waivers_expiring_within=waivers_expiring_within,
        answers=kept.answers if kept is not None else None,
        strict=strict,
    )
    if kept is None and save:  # unnamed: the workload is the account(s) the scan identified
        kept = history.prepare_scan([], save=save, workload=_account_workload(doc), location=history_location)
        if kept.answers:
            from walens.answers import apply as apply_answers

            apply_answers(doc, kept.answers)
    note = history.record_scan(doc, kept) if kept is not None else None
    if note:
        typer.echo(note, err=True)
    _render(doc, fmt, lang, output, report_options)
    raise typer.Exit(_exit_code(doc))


def _account_workload(doc: dict[str, Any]) -> str:
    """``aws-<account>`` (up to three accounts joined; more: ``aws-<N>-accounts``)."""
    ids = [str(a) for a in (doc.get("scan") or {}).get("accounts") or []]
    if not ids:
        return "aws-account"
    return "aws-" + "-".join(ids) if len(ids) <= 3 else f"aws-{len(ids)}-accounts"


@app.command("iam-policy")
def iam_policy(
    services: Annotated[
        list[str] | None, typer.Option("--services", help="Only what scanning these services needs (default: all).")
    ] = None,
    role_name: Annotated[
        str | None, typer.Option("--role-name", help="Add what the caller of a multi-account scan needs: "
                                 "sts:AssumeRole on this role (and listing the organization's accounts).")
    ] = None,
    partition: Annotated[str, typer.Option("--partition", help="aws, aws-cn or aws-us-gov.")] = "aws",
    output: OutputOpt = None,
) -> None:
    """Print the minimal read-only IAM policy 'scan account' needs (from what its collectors declare)."""
    need_extra("botocore", "walens iam-policy")
    from walens.scanners.account.iampolicy import policy

    _write_text(json.dumps(policy(_split(services), role_name=role_name, partition=partition), indent=2) + "\n",
                output)

@app.command("report")
def report(
    review: Annotated[Path, typer.Argument(help="A review JSON document written by --format json.")],
    fmt: FormatOpt = Format.html,
    output: OutputOpt = None,
    lang: LangOpt = Lang.en,
    title: TitleOpt = None,
    customer: CustomerOpt = None,
    author: AuthorOpt = None,
    logo: LogoOpt = None,
    repo_url: RepoUrlOpt = None,
) -> None:
    """Re-render a saved review without scanning again."""
    report_options = _report_options(title, customer, author, logo, repo_url)
    try:
        doc = json.loads(review.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the review: {exc.strerror}", file=str(review)) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"not a JSON document: {exc}", file=str(review)) from exc
    if not isinstance(doc, dict) or "schema_version" not in doc or "findings" not in doc:
        raise UsageError("not a walens review document (no schema_version/findings)", file=str(review))
    if str(doc["schema_version"]).split(".")[0] != "1":
        raise UsageError(f"unsupported review schema_version {doc['schema_version']!r}", file=str(review))
    _render(doc, fmt, lang, output, report_options)


@app.command("merge")
def merge_command(
    reviews: Annotated[list[Path], typer.Argument(help="Review JSON documents written by --format json.")],
    fmt: FormatOpt = Format.json,
    output: OutputOpt = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="Language of the report [default: the reviews'].")] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity fails "
                                                      "[default: the strictest of the reviews'].")
    ] = None,
) -> None:
    """Consolidate reviews made separately (e.g. one process per account) into one review."""
    from walens.merge import merge_files

    doc = merge_files([str(p) for p in reviews], fail_on=fail_on.value if fail_on else None)
    _render(doc, fmt, lang or Lang(doc.get("lang") or "en"), output)
    raise typer.Exit(_exit_code(doc))


@rules_app.command("list")
def rules_list(
    lang: LangOpt = Lang.en,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra rules.")] = None,
) -> None:
    """List every rule: ID, severity, pillar, best practice and title."""
    from walens.reporters.catalogue import rules_table
    from walens.rules import load_rules

    typer.echo(rules_table(load_rules([str(p) for p in rules_dir or []]), lang.value))


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule ID (COST001) or name.")],
    lang: LangOpt = Lang.en,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra rules.")] = None,
) -> None:
    """Explain one rule: what it checks, why, how to fix it."""
    from walens.reporters.catalogue import rule_text
    from walens.rules import load_rules

    wanted = rule_id.strip()
    for rule in load_rules([str(p) for p in rules_dir or []]):
        if wanted.upper() == rule.id or wanted == rule.name:
            typer.echo(rule_text(rule, lang.value))
            return
    from walens.errors import did_you_mean

    names = [n for r in load_rules([str(p) for p in rules_dir or []]) for n in (r.id, r.name)]
    raise UsageError(f"no rule {wanted!r}{did_you_mean(wanted, names)}; see 'walens rules list'")


class LensFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("lens")
def lens_command(
    lang: LangOpt = Lang.en,
    fmt: Annotated[LensFormat, typer.Option("--format", "-f", help="Output format.")] = LensFormat.text,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra rules.")] = None,
) -> None:
    """The 38 best practices of the Serverless Lens: tier, check kind, the rules that evidence each, the question to ask."""
    from walens.reporters.catalogue import lens_json, lens_text
    from walens.rules import load_rules

    rules = load_rules([str(p) for p in rules_dir or []])
    if fmt is LensFormat.json:
        typer.echo(json.dumps(lens_json(rules, lang.value), ensure_ascii=False, indent=2))
        return
    typer.echo(lens_text(rules, lang.value))


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


@config_app.command("show")
def config_show(
    config: ConfigOpt = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="Output format.")] = ShowFormat.text,
    lang: Annotated[Lang | None, typer.Option("--lang", help="Language of the report.")] = None,
    fail_on: Annotated[FailOn | None, typer.Option("--fail-on", help="As on 'scan template'.")] = None,
    select: Annotated[list[str] | None, typer.Option("--select", help="As on 'scan template'.")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="As on 'scan template'.")] = None,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="As on 'scan template'.")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="As on 'scan template'.")] = None,
) -> None:
    """Print the effective configuration and where each value came from (default, the file, or a flag)."""
    from walens.config import resolve_rules
    from walens.reporters.catalogue import config_text
    from walens.rules import load_rules

    cfg = _config(
        config,
        lang=lang.value if lang else None,
        fail_on=fail_on.value if fail_on else None,
        select=_split(select) or None,
        ignore=_split(ignore) or None,
        rules_dirs=[str(p) for p in rules_dir] if rules_dir else None,
        baseline=str(baseline) if baseline else None,
    )
    rules = resolve_rules(cfg, load_rules(cfg["rules_dirs"]))  # validates every rule ID the file names
    shown = cfg.show()
    shown["rules"] = sorted(r.id for r in rules)
    if fmt is ShowFormat.json:
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    typer.echo(config_text(shown))


def _baseline_scan(paths: list[str] | None, config: Path | None, baseline: str | None) -> tuple[Any, dict[str, Any]]:
    from walens.pipeline import scan_templates

    cfg = _config(config, baseline=baseline, fail_on="never")
    if baseline is None:
        cfg.values["baseline"] = None  # create: record everything, whatever the configuration names
    doc = scan_templates(_default_paths(paths, cfg), config=cfg)
    if doc.get("errors"):
        for e in doc["errors"]:
            where = f"{e.get('file')}:{e['line']}" if e.get("line") else str(e.get("file"))
            sys.stderr.write(f"walens: {where}: {e.get('message')}\n")
    return cfg, doc


@baseline_app.command("create")
def baseline_create(
    paths: Annotated[list[str] | None, typer.Argument(help="As on 'scan template' (default: the repository root).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The baseline file to write.")] = Path(".walens-baseline.json"),
    config: ConfigOpt = None,
) -> None:
    """Record every failing finding of the templates (selected rules, suppressions applied) in a baseline file."""
    from walens import baseline as bl
    from walens.config import relative_path

    cfg, doc = _baseline_scan(paths, config, None)
    entries = []
    for f in doc["findings"]:
        if f["status"] != "fail":
            continue
        rel = relative_path((f.get("location") or {}).get("file") or "<stdin>", cfg.root)
        entries.append({"fingerprint": f["fingerprint"], "rule_id": f["rule_id"], "file": rel,
                        "resource": f["resource"]["id"], "origin": f["resource"].get("origin") or f["resource"]["id"],
                        "severity": f["severity"], "message": f["message"]})
    bl.write(str(output), entries)
    typer.echo(f"walens: recorded {len(entries)} failing findings of {len(doc['scan']['inputs'])} templates in {output}")
    raise typer.Exit(_exit_code({"errors": doc.get("errors")}))


@baseline_app.command("update")
def baseline_update(
    paths: Annotated[list[str] | None, typer.Argument(help="As on 'scan template' (default: the repository root).")] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="The baseline file (default: the configuration's, "
                                                                      "else .walens-baseline.json).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Tighten a baseline: drop the entries of reviewed templates that no longer fail. New failures are not added."""
    from walens import baseline as bl

    file = str(baseline) if baseline else None
    if file is None:
        from walens.config import load_config

        file = load_config(str(config) if config else None)["baseline"] or bl.DEFAULT_PATH
    cfg, doc = _baseline_scan(paths, config, file)
    fixed = {e["fingerprint"] for e in doc["baseline"]["fixed"]}
    kept = [e for fp, e in bl.Baseline.load(file).entries.items() if fp not in fixed]
    bl.write(file, kept)
    typer.echo(f"walens: removed {len(fixed)} fixed entries from {file}; {len(kept)} remain; "
               f"{doc['baseline']['new']} new failing findings were not added")
    raise typer.Exit(_exit_code({"errors": doc.get("errors")}))


# ---------------------------------------------------------------------------------------------
# Reviews over time: history, diff, manual answers, the Well-Architected Tool (walens/history.py,
# walens/diff.py, walens/answers.py, walens/watool.py).

history_app = typer.Typer(help="Saved reviews (scan template --save).", no_args_is_help=True)
app.add_typer(history_app, name="history")
watool_app = typer.Typer(help="Write a review into the AWS Well-Architected Tool.", no_args_is_help=True)
app.add_typer(watool_app, name="wa-tool")


class ListFormat(StrEnum):
    console = "console"
    json = "json"


class DiffFormat(StrEnum):
    console = "console"
    json = "json"
    markdown = "markdown"
    html = "html"


def _only_workload(store: Any, workload: str | None) -> str:
    """The workload named, or the history's only one."""
    from walens.history import check_workload

    if workload is not None:
        return check_workload(workload)
    names = store.workloads()
    if len(names) == 1:
        return str(names[0])
    if not names:
        raise UsageError(f"the history {store.location} has no review yet (walens scan template ... --save)")
    raise UsageError(f"the history holds several workloads ({', '.join(names)}): name one with --workload")


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror}", file=str(output)) from exc
    sys.stderr.write(f"walens: wrote {output}\n")


@history_app.command("list")
def history_list(
    workload: WorkloadOpt = None,
    history_location: HistoryOpt = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.console,
) -> None:
    """List saved reviews, oldest first: ID, date, workload, failing findings by severity."""
    from walens.history import open_history
    from walens.reporters.catalogue import history_table

    store = open_history(history_location)
    infos = store.list(workload)
    if fmt is ListFormat.json:
        typer.echo(json.dumps([i.to_dict() for i in infos], ensure_ascii=False, indent=2))
        return
    typer.echo(history_table([i.to_dict() for i in infos], str(store.location)))


@history_app.command("show")
def history_show(
    review_id: Annotated[str, typer.Argument(help="A review ID from 'walens history list'.")],
    history_location: HistoryOpt = None,
    fmt: FormatOpt = Format.console,
    output: OutputOpt = None,
    lang: Annotated[Lang | None, typer.Option("--lang", help="Language [default: the review's].")] = None,
) -> None:
    """Re-render a saved review with any reporter."""
    from walens.history import open_history, since_last_review

    store = open_history(history_location)
    doc = store.get(review_id)
    if doc.get("workload"):  # what changed since the review before it, and the trend up to it
        since = since_last_review(store, str(doc["workload"]), doc, current_id=str(review_id).strip().lstrip("#"))
        if since is not None:
            doc["since_last_review"] = since
    store.close()
    _render(doc, fmt, lang or Lang(doc.get("lang") or "en"), output)


def _load_ref(ref: str, store: Any) -> tuple[dict[str, Any], str]:
    """A review from a JSON file (when ``ref`` is one) or from the history by ID."""
    from walens.diff import read_review_file

    if Path(ref).is_file():
        return read_review_file(ref), ref
    if store is None:
        raise UsageError(f"{ref!r} is neither a review JSON file nor a review ID")
    return store.get(ref), ref


@app.command("diff")
def diff_command(
    old: Annotated[str | None, typer.Argument(help="Older review: an ID or a review JSON file [default: the "
                                                   "second-to-last review of the workload].")] = None,
    new: Annotated[str | None, typer.Argument(help="Newer review: an ID or a review JSON file [default: the "
                                                   "last review of the workload].")] = None,
    workload: WorkloadOpt = None,
    history_location: HistoryOpt = None,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.console,
    output: OutputOpt = None,
    lang: LangOpt = Lang.en,
) -> None:
    """What changed between two reviews: new, resolved, persisting and changed-severity findings."""
    from walens import diff
    from walens.history import open_history
    from walens.reporters import diff as diff_report

    need_history = old is None or new is None or not (Path(old).is_file() and Path(new).is_file())
    store = open_history(history_location) if need_history else None
    if old is None:
        name = _only_workload(store, workload)
        last = store.list(name)[-2:] if store is not None else []
        if len(last) < 2:
            raise UsageError(f"workload {name!r} has {len(last)} saved review(s); a diff needs two "
                             "(walens scan template ... --save)")
        refs = [(store.get(i.id), i.id) for i in last]  # type: ignore[union-attr]
    else:
        first = _load_ref(old, store)
        if new is None:
            name = _only_workload(store, workload or first[0].get("workload"))
            latest = store.list(name)[-1:] if store is not None else []
            if not latest:
                raise UsageError(f"workload {name!r} has no saved review to compare with")
            refs = [first, (store.get(latest[0].id), latest[0].id)]  # type: ignore[union-attr]
        else:
            refs = [first, _load_ref(new, store)]
    (old_doc, old_ref), (new_doc, new_ref) = refs
    result = diff.diff(old_doc, new_doc, old_ref=old_ref, new_ref=new_ref)
    extra: dict[str, Any] = {}
    if fmt is DiffFormat.html:  # the trend chart of the two reviews, and the rule titles
        from walens.history import trend_point

        extra = {"since": diff.since_last(result),
                 "trend": [trend_point(old_doc, _short_ref(old_doc, old_ref)),
                           trend_point(new_doc, _short_ref(new_doc, new_ref))],
                 "rules": {**(old_doc.get("rules") or {}), **(new_doc.get("rules") or {})}}
    _write_text(diff_report.render(result, fmt.value, lang.value, **extra), output)


def _short_ref(doc: dict[str, Any], ref: str) -> str:
    """A review's label in a trend: its history ID, else the file's name."""
    return str((doc.get("history") or {}).get("id") or (ref if not Path(ref).is_file() else Path(ref).name))


@app.command("answer")
def answer_command(
    workload: WorkloadOpt = None,
    history_location: HistoryOpt = None,
    answers_file: Annotated[
        Path | None, typer.Option("--answers", help="Answers YAML file (non-interactive): ChoiceId → met, not_met "
                                                    "or not_applicable, with notes.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who answers [default: the login name].")] = None,
    choice: Annotated[
        list[str] | None, typer.Option("--choice", help="Only these best practices (ChoiceIds; repeatable).")
    ] = None,
    lang: LangOpt = Lang.en,
) -> None:
    """Answer the best practices configuration cannot decide; kept with the workload for later reviews."""
    from walens import answers
    from walens.history import open_history

    store = open_history(history_location)
    name = _only_workload(store, workload) if workload is not None or store.workloads() else None
    if name is None:
        raise UsageError("name the workload with --workload (the history has no review yet)")
    current = store.answers(name)
    who = by or answers.default_by()
    if answers_file is not None:
        given = answers.load_file(answers_file, by=by)
    else:
        given = answers.prompt(name, lang.value, current, by=who, choices=_split(choice) or None)
    new = answers.changed(current, given)
    texts = answers.PROMPTS[lang.value]
    if not new:
        typer.echo(texts["unchanged"])
        return
    store.save_answers(name, new)
    for c, a in sorted(new.items()):
        typer.echo(f"  {c}: {a['answer']}" + (f" — {a['notes']}" if a["notes"] else ""))
    typer.echo(texts["saved"].format(count=len(new), workload=name, location=store.location))


@watool_app.command("push")
def watool_push(
    workload_id: Annotated[str, typer.Option("--workload-id", help="The WA Tool WorkloadId (32 hex characters).")],
    review: Annotated[
        str | None, typer.Option("--review", help="Review to push: an ID or a review JSON file [default: the "
                                                   "last saved review of the workload].")
    ] = None,
    workload: WorkloadOpt = None,
    history_location: HistoryOpt = None,
    milestone: Annotated[str | None, typer.Option("--milestone", help="Create this milestone after the update.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Also replace selections and notes a person made in the WA Tool.")
    ] = False,
    report_url: Annotated[
        str | None, typer.Option("--report-url", help="Where the full report lives (linked from the notes).")
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS Region of the WA Tool workload.")] = None,
) -> None:
    """Write a review into an AWS Well-Architected Tool workload (the serverless lens), per ChoiceId."""
    from walens import watool
    from walens.history import open_history

    watool.check_workload_id(workload_id)
    if review is not None and Path(review).is_file():
        doc, ref = _load_ref(review, None)
    else:
        store = open_history(history_location)
        if review is None:
            name = _only_workload(store, workload)
            last = store.list(name)[-1:]
            if not last:
                raise UsageError(f"workload {name!r} has no saved review (walens scan template ... --save)")
            review = last[0].id
        doc, ref = store.get(review), review
    client = watool.make_client(profile=profile, region=region)
    result = watool.push(client, doc, workload_id, review_ref=ref, milestone=milestone, dry_run=dry_run,
                         overwrite=overwrite, report_url=report_url)
    typer.echo(watool.render(result))
    raise typer.Exit(watool.exit_code(result))


def _forgiving_choices(command: Any) -> Any:
    """Make every choice option of ``command`` (and its subcommands) case-insensitive, and name the
    closest choice in the error for an unknown value: ``--format htlm`` → "(did you mean 'html'?)"."""
    from walens.errors import did_you_mean

    for param in getattr(command, "params", ()):
        kind = param.type
        choices = [str(getattr(c, "value", c)) for c in getattr(kind, "choices", None) or ()]
        if not choices:
            continue
        if hasattr(kind, "case_sensitive"):
            kind.case_sensitive = False

        def convert(value: Any, option: Any, ctx: Any, _convert: Any = kind.convert,
                    _choices: list[str] = choices) -> Any:
            try:
                return _convert(value, option, ctx)
            except Exception as exc:  # click's BadParameter: add the hint to its message, then re-raise
                hint = did_you_mean(str(value), _choices)
                message = getattr(exc, "message", None)
                if hint and isinstance(message, str):
                    setattr(exc, "message", message.rstrip(".") + hint)
                raise

        kind.convert = convert
    for sub in (getattr(command, "commands", None) or {}).values():
        _forgiving_choices(sub)
    return command


from walens.fleet.cli import fleet_app  # noqa: E402 - the fleet commands live with the fleet

app.add_typer(fleet_app, name="fleet")


def main() -> None:
    """Entry point: run the app, print user errors on one line, keep tracebacks for --debug."""
    # A review builds many small, acyclic objects (nodes, views, findings) that live to the end of the
    # run: the default gen-0 threshold (700) rescans them hundreds of times, a fifth of a folder
    # review's time. Fewer collections, and none of what the imports made: same peak memory.
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    try:
        _forgiving_choices(typer.main.get_command(app))(prog_name="walens")
    except WalensError as exc:
        sys.stderr.write(f"walens: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        debug = bool(_state["debug"] or os.environ.get("WALENS_DEBUG"))
        # AWS unreachable, credentials missing or refused, an optional dependency not installed: not bugs.
        user_error = aws_error(exc) or missing_extra(exc)
        if user_error is not None:
            if debug:
                traceback.print_exc()
            sys.stderr.write(f"walens: error: {user_error}\n")
            sys.exit(user_error.exit_code)
        # A bug: say so, distinctly, never as a finding or a pass.
        if debug:
            traceback.print_exc()
        else:
            sys.stderr.write(
                f"walens: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n"
            )
        sys.exit(EXIT_INTERNAL)
