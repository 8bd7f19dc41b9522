"""The machinery of the cfn-lint plugin (``cfn-lint --append-rules walens.cfnlint``).

cfn-lint imports ``walens.cfnlint`` (``--append-rules`` takes a directory *or a module name*; cfn-lint
1.x has no plugin entry point) and instantiates every ``CloudFormationLintRule`` subclass in its
namespace. One class per walens rule, because cfn-lint reports a match under its rule's ``id`` and
only for IDs it knows: ``rule_classes()`` builds them from the catalogue.

Each rule's ``match`` asks :func:`findings` for the template's results. The first rule to ask runs
walens' own pipeline (``pipeline.scan_templates``) on the file cfn-lint is checking, with the
configuration found from the current directory (``.walens.yml``, ``[tool.walens]``; ``WALENS_CONFIG``
names one explicitly): the same select/ignore, params, severity, suppressions and baseline as
``walens scan template``. Only new failing findings are reported (not passing, not_assessed,
suppressed or baselined ones), on the line of the authored resource (for SAM, the
``AWS::Serverless::*`` resource, not cfn-lint's transformed template).

cfn-lint IDs (``<E|W|I><4 digits>``, the letter is the level) are derived from walens IDs so they are
stable across versions: built-in rules ``W9<pillar><NN>`` with OPS=1, SEC=2, REL=3, PERF=4, COST=5
(``COST001`` → ``W9501``, ``SEC003`` → ``W9203``); rules from ``rules_dirs`` (other prefixes, or
numbers above 99) ``W8xxx`` from a CRC32 of the ID, collisions taken in ID order. ``W9000`` reports
what walens could not review in the file (e.g. a suppression without a reason). Every message starts
with the walens ID: ``[COST001] Function ... keeps its logs forever``. Everything is a warning
(``W``): walens' severity is a property of the rule, the gate is cfn-lint's ``--non-zero-exit-code``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

PILLAR_PREFIX_DIGITS = {"OPS": 1, "SEC": 2, "REL": 3, "PERF": 4, "COST": 5}
ERRORS_ID = "W9000"
_ID_RE = re.compile(r"^([A-Z]+)([0-9]{3})$")
_CACHE_SIZE = 64


def builtin_cfnlint_id(rule_id: str) -> str | None:
    """``W9<pillar><NN>`` for a built-in-style ID (``COST001`` → ``W9501``), else None."""
    m = _ID_RE.match(rule_id)
    if not m or m.group(1) not in PILLAR_PREFIX_DIGITS or int(m.group(2)) > 99 or int(m.group(2)) == 0:
        return None
    return f"W9{PILLAR_PREFIX_DIGITS[m.group(1)]}{m.group(2)[1:]}"


def cfnlint_ids(rule_ids: Sequence[str]) -> dict[str, str]:
    """walens rule ID → cfn-lint rule ID for a whole catalogue (unique, stable; see the module doc)."""
    out: dict[str, str] = {}
    taken = {ERRORS_ID}
    for rule_id in sorted(rule_ids):
        cid = builtin_cfnlint_id(rule_id)
        if cid is not None and cid not in taken:
            out[rule_id] = cid
            taken.add(cid)
    for rule_id in sorted(set(rule_ids) - set(out)):
        n = zlib.crc32(rule_id.encode()) % 1000
        while f"W8{n:03d}" in taken:
            n = (n + 1) % 1000
        out[rule_id] = f"W8{n:03d}"
        taken.add(out[rule_id])
    return out


@lru_cache(maxsize=1)
def _setup() -> tuple[Any, list[Any]]:
    """The configuration (from the current directory, or ``WALENS_CONFIG``) and the rule catalogue."""
    from walens.config import load_config, resolve_rules
    from walens.errors import WalensError
    from walens.rules import load_rules

    try:
        config = load_config(os.environ.get("WALENS_CONFIG") or None)
        catalogue = load_rules(config["rules_dirs"])
        resolve_rules(config, catalogue)  # a bad rule ID, param or severity in the file: said once, here
        return config, catalogue
    except WalensError as exc:
        where = f"{exc.file}: " if getattr(exc, "file", None) else ""
        # cfn-lint reports an ImportError from --append-rules as "Tried to append rules but got an error".
        raise ImportError(f"walens: {where}{exc.message}") from None


def _file_key(filename: str) -> tuple[str, int, int] | None:
    try:
        st = os.stat(filename)
    except OSError:
        return None
    return os.path.realpath(filename), st.st_mtime_ns, st.st_size


_results: dict[Any, dict[str, list[RuleMatch]]] = {}


def findings(cfn: Any) -> dict[str, list[RuleMatch]]:
    """cfn-lint rule ID → the RuleMatches walens has for the template ``cfn`` (reviewed once per file)."""
    filename = getattr(cfn, "filename", None)
    key = _file_key(filename) if filename and filename != "-" else None
    if key is None:
        # stdin (or a file gone since cfn-lint read it): review cfn-lint's own (transformed) template.
        return _review_template_dict(cfn)
    if key not in _results:
        if len(_results) >= _CACHE_SIZE:
            _results.clear()
        _results[key] = _review(str(filename), None)  # a path: key is set only for one
    return _results[key]


def _review_template_dict(cfn: Any) -> dict[str, list[RuleMatch]]:
    with tempfile.TemporaryDirectory(prefix="walens-cfnlint-") as tmp:
        path = os.path.join(tmp, "template.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(cfn.template, fh, default=str)
        return _review(path, cfn)


def _review(path: str, cfn: Any | None) -> dict[str, list[RuleMatch]]:
    """Run walens' pipeline on ``path``; with ``cfn`` (stdin), locate results through cfn-lint's nodes."""
    from walens.errors import WalensError
    from walens.pipeline import scan_templates

    config, catalogue = _setup()
    ids = cfnlint_ids([r.id for r in catalogue])
    try:
        doc = scan_templates([path], config=config)
    except WalensError as exc:  # reported once (W9000), not as an exception in each of walens' rules
        return {ERRORS_ID: [RuleMatch([], f"[walens] {exc.message}")]}
    out: dict[str, list[RuleMatch]] = {}
    for f in doc["findings"]:
        if f["status"] != "fail" or f.get("baselined") or f["rule_id"] not in ids:
            continue
        resource = f.get("resource") or {}
        logical_id = str(resource.get("id") or "")
        message = f"[{f['rule_id']}] {f['message']}"
        if cfn is None:
            loc = f.get("location") or {}
            line, col = int(loc.get("line") or 1), int(loc.get("column") or 1)
            origin = str(resource.get("origin") or logical_id)
            match = RuleMatch(["Resources", origin], message,
                              location=(line - 1, col - 1, line - 1, col - 1 + len(origin)))
        else:
            match = RuleMatch(["Resources", logical_id], message)
        out.setdefault(ids[f["rule_id"]], []).append(match)
    for err in doc.get("errors") or []:
        line = int(err.get("line") or 1)
        message = f"[walens] {err.get('message')} ({err.get('kind')})"
        out.setdefault(ERRORS_ID, []).append(
            RuleMatch([], message, location=(line - 1, 0, line - 1, 0)) if cfn is None else RuleMatch([], message))
    return out


class WalensRule(CloudFormationLintRule):  # type: ignore[misc]  # cfn-lint ships no types: its base is Any
    """W9000: what walens could not review in the template (its lens rules are the subclasses)."""

    id = ERRORS_ID
    shortdesc = "walens could not review part of the template"
    description = ("walens (AWS Well-Architected Serverless Lens) reports here what it could not apply, "
                   "such as a walens suppression without a reason or of an unknown rule.")
    source_url = "https://pypi.org/project/walens/"
    tags = ["walens"]
    walens_id: str | None = None

    def match(self, cfn: Any) -> list[RuleMatch]:
        return list(findings(cfn).get(self.id, []))


@lru_cache(maxsize=1)
def rule_classes() -> dict[str, type[CloudFormationLintRule]]:
    """Class name → a CloudFormationLintRule subclass, one per walens rule plus W9000."""
    _, catalogue = _setup()
    ids = cfnlint_ids([r.id for r in catalogue])
    classes: dict[str, type[CloudFormationLintRule]] = {"WalensRule": WalensRule}
    for rule in catalogue:
        name = f"Walens{rule.id}"
        refs = list(rule.references)
        classes[name] = type(name, (WalensRule,), {
            "__module__": __name__,
            "__doc__": f"{ids[rule.id]}: walens {rule.id} ({rule.name})",
            "id": ids[rule.id],
            "shortdesc": f"[{rule.id}] {rule.title.get('en', rule.name)}",
            "description": f"walens {rule.id} {rule.name} ({rule.severity}): {rule.rationale.get('en', '')}".strip(),
            "source_url": refs[0] if refs else WalensRule.source_url,
            "tags": ["walens", rule.pillar, rule.lens_choice],
            "walens_id": rule.id,
        })
    return classes
