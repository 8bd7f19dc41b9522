"""The AWS Well-Architected Serverless Lens: pillars, questions and best practices (ChoiceIds), en/ja.

The catalogue is data (``walens/data/lens.yaml``), read once on first use. ``PILLARS``, ``QUESTIONS``
and ``BEST_PRACTICES`` are module attributes resolved lazily, so importing this module costs nothing.
"""

from __future__ import annotations

import difflib
import re
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from walens.errors import WalensError
from walens.model import Severity

__all__ = [
    "BestPractice", "Check", "Coverage", "NoneChoice", "Pillar", "Question", "Text", "Tier", "UnknownLensId",
    "BEST_PRACTICES", "LENS_TITLE", "NONE_CHOICES", "PILLARS", "QUESTIONS", "UNCHECKED_QUESTION",
    "UNDECIDED_QUESTION",
    "assess", "by_question", "question_to_ask", "choice", "default_severity", "is_choice_id", "pillar", "question",
]

LANGS = ("en", "ja")


class Tier(StrEnum):
    """The tier the AWS sample reviews give a best practice."""

    REQUIRED = "R"
    GOOD = "G"
    BEST = "B"


class Check(StrEnum):
    """How far configuration can settle a best practice (LENS.md §3.2)."""

    AUTO = "AUTO"
    PARTIAL = "PARTIAL"
    HINT = "HINT"
    MANUAL = "MANUAL"


class Coverage(StrEnum):
    """Where a review leaves a best practice (DESIGN.md, "The lens")."""

    RISK = "risk"  # a rule failed
    EVIDENCED = "evidenced"  # rules ran and passed, none failed
    NEEDS_ANSWER = "needs_answer"  # configuration cannot settle it: a person answers the question
    NOT_APPLICABLE = "not_applicable"  # no resource any of its rules targets
    # Its rules could not see what they need (a denied or failed listing, an unresolved value): never
    # "not applicable", and never pushed to the WA Tool as such.
    NOT_ASSESSED = "not_assessed"


_TIER_SEVERITY = {Tier.REQUIRED: Severity.HIGH, Tier.GOOD: Severity.MEDIUM, Tier.BEST: Severity.LOW}


class UnknownLensId(WalensError, KeyError):
    """A PillarId, QuestionId or ChoiceId that the Serverless Lens does not have."""

    def __init__(self, kind: str, value: object, known: list[str], *, hint: str = "") -> None:
        if not hint:
            close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown Serverless Lens {kind} {value!r}{hint}")
        self.kind = kind
        self.value = value

    # KeyError.__str__ would repr() the message; keep WalensError's one-line form.
    __str__ = WalensError.__str__


@dataclass(frozen=True, slots=True)
class Text:
    """A label in English and Japanese."""

    en: str
    ja: str

    def get(self, lang: str) -> str:
        """The label in ``lang`` ("en" or "ja"); English for any other language."""
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True, slots=True)
class Pillar:
    """A Well-Architected pillar that has questions in this lens."""

    id: str
    order: int
    title: Text


@dataclass(frozen=True, slots=True)
class NoneChoice:
    """A question's "None of these" choice (``<...>_no``)."""

    id: str
    question: str
    title: Text


@dataclass(frozen=True, slots=True)
class Question:
    """A lens question (WA Tool QuestionId) with its best practices in WA Tool order."""

    id: str
    label: str
    pillar: str
    order: int
    title: Text
    description: Text
    choices: tuple[str, ...]
    none_choice: NoneChoice


@dataclass(frozen=True, slots=True)
class BestPractice:
    """A best practice (WA Tool ChoiceId) of the Serverless Lens."""

    id: str
    question: str
    pillar: str
    order: int
    title: Text
    tier: Tier
    check: Check
    gist: Text
    manual_question: Text | None
    ja_draft: bool = False

    @property
    def severity(self) -> Severity:
        """The default severity of a failing rule on this practice: R high, G medium, B low."""
        return _TIER_SEVERITY[self.tier]


@dataclass(frozen=True, slots=True)
class _Catalogue:
    title: Text
    pillars: tuple[Pillar, ...]
    questions: tuple[Question, ...]
    best_practices: tuple[BestPractice, ...]
    undecided_question: Text
    unchecked_question: Text
    pillar_by_id: dict[str, Pillar]
    question_by_id: dict[str, Question]
    choice_by_id: dict[str, BestPractice]


