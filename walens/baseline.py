"""Baselines: record today's failing findings so that only new ones fail the build.

A baseline file (``walens baseline create --output .walens-baseline.json``) lists failing findings by
fingerprint: sha256 of rule ID, the template's path relative to the repository root, the logical ID
(and a detail key when a rule reports several things on one resource; none does today). There is no
line or column in it, so reformatting a template or moving a resource keeps the fingerprint; renaming
the file or the logical ID, or moving the repository's templates, does not.

With ``--baseline FILE`` (or ``baseline:`` in the configuration) a failing finding whose fingerprint
is in the baseline keeps ``status: fail`` and gains ``baselined: true``: it is still a risk (the lens
coverage still says so) and every reporter lists it, apart from new failures, but it does not fail
the build. Baseline entries of reviewed templates that no longer fail are reported as ``fixed`` in the
review's ``baseline`` section; ``walens baseline update`` removes them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from walens import __version__
from walens.engine import Finding
from walens.errors import UsageError
from walens.model import Status

FORMAT = 1
DEFAULT_PATH = ".walens-baseline.json"


def entry(finding: Finding, rel_path: str) -> dict[str, Any]:
    """The baseline record of one failing finding (what a human reviewing the file needs, plus the key)."""
    return {
        "fingerprint": finding.fingerprint,
        "rule_id": finding.rule_id,
        "file": rel_path,
        "resource": str(finding.resource.get("id")),
        "origin": str(finding.resource.get("origin") or finding.resource.get("id")),
        "severity": finding.severity,
        "message": finding.message,
    }


def dump(entries: Iterable[Mapping[str, Any]]) -> str:
    """The baseline file's text: deterministic (sorted, no timestamp), one entry per line."""
    ordered = sorted({e["fingerprint"]: dict(e) for e in entries}.values(),
                     key=lambda e: (e["file"], e["rule_id"], e["resource"]))
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in ordered]
    body = ",\n    ".join(lines)
    findings = f"[\n    {body}\n  ]" if lines else "[]"
    return (f'{{\n  "walens_baseline": {FORMAT},\n  "tool": {{"name": "walens", "version": '
            f'{json.dumps(__version__)}}},\n  "findings": {findings}\n}}\n')


def write(path: str, entries: Iterable[Mapping[str, Any]]) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(dump(entries))
    except OSError as exc:
        raise UsageError(f"cannot write the baseline: {exc.strerror}", file=path) from exc


@dataclass
class Baseline:
    """A loaded baseline and, after a review, which of its entries were seen failing again."""

    path: str
    entries: dict[str, dict[str, Any]]  # fingerprint → entry
    matched: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)  # repository-relative paths reviewed in this run
    new: int = 0

    @classmethod
    def load(cls, path: str) -> Baseline:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError as exc:
            raise UsageError("no such baseline file (create one with 'walens baseline create')",
                             file=path) from exc
        except OSError as exc:
            raise UsageError(f"cannot read the baseline: {exc.strerror}", file=path) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"not a JSON document: {exc}", file=path) from exc
        if not isinstance(data, dict) or data.get("walens_baseline") != FORMAT or not isinstance(
                data.get("findings"), list):
            raise UsageError(f"not a walens baseline (expected walens_baseline: {FORMAT} and a findings list)",
                             file=path)
        entries: dict[str, dict[str, Any]] = {}
        for i, item in enumerate(data["findings"]):
            if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
                raise UsageError(f"findings[{i}]: expected an entry with a fingerprint", file=path)
            entries[item["fingerprint"]] = item
        return cls(path=path, entries=entries)

    def mark(self, findings: Sequence[Finding], rel_path: str) -> None:
        """Flag the failing findings of one template that the baseline holds."""
        self.reviewed.add(rel_path)
        for finding in findings:
            if finding.status != Status.FAIL:
                continue
            if finding.fingerprint in self.entries:
                finding.baselined = True
                self.matched.add(finding.fingerprint)
            else:
                self.new += 1

    def fixed(self, running: Iterable[str]) -> list[dict[str, Any]]:
        """Entries of templates reviewed in this run, of rules that ran, that no longer fail."""
        rules = set(running)
        return sorted((e for fp, e in self.entries.items()
                       if fp not in self.matched and e.get("file") in self.reviewed and e.get("rule_id") in rules),
                      key=lambda e: (str(e.get("file")), str(e.get("rule_id")), str(e.get("resource"))))

    def report(self, running: Iterable[str]) -> dict[str, Any]:
        """The review's ``baseline`` section."""
        return {"file": relative_to_cwd(self.path), "baselined": len(self.matched), "new": self.new,
                "fixed": [{k: e.get(k) for k in ("rule_id", "file", "resource", "origin", "severity",
                                                  "fingerprint")} for e in self.fixed(running)]}

    def updated(self, running: Iterable[str]) -> list[dict[str, Any]]:
        """The entries to keep: everything but the fixed ones (files not reviewed are kept as they are)."""
        gone = {e["fingerprint"] for e in self.fixed(running)}
        return [e for fp, e in self.entries.items() if fp not in gone]


def relative_to_cwd(path: str) -> str:
    """A path for messages: relative when under the current directory."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel
