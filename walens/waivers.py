"""Accepted risks: ``.walens-waivers.yml``, each waiver with an owner, a reason and an expiry date.

A waiver names a rule (ID or name) or a best practice (ChoiceId), a resource glob (logical ID, SAM
origin or ARN) and optionally a file glob and an account glob (``account: "1111*"``: a fleet review's waiver
held in those accounts only; without it a waiver holds fleet-wide). A failing finding it matches becomes ``accepted`` with
``waiver: {owner, reason, ticket, expires}`` until the end of its ``expires`` day; after that the
finding stays ``fail`` and carries ``waiver_expired: true``, so an accepted risk is never forgotten.

Where the file comes from: ``--waivers FILE``, else the first ``.walens-waivers.yml`` (or ``.yaml``)
walking up from the current directory to the repository root (the first directory holding ``.git``;
the filesystem root when there is none), as the configuration is found. A malformed file is a
UsageError (exit 2) naming the file and the key.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walens.errors import UsageError

if TYPE_CHECKING:
    from walens.engine import Finding

WAIVER_NAMES = (".walens-waivers.yml", ".walens-waivers.yaml")
KEYS = ("rule", "choice", "resource", "file", "account", "owner", "reason", "ticket", "expires")
_ACCOUNT = re.compile(r"^[0-9*?]{1,12}$")
_RULE = re.compile(r"^(?:[A-Z]+[0-9]{3}|[a-z0-9]+(?:-[a-z0-9]+)*)$")


@dataclass(frozen=True)
class Waiver:
    """One accepted risk as written in the file."""

    index: int
    resource: str
    owner: str
    reason: str
    expires: date
    rule: str | None = None
    choice: str | None = None
    file: str | None = None
    ticket: str | None = None
    account: str | None = None  # an account ID glob (fleet reviews): the waiver holds in those accounts only

    @property
    def target(self) -> str:
        return self.rule or self.choice or ""

    def covers(self, rule_id: str, rule_name: str, choice: str) -> bool:
        if self.rule is not None:
            return self.rule in (rule_id, rule_name) or self.rule.upper() == rule_id
        return self.choice == choice

    def to_doc(self) -> dict[str, Any]:
        """What a finding carries: who accepted the risk, why, where it is tracked, until when."""
        return {"owner": self.owner, "reason": self.reason, "ticket": self.ticket, "expires": self.expires.isoformat()}

    def entry(self, today: date) -> dict[str, Any]:
        """The waiver as the review's ``waivers`` section lists it."""
        out = {"index": self.index, "rule": self.rule, "choice": self.choice, "resource": self.resource,
               "file": self.file, **self.to_doc(), "days_left": (self.expires - today).days}
        if self.account is not None:
            out["account"] = self.account
        return out


