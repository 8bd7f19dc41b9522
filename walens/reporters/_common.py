"""What every reporter shares: UI catalogues, finding text in either language, lens labels, counts."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from walens.errors import UsageError
from walens.model import MISSING_TEXT, not_assessed_message
from walens.model import PILLARS as PILLARS  # re-exported: reporters read the orders here
from walens.model import SEVERITIES as SEVERITIES
from walens.model import pillar_rank as pillar_rank
from walens.model import severity_rank as severity_rank

LANGS = ("en", "ja")
STATUSES = ("fail", "pass", "not_assessed", "suppressed", "accepted")
# "not_assessed": a best practice whose rules could not be judged (a denied call, missing data).
LENS_STATUSES = ("risk", "evidenced", "needs_answer", "not_assessed", "not_applicable")
_QUESTION_ID = re.compile(r"^(ops|sec|rel|perf|cost)_q(\d+)$")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


def check_lang(lang: str) -> str:
    """Return ``lang`` if walens reports in it, else raise a UsageError."""
    if lang not in LANGS:
        raise UsageError(f"unsupported report language {lang!r} (choose en or ja)")
    return lang


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The UI labels of one language, from ``reports_templates/messages/<lang>.yaml``."""
    import yaml

    check_lang(lang)
    text = resources.files("walens").joinpath("reports_templates", "messages", f"{lang}.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"reports_templates/messages/{lang}.yaml must map keys to strings")
    return {str(k): v for k, v in data.items()}


_UNGROUPED = frozenset({"year", "day", "time", "line"})


def grouped(value: Any) -> Any:
    """An integer of 1,000 or more with thousands separators (138,400: a fleet's counts); anything else as is."""
    return f"{value:,}" if type(value) is int and abs(value) >= 1000 else value


class Labels:
    """UI label lookup for one language; ``labels("count_failed", count=3)`` formats the label."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)
        self._messages = catalogue(lang)

    def __call__(self, key: str, **values: Any) -> str:
        # English needs a singular; Japanese has none, so its `_one` keys repeat the plural text.
        if values.get("count") == 1 and f"{key}_one" in self._messages:
            key = f"{key}_one"
        text = self._messages[key]
        return text.format(**{k: grouped(v) if k not in _UNGROUPED else v for k, v in values.items()}) if values else text

    def severity(self, severity: str) -> str:
        """The translated severity name, or the raw value for one walens does not know."""
        return self._messages.get(f"severity_{severity}", str(severity))

    def status(self, status: str) -> str:
        """The translated finding status."""
        return self._messages.get(f"status_{status}", str(status))

    def lens_status(self, status: str) -> str:
        """The translated best-practice status."""
        return self._messages.get(f"lens_{status}", str(status))

    def pillar(self, pillar: str) -> str:
        """The translated pillar name (the lens module's title when it has one)."""
        title = lens_labels(self.lang).pillars.get(pillar)
        return title or self._messages.get(f"pillar_{pillar}", str(pillar))


class _Missing:
    """A placeholder the values lack: formats back to its own ``{...}`` text."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __getattr__(self, name: str) -> _Missing:
        return _Missing(f"{self.path}.{name}")

    def __getitem__(self, key: object) -> _Missing:
        return _Missing(f"{self.path}[{key}]")

    def __format__(self, spec: str) -> str:
        return "{" + self.path + (":" + spec if spec else "") + "}"

    def __str__(self) -> str:
        return "{" + self.path + "}"


class _Namespace:
    """``{params.x}`` in a message: attribute access over a dict, unknown keys left as written."""

    def __init__(self, path: str, values: Mapping[str, Any]) -> None:
        self._path = path
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._values:
            return _wrap(f"{self._path}.{name}", self._values[name])
        return _Missing(f"{self._path}.{name}")

    def __format__(self, spec: str) -> str:
        return format(str(dict(self._values)), spec)


def _wrap(path: str, value: Any) -> Any:
    return _Namespace(path, value) if isinstance(value, Mapping) else value


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> _Missing:
        return _Missing(key)


def format_message(template: str, values: Mapping[str, Any]) -> str:
    """``str.format_map`` that leaves placeholders the values lack as they were written."""
    mapping = _Values({k: _wrap(k, v) for k, v in values.items()})
    try:
        return template.format_map(mapping)
    except (ValueError, IndexError):
        # A stray brace in a custom rule's message: show the text rather than lose the finding.
        return template


_CJK = "\u3000-\u30ff\u3400-\u9fff\uff00-\uffef"
# A line break in a folded YAML text leaves a space between two Japanese characters, or after 、/。:
# not a word gap in Japanese.
_JA_GAP = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])|(?<=[、。]) +")


def tidy(text: str, lang: str) -> str:
    """Text as a reader of ``lang`` expects it: in Japanese, no space between Japanese characters or after 、/。."""
    return _JA_GAP.sub("", text) if lang == "ja" else text


# Why a check ended not assessed, as walens's resolvers and facts word it (English), in Japanese. A reason
# is often "<property or intrinsic>: <reason>"; the part after the prefix is looked up again. A reason no
# pattern knows (a custom rule's fact) stays as written.
_REASONS_JA: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(f"^{pattern}$"), text) for pattern, text in (
    (r"parameter (\S+) has no default", "パラメーター {0} にデフォルト値がありません"),
    (r"parameter (\S+) is read from SSM parameter (.+)", "パラメーター {0} は SSM パラメーター {1} から読み込まれます"),
    (r"(\S+) is neither a parameter nor a resource", "{0} はパラメーターでもリソースでもありません"),
    (r"malformed argument", "引数の形式が正しくありません"),
    (r"(\S+) is not evaluated", "{0} は評価されません"),
    (r"nesting deeper than (\d+) levels", "入れ子が {0} 階層を超えています"),
    (r"(\$\{.+\}) is not a string", "{0} は文字列ではありません"),
    (r"attribute of (\S+) cannot be determined", "{0} の属性を特定できません"),
    (r"delimiter is not a string", "区切り文字が文字列ではありません"),
    (r"an item is not a string", "要素に文字列でないものがあります"),
    (r"the value is not a string", "値が文字列ではありません"),
    (r"index cannot be determined", "インデックスを特定できません"),
    (r"index (\S+) out of range", "インデックス {0} が範囲外です"),
    (r"region cannot be determined", "リージョンを特定できません"),
    (r"the Availability Zones depend on the account and region",
     "アベイラビリティーゾーンはアカウントとリージョンによって異なります"),
    (r"export (\S+) is defined in another stack", "エクスポート {0} は別のスタックで定義されています"),
    (r"export of another stack", "別のスタックのエクスポートです"),
    (r"((?:Fn::ImportValue )?\S+) cannot be resolved from the template", "{0} はテンプレートからは解決できません"),
    (r"condition (\S+) cannot be decided from parameter defaults",
     "条件 {0} はパラメーターのデフォルト値からは判定できません"),
    (r"mapping (\S+) is not declared", "マッピング {0} が宣言されていません"),
    (r"(\S+) has no entry (\S+)", "{0} にエントリ {1} がありません"),
    (r"cannot evaluate", "評価できません"),
    (r"cannot evaluate (.+?): (.+)", "{0} を評価できません: {1}"),
    (r"the definition is stored in S3", "定義は S3 に保存されています"),
    (r"the OpenAPI definition is in S3 \(BodyS3Location\)", "OpenAPI 定義は S3 にあります (BodyS3Location)"),
    (r"the definition is in S3 \(DefinitionS3Location/DefinitionUri\), not in the template",
     "定義はテンプレートではなく S3 にあります (DefinitionS3Location/DefinitionUri)"),
    (r"the definition is not a mapping", "定義がマッピングではありません"),
    (r"the state machine has no definition in the template", "ステートマシンの定義がテンプレートにありません"),
    (r"the method's request validator is not defined in the template",
     "メソッドのリクエストバリデーターがテンプレートで定義されていません"),
    (r"the route's API is not in the template, so its protocol \(HTTP or WebSocket\) is unknown",
     "ルートの API がテンプレートにないため、プロトコル (HTTP または WebSocket) が分かりません"),
    (r"the function's Timeout is not positive", "関数の Timeout が正の値ではありません"),
    (r"the authored template is not available", "記述されたままのテンプレートを参照できません"),
    (r"the authored template's outputs are not available", "記述されたままのテンプレートの出力を参照できません"),
    (r"the API's OpenAPI definition is in S3 \(BodyS3Location\)", "API の OpenAPI 定義は S3 にあります (BodyS3Location)"),
    (r"the OpenAPI file in S3 may carry the resource policy \(x-amazon-apigateway-policy\)",
     "S3 にある OpenAPI ファイルがリソースポリシー (x-amazon-apigateway-policy) を含んでいる可能性があります"),
    (r"the deployment's StageDescription is an intrinsic function", "デプロイの StageDescription が組み込み関数です"),
    (r"the deployment's StageDescription.MethodSettings is not a list",
     "デプロイの StageDescription.MethodSettings がリストではありません"),
    (r"the local definition file (.+) cannot be read", "ローカルの定義ファイル {0} を読み込めません"),
    (r"deployment configuration (\S+) is not defined in this template",
     "デプロイ設定 {0} はこのテンプレートで定義されていません"),
    (r"(\S+) is not valid JSON(?: once resolved)?", "{0} は有効な JSON ではありません"),
    (r"(\S+) is not a mapping", "{0} がマッピングではありません"),
    (r"(\S+) is not a string", "{0} が文字列ではありません"),
    (r"(.+) is not a number", "{0} が数値ではありません"),
    (r"(.+) is not a JSON or YAML state machine definition", "{0} は JSON または YAML のステートマシン定義ではありません"),
    (r"Retry/Catch of (.+) cannot be resolved", "{0} の Retry/Catch を解決できません"),
    (r"the log level is not known from the template: (.+)", "ログレベルはテンプレートからは分かりません: {0}"),
    (r"(\S+) is not known from the template: (.+)", "{0} はテンプレートからは分かりません: {1}"),
    (r"whether an alarm notifies on (.+) is not known from the template \((.+)\)",
     "{0} のアラームが通知するかどうかはテンプレートからは分かりません ({1})"),
))
_REASON_PREFIX = re.compile(r"^(Fn::\w+|Ref|[A-Za-z][\w.\[\]/-]*(?: of [\w.-]+)?): (.+)$", re.S)


def reason_text(reason: object, lang: str) -> str:
    """A not-assessed reason in ``lang``: English as recorded, Japanese where walens knows the wording."""
    text = " ".join(str(reason or "").split())
    if lang != "ja" or not text:
        return text
    for pattern, template in _REASONS_JA:
        m = pattern.match(text)
        if m:
            return template.format(*(reason_text(g, lang) if ": " in g else g for g in m.groups()))
    m = _REASON_PREFIX.match(text)
    if m:
        return f"{m.group(1)}: {reason_text(m.group(2), lang)}"
    return text


def display_name(resource: Mapping[str, Any]) -> str:
    """The resource's physical name, or its logical ID when the name is only a reference placeholder."""
    name = resource.get("name")
    if isinstance(name, str) and name and not name.startswith("{{"):
        return name
    return str(resource.get("id") or resource.get("arn") or "")


def finding_message(doc: Mapping[str, Any], finding: Mapping[str, Any], lang: str) -> str:
    """The finding's message in ``lang``: as stored when the review was written in it, else re-rendered."""
    stored = finding.get("message")
    if finding.get("status") == "pass":
        return ""  # rule messages describe the problem; a passing finding has none
    if doc.get("lang") == lang and isinstance(stored, str) and stored:
        return stored
    rule = (doc.get("rules") or {}).get(finding.get("rule_id")) or {}
    resource = finding.get("resource") or {}
    labels = resource.get("label")
    name = str(labels.get(lang) or display_name(resource)) if isinstance(labels, Mapping) else display_name(resource)
    if finding.get("status") == "not_assessed":
        title = (rule.get("title") or {}).get(lang)
        if isinstance(title, str):
            return not_assessed_message(lang, name, title, finding.get("reason"))
    template = (rule.get("message") or {}).get(lang)
    if not isinstance(template, str):
        return str(stored or "")
    params = finding.get("params") or {}
    values: dict[str, Any] = {}
    # Finding params hold the rule's params and the message arguments; placeholders may use
    # either `{days}` or `{params.days}`, so both spellings resolve. An argument walens could not read
    # is null: it shows as a dash, never as "None".
    nested = params.get("params") if isinstance(params.get("params"), Mapping) else None
    values.update({k: MISSING_TEXT if v is None else v for k, v in params.items() if k != "params" or nested is None})
    values["params"] = {**params, **(nested or {})}
    values.update(name=name, id=resource.get("id"), type=resource.get("type"))
    return format_message(template, values)


def rule_text(doc: Mapping[str, Any], rule_id: str, field: str, lang: str) -> str:
    """One localised text of a rule (title, rationale, remediation), or '' when the review lacks it."""
    rule = (doc.get("rules") or {}).get(rule_id) or {}
    value = rule.get(field) or {}
    if isinstance(value, Mapping):
        text = value.get(lang) or value.get("en") or ""
        return str(text).strip()
    return str(value).strip()


def rule_example(doc: Mapping[str, Any], rule_id: str, key: str = "example") -> str:
    """The remediation example of a rule, or ''.

    ``key`` "example" is the SAM (or CloudFormation) snippet every rule has; "example_cfn" is the plain
    CloudFormation spelling, present only where it differs from the SAM one.
    """
    rule = (doc.get("rules") or {}).get(rule_id) or {}
    remediation = rule.get("remediation") or {}
    return str(remediation.get(key) or "").rstrip() if isinstance(remediation, Mapping) else ""


def finding_examples(doc: Mapping[str, Any], finding: Mapping[str, Any]) -> tuple[str, str]:
    """(example, example_cfn) that fit a finding: the rule's example for the finding's kind of API when it has
    one (``finding.example``, e.g. "example_websocket": a whole template, no second spelling), else its
    default example and plain CloudFormation example."""
    rule_id = str(finding.get("rule_id"))
    variant = finding.get("example")
    if isinstance(variant, str) and variant.startswith("example_"):
        text = rule_example(doc, rule_id, variant)
        if text:
            return text, ""
    return rule_example(doc, rule_id), rule_example(doc, rule_id, "example_cfn")


def rule_references(doc: Mapping[str, Any], rule_id: str) -> list[str]:
    """The reference URLs of a rule as the review recorded them."""
    rule = (doc.get("rules") or {}).get(rule_id) or {}
    return [str(r) for r in rule.get("references") or []]


def safe_url(url: object) -> str | None:
    """The URL when it is a plain http(s) URL, else None: only those may become links."""
    if isinstance(url, str) and _SAFE_URL.match(url.strip()):
        return url.strip()
    return None


@dataclass(frozen=True)
class LensLabels:
    """Titles of pillars, questions and best practices in one language, keyed by WA Tool id."""

    pillars: dict[str, str]
    questions: dict[str, str]
    question_labels: dict[str, str]
    question_descriptions: dict[str, str]
    choices: dict[str, str]


def _title(obj: Any, lang: str, attr: str = "title") -> str | None:
    title = getattr(obj, attr, None)
    if isinstance(title, Mapping):
        value = title.get(lang) or title.get("en")
    else:
        value = getattr(title, lang, None)  # walens.lens.Text
    return str(value) if value else None


@lru_cache(maxsize=None)
def lens_labels(lang: str) -> LensLabels:
    """Lens titles from ``walens.lens`` when it is installed; empty maps (ids shown) otherwise."""
    try:
        from walens import lens
    except ImportError:
        return LensLabels({}, {}, {}, {}, {})
    pillars: dict[str, str] = {}
    for p in getattr(lens, "PILLARS", ()):
        pid = getattr(p, "pillar_id", None) or getattr(p, "id", None)
        if pid and (t := _title(p, lang)):
            pillars[str(pid)] = t
    questions: dict[str, str] = {}
    qlabels: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for q in getattr(lens, "QUESTIONS", ()):
        qid = getattr(q, "question_id", None) or getattr(q, "id", None)
        if not qid:
            continue
        if t := _title(q, lang):
            questions[str(qid)] = t
        if label := getattr(q, "label", None):
            qlabels[str(qid)] = str(label)
        if d := _title(q, lang, "description"):
            descriptions[str(qid)] = d
    choices: dict[str, str] = {}
    for bp in getattr(lens, "BEST_PRACTICES", ()):
        cid = getattr(bp, "choice_id", None) or getattr(bp, "id", None)
        if cid and (t := _title(bp, lang)):
            choices[str(cid)] = t
    return LensLabels(pillars, questions, qlabels, descriptions, choices)


def question_label(question_id: str, lang: str) -> str:
    """The short label of a question: ``OPS 1`` for ``ops_q1``."""
    known = lens_labels(lang).question_labels.get(question_id)
    if known:
        return known
    m = _QUESTION_ID.match(question_id or "")
    return f"{m.group(1).upper()} {m.group(2)}" if m else str(question_id)


def question_title(question_id: str, lang: str) -> str:
    """The question's title in ``lang`` (its id when walens.lens is absent)."""
    return lens_labels(lang).questions.get(question_id, "")


def question_description(question_id: str, lang: str) -> str:
    """The question's one-line description from the lens pages, or ''."""
    return lens_labels(lang).question_descriptions.get(question_id, "")


def choice_title(choice_id: str, lang: str) -> str:
    """The best practice's title in ``lang`` (its ChoiceId when walens.lens is absent)."""
    return lens_labels(lang).choices.get(choice_id, choice_id)


LENS_SYMBOLS = {"risk": "✖", "evidenced": "✔", "needs_answer": "?", "not_applicable": "–", "not_assessed": "…"}


def _ask_fallback(doc: Mapping[str, Any], entry: Mapping[str, Any]) -> Any:
    """The question to ask for a coverage entry of a review written before entries carried ``ask``."""
    try:
        from walens import lens
    except ImportError:
        return None
    choice = str(entry.get("choice"))
    if not lens.is_choice_id(choice):
        return None
    bp = lens.choice(choice)
    status = str(entry.get("status"))
    if bp.check != lens.Check.AUTO and status != "not_applicable":
        reason: str | None = "manual"
    elif status == "needs_answer":
        undecided = any((f.get("lens") or {}).get("choice") == choice for f in with_status(doc, "not_assessed"))
        reason = "undecided" if undecided else "unchecked"
    else:
        reason = None
    text = lens.question_to_ask(bp, reason)
    return {"en": text.en, "ja": text.ja} if text is not None else None


def lens_rows(doc: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The review's lens coverage, one row per best practice in lens order, texts in ``lang``.

    Each row: pillar, question, choice, title, tier, check, status, symbol, rules, failing_rules,
    ask (the question to ask, or ''), answer. Tier, check and question come from ``walens.lens`` for a
    review written before its entries carried them.
    """
    rows = []
    for entry in doc.get("lens") or []:
        choice = str(entry.get("choice"))
        tier, check = entry.get("tier"), entry.get("check")
        if tier is None or check is None:
            try:
                from walens import lens

                bp = lens.choice(choice) if lens.is_choice_id(choice) else None
            except ImportError:
                bp = None
            tier = tier if tier is not None or bp is None else str(bp.tier)
            check = check if check is not None or bp is None else str(bp.check)
        ask = entry["ask"] if "ask" in entry else _ask_fallback(doc, entry)
        if isinstance(ask, Mapping):
            ask = ask.get(lang) or ask.get("en") or ""
        status = str(entry.get("status"))
        rows.append({
            "pillar": str(entry.get("pillar")), "question": str(entry.get("question")), "choice": choice,
            "title": choice_title(choice, lang), "tier": str(tier or ""), "check": str(check or ""),
            "status": status, "symbol": LENS_SYMBOLS.get(status, ""),
            "rules": [str(r) for r in entry.get("rules") or []],
            "failing_rules": [str(r) for r in entry.get("failing_rules") or []],
            "ask": str(ask or ""), "answer": entry.get("answer"),
        })
    return rows


def lens_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """How many best practices the review left in each coverage status (every status present)."""
    counts = dict.fromkeys(LENS_STATUSES, 0)
    for entry in doc.get("lens") or []:
        status = str(entry.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def lens_counts_line(doc: Mapping[str, Any], labels: Labels) -> str:
    """One line: "Lens coverage (38 best practices): 2 risk found, 9 evidenced, ..."."""
    counts = lens_counts(doc)
    # "not assessed" (what a gap hid) is shown when some practice ended there.
    shown = [s for s in LENS_STATUSES if s != "not_assessed" or counts[s]]
    parts = [labels(f"lens_count_{s}", count=counts[s]) for s in shown]
    return f"{labels('lens_summary', count=sum(counts.values()))}: {labels('list_sep').join(parts)}"


def location_key(finding: Mapping[str, Any]) -> tuple[str, int, int]:
    """Sort key by file, line, column (findings without a location last)."""
    loc = finding.get("location") or {}
    return (str(loc.get("file") or "\uffff"), int(loc.get("line") or 0), int(loc.get("column") or 0))


def _norm(path: str) -> str:
    """A path with ``/`` separators, ``.`` and ``..`` folded lexically (no file system access)."""
    text = path.replace("\\", "/")
    if re.match(r"^[A-Za-z]:/", text):
        return text[:2] + posixpath.normpath(text[2:])
    return posixpath.normpath(text)


def _is_abs(path: str) -> bool:
    return path.startswith("/") or bool(re.match(r"^[A-Za-z]:/", path))


@dataclass(frozen=True)
class PathDisplay:
    """Shows review paths relative to the scanned root(s) (``scan.roots``: what the user passed).

    A root that is itself an input file counts by its folder. With several roots the base is their
    common folder. A path outside every root is shown by its name when it is absolute, as stored
    otherwise; a review written before ``scan.roots`` existed shows absolute paths relative to the
    common folder of its inputs. No absolute local path (``/home/...``) reaches a customer report.
    """

    base: str | None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> PathDisplay:
        """The display rule for ``doc`` (computed once per report)."""
        scan = doc.get("scan") or {}
        inputs = {_norm(str(i.get("path"))) for i in scan.get("inputs") or [] if i.get("path")}
        roots = [_norm(str(r)) for r in scan.get("roots") or [] if r and r not in ("-", "<stdin>")]
        if roots:
            dirs = [posixpath.dirname(r) or "." if r in inputs else r for r in roots]
        else:  # a review written before scan.roots: only absolute inputs need a base
            dirs = [posixpath.dirname(p) or "." for p in inputs if _is_abs(p)]
        if not dirs:
            return cls(None)
        try:
            base = posixpath.commonpath(dirs) if len(dirs) > 1 else dirs[0]
        except ValueError:  # absolute and relative roots mixed: nothing common
            return cls(None)
        return cls(base)

    @staticmethod
    def root_names(doc: Mapping[str, Any]) -> list[str]:
        """What was scanned, for a cover: a relative root as typed, an absolute one by its name."""
        names = []
        for root in (doc.get("scan") or {}).get("roots") or []:
            norm = _norm(str(root))
            name = posixpath.basename(norm) if _is_abs(norm) else norm
            if name and name not in (".", "<stdin>", "-") and name not in names:
                names.append(name)
        return names

    def __call__(self, path: object) -> str:
        text = str(path if path is not None else "")
        if not text or text in ("-", "<stdin>"):
            return text
        norm = _norm(text)
        if self.base is not None and _is_abs(norm) == _is_abs(self.base):
            if self.base in (".", ""):
                inside = not norm.startswith("../") and norm != ".."
            else:
                inside = norm == self.base or norm.startswith(self.base.rstrip("/") + "/")
            if inside:
                rel = posixpath.relpath(norm, self.base) if norm != self.base else posixpath.basename(norm)
                return rel if rel != "." else posixpath.basename(norm) or norm
        return posixpath.basename(norm) or norm if _is_abs(norm) else text


def with_display_paths(doc: Mapping[str, Any], *, absolute_only: bool = False) -> dict[str, Any]:
    """A shallow copy of ``doc`` whose file paths are the ones a report shows (:class:`PathDisplay`).

    Findings' locations, inputs, errors, skipped files, cfn-lint results, unused suppressions and the
    "since the last review" items are rewritten; nothing else is copied. ``absolute_only`` keeps
    relative paths as stored (the Markdown report links them under ``--repo-url``).
    """
    show = PathDisplay.of(doc)

    def fix(path: Any) -> Any:
        if not isinstance(path, str) or (absolute_only and not _is_abs(_norm(path))):
            return path
        return show(path)

    def relocate(item: Mapping[str, Any]) -> dict[str, Any]:
        loc = item.get("location")
        if isinstance(loc, Mapping) and loc.get("file"):
            return {**item, "location": {**loc, "file": fix(loc["file"])}}
        return dict(item)

    out = dict(doc)
    out["findings"] = [relocate(f) for f in doc.get("findings") or []]
    scan = dict(doc.get("scan") or {})
    if scan.get("inputs") is not None:
        scan["inputs"] = [{**i, "path": fix(i.get("path"))} for i in scan["inputs"]]
    out["scan"] = scan
    for key, field_ in (("errors", "file"), ("skipped", "path"), ("validity", "file"), ("unused_suppressions", "file")):
        if doc.get(key) is not None:
            out[key] = [{**e, field_: fix(e.get(field_))} if isinstance(e, Mapping) else e for e in doc[key]]
    since = doc.get("since_last_review")
    if isinstance(since, Mapping) and isinstance(since.get("findings"), Mapping):
        out["since_last_review"] = {**since, "findings": {
            k: [relocate(i) for i in v] if isinstance(v, list) else v for k, v in since["findings"].items()}}
    return out


def where(finding: Mapping[str, Any], show: PathDisplay | None = None) -> str:
    """``file:line`` of a finding, or its ARN/region for an account finding, or ''.

    ``show`` (:class:`PathDisplay`) turns the stored path into the one a report shows.
    """
    loc = finding.get("location") or {}
    if loc.get("file"):
        file = show(loc["file"]) if show is not None else str(loc["file"])
        return f"{file}:{loc['line']}" if loc.get("line") else file
    resource = finding.get("resource") or {}
    return str(resource.get("arn") or resource.get("region") or "")


def with_status(doc: Mapping[str, Any], *statuses: str) -> list[dict[str, Any]]:
    """The findings with one of ``statuses``, in document order."""
    return [f for f in doc.get("findings") or [] if f.get("status") in statuses]


def failing(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Failing findings that are not in the baseline (``--baseline``): the ones that gate the build."""
    return [f for f in with_status(doc, "fail") if not f.get("baselined")]


def baselined(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Failing findings recorded in the baseline: listed apart, they do not fail the build."""
    return [f for f in with_status(doc, "fail") if f.get("baselined")]


def suppression_text(finding: Mapping[str, Any], labels: Labels) -> str:
    """"suppressed in the template: <reason>" / "suppressed by configuration: <reason>"."""
    sup = finding.get("suppression") if isinstance(finding.get("suppression"), Mapping) else {}
    reason = str((sup or {}).get("reason") or finding.get("reason") or "")
    head = labels(f"suppression_{suppression_kind(finding)}")
    return f"{head}: {reason}" if reason else head


def count_by(findings: Iterable[Mapping[str, Any]], key: str) -> dict[str, int]:
    """How many findings have each value of ``key``."""
    out: dict[str, int] = {}
    for f in findings:
        out[str(f.get(key))] = out.get(str(f.get(key)), 0) + 1
    return out


def pillar_severity_table(doc: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Failing findings (baselined ones apart) counted by pillar then severity; all five pillars present."""
    table = {p: dict.fromkeys(SEVERITIES, 0) for p in PILLARS}
    for f in failing(doc):
        row = table.setdefault(str(f.get("pillar")), dict.fromkeys(SEVERITIES, 0))
        row[str(f.get("severity"))] = row.get(str(f.get("severity")), 0) + 1
    return table


def verdict(doc: Mapping[str, Any]) -> tuple[str, bool]:
    """(fail_on level, whether the review failed it), from the summary or else from the findings."""
    summary = doc.get("summary") or {}
    fail_on = str(summary.get("fail_on") or "high")
    if "failed" in summary:
        return fail_on, bool(summary["failed"])
    if fail_on == "never":
        return fail_on, False
    limit = severity_rank(fail_on)
    return fail_on, any(severity_rank(f.get("severity")) <= limit for f in with_status(doc, "fail"))


def suppression_kind(finding: Mapping[str, Any]) -> str:
    """``inline`` when the suppression was written in the template, else ``config``."""
    sup = finding.get("suppression") or {}
    kind = str(sup.get("kind") or "") if isinstance(sup, Mapping) else ""
    if kind in ("inline", "inSource", "template"):
        return "inline"
    if not kind and str(finding.get("reason") or "").startswith("walens:ignore"):
        return "inline"
    return "config"


def totals_line_parts(doc: Mapping[str, Any], labels: Labels) -> list[str]:
    """The pieces of the one-line outcome: failed (by severity), passed, not assessed, ..., errors."""
    findings = doc.get("findings") or []
    by_status = count_by(findings, "status")
    new = failing(doc)
    by_sev = count_by(new, "severity")
    parts = [labels("count_failed", count=len(new))]
    detail = [f"{by_sev[s]} {labels.severity(s).lower()}" if labels.lang == "en" else f"{labels.severity(s)} {by_sev[s]}"
              for s in SEVERITIES if by_sev.get(s)]
    if detail:
        parts[0] += f" ({labels('list_sep').join(detail)})"
    old = baselined(doc)
    if old or doc.get("baseline") is not None:
        parts.append(labels("count_baselined", count=len(old)))
    parts.append(labels("count_passed", count=by_status.get("pass", 0)))
    parts.append(labels("count_not_assessed", count=by_status.get("not_assessed", 0)))
    for status in ("suppressed", "accepted"):
        if by_status.get(status):
            parts.append(labels(f"count_{status}", count=by_status[status]))
    parts.append(labels("count_errors", count=len(doc.get("errors") or [])))
    if doc.get("skipped"):
        parts.append(labels("count_skipped", count=len(doc["skipped"])))
    return parts


def iter_json(value: Any, depth: int) -> Iterator[str]:
    """JSON text in pieces, indented for its first ``depth`` levels and compact below, newline-terminated.

    ``json.dumps(indent=...)`` falls back to the pure-Python encoder (about 1.2 s for a review of the
    831-file corpus); compact encoding uses the C encoder. Indenting only the outer levels keeps one
    finding (one SARIF result) per line: readable, greppable, and a one-line diff when one changes.
    Yielding pieces lets a writer stream a large review instead of holding it twice in memory.
    """
    import json

    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

    def dump(item: Any, level: int) -> Iterator[str]:
        if level >= depth or not isinstance(item, (dict, list)) or not item:
            yield encode(item)
            return
        pad = "  " * (level + 1)
        yield "{\n" if isinstance(item, dict) else "[\n"
        pairs = item.items() if isinstance(item, dict) else ((None, v) for v in item)
        for i, (key, child) in enumerate(pairs):
            yield (",\n" if i else "") + pad + (f"{encode(str(key))}: " if key is not None else "")
            yield from dump(child, level + 1)
        yield "\n" + "  " * level + ("}" if isinstance(item, dict) else "]")

    yield from dump(value, 0)
    yield "\n"


def dump_json(value: Any, depth: int) -> str:
    """:func:`iter_json` as one string."""
    return "".join(iter_json(value, depth))


def coverage_text(doc: Mapping[str, Any], labels: Labels, key: str) -> str:
    """One line from ``summary.coverage`` when some result could not be judged: how many were judged, how
    many not and in which pillars (message ``key``); "" when everything was judged or the review predates it."""
    coverage = (doc.get("summary") or {}).get("coverage")
    if not isinstance(coverage, Mapping) or not coverage.get("not_assessed"):
        return ""
    pillars = labels("list_sep").join(f"{labels.pillar(str(p))} {row.get('not_assessed', 0)}"
                                      for p, row in sorted((coverage.get("by_pillar") or {}).items(),
                                                           key=lambda kv: pillar_rank(kv[0]))
                                      if isinstance(row, Mapping) and row.get("not_assessed"))
    return labels(key, assessed=coverage.get("assessed", 0), not_assessed=coverage.get("not_assessed", 0),
                  practices=len(coverage.get("practices_not_assessed") or []), pillars=pillars)


FLEET_WORST_SHOWN = 10
FLEET_STATUSES = ("assessed", "partial", "not_assessed")


def _fleet_score(value: Any) -> str:
    return "–" if value is None else f"{value}"


def scope_text(doc: Mapping[str, Any], labels: Labels) -> str:
    """What the review covers, for the cover and the Markdown header: templates (with their folders), or
    accounts and regions. More than a handful of accounts (a fleet) is a count: the fleet section lists them."""
    scan = doc.get("scan") or {}
    if scan.get("source") == "account":
        accounts = [str(a) for a in scan.get("accounts") or []]
        regions = [str(r) for r in scan.get("regions") or []]
        if len(accounts) > 5:
            return labels("scope_accounts_count", count=len(accounts), regions=labels("list_sep").join(regions) or "?")
        return labels("scope_accounts", accounts=labels("list_sep").join(accounts) or "?",
                      regions=labels("list_sep").join(regions) or "?")
    inputs = [str(i.get("path")) for i in scan.get("inputs") or []]
    scope = labels("scope_templates", count=len(inputs))
    roots = PathDisplay.root_names(doc)
    if roots:
        scope = labels("scope_in", scope=scope, roots=labels("list_sep").join(roots))
    return scope


def fleet_view(doc: Mapping[str, Any], labels: Labels) -> dict[str, Any] | None:
    """The fleet section of a fleet review (``doc["fleet"]``, walens.fleet.report) for the HTML and Markdown
    reporters, in ``labels``' language; None for any other review.

    Accounts and regions are listed worst first: the ones with partitions not assessed, then by score (lowest
    first; one with nothing judged has no score and comes first), then by ID.
    """
    fleet = doc.get("fleet")
    if not isinstance(fleet, Mapping):
        return None
    cov = fleet.get("coverage") or {}
    t = labels

    def rows(items: Any, key: str, other: str) -> list[dict[str, Any]]:
        out = []
        for r in items or []:
            s = r.get("by_status") or {}
            out.append({"name": str(r.get(key)), "assessed": f"{r.get(f'{other}s_assessed', 0)}/{r.get(f'{other}s_planned', 0)}",
                        "not_assessed": t("list_sep").join(str(x) for x in r.get(f"{other}s_not_assessed") or []),
                        "pass": int(s.get("pass", 0)), "fail": int(s.get("fail", 0)),
                        "unjudged": int(s.get("not_assessed", 0)), "high": int(r.get("high", 0)),
                        "score": _fleet_score(r.get("score")), "_score": r.get("score")})
        out.sort(key=lambda r: (not r["not_assessed"], -1 if r["_score"] is None else r["_score"], r["name"]))
        return out

    missing = [{"account": str(p.get("account")), "region": str(p.get("region")),
                "status": t(f"fleet_status_{p.get('status')}") if p.get("status") in FLEET_STATUSES
                else str(p.get("status")), "attempts": int(p.get("attempts") or 0), "error": str(p.get("error") or "")}
               for p in fleet.get("partitions") or [] if p.get("status") != "assessed"]
    since = fleet.get("since_last_run")
    since_line = ""
    if since:
        counts = t("list_sep").join(t(f"diff_count_{k}", count=int(since.get(k) or 0))
                                    for k in ("new", "resolved", "changed_severity", "persisting"))
        since_line = t("fleet_since", run=since.get("review"), counts=counts)
        if since.get("unseen"):
            since_line += " " + t("fleet_unseen", count=int(since.get("unseen") or 0))
    worst = [{"choice": str(r.get("choice")), "title": choice_title(str(r.get("choice")), t.lang),
              "pillar": t.pillar(str(r.get("pillar"))), "accounts": len(r.get("accounts") or []),
              "failing": int(r.get("failing", 0)), "high": int(r.get("high", 0)),
              "rules": t("list_sep").join(str(x) for x in r.get("rules") or [])}
             for r in (fleet.get("worst_practices") or [])[:FLEET_WORST_SHOWN]]
    trend = [{"run": str(p.get("run")), "finished": str(p.get("finished_at") or "")[:16].replace("T", " "),
              "failing": int(p.get("failing", 0)), "high": int((p.get("by_severity") or {}).get("high", 0)),
              "assessed": f"{(p.get('coverage') or {}).get('assessed', 0)}/{(p.get('coverage') or {}).get('planned', 0)}",
              "score": _fleet_score(p.get("score"))} for p in fleet.get("trend") or []]
    return {
        "title": t("fleet_title", run=fleet.get("run")),
        "coverage": t("fleet_coverage", planned=int(cov.get("planned", 0)), assessed=int(cov.get("assessed", 0)),
                      partial=int(cov.get("partial", 0)), not_assessed=int(cov.get("not_assessed", 0))),
        "score": t("fleet_score", score=_fleet_score(fleet.get("score"))),
        "accounts_count": len(fleet.get("accounts") or []),
        "regions_count": len(fleet.get("regions") or []),
        "missing": missing,
        "since": since_line,
        "accounts": rows(fleet.get("accounts"), "account", "region"),
        "regions": rows(fleet.get("regions"), "region", "account"),
        "worst": worst,
        "trend": trend,
    }
