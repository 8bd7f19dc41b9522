"""The rule schema: load and validate rule files (the built-in catalogue and ``--rules-dir``)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser
import yaml

from walens.errors import RuleError, UsageError, did_you_mean
from walens.model import Pillar, Severity

ID_RE = re.compile(r"^[A-Z]+[0-9]{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESOURCE_TYPE_RE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
PLACEHOLDER_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(.*)$")

STATUSES = ("preview", "stable", "deprecated")
SCOPES = ("template", "account")
LANGS = ("en", "ja")

# The folder each pillar's rules live in (walens/rules/<folder>/<ID>.yaml).
PILLAR_FOLDERS: dict[str, str] = {
    "operational_excellence": Pillar.OPERATIONAL_EXCELLENCE,
    "security": Pillar.SECURITY,
    "reliability": Pillar.RELIABILITY,
    "performance": Pillar.PERFORMANCE,
    "cost_optimization": Pillar.COST_OPTIMIZATION,
}

REQUIRED = ("id", "name", "pillar", "lens", "severity", "resource", "scope", "status", "since", "assert",
            "title", "message", "rationale", "remediation", "references")
OPTIONAL = ("params", "when", "message_args")
BUILTIN_PLACEHOLDERS = frozenset({"name", "id", "type"})


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule as loaded and validated from ``<ID>.yaml``."""

    id: str
    name: str
    pillar: str
    lens_question: str
    lens_choice: str
    severity: str
    resource_types: tuple[str, ...]
    scope: tuple[str, ...]
    status: str
    since: str
    params: Mapping[str, Any]
    when: jmespath.parser.ParsedResult | None
    assert_: jmespath.parser.ParsedResult
    message_args: Mapping[str, jmespath.parser.ParsedResult]
    title: Mapping[str, str]
    message: Mapping[str, str]
    rationale: Mapping[str, str]
    remediation: Mapping[str, str]
    references: tuple[str, ...]
    path: str
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def with_params(self, overrides: Mapping[str, Any]) -> Rule:
        """A copy of the rule with some params overridden; unknown names or mistyped values are RuleErrors."""
        merged = dict(self.params)
        for key, value in overrides.items():
            if key not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise RuleError(f"{self.id}: field 'params.{key}': unknown parameter (known: {known})",
                                file=self.path)
            default = self.params[key]
            # bool is an int in Python: keep a flag a flag and a number a number.
            if (isinstance(default, bool) != isinstance(value, bool)
                    or (isinstance(default, (int, float)) and not isinstance(value, (int, float)))
                    or (isinstance(default, str) and not isinstance(value, str))
                    or (isinstance(default, list) and not isinstance(value, list))):
                raise RuleError(
                    f"{self.id}: field 'params.{key}': expected {type(default).__name__}, got {value!r}",
                    file=self.path)
            merged[key] = value
        return replace(self, params=merged)

    def to_doc(self) -> dict[str, Any]:
        """The rule's texts for the review document's ``rules`` section (both languages)."""
        return {
            "name": self.name,
            "pillar": self.pillar,
            "lens": {"question": self.lens_question, "choice": self.lens_choice},
            "severity": self.severity,
            "status": self.status,
            "resource": list(self.resource_types),
            "title": dict(self.title),
            "message": dict(self.message),
            "rationale": dict(self.rationale),
            "remediation": dict(self.remediation),
            "references": list(self.references),
        }


def _fail(path: str, field_name: str, problem: str) -> RuleError:
    return RuleError(f"field '{field_name}': {problem}", file=path)


def _lens_lookup(choice: str) -> tuple[str, str] | None:
    """(question, pillar) of a best practice's ChoiceId, or None when the Serverless Lens lacks it."""
    from walens import lens

    try:
        record = lens.choice(choice)
    except lens.UnknownLensId:
        return None
    return str(record.question), str(record.pillar)


# YAML folds a line break in a `>-` scalar into a space; between two Japanese characters that space is an
# artefact of the author's line length, not a word break (spaces around Latin words are kept).
_CJK = "\u3000-\u30ff\u3400-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def join_folded_cjk(text: str) -> str:
    """``text`` without the spaces YAML folding left between two Japanese characters."""
    return _CJK_GAP.sub("", text)


