"""Manual answers: what only a person can say about a best practice (met, not met, not applicable).

Configuration cannot settle MANUAL, HINT and PARTIAL best practices (``walens/data/lens.yaml``):
``walens answer`` asks their questions interactively (en or ja) or reads an answers file, and stores
the answers with the workload in the history. Every later review of the workload carries them until
someone changes them: the review document gets ``answers: {ChoiceId: {answer, notes, by, at, age_days}}``
and each lens entry its ``answer``; an answer settles a practice the rules left open.

Answers file (``--answers FILE.yaml``)::

    by: alice@example.com            # who answered (else --by, else the login name)
    answers:
      ops_ops_q1_a1: met
      sec_sec_q1_a3: {answer: not_applicable, notes: "No public endpoint", by: bob}
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walens.errors import UsageError

if TYPE_CHECKING:
    from walens.lens import BestPractice

ANSWERS = ("met", "not_met", "not_applicable")
ANSWER_KEYS = ("answer", "notes", "by", "at")
NOTES_MAX = 2000
# An answer moves a best practice the rules left open: met → evidenced, not met → risk.
_COVERAGE = {"met": "evidenced", "not_met": "risk", "not_applicable": "not_applicable"}

PROMPTS = {
    "en": {
        "intro": "Answer what configuration cannot decide for workload {workload!r} ({count} best practices)."
                 " Press Enter to keep the current answer; 'skip' leaves one unanswered.",
        "current": "current: {answer} by {by}, {age} days ago",
        "answer": "Answer (met / not_met / not_applicable / skip)",
        "notes": "Notes",
        "invalid": "{value!r} is not one of met, not_met, not_applicable, skip",
        "saved": "{count} answers saved for workload {workload!r} in {location}",
        "unchanged": "no answer changed",
    },
    "ja": {
        "intro": "ワークロード {workload!r} について、構成から判定できないベストプラクティス ({count} 件) に回答してください。"
                 "Enter で現在の回答を維持し、skip で未回答のままにします。",
        "current": "現在の回答: {answer} ({by}、{age} 日前)",
        "answer": "回答 (met = 満たしている / not_met = 満たしていない / not_applicable = 該当しない / skip = スキップ)",
        "notes": "メモ",
        "invalid": "{value!r} は met、not_met、not_applicable、skip のいずれでもありません",
        "saved": "ワークロード {workload!r} の回答 {count} 件を {location} に保存しました",
        "unchanged": "変更された回答はありません",
    },
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_by() -> str:
    """Who answers when nobody says: the login name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER") or "unknown"


def answerable() -> list[BestPractice]:
    """Best practices a person answers: every one whose check is not AUTO (MANUAL, PARTIAL, HINT)."""
    from walens import lens

    return [bp for bp in lens.BEST_PRACTICES if bp.check != lens.Check.AUTO]


def _parse_at(value: Any, where: str, path: str) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.isoformat(timespec="seconds")
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat(timespec="seconds")
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise UsageError(f"{where}.at: {value!r} is not an ISO date or date-time", file=path) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="seconds")


def parse(data: Any, path: str, *, by: str | None = None, at: str | None = None) -> dict[str, dict[str, Any]]:
    """Validate an answers file's content; ChoiceId → {answer, notes, by, at}."""
    from walens import lens

    if not isinstance(data, Mapping):
        raise UsageError("expected a mapping with 'answers' (and optionally 'by')", file=path)
    unknown = sorted(set(map(str, data)) - {"answers", "by", "workload"})
    if unknown:
        raise UsageError(f"unknown key {unknown[0]!r} (expected answers, by, workload)", file=path)
    default_who = data.get("by", by)
    if default_who is not None and (not isinstance(default_who, str) or not default_who.strip()):
        raise UsageError(f"by: expected a name, got {default_who!r}", file=path)
    raw = data.get("answers")
    if not isinstance(raw, Mapping) or not raw:
        raise UsageError("answers: expected a mapping of best-practice ChoiceId to met, not_met or not_applicable",
                         file=path)
    when = at or now_iso()
    out: dict[str, dict[str, Any]] = {}
    for choice, value in raw.items():
        where = f"answers.{choice}"
        if not lens.is_choice_id(str(choice)):
            try:
                lens.choice(str(choice))
            except lens.UnknownLensId as exc:
                raise UsageError(f"{where}: {exc}", file=path) from None
        item = {"answer": value} if isinstance(value, str) else value
        if not isinstance(item, Mapping):
            raise UsageError(f"{where}: expected met, not_met, not_applicable or a mapping with 'answer'", file=path)
        extra = sorted(set(map(str, item)) - set(ANSWER_KEYS))
        if extra:
            raise UsageError(f"{where}.{extra[0]}: unknown key (expected {', '.join(ANSWER_KEYS)})", file=path)
        answer = str(item.get("answer") or "").strip().lower().replace("-", "_").replace(" ", "_")
        if answer not in ANSWERS:
            raise UsageError(f"{where}.answer: {item.get('answer')!r} is not one of {', '.join(ANSWERS)}", file=path)
        notes = item.get("notes") or ""
        if not isinstance(notes, str) or len(notes) > NOTES_MAX:
            raise UsageError(f"{where}.notes: expected text of at most {NOTES_MAX} characters", file=path)
        who = item.get("by", default_who)
        if not isinstance(who, str) or not who.strip():
            who = default_by()
        out[str(choice)] = {"answer": answer, "notes": notes.strip(), "by": who.strip(),
                            "at": _parse_at(item["at"], where, path) if item.get("at") else when}
    return out