# A line break YAML folded into a space between two Japanese characters is not a word break.
_CJK_GAP = re.compile("(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]) (?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])")


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(lang), str) or not raw[lang].strip()
                                        for lang in LANGS):
        raise ValueError(f"walens/data/lens.yaml: {where} needs non-empty 'en' and 'ja' strings")
    return Text(en=raw["en"].strip(), ja=_CJK_GAP.sub("", raw["ja"].strip()))


def _build(raw: dict[str, Any]) -> _Catalogue:
    """Turn the YAML into frozen objects, checking the cross-references (a bad file is a bug)."""
    none_title = _text(raw["lens"]["none_choice_title"], "lens.none_choice_title")
    pillars = tuple(Pillar(id=p["id"], order=int(p["order"]), title=_text(p["title"], p["id"]))
                    for p in raw["pillars"])
    pillar_ids = {p.id for p in pillars}

    practices: list[BestPractice] = []
    for order, bp in enumerate(raw["best_practices"], start=1):
        cid = bp["id"]
        check = Check(bp["check"])
        manual = bp.get("manual_question")
        if (check is Check.AUTO) != (manual is None):
            raise ValueError(f"walens/data/lens.yaml: {cid}.manual_question must be set exactly when check != AUTO")
        practices.append(BestPractice(
            id=cid, question=bp["question"], pillar=bp["pillar"], order=order,
            title=_text(bp["title"], f"{cid}.title"), tier=Tier(bp["tier"]), check=check,
            gist=_text(bp["gist"], f"{cid}.gist"),
            manual_question=None if manual is None else _text(manual, f"{cid}.manual_question"),
            ja_draft=bool(bp.get("ja_draft", False)),
        ))

    questions: list[Question] = []
    for order, q in enumerate(raw["questions"], start=1):
        qid = q["id"]
        if q["pillar"] not in pillar_ids:
            raise ValueError(f"walens/data/lens.yaml: question {qid} names unknown pillar {q['pillar']!r}")
        prefix = qid.split("_")[0]
        questions.append(Question(
            id=qid, label=q["label"], pillar=q["pillar"], order=order,
            title=_text(q["title"], f"{qid}.title"), description=_text(q["description"], f"{qid}.description"),
            choices=tuple(bp.id for bp in practices if bp.question == qid),
            none_choice=NoneChoice(id=f"{prefix}_{qid}_no", question=qid, title=none_title),
        ))
    question_by_id = {q.id: q for q in questions}
    for bp in practices:
        q = question_by_id.get(bp.question)
        if q is None or q.pillar != bp.pillar:
            raise ValueError(f"walens/data/lens.yaml: {bp.id} has question/pillar {bp.question}/{bp.pillar}")
    choice_by_id = {bp.id: bp for bp in practices}
    if len(choice_by_id) != len(practices) or len(question_by_id) != len(questions):
        raise ValueError("walens/data/lens.yaml: duplicate QuestionId or ChoiceId")
    return _Catalogue(
        title=_text(raw["lens"]["title"], "lens.title"), pillars=pillars, questions=tuple(questions),
        best_practices=tuple(practices),
        undecided_question=_text(raw["lens"]["undecided_question"], "lens.undecided_question"),
        unchecked_question=_text(raw["lens"]["unchecked_question"], "lens.unchecked_question"),
        pillar_by_id={p.id: p for p in pillars},
        question_by_id=question_by_id, choice_by_id=choice_by_id,
    )


@functools.cache
def _catalogue() -> _Catalogue:
    from walens.cache import cached

    source = resources.files("walens").joinpath("data", "lens.yaml")

    def build() -> _Catalogue:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return _build(yaml.load(source.read_text(encoding="utf-8"), Loader=loader))

    # This module is a source too: the pickle holds its classes.
    return cached("lens", [source, __file__], build)


def choice(choice_id: str) -> BestPractice:
    """The best practice with this ChoiceId; :class:`UnknownLensId` if there is none."""
    cat = _catalogue()
    try:
        return cat.choice_by_id[choice_id]
    except KeyError:
        hint = ""
        if any(q.none_choice.id == choice_id for q in cat.questions):
            hint = " (a 'None of these' choice, not a best practice)"
        raise UnknownLensId("ChoiceId", choice_id, list(cat.choice_by_id), hint=hint) from None