# Remediation examples for one kind of API, shown instead of ``example``/``example_cfn`` on a finding of that
# kind (engine.api_kind): no REST API example on a WebSocket stage. Each is a whole template that passes the rule.
API_KINDS = ("rest", "http", "websocket")
VARIANT_EXAMPLES = tuple(f"example_{kind}" for kind in API_KINDS)


def _texts(path: str, data: Mapping[str, Any], key: str, extra: Sequence[str] = ()) -> dict[str, str]:
    value = data[key]
    if not isinstance(value, Mapping):
        raise _fail(path, key, "expected a mapping with 'en' and 'ja'")
    out: dict[str, str] = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"{key}.{lang}", "missing or empty text")
        out[lang] = join_folded_cjk(text) if lang == "ja" else text
    for other in value:
        if other not in LANGS and other not in extra:
            raise _fail(path, f"{key}.{other}", "unknown field")
    for name in extra:
        if name in value:
            if not isinstance(value[name], str) or not value[name].strip():
                raise _fail(path, f"{key}.{name}", "expected a non-empty string")
            out[name] = value[name]
    return out


def _compile(path: str, field_name: str, expression: Any) -> jmespath.parser.ParsedResult:
    if not isinstance(expression, str) or not expression.strip():
        raise _fail(path, field_name, "expected a JMESPath expression")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        problem = " ".join(str(exc).split())
        raise _fail(path, field_name, f"JMESPath does not compile: {problem}") from exc


def _check_placeholders(path: str, lang: str, text: str, allowed: frozenset[str],
                        params: Mapping[str, Any]) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _fail(path, f"message.{lang}", f"bad placeholder syntax: {exc}") from exc
    for _, field_name, _, _ in parsed:
        if field_name is None:
            continue
        match = PLACEHOLDER_RE.match(field_name)
        if not match:
            raise _fail(path, f"message.{lang}", f"placeholder {{{field_name}}} is not a name")
        root, rest = match.groups()
        if root == "params" and rest.startswith("."):
            key = rest[1:].split(".")[0].split("[")[0]
            if key not in params:
                raise _fail(path, f"message.{lang}", f"placeholder {{{field_name}}}: no param '{key}'")
            continue
        if root not in allowed:
            raise _fail(path, f"message.{lang}",
                        f"placeholder {{{field_name}}} is neither name/id/type, a param nor a message_arg")


