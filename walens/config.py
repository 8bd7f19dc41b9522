"""Configuration: ``.walens.yml`` / ``[tool.walens]`` in ``pyproject.toml`` / ``--config FILE``, then flags.

Where the configuration comes from (first found wins):

1. ``--config FILE`` (YAML, or TOML: its ``[tool.walens]`` table, else its top level);
2. walking up from the current directory to the repository root (the first directory holding
   ``.git``; the filesystem root when there is none), in each directory: ``.walens.yml``,
   ``.walens.yaml``, then ``pyproject.toml`` when it has a ``[tool.walens]`` table.

Command-line flags override the file; ``walens config show`` prints the effective values and where
each came from (``default``, the file's path, or the flag). Unknown keys, wrong types, unknown rule
IDs and bad values are :class:`~walens.errors.UsageError` (exit 2) naming the file, the key and what
is allowed. Loading imports only PyYAML and tomllib; validating rule IDs (:func:`resolve_rules`)
reads the rule catalogue, which template mode loads anyway.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walens.errors import UsageError

if TYPE_CHECKING:
    from walens.rules import Rule

CONFIG_NAMES = (".walens.yml", ".walens.yaml")
SEVERITIES = ("high", "medium", "low", "info")
FAIL_ON = ("high", "medium", "low", "info", "never")
LANGS = ("en", "ja")
SUPPRESSION_KEYS = ("rule", "resource", "file", "reason")

# key → (kind, default, what is allowed: said in error messages)
_SCHEMA: dict[str, tuple[str, Any, str]] = {
    "include": ("globs", [], "a list of glob patterns of templates to review"),
    "exclude": ("globs", [], "a list of glob patterns of files never to review"),
    "select": ("selectors", [], "a list of rule IDs, rule names, pillars or best-practice ChoiceIds"),
    "ignore": ("selectors", [], "a list of rule IDs, rule names, pillars or best-practice ChoiceIds"),
    "severity": ("severity", {}, "a mapping of rule ID to high, medium, low or info"),
    "params": ("params", {}, "a mapping of rule ID to a mapping of that rule's params"),
    "fail_on": ("choice:fail_on", "high", "one of " + ", ".join(FAIL_ON)),
    "lang": ("choice:lang", "en", "one of " + ", ".join(LANGS)),
    "rules_dirs": ("paths", [], "a list of directories (or files) of extra rules"),
    "suppressions": ("suppressions", [], "a list of {rule, resource, file (optional), reason}"),
    "baseline": ("path", None, "the path of a baseline file (walens baseline create)"),
    "report_unused_suppressions": ("bool", False, "true or false"),
}
KEYS = tuple(_SCHEMA)


@dataclass(frozen=True)
class ConfigSuppression:
    """A configuration-level suppression: a rule on resources (and files) matching globs, with a reason."""

    rule: str
    resource: str
    reason: str
    file: str | None = None
    index: int = 0  # position in the ``suppressions`` list, to name it in messages


@dataclass
class Config:
    """The effective configuration: ``values[key]`` and, per key, where it came from."""

    values: dict[str, Any]
    sources: dict[str, str]
    path: str | None = None  # the configuration file, when one was found or given
    root: str = "."          # the repository root: globs and fingerprints are relative to it
    base: str = "."          # the directory relative paths in the file are relative to
    only: frozenset[str] | None = None  # --changed-since: absolute paths of the files to review

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def error(self, key: str, problem: str) -> UsageError:
        source = self.sources.get(key, "default")
        if source.startswith("--"):
            return UsageError(f"{source}: {problem}")
        if source == "default":
            return UsageError(f"key '{key}': {problem}")
        return UsageError(f"key '{key}': {problem}", file=source)

    def with_flags(self, **flags: Any) -> Config:
        """A copy where every flag that is not None replaces the value (flags win over the file)."""
        values = dict(self.values)
        sources = dict(self.sources)
        for key, value in flags.items():
            if key not in _SCHEMA:
                raise KeyError(key)
            if value is None:
                continue
            # Paths on the command line are relative to the current directory, not to the file.
            values[key] = _check(key, value, f"--{key.replace('_', '-')}", os.getcwd())
            sources[key] = f"--{key.replace('_', '-')}"
        return replace(self, values=values, sources=sources)

    @property
    def suppressions(self) -> list[ConfigSuppression]:
        return list(self.values["suppressions"])

    def is_included(self, path: str) -> bool:
        """Whether a discovered file is reviewed under ``include``/``exclude`` (stdin always is)."""
        if path == "-" or path == "<stdin>":
            return True
        absolute = os.path.abspath(path)
        # walens' own files (this configuration, the baseline) are never templates to review.
        if any(own and absolute == os.path.abspath(own) for own in (self.path, self.values["baseline"])):
            return False
        if self.only is not None and os.path.realpath(absolute) not in self.only:
            return False
        rel = relative_path(path, self.root)
        include = self.values["include"]
        if include and not any(glob_match(p, rel) for p in include):
            return False
        return not any(glob_match(p, rel) for p in self.values["exclude"])

    def show(self) -> dict[str, Any]:
        """The effective configuration for ``walens config show``: every key with its value and source."""
        out: dict[str, Any] = {}
        for key in KEYS:
            value = self.values[key]
            if key == "suppressions":
                value = [{k: v for k, v in (("rule", s.rule), ("resource", s.resource), ("file", s.file),
                                             ("reason", s.reason)) if v is not None} for s in value]
            out[key] = {"value": value, "source": self.sources.get(key, "default")}
        return {"config_file": self.path, "root": self.root, "values": out}


# ---------------------------------------------------------------------------------------------
# Paths and globs


def find_root(start: str | None = None) -> str | None:
    """The nearest directory at or above ``start`` holding ``.git``, or None."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return str(directory)
    return None