def find_file(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest waiver file at or above ``start`` (the current directory), up to the repository root."""
    directory = Path(start or os.getcwd()).resolve()
    while True:
        for name in WAIVER_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def _text(item: Mapping[str, Any], key: str, where: str, path: str, *, required: bool) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            raise UsageError(f"{where}.{key}: required", file=path)
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "ticket":
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}.{key}: expected a non-empty string, got {value!r}", file=path)
    return value.strip()


def _expires(item: Mapping[str, Any], where: str, path: str) -> date:
    value = item.get("expires")
    if value is None:
        raise UsageError(f"{where}.expires: required (an ISO date, YYYY-MM-DD): every accepted risk ends", file=path)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"{where}.expires: {value!r} is not an ISO date (YYYY-MM-DD)", file=path) from None


def _account(item: Mapping[str, Any], where: str, path: str) -> str | None:
    value = item.get("account")
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    text = _text({"account": value}, "account", where, path, required=False)
    if text is not None and not _ACCOUNT.match(text):
        raise UsageError(f"{where}.account: {text!r} is not an account ID or a glob of one (digits, * and ?)",
                         file=path)
    return text


def parse(data: Any, path: str) -> list[Waiver]:
    """Validate the file's content: ``waivers:`` (or a top-level list) of waiver mappings."""
    if data is None:
        return []
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"waivers", "version"})
        if unknown:
            raise UsageError(f"unknown key {unknown[0]!r} (expected 'waivers')", file=path)
        if data.get("version", 1) != 1:
            raise UsageError(f"version: {data.get('version')!r} is not supported (expected 1)", file=path)
        data = data.get("waivers") or []
    if not isinstance(data, list):
        raise UsageError("waivers: expected a list of waivers", file=path)
    from walens import lens

    out = []
    for i, item in enumerate(data):
        where = f"waivers[{i}]"
        if not isinstance(item, Mapping):
            raise UsageError(f"{where}: expected a mapping with rule or choice, resource, owner, reason, expires",
                             file=path)
        unknown = sorted(set(map(str, item)) - set(KEYS))
        if unknown:
            raise UsageError(f"{where}.{unknown[0]}: unknown key (expected {', '.join(KEYS)})", file=path)
        rule = _text(item, "rule", where, path, required=False)
        choice = _text(item, "choice", where, path, required=False)
        if (rule is None) == (choice is None):
            raise UsageError(f"{where}: give exactly one of 'rule' (a rule ID or name) or 'choice' (a ChoiceId)",
                             file=path)
        if rule is not None and not _RULE.match(rule):
            raise UsageError(f"{where}.rule: {rule!r} is not a rule ID (COST001) or rule name", file=path)
        if choice is not None and not lens.is_choice_id(choice):
            raise UsageError(f"{where}.choice: {choice!r} is not a Serverless Lens best-practice ChoiceId",
                             file=path)
        out.append(Waiver(
            index=i, rule=rule, choice=choice,
            resource=_text(item, "resource", where, path, required=True) or "*",
            file=_text(item, "file", where, path, required=False),
            owner=_text(item, "owner", where, path, required=True) or "",
            reason=_text(item, "reason", where, path, required=True) or "",
            ticket=_text(item, "ticket", where, path, required=False),
            expires=_expires(item, where, path),
            account=_account(item, where, path),
        ))
    return out