def parse_rule(data: Any, path: str) -> Rule:
    """Validate one rule document read from ``path``; raise RuleError naming the file and field."""
    if not isinstance(data, Mapping):
        raise RuleError("a rule file must be a YAML mapping", file=path)
    for key in REQUIRED:
        if key not in data or data[key] is None:
            raise _fail(path, key, "required field missing")
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            raise _fail(path, str(key), "unknown field")

    rule_id = data["id"]
    if not isinstance(rule_id, str) or not ID_RE.match(rule_id):
        raise _fail(path, "id", f"{rule_id!r} does not match <PILLAR><NNN> (e.g. COST001)")
    stem = Path(path).stem
    if stem != rule_id:
        raise _fail(path, "id", f"{rule_id!r} differs from the file name {stem!r}")
    name = data["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _fail(path, "name", f"{name!r} is not kebab-case")

    pillar = data["pillar"]
    if pillar not in {p.value for p in Pillar}:
        raise _fail(path, "pillar", f"{pillar!r} is not one of {', '.join(p.value for p in Pillar)}")
    folder = Path(path).parent.name
    if folder in PILLAR_FOLDERS and PILLAR_FOLDERS[folder] != pillar:
        raise _fail(path, "pillar", f"{pillar!r} does not match the folder {folder!r}")

    lens = data["lens"]
    if not isinstance(lens, Mapping) or set(lens) != {"question", "choice"}:
        raise _fail(path, "lens", "expected {question: ..., choice: ...}")
    question, choice = lens["question"], lens["choice"]
    if not isinstance(choice, str):
        raise _fail(path, "lens.choice", f"{choice!r} is not a ChoiceId")
    known = _lens_lookup(choice)
    if known is None:
        raise _fail(path, "lens.choice", f"unknown ChoiceId {choice!r}")
    if question != known[0]:
        raise _fail(path, "lens.question", f"{question!r} is not the question of {choice} ({known[0]})")
    if known[1] != pillar:
        raise _fail(path, "pillar", f"{pillar!r} is not the pillar of {choice} ({known[1]})")

    severity = data["severity"]
    if severity not in {s.value for s in Severity}:
        raise _fail(path, "severity", f"{severity!r} is not one of high, medium, low, info")
    status = data["status"]
    if status not in STATUSES:
        raise _fail(path, "status", f"{status!r} is not one of {', '.join(STATUSES)}")
    since = data["since"]
    if not isinstance(since, str) or not re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", since):
        raise _fail(path, "since", f"{since!r} is not a version like 0.1.0 (quote it in YAML)")

    scope = data["scope"]
    if isinstance(scope, str):
        scope = [scope]
    if not isinstance(scope, list) or not scope or any(s not in SCOPES for s in scope):
        raise _fail(path, "scope", f"{data['scope']!r}: expected a non-empty list of {', '.join(SCOPES)}")
    types = data["resource"]
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not types or any(
            not isinstance(t, str) or not RESOURCE_TYPE_RE.match(t) for t in types):
        raise _fail(path, "resource", f"{data['resource']!r}: expected a resource type or a list of them")

    params = data.get("params") or {}
    if not isinstance(params, Mapping) or any(not isinstance(k, str) or not k.isidentifier() for k in params):
        raise _fail(path, "params", "expected a mapping of identifier names to values")

    when = _compile(path, "when", data["when"]) if data.get("when") is not None else None
    assert_ = _compile(path, "assert", data["assert"])
    raw_args = data.get("message_args") or {}
    if not isinstance(raw_args, Mapping):
        raise _fail(path, "message_args", "expected a mapping of names to JMESPath expressions")
    message_args: dict[str, jmespath.parser.ParsedResult] = {}
    for key, expression in raw_args.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise _fail(path, f"message_args.{key}", "not an identifier")
        if key in BUILTIN_PLACEHOLDERS or key == "params" or key in params:
            raise _fail(path, f"message_args.{key}", "shadows name/id/type/params or a param")
        message_args[key] = _compile(path, f"message_args.{key}", expression)

    title = _texts(path, data, "title")
    for lang in LANGS:
        if title[lang].lstrip().lower().startswith("ensure"):
            raise _fail(path, f"title.{lang}", "a title names the condition found; do not start it with 'Ensure'")
    message = _texts(path, data, "message")
    allowed = BUILTIN_PLACEHOLDERS | frozenset(params) | frozenset(message_args)
    for lang in LANGS:
        _check_placeholders(path, lang, message[lang], allowed, params)
    rationale = _texts(path, data, "rationale")
    remediation = _texts(path, data, "remediation", extra=("example", "example_cfn", *VARIANT_EXAMPLES))

    references = data["references"]
    if not isinstance(references, list) or not references or any(
            not isinstance(u, str) or not u.startswith("https://") for u in references):
        raise _fail(path, "references", "expected a non-empty list of https:// URLs")

    return Rule(
        id=rule_id, name=name, pillar=pillar, lens_question=question, lens_choice=choice,
        severity=severity, resource_types=tuple(types), scope=tuple(scope), status=status, since=since,
        params=dict(params), when=when, assert_=assert_, message_args=message_args, title=title,
        message=message, rationale=rationale, remediation=remediation, references=tuple(references),
        path=path, raw=dict(data),
    )


def _read(text: str, path: str) -> Rule:
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=path,
                        line=mark.line + 1 if mark is not None else None) from exc
    return parse_rule(data, path)


def _walk(root: Traversable) -> Iterable[Traversable]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.name.endswith(".yaml"):
            yield entry


def builtin_root() -> Traversable:
    """Where the built-in catalogue lives inside the package."""
    return resources.files("walens") / "rules"


def _vocabulary_sources() -> list[Path]:
    """The files that declare the facts and relations rules may name (walens.vocabulary checks against them)."""
    import walens.facts
    import walens.graph
    import walens.vocabulary

    facts_dir = Path(walens.facts.__file__).parent
    return [Path(walens.vocabulary.__file__), Path(walens.graph.__file__), *sorted(facts_dir.glob("*.py"))]


