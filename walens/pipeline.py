"""The template review pipeline: paths in, the review document out.

discover → load → SAM expand → resolve intrinsics → link the graph → facts → rules → review document.
Each file is reviewed on its own: one unreadable file is recorded in ``errors`` and never hides the
others' results. Nothing here imports boto3, cfn-lint or jinja2.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from walens import engine, facts, graph
from walens.errors import InputError, NotATemplate
from walens.model import Resource
from walens.rules import Rule, load_rules, select_rules
from walens.scanners import intrinsics, sam
from walens.scanners.template import Template, discover, load_file


@dataclass
class TemplateBatch:
    """What a batch of inputs turned into, before rules run."""

    templates: list[Template] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _error(exc: InputError, path: str) -> dict[str, Any]:
    return {"file": exc.file or path, "kind": exc.kind, "line": exc.line, "message": exc.message}


def iter_templates(paths: Sequence[str], batch: TemplateBatch) -> Iterator[tuple[Template, list[Resource]]]:
    """Yield each readable template under ``paths`` with its linked resources (facts computed).

    Unreadable and skipped inputs are recorded in ``batch`` instead. One template at a time, so a
    caller that keeps only findings holds one template's resources in memory, not the batch's.
    """
    files, missing = discover(list(paths))
    for path, problem in missing:
        batch.errors.append({"file": path, "kind": "io", "line": None, "message": problem})
    for path in files:
        try:
            template = load_file(path)
            cfn = sam.expand(template.data)
            resources = intrinsics.resolve_resources(template.data, cfn, template.path)
        except NotATemplate as exc:
            batch.skipped.append({"path": path, "reason": str(exc) or "not a CloudFormation or SAM template"})
            continue
        except InputError as exc:
            if exc.file is None:
                exc.file = path
            batch.errors.append(_error(exc, path))
            continue
        # Relations and facts are per template: resources in different files never link.
        graph.link(resources)
        facts.compute(resources)
        yield template, resources


def inventory(paths: Sequence[str]) -> TemplateBatch:
    """Load every template under ``paths`` into resources; record unreadable and skipped inputs."""
    batch = TemplateBatch()
    for template, resources in iter_templates(paths, batch):
        batch.templates.append(template)
        batch.resources.extend(resources)
    return batch


def scan_templates(
    paths: Sequence[str],
    *,
    lang: str = "en",
    fail_on: str = "high",
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    rules_dirs: Sequence[str] = (),
    rules: Sequence[Rule] | None = None,
    cfn_lint: bool = False,
) -> dict[str, Any]:
    """Review the templates under ``paths`` and return the review document."""
    started = datetime.now(UTC)
    if rules is None:
        rules = select_rules(load_rules(rules_dirs), select, ignore)
    batch = TemplateBatch()
    findings: list[engine.Finding] = []
    inputs: list[dict[str, str]] = []
    for template, resources in iter_templates(paths, batch):
        findings.extend(engine.evaluate(resources, rules, lang=lang, source="template"))
        inputs.append({"path": template.path, "sha256": template.sha256})
    doc = engine.build_review(
        findings=findings,
        rules=rules,
        source="template",
        inputs=inputs,
        errors=batch.errors,
        skipped=batch.skipped,
        lang=lang,
        fail_on=fail_on,
        started_at=started,
        finished_at=datetime.now(UTC),
    )
    if cfn_lint:
        from walens.validity import validate  # imports cfn-lint: only when asked

        doc["validity"] = validate([i["path"] for i in inputs if i["path"] != "<stdin>"])
        # A template CloudFormation would reject fails the gate like a high finding (cfn-lint's E rules);
        # warnings and informational matches are reported only.
        if fail_on != "never" and any(v["level"] == "error" for v in doc["validity"]):
            doc["summary"]["failed"] = True
            doc["summary"]["validity_errors"] = sum(v["level"] == "error" for v in doc["validity"])
    return doc