@dataclass
class WaiverSet:
    """The waivers of one file, applied to findings as templates are reviewed."""

    path: str
    waivers: list[Waiver]
    today: date = field(default_factory=date.today)
    base: str = "."  # the directory file globs are also tried relative to
    used: set[int] = field(default_factory=set)
    # fingerprint → (waiver, expired)
    applied: dict[str, tuple[Waiver, bool]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str], today: date | None = None) -> WaiverSet:
        import yaml

        text_path = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the waivers: {exc.strerror}", file=text_path) from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"the waivers are not UTF-8: {exc}", file=text_path) from exc
        try:
            data = yaml.load(text, Loader=plain_loader())  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise UsageError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=text_path,
                             line=mark.line + 1 if mark is not None else None) from exc
        return cls(path=text_path, waivers=parse(data, text_path), today=today or date.today(),
                   base=str(Path(path).resolve().parent))

    def active(self, waiver: Waiver) -> bool:
        """Still in force today: a waiver covers its ``expires`` day, and lapses the day after."""
        return self.today <= waiver.expires

    def _file_matches(self, waiver: Waiver, file: str | None) -> bool:
        if waiver.file is None:
            return True
        if not file:
            return False
        candidates = {file.replace(os.sep, "/")}
        try:
            rel = os.path.relpath(os.path.abspath(file), self.base)
            if not rel.startswith(".."):
                candidates.add(rel.replace(os.sep, "/"))
        except ValueError:  # another drive on Windows
            pass
        return any(fnmatch.fnmatchcase(c, waiver.file) for c in candidates)

    def match(self, rule_id: str, rule_name: str, choice: str, resource: Mapping[str, Any],
              file: str | None) -> tuple[Waiver, bool] | None:
        """The waiver that covers a failing finding and whether it has expired (active ones first)."""
        names = {str(v) for v in (resource.get("id"), resource.get("origin"), resource.get("arn")) if v}
        found = [w for w in self.waivers
                 if w.covers(rule_id, rule_name, choice)
                 and any(fnmatch.fnmatchcase(n, w.resource) for n in names)
                 and (w.account is None or fnmatch.fnmatchcase(str(resource.get("account") or ""), w.account))
                 and self._file_matches(w, file)]
        if not found:
            return None
        active = [w for w in found if self.active(w)]
        if active:
            return active[0], False
        return max(found, key=lambda w: w.expires), True

    def apply(self, findings: Iterable[Finding]) -> None:
        """Turn failing findings an active waiver covers into ``accepted``; remember expired ones."""
        for f in findings:
            if f.status != "fail":
                continue
            hit = self.match(f.rule_id, f.rule_name, f.lens_choice, f.resource,
                             f.location.file if f.location else None)
            if hit is None:
                continue
            waiver, expired = hit
            self.used.add(waiver.index)
            self.applied[f.fingerprint] = (waiver, expired)
            if not expired:
                f.status = "accepted"
                f.reason = _reason(waiver)

    def expiring(self, days: int) -> list[Waiver]:
        """Active waivers whose expiry is within ``days`` days from today."""
        limit = self.today + timedelta(days=days)
        return sorted((w for w in self.waivers if self.active(w) and w.expires <= limit), key=lambda w: w.expires)

    def annotate(self, doc: MutableMapping[str, Any], expiring_within: int | None = None) -> None:
        """Add ``waiver`` (and ``waiver_expired``) to the document's findings and its ``waivers`` section."""
        for f in doc.get("findings") or []:
            hit = self.applied.get(str(f.get("fingerprint")))
            if hit is None:
                continue
            waiver, expired = hit
            f["waiver"] = waiver.to_doc()
            if expired and f.get("status") == "fail":
                f["waiver_expired"] = True
        section: dict[str, Any] = {
            "file": self.path,
            "today": self.today.isoformat(),
            "count": len(self.waivers),
            "expired": [w.entry(self.today) for w in self.waivers if not self.active(w)],
            "unused": [w.entry(self.today) for w in self.waivers if w.index not in self.used],
        }
        if expiring_within is not None:
            section["expiring_within_days"] = expiring_within
            section["expiring"] = [w.entry(self.today) for w in self.expiring(expiring_within)]
        doc["waivers"] = section


def plain_loader() -> type:
    """A SafeLoader that leaves dates as strings: PyYAML's own date parsing crashes on 2030-02-30."""
    import yaml

    class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no types in [test]: its loader is Any
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def _reason(waiver: Waiver) -> str:
    """The finding's ``reason``: the person's words, who, the ticket and the expiry, in any language."""
    extra = "; ".join(x for x in (waiver.owner, waiver.ticket, f"→ {waiver.expires.isoformat()}") if x)
    return f"{waiver.reason} ({extra})"


def load_for_scan(explicit: str | None, *, start: str | None = None, today: date | None = None) -> WaiverSet | None:
    """The waivers a scan uses: ``--waivers FILE``, else the nearest waiver file, else None."""
    if explicit:
        if not Path(explicit).is_file():
            raise UsageError("--waivers: no such file", file=explicit)
        return WaiverSet.load(explicit, today)
    found = find_file(start)
    return WaiverSet.load(found, today) if found is not None else None


def accepted_findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Accepted findings that carry a waiver (for the reporters' "Accepted risks" sections)."""
    return [f for f in doc.get("findings") or [] if f.get("status") == "accepted" and f.get("waiver")]


def expired_findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Failing findings whose waiver has lapsed."""
    return [f for f in doc.get("findings") or [] if f.get("status") == "fail" and f.get("waiver_expired")]