def relative_path(path: str, root: str) -> str:
    """``path`` relative to ``root`` with ``/`` separators (what fingerprints and globs use)."""
    if path in ("-", "<stdin>"):
        return "<stdin>"
    try:
        rel = os.path.relpath(os.path.abspath(path), root)
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-like: ``**`` spans directories, ``*``/``?`` stay inside one; a pattern without ``/``
    matches a name in any directory; a trailing ``/`` (or ``/**``) matches everything beneath."""
    pat = pattern.strip().replace("\\", "/")
    if pat.startswith("./"):
        pat = pat[2:]
    if pat.endswith("/"):
        pat += "**"
    anchored = "/" in pat.rstrip("/")
    out = []
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pat.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pat.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pat[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}(?:/.*)?$" if not body.endswith(".*") else f"^{prefix}{body}$")


def glob_match(pattern: str, path: str) -> bool:
    """Whether ``path`` (relative, ``/``-separated) matches the glob ``pattern`` (see :func:`_glob_regex`)."""
    return bool(_glob_regex(pattern).match(path))


def name_match(pattern: str, name: str) -> bool:
    """Case-sensitive glob on a single name (a logical ID): ``*``, ``?``, ``[...]``."""
    return fnmatch.fnmatchcase(name, pattern)


# ---------------------------------------------------------------------------------------------
# Reading and checking the file


def _read_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the configuration: {getattr(exc, 'strerror', None) or exc}",
                         file=str(path)) from exc
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=str(path),
                         line=mark.line + 1 if mark is not None else None) from exc
    return {} if data is None else data


def _read_toml(path: Path, *, require_table: bool) -> Any:
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read the configuration: {exc.strerror}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", file=str(path)) from exc
    tool = data.get("tool")
    if isinstance(tool, dict) and "walens" in tool:
        return tool["walens"]
    if require_table:
        return None
    return data


def _type_error(source: str, key: str, allowed: str, value: Any) -> UsageError:
    problem = f"expected {allowed}, got {value!r}"
    if source.startswith("--"):
        return UsageError(f"{source}: {problem}")
    return UsageError(f"key '{key}': {problem}", file=source if source != "default" else None)


def _strings(key: str, value: Any, source: str, allowed: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _type_error(source, key, allowed, value)
    return [v.strip() for v in value]


def _check(key: str, value: Any, source: str, base: str) -> Any:
    """``value`` of ``key`` checked for type (not yet against the rule catalogue), normalised."""
    kind, _, allowed = _SCHEMA[key]
    if kind in ("globs", "selectors"):
        return _strings(key, value, source, allowed)
    if kind == "paths":
        return [p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))
                for p in _strings(key, value, source, allowed)]
    if kind == "path":
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise _type_error(source, key, allowed, value)
        return value if os.path.isabs(value) else os.path.normpath(os.path.join(base, value))
    if kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(source, key, allowed, value)
        return value
    if kind.startswith("choice:"):
        options = FAIL_ON if kind == "choice:fail_on" else LANGS
        if value not in options:
            raise _type_error(source, key, allowed, value)
        return value
    if kind == "severity":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _type_error(source, key, allowed, value)
        for rule, sev in value.items():
            if sev not in SEVERITIES:
                raise _type_error(source, f"{key}.{rule}", "one of " + ", ".join(SEVERITIES), sev)
        return dict(value)
    if kind == "params":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _type_error(source, key, allowed, value)
        for rule, params in value.items():
            if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
                raise _type_error(source, f"{key}.{rule}", "a mapping of param names to values", params)
        return {rule: dict(params) for rule, params in value.items()}
    if kind == "suppressions":
        if not isinstance(value, list):
            raise _type_error(source, key, allowed, value)
        out = []
        for i, item in enumerate(value):
            where = f"{key}[{i}]"
            if not isinstance(item, Mapping):
                raise _type_error(source, where, allowed, item)
            unknown = [k for k in item if k not in SUPPRESSION_KEYS]
            if unknown:
                raise _type_error(source, f"{where}.{unknown[0]}",
                                  "one of the keys " + ", ".join(SUPPRESSION_KEYS), unknown[0])
            for required in ("rule", "resource", "reason"):
                got = item.get(required)
                if not isinstance(got, str) or not got.strip():
                    what = ("a reason: why this finding is accepted (a suppression without one is refused)"
                            if required == "reason" else
                            "a rule ID or name" if required == "rule" else
                            "a glob of logical IDs (e.g. Legacy* or *)")
                    raise _type_error(source, f"{where}.{required}", what, got)
            file = item.get("file")
            if file is not None and (not isinstance(file, str) or not file.strip()):
                raise _type_error(source, f"{where}.file", "a glob of template paths", file)
            out.append(ConfigSuppression(rule=item["rule"].strip(), resource=item["resource"].strip(),
                                         reason=" ".join(item["reason"].split()), file=file, index=i))
        return out
    raise AssertionError(kind)  # pragma: no cover


def _defaults() -> tuple[dict[str, Any], dict[str, str]]:
    values = {k: (list(d) if isinstance(d, list) else dict(d) if isinstance(d, dict) else d)
              for k, (_, d, _) in _SCHEMA.items()}
    return values, dict.fromkeys(_SCHEMA, "default")


def find_config(start: str | None = None) -> tuple[Path, Any] | None:
    """The nearest configuration at or above ``start`` (up to the repository root) and its raw data."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate, _read_yaml(candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject, require_table=True)
            if data is not None:
                return pyproject, data
        if (directory / ".git").exists():
            return None
    return None


def load_config(explicit: str | None = None, *, start: str | None = None) -> Config:
    """The configuration file's values over the defaults (flags are applied with ``Config.with_flags``)."""
    values, sources = _defaults()
    found: tuple[Path, Any] | None
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--config {explicit}: no such file")
        if path.suffix == ".toml":
            found = path, _read_toml(path, require_table=False)
        else:
            found = path, _read_yaml(path)
    else:
        found = find_config(start)
    git_root = find_root(start)
    if found is None:
        return Config(values, sources, None, git_root or str(Path(start or os.getcwd()).resolve()),
                      str(Path(start or os.getcwd()).resolve()))
    path, data = found
    shown = str(path)
    base = str(path.resolve().parent)
    root = git_root or base
    if not isinstance(data, Mapping):
        raise UsageError(f"the configuration must be a mapping of keys ({', '.join(KEYS)}), "
                         f"got {type(data).__name__}", file=shown)
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key not in _SCHEMA:
            raise UsageError(f"unknown key {raw_key!r} (allowed: {', '.join(KEYS)})", file=shown)
        values[key] = _check(key, value, shown, base)
        sources[key] = shown
    return Config(values, sources, shown, root, base)


def changed_files(ref: str, root: str) -> frozenset[str]:
    """Files changed since the git ``ref`` (committed, staged, unstaged, and untracked), as real paths."""
    import subprocess

    def git(*args: str) -> list[str]:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"--changed-since: cannot run git: {exc}") from exc
        if proc.returncode != 0:
            raise UsageError(f"--changed-since {ref}: {proc.stderr.strip() or 'git failed'}")
        return [line for line in proc.stdout.splitlines() if line]

    top = git("rev-parse", "--show-toplevel")[0]
    names = git("diff", "--name-only", "--diff-filter=ACMRT", ref, "--")
    names += git("ls-files", "--others", "--exclude-standard", "--full-name")
    return frozenset(os.path.realpath(os.path.join(top, n)) for n in names)


def default_config(start: str | None = None) -> Config:
    """The defaults, no file read; the repository root found from ``start`` (else ``start`` itself)."""
    values, sources = _defaults()
    here = str(Path(start or os.getcwd()).resolve())
    return Config(values, sources, None, find_root(here) or here, here)


# ---------------------------------------------------------------------------------------------
# Against the rule catalogue


def _is_choice(selector: str) -> bool:
    from walens import lens

    return lens.is_choice_id(selector)


def find_rule(rules: Sequence[Rule], wanted: str) -> Rule | None:
    """The rule with ID or name ``wanted`` (IDs case-insensitive), or None."""
    for rule in rules:
        if wanted.upper() == rule.id or wanted == rule.name:
            return rule
    return None


def _closest(wanted: str, catalogue: Sequence[Rule], *, choices: bool = False) -> str:
    """A did-you-mean hint for a mistyped rule ID or name (or pillar and ChoiceId with ``choices``)."""
    from walens.errors import did_you_mean
    from walens.rules import selector_names

    names = selector_names(catalogue) if choices else [*(r.id for r in catalogue), *(r.name for r in catalogue)]
    if choices:
        from walens import lens

        names += [bp.id for bp in lens.BEST_PRACTICES]
    return did_you_mean(wanted, names)


def resolve_rules(config: Config, catalogue: Sequence[Rule]) -> list[Rule]:
    """The rules to run: ``select`` (all when empty) minus ``ignore``, severities and params applied.

    Every rule ID, name, pillar or ChoiceId in ``select``/``ignore``/``severity``/``params`` and every
    suppression's rule must exist (a ChoiceId must be a best practice of the Serverless Lens).
    """
    from walens.errors import RuleError
    from walens.rules import chosen_rules, matches

    for key in ("select", "ignore"):
        for selector in config[key]:
            if any(matches(r, selector, choices=True) for r in catalogue):
                continue
            if _is_choice(selector):
                if key == "select":
                    raise config.error(key, f"no rule evidences the best practice {selector!r} "
                                            "(see 'walens lens' for the rules of each ChoiceId)")
                continue
            raise config.error(key, f"unknown rule, pillar or ChoiceId {selector!r}"
                                    f"{_closest(selector, catalogue, choices=True)} (allowed: rule IDs "
                                    "such as COST001, rule names, pillars such as security or "
                                    "costOptimization, ChoiceIds such as cost_cost_q1_a2; "
                                    "see 'walens rules list')")
    for key in ("severity", "params"):
        for rule_id in config[key]:
            if find_rule(catalogue, rule_id) is None:
                raise config.error(key, f"unknown rule {rule_id!r}{_closest(rule_id, catalogue)} (allowed: the "
                                        "IDs or names 'walens rules list' prints)")
    for sup in config.suppressions:
        if sup.rule != "*" and find_rule(catalogue, sup.rule) is None:
            raise config.error("suppressions", f"suppressions[{sup.index}].rule: unknown rule {sup.rule!r}"
                                               f"{_closest(sup.rule, catalogue)} (allowed: a rule ID or name, or *)")

    chosen = chosen_rules(catalogue, config["select"], config["ignore"], choices=True)

    severity = {find_rule(catalogue, k).id: v for k, v in config["severity"].items()}  # type: ignore[union-attr]
    params = {find_rule(catalogue, k).id: v for k, v in config["params"].items()}  # type: ignore[union-attr]
    out = []
    for rule in chosen:
        if rule.id in params:
            try:
                rule = rule.with_params(params[rule.id])
            except RuleError as exc:
                raise config.error("params", exc.message) from exc
        if rule.id in severity:
            rule = replace(rule, severity=severity[rule.id])
        out.append(rule)
    return out
