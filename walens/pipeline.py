"""The template review pipeline: paths in, the review document out.

discover → load → SAM expand → resolve intrinsics → link the graph → facts → rules → review document.
Each file is reviewed on its own: one unreadable file is recorded in ``errors`` and never hides the
others' results. Nothing here imports boto3, cfn-lint or jinja2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from walens import engine, partition
from walens import facts as facts_module
from walens.errors import InputError, NotATemplate, UsageError, need_extra
from walens.facts import memory
from walens.model import Resource, Unknown
from walens.rules import Rule, load_rules, select_rules

if TYPE_CHECKING:
    from walens.config import Config
    from walens.scanners.account.core import Collected, Gap  # account mode only: it imports botocore
    from walens.waivers import WaiverSet
from walens.scanners import intrinsics, sam
from walens.scanners.template import Template, discover, load_file


@dataclass
class TemplateBatch:
    """What a batch of inputs turned into, before rules run."""

    templates: list[Template] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    found: int = 0  # files discovered, before include/exclude


def _error(exc: InputError, path: str) -> dict[str, Any]:
    return {"file": exc.file or path, "kind": exc.kind, "line": exc.line, "message": exc.message}


def _load(path: str) -> tuple[Template, list[Resource]]:
    """Load, expand, resolve, link and compute facts for one template (InputError/NotATemplate escape)."""
    template = load_file(path)
    cfn = sam.expand(template)  # the Template: its local DefinitionUri documents come along
    resources = intrinsics.resolve_resources(template.data, cfn, template.path)
    # Relations and facts are per template: resources in different files never link.
    partition.build(partition.template(resources))
    return template, resources


def iter_templates(paths: Sequence[str], batch: TemplateBatch,
                   keep: Callable[[str], bool] | None = None) -> Iterator[tuple[Template, list[Resource]]]:
    """Yield each readable template under ``paths`` with its linked resources (facts computed).

    Unreadable and skipped inputs are recorded in ``batch`` instead (a path naming nothing is a
    UsageError). One template at a time, so a caller that keeps only findings holds one template's
    resources in memory, not the batch's.
    ``keep`` filters discovered files (the configuration's include/exclude); dropped ones are not listed.
    """
    for path in _discover(paths, batch, keep):
        try:
            yield _load(path)
        except NotATemplate as exc:
            batch.skipped.append(_skipped(exc, path))
        except InputError as exc:
            batch.errors.append(_error(exc, path))


def _discover(paths: Sequence[str], batch: TemplateBatch, keep: Callable[[str], bool] | None) -> list[str]:
    """The files to review; a path that names nothing (or a folder without candidates) is a UsageError."""
    files, missing = discover(list(paths))
    if missing:  # a typo must not end as a review of nothing that passes
        raise UsageError("; ".join(f"{path}: {problem}" for path, problem in missing))
    batch.found = len(files)
    if keep is not None:
        files = [f for f in files if keep(f)]
    return files


def _nothing_reviewed(paths: Sequence[str], batch: TemplateBatch, config: Config) -> UsageError:
    """Folders or globs that held no CloudFormation or SAM template: why, as a usage error."""
    where = ", ".join(paths)
    if batch.skipped:
        return UsageError(f"no CloudFormation or SAM template in {where}: the {len(batch.skipped)} files found "
                          "there are not CloudFormation or SAM")
    rules = f" of {config.path}" if config.path else ""
    return UsageError(f"no CloudFormation or SAM template in {where}: none of the {batch.found} files found "
                      f"is selected (include/exclude{rules}; walens's own files are never reviewed)")


def _skipped(exc: NotATemplate, path: str) -> dict[str, Any]:
    return {"path": path, "reason": str(exc) or "not a CloudFormation or SAM template"}


# ---------------------------------------------------------------------------------------------
# Reviewing files, in this process or in worker processes


@dataclass(slots=True)
class FileReview:
    """What reviewing one file produced: findings and what suppressions need, or why there are none."""

    path: str
    rel: str
    sha256: str = ""
    findings: list[engine.Finding] = field(default_factory=list)
    # The template's Metadata.walens blocks (and nothing else): what walens.suppress reads.
    metadata: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    skipped: dict[str, Any] | None = None


def _suppression_metadata(data: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a template walens.suppress reads: ``Metadata`` at the top and on each resource."""
    out: dict[str, Any] = {}
    if isinstance(data.get("Metadata"), Mapping):
        out["Metadata"] = data["Metadata"]
    resources = data.get("Resources")
    if isinstance(resources, Mapping):
        out["Resources"] = {key: {"Metadata": body["Metadata"]} for key, body in resources.items()
                            if isinstance(body, Mapping) and isinstance(body.get("Metadata"), Mapping)}
    return out


def review_file(path: str, rel: str, rules: Sequence[Rule], lang: str) -> FileReview:
    """Review one file: its findings (fingerprinted with ``rel``), or the error or skip it ended in."""
    try:
        template, resources = _load(path)
    except NotATemplate as exc:
        return FileReview(path, rel, skipped=_skipped(exc, path))
    except InputError as exc:
        return FileReview(path, rel, error=_error(exc, path))
    found = engine.evaluate(resources, rules, lang=lang, source="template", file_key=rel)
    return FileReview(template.path, rel, template.sha256, found, _suppression_metadata(template.data))


# Worker processes inherit these through fork (the rules are compiled once, in the parent).
_WORKER: dict[str, Any] = {}
# Below this many files, starting workers costs more than it saves (a template takes ~2 ms).
PARALLEL_MIN_FILES = 24
MAX_JOBS = 8


def _review_task(task: tuple[str, str]) -> FileReview:
    return review_file(task[0], task[1], _WORKER["rules"], _WORKER["lang"])


def default_jobs() -> int:
    """One worker per CPU this process may run on, at most MAX_JOBS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


def review_files(tasks: Sequence[tuple[str, str]], rules: Sequence[Rule], lang: str,
                 jobs: int | None = None) -> Iterator[FileReview]:
    """Review (path, rel) pairs in order; in ``jobs`` forked worker processes when that pays.

    Workers only load and evaluate; everything with state (suppressions, baseline, waivers) stays in
    the caller, which receives the reviews in input order: the document is the same for any ``jobs``.
    Workers need ``fork`` (Linux): elsewhere, and for standard input, the review runs in this process.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    parallel = (jobs > 1 and len(tasks) >= PARALLEL_MIN_FILES and sys.platform.startswith("linux")
                and "-" not in (t[0] for t in tasks))
    if not parallel:
        for path, rel in tasks:
            yield review_file(path, rel, rules, lang)
        return
    import multiprocessing

    _WORKER.update(rules=list(rules), lang=lang)
    context = multiprocessing.get_context("fork")
    workers = min(jobs, len(tasks) // (PARALLEL_MIN_FILES // 2) or 1)
    # Chunks amortise the pipe round trip; several per worker keep both busy to the end.
    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    try:
        with context.Pool(workers) as pool:
            yield from pool.imap(_review_task, tasks, chunksize=chunk)
    finally:
        _WORKER.clear()


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
    config: Config | None = None,
    waivers: WaiverSet | None = None,
    waivers_expiring_within: int | None = None,
    answers: Mapping[str, Mapping[str, Any]] | None = None,
    jobs: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Review the templates under ``paths`` and return the review document.

    ``jobs``: worker processes for a large batch (default: one per CPU; 1 reviews in this process).
    ``strict``: a not-assessed finding marks the review incomplete (``summary.incomplete``, exit 5).

    ``waivers`` (walens.waivers) turn covered failing findings into accepted risks, template by
    template; ``answers`` (ChoiceId → a person's answer, walens.answers) are recorded in the document.

    ``config`` (walens.config, flags already applied) supplies lang, fail_on, rules, include/exclude,
    suppressions and the baseline; without it the keyword arguments do, with no configuration file.
    """
    from walens.config import default_config, relative_path, resolve_rules
    from walens.suppress import Suppressor

    started = datetime.now(UTC)
    if cfn_lint:  # before the review, not after it
        need_extra("cfnlint", "--cfn-lint")
    if config is None:
        config = default_config().with_flags(lang=lang, fail_on=fail_on, select=list(select) or None,
                                             ignore=list(ignore) or None, rules_dirs=list(rules_dirs) or None)
    lang, fail_on = config["lang"], config["fail_on"]
    catalogue = load_rules(config["rules_dirs"]) if rules is None else list(rules)
    if rules is None:
        rules = resolve_rules(config, catalogue)
    suppressor = Suppressor.create(catalogue, rules, config.suppressions, config.path)
    baseline = None
    if config["baseline"]:
        from walens.baseline import Baseline

        baseline = Baseline.load(config["baseline"])
    batch = TemplateBatch()
    findings: list[engine.Finding] = []
    inputs: list[dict[str, str]] = []
    # Fingerprints name the file relative to the repository root: the same from any directory.
    tasks = [(path, relative_path("<stdin>" if path == "-" else path, config.root))
             for path in _discover(paths, batch, config.is_included)]
    for review in review_files(tasks, rules, lang, jobs):
        if review.skipped is not None:
            batch.skipped.append(review.skipped)
            continue
        if review.error is not None:
            batch.errors.append(review.error)
            continue
        found, rel = review.findings, review.rel
        batch.errors.extend(suppressor.apply(review.metadata, review.path, rel, found))
        if baseline is not None:
            baseline.mark(found, rel)
        if waivers is not None:
            waivers.apply(found)
        findings.extend(found)
        inputs.append({"path": review.path, "sha256": review.sha256})
    # Folders and globs that held no template fail; files named one by one may all be skipped
    # (pre-commit passes every staged YAML file), and --changed-since may leave nothing to review.
    if (not inputs and not batch.errors and config.only is None
            and not any(p == "-" or os.path.isfile(p) for p in paths)):
        raise _nothing_reviewed(paths, batch, config)
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
    # What the user passed: reports show paths relative to it (reporters._common.PathDisplay).
    doc["scan"]["roots"] = ["<stdin>" if p == "-" else p for p in paths]
    engine.mark_incomplete(doc, strict)
    if waivers is not None:
        waivers.annotate(doc, waivers_expiring_within)
    if answers:
        from walens.answers import apply as apply_answers

        apply_answers(doc, answers)
    running = [r.id for r in rules]
    if baseline is not None:
        doc["baseline"] = baseline.report(running)
        doc["summary"]["baselined"] = doc["baseline"]["baselined"]
    if config["report_unused_suppressions"]:
        doc["unused_suppressions"] = suppressor.unused()
        doc["summary"]["unused_suppressions"] = len(doc["unused_suppressions"])
        # Like ESLint's --report-unused-disable-directives: a stale suppression fails the gate.
        if doc["unused_suppressions"] and fail_on != "never":
            doc["summary"]["failed"] = True
    if cfn_lint:
        from walens.validity import validate  # imports cfn-lint: only when asked

        doc["validity"] = validate([i["path"] for i in inputs if i["path"] != "<stdin>"])
        # A template CloudFormation would reject fails the gate like a high finding (cfn-lint's E rules);
        # warnings and informational matches are reported only.
        if fail_on != "never" and any(v["level"] == "error" for v in doc["validity"]):
            doc["summary"]["failed"] = True
            doc["summary"]["validity_errors"] = sum(v["level"] == "error" for v in doc["validity"])
    return doc


def scan_account(
    *,
    profile: str | None = None,
    regions: Sequence[str] = (),
    all_regions: bool = False,
    services: Sequence[str] = (),
    max_workers: int = 8,
    lang: str = "en",
    fail_on: str = "high",
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    rules_dirs: Sequence[str] = (),
    rules: Sequence[Rule] | None = None,
    session: Any = None,
    hooks: Sequence[Any] = (),
    progress: Any = None,
    accounts: Sequence[str] = (),
    organization: bool = False,
    role_name: str | None = None,
    external_id: str | None = None,
    logs_insights: bool = True,
    insights_days: int = 14,
    insights_wait: float = 120.0,
    waivers: WaiverSet | None = None,
    waivers_expiring_within: int | None = None,
    answers: Mapping[str, Mapping[str, Any]] | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Review a live AWS account (read-only) with the rules whose scope includes ``account``.

    ``accounts``/``organization`` with ``role_name`` review several accounts in one document
    (walens.scanners.account.accounts); ``waivers`` and ``answers`` work as for templates. ``strict``: a gap
    or a not-assessed finding marks the review incomplete (``summary.incomplete``, exit 5).
    Imports boto3 (through ``walens.scanners.account``): only account mode does.
    """
    need_extra("boto3", "walens scan account")
    from walens.scanners import account

    started = datetime.now(UTC)
    if rules is None:
        rules = select_rules(load_rules(rules_dirs), select, ignore)
    engine.summarize([], fail_on)  # a bad --fail-on fails before any call is made
    # Checked before any call: a rule reading data no chosen collector provides is not assessed, with why.
    cannot = account.unprovided(rules, services)
    judged = [r for r in rules if r.id not in cannot]
    from walens import needs

    plan = needs.plan(judged)  # only the calls the judged rules need are made
    collected = account.collect(profile=profile, regions=regions, all_regions=all_regions, services=services,
                                max_workers=max_workers, session=session, hooks=hooks, progress=progress,
                                accounts=accounts, organization=organization, role_name=role_name,
                                external_id=external_id, logs_insights=logs_insights,
                                insights_days=insights_days, insights_wait=insights_wait, plan=plan)
    resources = assemble_account(collected, services)
    findings = engine.evaluate(resources, judged, lang=lang, source="account")
    findings += unprovided_findings(cannot, rules, collected.accounts, lang)
    gaps = collected.gap_list()
    # What a denied or failed listing hid is not assessed, never "nothing there".
    findings += unseen_findings(gaps, judged, lang)
    if waivers is not None:
        waivers.apply(findings)
    name_gap_rules(gaps, rules, findings)
    doc = engine.build_review(
        findings=findings,
        rules=rules,
        source="account",
        inputs=None,
        lang=lang,
        fail_on=fail_on,
        started_at=started,
        finished_at=datetime.now(UTC),
        gaps=[g.to_dict() for g in gaps],
    )
    doc["scan"]["accounts"] = list(collected.accounts)
    doc["scan"]["regions"] = list(collected.regions)
    doc["scan"]["api_calls"] = dict(sorted(collected.api_calls.items()))
    doc["scan"]["throttled"] = dict(sorted(collected.throttled.items()))  # throttling answers, per service
    doc["scan"]["retries"] = dict(sorted(collected.retries.items()))  # of those, retried after backoff
    doc["scan"]["services"] = account.resolve_services(services)
    if collected.notes:
        doc["scan"]["notes"] = list(collected.notes)
    engine.mark_incomplete(doc, strict)
    if waivers is not None:
        waivers.annotate(doc, waivers_expiring_within)
    if answers:
        from walens.answers import apply as apply_answers

        apply_answers(doc, answers)
    return doc


class _Watch(dict):  # type: ignore[type-arg]
    """A resource's ``related`` that records which keys a fact function reads."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: Any, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)

    def _all(self) -> None:
        self.read.update(super().keys())

    def items(self) -> Any:
        self._all()
        return super().items()

    def values(self) -> Any:
        self._all()
        return super().values()

    def __iter__(self) -> Any:
        self._all()
        return super().__iter__()


def assemble_account(collected: Collected, services: Sequence[str] = ()) -> list[Resource]:
    """Prune, default, link, compute facts, and mark what gaps hid: the account resources rules judge.

    The account scanner (walens.scanners.account) fetches and translates; the facts and what a gap makes
    unknown in them are computed here, as for templates.
    """
    from walens.scanners import account
    from walens.views import apply_defaults, base_view

    resources = account.finalize(collected, services)
    for r in resources:
        if r.type == "AWS::Lambda::Function" and "memory_usage" in r.facts:  # the second phase measured it
            r.facts["memory_recommendation"] = memory.recommend(r)
    for r in resources:
        r.facts["defaulted"] = apply_defaults(r.type, r.properties)
    # One partition per (account, region), plus each account's global resources: names repeat across
    # regions (a function "api" in two regions) and relations and facts never cross a region or an account,
    # except to the account's global resources (IAM). walens.partition is the path templates take too.
    parts = partition.split(resources)
    for part in parts:
        partition.link(part)
    account.relink(resources, base_view)
    inventories: dict[str, list[Resource]] = {}
    for part in parts:
        inventory = partition.compute_facts(part)
        for r in part.resources:
            inventories[r.id] = inventory
    _apply_unknowns(account.unknown_marks(collected, resources, services), resources, inventories)
    return resources


def _apply_unknowns(marks: dict[str, list[tuple[str, str, Unknown]]], resources: list[Resource],
                    inventories: dict[str, list[Resource]]) -> None:
    """Put what gaps hid into the model as Unknown, and every fact computed from it.

    Facts ran on the relations as linked (missing ones empty). For a resource with an unknown relation,
    each fact registered for its type runs again with ``related`` watched: a fact that read an unknown
    relation becomes that Unknown, so the rules built on it end not_assessed, never a false pass or fail.
    """
    facts_module._load()
    registry = facts_module._REGISTRY  # (name, types, fn): the facts package's own registration list
    by_id = {r.id: r for r in resources}
    for rid, items in marks.items():
        r = by_id[rid]
        related_unknown = {key: value for section, key, value in items if section == "related"}
        if related_unknown:
            original = r.related
            for name, types, fn in registry:
                if r.type not in types:
                    continue
                watch = _Watch(original)
                r.related = watch
                try:
                    fn(r, inventories.get(rid, resources))
                except Exception:  # noqa: BLE001 - its first result stands; only what it read matters
                    pass
                finally:
                    r.related = original
                hit = next((k for k in watch.read if k in related_unknown), None)
                if hit is not None:
                    r.facts[name] = related_unknown[hit]
        for section, key, value in items:
            if section == "related":
                r.related[key] = value
            elif section == "facts":
                r.facts[key] = value
            else:
                r.properties[key] = value


def name_gap_rules(gaps: Sequence[Gap], rules: Sequence[Rule], findings: Sequence[engine.Finding]) -> None:
    """Name, on each gap, the rules it left unable to judge (in place): what the review's findings say."""
    from walens.scanners import account

    for gap in gaps:
        ids = {f.rule_id for f in findings if f.status == "not_assessed" and f.reason == gap.reason}
        mod = account.module_for(gap.service) if gap.kind != "not_offered" else None
        listed = set(mod.OPERATIONS.get(gap.operation, ())) if mod is not None else set()
        ids |= {rule.id for rule in rules if "account" in rule.scope and listed & set(rule.resource_types)}
        gap.rules = sorted(ids)


def unseen_findings(gaps: Sequence[Gap], rules: Sequence[Rule], lang: str = "en") -> list[engine.Finding]:
    """One ``not_assessed`` finding per (rule, account, region) where a gap hid the rule's resource types.

    A denied listing leaves no resource for a rule to judge: without these, the rule would have no result
    there and its best practice would read "not applicable". The finding's resource names what could not
    be seen (``resource.name`` is ``*``, ``resource.type`` the first hidden type); its reason is the gap's.
    """
    from walens.scanners import account

    out: list[engine.Finding] = []
    seen: set[tuple[str, Any, Any]] = set()
    for gap in gaps:
        hidden = account.hidden_types(gap)
        if not hidden:
            continue
        mod = account.module_for(gap.service)
        whole_account = gap.service == "sts"
        region = None if whole_account else ("global" if getattr(mod, "GLOBAL", False) else gap.region)
        for rule in rules:
            if "account" not in rule.scope:
                continue
            types = sorted(hidden & set(rule.resource_types))
            key = (rule.id, gap.account, region)
            if not types or key in seen:
                continue
            seen.add(key)
            where = f"{region} ({gap.account})" if region else f"account {gap.account}"
            message = (f"{where} の {', '.join(types)} を読めませんでした: {gap.reason}" if lang == "ja"
                       else f"{', '.join(types)} in {where} could not be read: {gap.reason}")
            out.append(_unjudged(rule, gap.account, region, types[0], gap.reason, message))
    return out


def _unjudged(rule: Rule, account: str | None, region: str | None, rtype: str, reason: str,
              message: str) -> engine.Finding:
    """A not_assessed finding of ``rule`` on everything of ``rtype`` in an account (and region)."""
    rid = f"{account}/{region or '*'}/{rtype}/*"
    return engine.Finding(rule_id=rule.id, rule_name=rule.name, pillar=rule.pillar, lens_question=rule.lens_question,
                   lens_choice=rule.lens_choice, severity=rule.severity, status="not_assessed",
                   resource={"id": rid, "type": rtype, "name": "*", "arn": None, "account": account,
                             "region": region, "origin": rid, "origin_type": rtype},
                   location=None, message=message, params=dict(rule.params), reason=reason,
                   fingerprint=engine.fingerprint(rule.id, "", rid))


def unprovided_findings(reasons: dict[str, str], rules: Sequence[Rule], accounts: Sequence[str],
                        lang: str = "en") -> list[engine.Finding]:
    """One not_assessed finding per (rule, account) for the rules ``account.unprovided`` found unjudgeable."""
    out: list[engine.Finding] = []
    for rule in rules:
        reason = reasons.get(rule.id)
        if reason is None:
            continue
        for account in accounts:
            message = (f"{rule.id} はアカウント {account} を評価できません: {reason}" if lang == "ja"
                       else f"{rule.id} cannot judge account {account}: {reason}")
            out.append(_unjudged(rule, account, None, rule.resource_types[0], reason, message))
    return out
