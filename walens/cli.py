"""The ``walens`` command line: parses options, calls the pipeline, maps outcomes to exit codes."""

from __future__ import annotations

import json
import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from walens import __version__
from walens.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError, WalensError

app = typer.Typer(
    name="walens",
    help="Review serverless workloads on AWS against the Well-Architected Serverless Lens.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
scan_app = typer.Typer(help="Scan templates (or, later, an AWS account).", no_args_is_help=True)
rules_app = typer.Typer(help="List and explain the rules.", no_args_is_help=True)
app.add_typer(scan_app, name="scan")
app.add_typer(rules_app, name="rules")

_state = {"debug": False}


class Format(StrEnum):
    console = "console"
    json = "json"
    markdown = "markdown"
    html = "html"
    sarif = "sarif"


class Lang(StrEnum):
    en = "en"
    ja = "ja"


class FailOn(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    never = "never"


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


def _render(doc: dict[str, Any], fmt: Format, lang: Lang, output: Path | None) -> None:
    from walens import reporters

    color = _use_color(fmt, output)
    if output is None:
        reporters.write(fmt.value, doc, sys.stdout, lang.value, color=color)
        sys.stdout.flush()
        return
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            reporters.write(fmt.value, doc, handle, lang.value, color=color)
    except OSError as exc:
        raise UsageError(f"cannot write the report: {exc.strerror}", file=str(output)) from exc


def _exit_code(doc: dict[str, Any]) -> int:
    # An unreadable input wins over failing findings: the review is incomplete either way.
    if doc.get("errors"):
        return EXIT_INPUT
    if doc.get("summary", {}).get("failed"):
        return EXIT_FINDINGS
    return EXIT_OK


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of the report.")]


@scan_app.command("template")
def scan_template(
    paths: Annotated[list[str], typer.Argument(help="Template files, folders, globs, or - for stdin.")],
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
    cfn_lint: Annotated[
        bool, typer.Option("--cfn-lint", help="Also run cfn-lint's schema validation on the same files.")
    ] = False,
) -> None:
    """Review SAM/CloudFormation templates."""
    from walens.pipeline import scan_templates

    doc = scan_templates(
        paths,
        lang=lang.value,
        fail_on=fail_on.value,
        select=_split(select),
        ignore=_split(ignore),
        rules_dirs=[str(p) for p in rules_dir or []],
        cfn_lint=cfn_lint,
    )
    _render(doc, fmt, lang, output)
    raise typer.Exit(_exit_code(doc))


@app.command("report")
def report(
    review: Annotated[Path, typer.Argument(help="A review JSON document written by --format json.")],
    fmt: FormatOpt = Format.html,
    output: OutputOpt = None,
    lang: LangOpt = Lang.en,
) -> None:
    """Re-render a saved review without scanning again."""
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
    _render(doc, fmt, lang, output)


@rules_app.command("list")
def rules_list(
    lang: LangOpt = Lang.en,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra rules.")] = None,
) -> None:
    """List every rule: ID, severity, pillar, best practice and title."""
    from walens.rules import load_rules

    rules = sorted(load_rules([str(p) for p in rules_dir or []]), key=lambda r: r.id)
    width = max((len(r.name) for r in rules), default=10)
    for rule in rules:
        typer.echo(
            f"{rule.id:<8} {rule.severity:<7} {rule.name:<{width}}  {rule.lens_choice:<16} {rule.title[lang.value]}"
        )
    typer.echo(f"{len(rules)} rules")


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule ID (COST001) or name.")],
    lang: LangOpt = Lang.en,
    rules_dir: Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra rules.")] = None,
) -> None:
    """Explain one rule: what it checks, why, how to fix it."""
    from walens import lens
    from walens.rules import load_rules

    wanted = rule_id.strip()
    for rule in load_rules([str(p) for p in rules_dir or []]):
        if wanted.upper() == rule.id or wanted == rule.name:
            bp = lens.choice(rule.lens_choice)
            ja = lang is Lang.ja
            labels = (
                ("重大度", "柱", "ベストプラクティス", "対象", "根拠", "修復方法", "例", "参考")
                if ja
                else ("Severity", "Pillar", "Best practice", "Applies to", "Why", "How to fix", "Example", "References")
            )
            lines = [
                f"{rule.id} {rule.name}: {rule.title[lang.value]}",
                f"{labels[0]}: {rule.severity}",
                f"{labels[1]}: {lens.pillar(rule.pillar).title.get(lang.value)}",
                f"{labels[2]}: {bp.title.get(lang.value)} ({rule.lens_choice})",
                f"{labels[3]}: {', '.join(rule.resource_types)} ({', '.join(rule.scope)})",
                "",
                f"{labels[4]}:",
                rule.rationale[lang.value].strip(),
                "",
                f"{labels[5]}:",
                rule.remediation[lang.value].strip(),
            ]
            example = rule.remediation.get("example")
            if example:
                lines += ["", f"{labels[6]}:", str(example).rstrip()]
            if rule.references:
                lines += ["", f"{labels[7]}:"] + [f"  {ref}" for ref in rule.references]
            typer.echo("\n".join(lines))
            return
    raise UsageError(f"no rule {wanted!r}; see 'walens rules list'")


class LensFormat(StrEnum):
    text = "text"
    json = "json"


@app.command("lens")
def lens_command(
    lang: LangOpt = Lang.en,
    fmt: Annotated[LensFormat, typer.Option("--format", "-f")] = LensFormat.text,
) -> None:
    """The 38 best practices of the Serverless Lens and the rules that evidence each."""
    from walens import lens
    from walens.rules import load_rules

    by_choice: dict[str, list[str]] = {}
    for rule in sorted(load_rules(), key=lambda r: r.id):
        by_choice.setdefault(rule.lens_choice, []).append(rule.id)
    if fmt is LensFormat.json:
        out = [
            {
                "choice": bp.id,
                "question": bp.question,
                "pillar": bp.pillar,
                "title": bp.title.get(lang.value),
                "tier": bp.tier,
                "check": bp.check,
                "rules": by_choice.get(bp.id, []),
                "manual_question": bp.manual_question.get(lang.value) if bp.manual_question else None,
            }
            for bp in lens.BEST_PRACTICES
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    needs = "要回答" if lang is Lang.ja else "needs answer"
    for q in lens.QUESTIONS:
        typer.echo(f"\n{q.label}  {q.title.get(lang.value)}")
        for bp in lens.BEST_PRACTICES:
            if bp.question != q.id:
                continue
            rules = by_choice.get(bp.id, [])
            typer.echo(f"  [{bp.tier}] {bp.id:<16} {bp.title.get(lang.value)}")
            if rules:
                typer.echo(f"      rules: {', '.join(rules)}")
            if bp.manual_question and (bp.check != "AUTO" or not rules):
                typer.echo(f"      {needs}: {bp.manual_question.get(lang.value)}")


def main() -> None:
    """Entry point: run the app, print user errors on one line, keep tracebacks for --debug."""
    try:
        app(prog_name="walens")
    except WalensError as exc:
        sys.stderr.write(f"walens: error: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # a bug: say so, distinctly, never as a finding or a pass
        if _state["debug"] or os.environ.get("WALENS_DEBUG"):
            traceback.print_exc()
        else:
            exc = sys.exc_info()[1]
            sys.stderr.write(
                f"walens: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n"
            )
        sys.exit(EXIT_INTERNAL)