def question(question_id: str) -> Question:
    """The question with this QuestionId; :class:`UnknownLensId` if there is none."""
    cat = _catalogue()
    try:
        return cat.question_by_id[question_id]
    except KeyError:
        raise UnknownLensId("QuestionId", question_id, list(cat.question_by_id)) from None


def pillar(pillar_id: str) -> Pillar:
    """The pillar with this WA Tool PillarId; :class:`UnknownLensId` if the lens has no questions in it."""
    cat = _catalogue()
    try:
        return cat.pillar_by_id[pillar_id]
    except KeyError:
        hint = " (the lens defers to the Sustainability Pillar)" if pillar_id == "sustainability" else ""
        raise UnknownLensId("PillarId", pillar_id, list(cat.pillar_by_id), hint=hint) from None


def is_choice_id(choice_id: str) -> bool:
    """Whether ``choice_id`` is one of the 38 best-practice ChoiceIds (not a ``_no`` choice)."""
    return choice_id in _catalogue().choice_by_id


def by_question() -> dict[str, tuple[BestPractice, ...]]:
    """Best practices grouped by QuestionId, both in WA Tool order."""
    cat = _catalogue()
    return {q.id: tuple(cat.choice_by_id[c] for c in q.choices) for q in cat.questions}


def default_severity(choice_id: str) -> Severity:
    """The suggested severity for a failing rule on this practice: tier R high, G medium, B low."""
    return choice(choice_id).severity


def assess(check: Check | str, results: Mapping[str, int], rules_run: int) -> tuple[Coverage, str | None]:
    """A best practice's coverage from its rules' results, and why a person must answer (or None).

    ``results`` counts the findings of its rules by status; ``rules_run`` is how many of its rules
    the review ran. A practice whose rules only ended not assessed is ``not_assessed`` (the account
    scanner adds a not-assessed result for every rule whose resources a failed listing hid). The reason
    is ``"manual"`` (the practice's own question applies), ``"undecided"`` (its rules only ended not assessed) or ``"unchecked"`` (no rule of it ran).
    """
    check = Check(check)
    if results.get("fail"):
        status = Coverage.RISK
    elif check in (Check.MANUAL, Check.HINT):
        # A heuristic that passes is no evidence: a person still answers.
        return Coverage.NEEDS_ANSWER, "manual"
    elif any(n for s, n in results.items() if s != "not_assessed"):
        status = Coverage.EVIDENCED  # passes (or suppressed / accepted results), and nothing failed
    elif results.get("not_assessed"):
        return Coverage.NOT_ASSESSED, "manual" if check is Check.PARTIAL else "undecided"
    elif not rules_run:
        return Coverage.NEEDS_ANSWER, "manual" if check is Check.PARTIAL else "unchecked"
    else:
        return Coverage.NOT_APPLICABLE, None
    # Configuration settles only part of a PARTIAL practice (and of a MANUAL or HINT one a rule flagged).
    return status, None if check is Check.AUTO else "manual"


def question_to_ask(bp: BestPractice, reason: str | None) -> Text | None:
    """The question for ``reason`` as :func:`assess` gives it, or None."""
    if reason == "manual":
        return bp.manual_question or _catalogue().unchecked_question
    if reason == "undecided":
        return _catalogue().undecided_question
    if reason == "unchecked":
        return _catalogue().unchecked_question
    return None


if TYPE_CHECKING:
    UNDECIDED_QUESTION: Text
    UNCHECKED_QUESTION: Text
    LENS_TITLE: Text
    PILLARS: tuple[Pillar, ...]
    QUESTIONS: tuple[Question, ...]
    BEST_PRACTICES: tuple[BestPractice, ...]
    NONE_CHOICES: tuple[NoneChoice, ...]


def __getattr__(name: str) -> Any:
    # PEP 562: the catalogue is read on first access to these names, not at import.
    if name == "PILLARS":
        return _catalogue().pillars
    if name == "QUESTIONS":
        return _catalogue().questions
    if name == "BEST_PRACTICES":
        return _catalogue().best_practices
    if name == "NONE_CHOICES":
        return tuple(q.none_choice for q in _catalogue().questions)
    if name == "LENS_TITLE":
        return _catalogue().title
    if name == "UNDECIDED_QUESTION":
        return _catalogue().undecided_question
    if name == "UNCHECKED_QUESTION":
        return _catalogue().unchecked_question
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
