"""Suppressions: accepted findings, each with a reason, kept in the review as ``suppressed``.

Three places, most specific first:

- **inline**, on the authored resource::

      Metadata:
        walens:
          ignore:
            - id: COST001          # a rule ID or name
              reason: "logs are exported to S3 by a subscription"

  On a SAM resource (``AWS::Serverless::Function``...) it applies to everything SAM derives from it
  (the function, its role, its log group...), because findings carry the authored resource as
  ``origin``.
- **template**, in the template's top-level ``Metadata.walens.ignore``: the same entries, with an
  optional ``resources: [glob, ...]`` of logical IDs (all resources of the template when absent).
- **config**, in ``.walens.yml`` ``suppressions``: ``{rule, resource (glob), file (glob, optional),
  reason}`` (validated by :mod:`walens.config`).

A suppression silences a *failing* result: its status becomes ``suppressed``, ``reason`` holds the
suppression's reason and ``suppression`` is ``{kind: inline|template|config, reason}``. Passing and
not-assessed results keep their status (a suppression that matches one is still *used*: the rule
looked at that resource). A suppression that matched no result of a rule that ran is *unused*
(``--report-unused-suppressions``).

An inline or template suppression without a reason, with an unknown rule, or of the wrong shape is
not applied (the result keeps failing) and is reported in the review's ``errors`` with kind
``suppression``, the file and the line, like any other problem in the input (exit 3). A config
suppression without a reason is a configuration error (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from walens.config import ConfigSuppression, glob_match, name_match
from walens.engine import Finding
from walens.model import Status

ENTRY_KEYS = ("id", "reason")
TEMPLATE_ENTRY_KEYS = ("id", "reason", "resources")


@dataclass
class Suppression:
    """One suppression as found (inline/template) or configured."""

    kind: str                   # inline | template | config
    rule: str                   # the rule ID (resolved from a name), or "*" (config only)
    reason: str
    file: str | None = None     # the template (inline/template), or the config file (config)
    line: int | None = None
    resource: str | None = None  # inline: the authored logical ID; config: a glob
    resources: tuple[str, ...] = ()  # template: globs of logical IDs (empty: all)
    file_glob: str | None = None  # config: a glob of template paths
    used: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "rule_id": self.rule, "file": self.file, "line": self.line,
                               "resource": self.resource, "reason": self.reason}
        if self.resources:
            out["resources"] = list(self.resources)
        if self.file_glob:
            out["file_glob"] = self.file_glob
        return out


@dataclass
class Suppressor:
    """Applies suppressions template by template and remembers which ones were used."""

    catalogue: Mapping[str, str]          # rule ID and name → rule ID, for every loaded rule
    running: frozenset[str]               # IDs of the rules that run
    config: list[Suppression] = field(default_factory=list)
    seen: list[Suppression] = field(default_factory=list)  # every valid suppression, in order
    reviewed: list[str] = field(default_factory=list)  # repository-relative paths of reviewed templates

    @classmethod
    def create(cls, catalogue_rules: Iterable[Any], running_rules: Iterable[Any],
               config_suppressions: Sequence[ConfigSuppression] = (), config_file: str | None = None) -> Suppressor:
        names: dict[str, str] = {}
        for rule in catalogue_rules:
            names[rule.id] = rule.id
            names[rule.name] = rule.id
        config = [Suppression(kind="config", rule="*" if s.rule == "*" else names.get(s.rule.upper(), names.get(s.rule, s.rule)),
                              reason=s.reason, file=config_file, resource=s.resource, file_glob=s.file,
                              line=None) for s in config_suppressions]
        return cls(catalogue=names, running=frozenset(r.id for r in running_rules), config=config,
                   seen=list(config))

    # -----------------------------------------------------------------------------------------

    def _rule_id(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        return self.catalogue.get(value.strip().upper()) or self.catalogue.get(value.strip())

    def _entries(self, walens: Any, path: str, where: str, keys: tuple[str, ...], kind: str,
                 problems: list[dict[str, Any]], resource: str | None = None) -> list[Suppression]:
        """Valid entries of a ``walens`` metadata mapping; malformed ones go to ``problems``."""
        line = getattr(walens, "line", None) or None

        def problem(message: str, at: Any = None) -> None:
            problems.append({"file": path, "kind": "suppression", "line": getattr(at, "line", None) or line,
                             "message": f"{where}: {message}; the suppression is not applied"})

        if not isinstance(walens, Mapping):
            problem("Metadata.walens must be a mapping with an 'ignore' list")
            return []
        unknown = [k for k in walens if k != "ignore"]
        if unknown:
            problem(f"Metadata.walens: unknown key {unknown[0]!r} (allowed: ignore)")
        entries = walens.get("ignore")
        if entries is None:
            return []
        if not isinstance(entries, list):
            problem("Metadata.walens.ignore must be a list of {id, reason}", entries)
            return []
        out: list[Suppression] = []
        for i, entry in enumerate(entries):
            at = f"Metadata.walens.ignore[{i}]"
            if not isinstance(entry, Mapping):
                problem(f"{at}: expected {{id: RULE, reason: why}}, got {entry!r}", entry)
                continue
            bad = [k for k in entry if k not in keys]
            if bad:
                problem(f"{at}: unknown key {bad[0]!r} (allowed: {', '.join(keys)})", entry)
                continue
            rule = self._rule_id(entry.get("id"))
            if rule is None:
                problem(f"{at}.id: unknown rule {entry.get('id')!r} (allowed: a rule ID such as COST001 "
                        "or a rule name; see 'walens rules list')", entry)
                continue
            reason = entry.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                problem(f"{at}: suppression of {rule} has no reason (add reason: why this finding is "
                        "accepted)", entry)
                continue
            globs: tuple[str, ...] = ()
            if "resources" in entry:
                raw = entry["resources"]
                if isinstance(raw, str):
                    raw = [raw]
                if not isinstance(raw, list) or not raw or not all(isinstance(g, str) and g for g in raw):
                    problem(f"{at}.resources: expected a list of logical-ID globs", entry)
                    continue
                globs = tuple(raw)
            out.append(Suppression(kind=kind, rule=rule, reason=" ".join(reason.split()), file=path,
                                   line=getattr(entry, "line", None) or None, resource=resource,
                                   resources=globs))
        return out

    def _template_suppressions(self, data: Mapping[str, Any], path: str,
                               problems: list[dict[str, Any]]) -> tuple[dict[str, list[Suppression]], list[Suppression]]:
        inline: dict[str, list[Suppression]] = {}
        resources = data.get("Resources")
        if isinstance(resources, Mapping):
            for logical_id, body in resources.items():
                metadata = body.get("Metadata") if isinstance(body, Mapping) else None
                if isinstance(metadata, Mapping) and "walens" in metadata:
                    found = self._entries(metadata["walens"], path, f"resource {logical_id}", ENTRY_KEYS,
                                          "inline", problems, resource=str(logical_id))
                    if found:
                        inline[str(logical_id)] = found
        top: list[Suppression] = []
        metadata = data.get("Metadata")
        if isinstance(metadata, Mapping) and "walens" in metadata:
            top = self._entries(metadata["walens"], path, "template Metadata", TEMPLATE_ENTRY_KEYS, "template",
                                problems)
        return inline, top

    def apply(self, data: Mapping[str, Any], path: str, rel_path: str,
              findings: Sequence[Finding]) -> list[dict[str, Any]]:
        """Suppress ``findings`` of one template (``data`` as loaded, ``path`` as reported, ``rel_path``
        relative to the repository root for config globs); return the problems found in its suppressions."""
        problems: list[dict[str, Any]] = []
        self.reviewed.append(rel_path)
        inline, top = self._template_suppressions(data, path, problems)
        for group in inline.values():
            self.seen.extend(group)
        self.seen.extend(top)
        for finding in findings:
            if finding.status not in (Status.FAIL, Status.NOT_ASSESSED):
                continue
            resource_id = str(finding.resource.get("id"))
            origin = str(finding.resource.get("origin") or resource_id)
            match = next((s for s in inline.get(origin, ()) if s.rule == finding.rule_id), None)
            if match is None:
                match = next((s for s in top if s.rule == finding.rule_id and (
                    not s.resources or any(name_match(g, origin) or name_match(g, resource_id)
                                           for g in s.resources))), None)
            if match is None:
                match = next((s for s in self.config if s.rule in ("*", finding.rule_id)
                              and (name_match(s.resource or "*", origin) or name_match(s.resource or "*", resource_id))
                              and (s.file_glob is None or glob_match(s.file_glob, rel_path))), None)
            if match is None:
                continue
            match.used = True
            if finding.status == Status.FAIL:
                finding.status = Status.SUPPRESSED.value
                finding.reason = match.reason
                finding.suppression = {"kind": match.kind, "reason": match.reason}
        return problems

    def unused(self) -> list[dict[str, Any]]:
        """Valid suppressions of rules that ran which matched no result."""
        return [s.to_dict() for s in self.seen
                if not s.used and (s.rule == "*" or s.rule in self.running)
                # a config suppression scoped to files none of which was reviewed cannot be judged
                and (s.file_glob is None or any(glob_match(s.file_glob, p) for p in self.reviewed))]