def check_names(rules: Sequence[Rule]) -> None:
    """RuleError when a rule's expressions name a fact or relation its resource types do not have."""
    from walens.vocabulary import check_rule, vocabulary

    vocab = vocabulary()
    for rule in rules:
        check_rule(rule, vocab)


def _builtin_rules() -> list[Rule]:
    """The built-in catalogue, parsed and checked once, then served from walens.cache while its files (and
    those declaring facts and relations) are unchanged."""
    from walens.cache import cached

    root = builtin_root()
    if not root.is_dir():
        return []
    entries = list(_walk(root))

    def build() -> list[Rule]:
        rules = [_read(entry.read_text(encoding="utf-8"), str(entry)) for entry in entries]
        check_names(rules)
        return rules

    # The parser is a source too, and so are the declarations of facts and relations names are checked against.
    return cached("rules", [*entries, __file__, *_vocabulary_sources()], build)


def load_rules(extra_dirs: Sequence[str] = ()) -> list[Rule]:
    """Load the built-in catalogue plus every ``*.yaml`` under ``extra_dirs``; IDs and names must be unique."""
    rules: list[Rule] = list(_builtin_rules())
    custom: list[Rule] = []
    for extra in extra_dirs:
        base = Path(extra)
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = sorted(p for p in base.rglob("*.yaml") if p.is_file())
        else:
            raise UsageError(f"rules directory {extra} does not exist")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RuleError(f"cannot read rule file: {exc}", file=str(file)) from exc
            custom.append(_read(text, str(file)))
    if custom:
        check_names(custom)
    rules += custom
    seen_ids: dict[str, Rule] = {}
    seen_names: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen_ids:
            raise _fail(rule.path, "id", f"duplicate rule ID {rule.id} (also in {seen_ids[rule.id].path})")
        if rule.name in seen_names:
            raise _fail(rule.path, "name", f"duplicate rule name {rule.name} (also in {seen_names[rule.name].path})")
        seen_ids[rule.id] = rule
        seen_names[rule.name] = rule
    return rules


def matches(rule: Rule, selector: str, *, choices: bool = False) -> bool:
    """Whether ``selector`` names ``rule``: its ID, its name, its pillar (any spelling) or, with ``choices``
    (a configuration file's select/ignore), the lens ChoiceId it evidences."""
    lowered = selector.lower()
    return (selector == rule.id or selector == rule.name or (choices and selector == rule.lens_choice)
            or lowered == rule.pillar.lower() or PILLAR_FOLDERS.get(lowered) == rule.pillar)


def selector_names(rules: Sequence[Rule]) -> list[str]:
    """Every name a selector may use for these rules: IDs, names and pillars (for did-you-mean hints)."""
    return [*(r.id for r in rules), *(r.name for r in rules), *(str(p) for p in Pillar), *PILLAR_FOLDERS]


def select_rules(rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Rule]:
    """Keep the rules ``select`` names (all when empty) minus those ``ignore`` names.

    A selector is a rule ID, a rule name or a pillar (``security`` / ``costOptimization`` /
    ``cost_optimization``; pillars are case-insensitive). Deprecated rules run only when selected
    by ID or name. An unknown selector is a UsageError.
    """
    for selector in (*select, *ignore):
        if not any(matches(rule, selector) for rule in rules):
            raise UsageError(f"unknown rule or pillar {selector!r}{did_you_mean(selector, selector_names(rules))} "
                             "in --select/--ignore")
    return chosen_rules(rules, select, ignore)


def chosen_rules(rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = (), *,
                 choices: bool = False) -> list[Rule]:
    """The selection itself, selectors already checked (``select_rules``, ``config.resolve_rules``).

    The rules some ``select`` selector names (every rule when empty) minus those an ``ignore`` selector
    names; a deprecated rule only when selected by ID or name. ``choices``: selectors may be ChoiceIds.
    """
    if select:
        chosen = [r for r in rules if any(matches(r, s, choices=choices) for s in select)
                  and (r.status != "deprecated" or any(s in (r.id, r.name) for s in select))]
    else:
        chosen = [r for r in rules if r.status != "deprecated"]
    return [r for r in chosen if not any(matches(r, s, choices=choices) for s in ignore)]