def load_file(path: str | os.PathLike[str], *, by: str | None = None) -> dict[str, dict[str, Any]]:
    """Read and validate an answers YAML file."""
    import yaml

    text_path = str(path)
    try:
        from walens.waivers import plain_loader

        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=plain_loader())  # noqa: S506 - safe
    except OSError as exc:
        raise UsageError(f"cannot read the answers: {exc.strerror}", file=text_path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UsageError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=text_path,
                         line=mark.line + 1 if mark is not None else None) from exc
    return parse(data, text_path, by=by)


def changed(current: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The answers of ``new`` that differ from ``current`` in answer or notes (an unchanged one keeps its age)."""
    return {c: dict(a) for c, a in new.items()
            if c not in current or (current[c].get("answer"), current[c].get("notes") or "")
            != (a.get("answer"), a.get("notes") or "")}


def _day(value: Any) -> date | None:
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def age_days(answered_at: Any, on: Any = None) -> int | None:
    """Whole days between an answer and ``on`` (an ISO date-time; today when None)."""
    start = _day(answered_at)
    end = _day(on) if on else datetime.now(UTC).date()
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


def apply(doc: MutableMapping[str, Any], answers: Mapping[str, Mapping[str, Any]]) -> None:
    """Record ``answers`` in the review document: ``answers`` and each lens entry's ``answer``.

    An answer settles what the rules left open: a best practice that needed an answer becomes
    evidenced (met), a risk (not met) or not applicable; "not met" also turns evidence from passing
    rules into a risk (the rules saw only part of the practice). A risk the rules found stays one.
    """
    scan = doc.get("scan") or {}
    on = scan.get("finished_at") or scan.get("started_at")
    recorded: dict[str, dict[str, Any]] = {}
    for choice, a in sorted(answers.items()):
        recorded[choice] = {"answer": a.get("answer"), "notes": a.get("notes") or "", "by": a.get("by"),
                            "at": a.get("at"), "age_days": age_days(a.get("at"), on)}
    doc["answers"] = recorded
    for entry in doc.get("lens") or []:
        answer = recorded.get(str(entry.get("choice")))
        if answer is None:
            continue
        entry["answer"] = answer
        status = entry.get("status")
        if status == "risk":
            continue
        if status in ("needs_answer", "not_applicable", "not_assessed") or answer["answer"] == "not_met":
            entry["status"] = _COVERAGE[str(answer["answer"])]


def prompt(workload: str, lang: str, current: Mapping[str, Mapping[str, Any]], *, by: str,
           choices: list[str] | None = None, ask: Callable[..., Any] | None = None,
           echo: Callable[[str], Any] | None = None) -> dict[str, dict[str, Any]]:
    """Ask each answerable best practice's question; the answers given (skipped ones left out)."""
    import typer

    from walens import lens

    ask = ask or typer.prompt
    echo = echo or typer.echo
    texts = PROMPTS[lang]
    practices = answerable()
    if choices:
        wanted = set(choices)
        for c in wanted:
            lens.choice(c)  # an unknown ChoiceId is a clear error
        practices = [bp for bp in lens.BEST_PRACTICES if bp.id in wanted]
    echo(texts["intro"].format(workload=workload, count=len(practices)))
    when = now_iso()
    out: dict[str, dict[str, Any]] = {}
    for bp in practices:
        q = lens.question(bp.question)
        echo("")
        echo(f"[{q.label}] {bp.title.get(lang)} ({bp.id}, {bp.check})")
        asked = bp.manual_question or lens.UNCHECKED_QUESTION
        echo(f"  {asked.get(lang)}")
        had = current.get(bp.id)
        if had:
            echo("  " + texts["current"].format(answer=had.get("answer"), by=had.get("by"),
                                                age=age_days(had.get("at")) or 0))
        while True:
            raw = ask(texts["answer"], default=str(had.get("answer")) if had else "skip")
            value = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
            if value in (*ANSWERS, "skip"):
                break
            echo(texts["invalid"].format(value=raw))
        if value == "skip":
            continue
        notes = ask(texts["notes"], default=str(had.get("notes") or "") if had else "", show_default=bool(had))
        out[bp.id] = {"answer": value, "notes": str(notes).strip()[:NOTES_MAX], "by": by, "at": when}
    return out
