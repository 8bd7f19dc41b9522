"""The lens catalogue equals LENS.md, which the test parses as its oracle.

tests/fixtures/lens/LENS.md is a verbatim copy of the project's catalogue for rule authors (the markdown the
data in walens/data/lens.yaml and runtimes.yaml was transcribed from): two hand-kept forms of the same facts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from walens import lens
from walens.errors import WalensError
from walens.model import Pillar as PillarEnum
from walens.model import Severity

REPO = Path(__file__).resolve().parents[1]
LENS_MD = REPO / "tests" / "fixtures" / "lens" / "LENS.md"


def _section(text: str, heading: str) -> str:
    """The text from ``heading`` up to the next heading of the same or a higher level."""
    start = text.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    rest = text[start + len(heading):]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start()] if end else rest


def _rows(section: str) -> list[list[str]]:
    """The body rows of the first markdown table in ``section``, cells stripped."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows[2:]]


def _code(cell: str) -> str:
    return re.match(r"`([^`]+)`", cell).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def md() -> str:
    return LENS_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def md_practices(md: str) -> list[dict[str, str]]:
    out = []
    for q, cid, en, ja, tier, _gist in _rows(_section(md, "### 1.4 Best practices")):
        draft = ja.endswith("*(draft)*")
        out.append({"q": q, "id": _code(cid), "en": en, "ja": ja.removesuffix("*(draft)*").strip(),
                    "tier": tier, "draft": str(draft)})
    return out


@pytest.fixture(scope="module")
def md_checks(md: str) -> dict[str, str]:
    """ChoiceId → check from §3.2 (MANUAL / HINT / PARTIAL / AUTO bullet groups)."""
    summary = _section(md, "### 3.2 Summary")
    groups = re.split(r"^- \*\*", summary, flags=re.M)[1:]
    checks: dict[str, str] = {}
    for group, kind in zip(groups, ("MANUAL", "HINT", "PARTIAL", "AUTO"), strict=True):
        for cid in re.findall(r"`([a-z]+_[a-z]+_q\d_a\d)`", group):
            assert cid not in checks
            checks[cid] = kind
    return checks


def test_counts() -> None:
    assert len(lens.BEST_PRACTICES) == 38
    assert len(lens.QUESTIONS) == 9
    assert {q.label: len(q.choices) for q in lens.QUESTIONS} == {
        "OPS 1": 4, "OPS 2": 6, "SEC 1": 3, "SEC 2": 4, "SEC 3": 5,
        "REL 1": 3, "REL 2": 4, "PERF 1": 5, "COST 1": 4,
    }


def test_best_practices_equal_lens_md_in_order(md_practices: list[dict[str, str]]) -> None:
    labels = {q.id: q.label for q in lens.QUESTIONS}
    got = [{"q": labels[bp.question], "id": bp.id, "en": bp.title.en, "ja": bp.title.ja,
            "tier": bp.tier.value, "draft": str(bp.ja_draft)} for bp in lens.BEST_PRACTICES]
    assert got == md_practices
    assert [bp.order for bp in lens.BEST_PRACTICES] == list(range(1, 39))


def test_checks_equal_lens_md_summary(md_checks: dict[str, str]) -> None:
    assert {bp.id: bp.check.value for bp in lens.BEST_PRACTICES} == md_checks


def test_questions_equal_lens_md(md: str) -> None:
    want = [(label, _code(qid), en, ja) for label, qid, en, _wp, ja in _rows(_section(md, "### 1.3 Questions"))]
    assert [(q.label, q.id, q.title.en, q.title.ja) for q in lens.QUESTIONS] == want


def test_pillars_equal_lens_md_and_model(md: str) -> None:
    rows = _rows(_section(md, "### 1.2 Pillars"))
    # LENS.md lists sustainability too, with no questions: the lens has nothing to review there.
    want = [(_code(pid), en, ja.split(" (")[0]) for pid, en, ja, qs in rows if not qs.startswith("none")]
    assert [(p.id, p.title.en, p.title.ja) for p in lens.PILLARS] == want
    assert [p.order for p in lens.PILLARS] == [1, 2, 3, 4, 5]
    assert {p.id for p in lens.PILLARS} == {m.value for m in PillarEnum}


def test_every_label_present_in_en_and_ja() -> None:
    texts = [lens.LENS_TITLE, lens.UNDECIDED_QUESTION, lens.UNCHECKED_QUESTION]
    texts += [p.title for p in lens.PILLARS]
    texts += [t for q in lens.QUESTIONS for t in (q.title, q.description, q.none_choice.title)]
    texts += [t for bp in lens.BEST_PRACTICES for t in (bp.title, bp.gist)]
    texts += [bp.manual_question for bp in lens.BEST_PRACTICES if bp.manual_question]
    assert len(texts) == 3 + 5 + 27 + 76 + 31
    for t in texts:
        assert t.en.strip() and t.ja.strip(), t
        # Japanese text contains at least one kana or kanji; English none.
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t.ja), t
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t.en), t


def test_manual_question_exactly_for_non_auto_practices() -> None:
    with_question = {bp.id for bp in lens.BEST_PRACTICES if bp.manual_question is not None}
    assert with_question == {bp.id for bp in lens.BEST_PRACTICES if bp.check is not lens.Check.AUTO}
    assert {bp.id for bp in lens.BEST_PRACTICES if bp.manual_question is None} == {
        "ops_ops_q1_a3", "ops_ops_q2_a6", "sec_sec_q1_a1", "sec_sec_q2_a1",
        "rel_rel_q1_a1", "rel_rel_q2_a1", "cost_cost_q1_a2",
    }
    for bp in lens.BEST_PRACTICES:
        if bp.manual_question:
            assert bp.manual_question.en.endswith("?")
            assert bp.manual_question.ja.endswith("?")


# ---- coverage: where a review leaves each best practice --------------------------------------------

C = lens.Coverage


@pytest.mark.parametrize(("check", "results", "rules_run", "want"), [
    # A failing rule is a risk whatever the kind; the rest of a non-AUTO practice still needs an answer.
    ("AUTO", {"fail": 1, "pass": 3}, 1, (C.RISK, None)),
    ("PARTIAL", {"fail": 1}, 1, (C.RISK, "manual")),
    ("HINT", {"fail": 2}, 1, (C.RISK, "manual")),
    # Passes evidence AUTO and PARTIAL practices; a PARTIAL one still asks about the rest.
    ("AUTO", {"pass": 2, "not_assessed": 1}, 2, (C.EVIDENCED, None)),
    ("AUTO", {"suppressed": 1}, 1, (C.EVIDENCED, None)),
    ("PARTIAL", {"pass": 1}, 1, (C.EVIDENCED, "manual")),
    # A heuristic that passes, or a manual practice, is no evidence.
    ("HINT", {"pass": 5}, 1, (C.NEEDS_ANSWER, "manual")),
    ("MANUAL", {}, 0, (C.NEEDS_ANSWER, "manual")),
    # Only not-assessed results: configuration could not settle it.
    # Never "not applicable" (a denied listing leaves nothing to judge, not nothing there).
    ("AUTO", {"not_assessed": 2}, 1, (C.NOT_ASSESSED, "undecided")),
    ("PARTIAL", {"not_assessed": 2}, 1, (C.NOT_ASSESSED, "manual")),
    # No rule of it ran (none exists, or --select left none): nobody looked, so it is not "not applicable".
    ("AUTO", {}, 0, (C.NEEDS_ANSWER, "unchecked")),
    ("PARTIAL", {}, 0, (C.NEEDS_ANSWER, "manual")),
    # Its rules ran and none applied to any resource.
    ("AUTO", {}, 3, (C.NOT_APPLICABLE, None)),
    ("PARTIAL", {}, 1, (C.NOT_APPLICABLE, None)),
])
def test_assess(check: str, results: dict[str, int], rules_run: int, want: tuple[lens.Coverage, str | None]) -> None:
    assert lens.assess(check, results, rules_run) == want


def test_question_to_ask() -> None:
    partial = lens.choice("cost_cost_q1_a3")
    auto = lens.choice("cost_cost_q1_a2")
    assert lens.question_to_ask(partial, "manual") == partial.manual_question
    assert lens.question_to_ask(auto, "undecided") == lens.UNDECIDED_QUESTION
    assert lens.question_to_ask(auto, "unchecked") == lens.UNCHECKED_QUESTION
    assert lens.question_to_ask(auto, None) is None
    assert [c.value for c in lens.Coverage] == ["risk", "evidenced", "needs_answer", "not_applicable",
                                             "not_assessed"]


def test_every_best_practice_is_listed_and_every_auto_or_partial_one_has_a_rule() -> None:
    """Done means (issue 4): all 38 shown by `walens lens`; each AUTO/PARTIAL practice evidenced by a rule."""
    from walens.rules import load_rules

    rules = load_rules()
    assert len(lens.BEST_PRACTICES) == 38
    with_rules = {r.lens_choice for r in rules}
    assert with_rules <= {bp.id for bp in lens.BEST_PRACTICES}
    lacking = [f"{bp.id} ({bp.check}, {lens.question(bp.question).label}: {bp.title.en})"
               for bp in lens.BEST_PRACTICES
               if bp.check in (lens.Check.AUTO, lens.Check.PARTIAL) and bp.id not in with_rules]
    assert lacking == [], "AUTO/PARTIAL best practices without a rule:\n  " + "\n  ".join(lacking)


def test_question_pillar_and_choice_prefixes_agree() -> None:
    for bp in lens.BEST_PRACTICES:
        q = lens.question(bp.question)
        assert bp.id.startswith(q.id.split("_")[0] + "_" + q.id + "_a")
        assert bp.pillar == q.pillar
        assert bp.id in q.choices


def test_none_choices() -> None:
    assert [c.id for c in lens.NONE_CHOICES] == [
        "ops_ops_q1_no", "ops_ops_q2_no", "sec_sec_q1_no", "sec_sec_q2_no", "sec_sec_q3_no",
        "rel_rel_q1_no", "rel_rel_q2_no", "perf_perf_q1_no", "cost_cost_q1_no",
    ]
    assert lens.question("rel_q2").none_choice.title == lens.Text("None of these", "いずれも該当しない")
    assert not lens.is_choice_id("ops_ops_q1_no")
    assert lens.is_choice_id("ops_ops_q1_a1")


def test_lookups() -> None:
    bp = lens.choice("cost_cost_q1_a2")
    assert (bp.question, bp.pillar, bp.tier, bp.check) == ("cost_q1", "costOptimization", lens.Tier.REQUIRED,
                                                            lens.Check.AUTO)
    assert bp.title.get("ja") == "ログ出力とその保持を最適化する"
    assert bp.title.get("fr") == "Optimize logging output and its retention"
    assert lens.question("rel_q1").label == "REL 1"
    assert lens.pillar("performance").title == lens.Text("Performance Efficiency", "パフォーマンス効率")
    grouped = lens.by_question()
    assert list(grouped) == [q.id for q in lens.QUESTIONS]
    assert [b.id for b in grouped["sec_q1"]] == ["sec_sec_q1_a3", "sec_sec_q1_a1", "sec_sec_q1_a2"]


def test_default_severity_by_tier() -> None:
    got = {bp.id: lens.default_severity(bp.id) for bp in lens.BEST_PRACTICES}
    assert {c for c, s in got.items() if s is Severity.HIGH} == {
        "ops_ops_q1_a1", "ops_ops_q2_a1", "sec_sec_q1_a3", "sec_sec_q2_a1", "sec_sec_q2_a4",
        "sec_sec_q3_a1", "sec_sec_q3_a4", "rel_rel_q1_a1", "rel_rel_q2_a1", "rel_rel_q2_a3",
        "perf_perf_q1_a3", "cost_cost_q1_a1", "cost_cost_q1_a2",
    }
    assert {c for c, s in got.items() if s is Severity.LOW} == {
        "ops_ops_q1_a2", "ops_ops_q2_a4", "sec_sec_q1_a2", "sec_sec_q2_a3", "sec_sec_q3_a3",
        "sec_sec_q3_a5", "rel_rel_q1_a3", "rel_rel_q2_a4", "perf_perf_q1_a4", "cost_cost_q1_a4",
    }
    assert sum(s is Severity.MEDIUM for s in got.values()) == 38 - 13 - 10


@pytest.mark.parametrize(("fn", "value", "message"), [
    (lens.choice, "ops_ops_q1_a9", "unknown Serverless Lens ChoiceId 'ops_ops_q1_a9' (did you mean 'ops_ops_q1_a4'?)"),
    (lens.choice, "ops_ops_q1_no", "unknown Serverless Lens ChoiceId 'ops_ops_q1_no' (a 'None of these' choice, not a best practice)"),
    (lens.question, "cost_q2", "unknown Serverless Lens QuestionId 'cost_q2' (did you mean 'cost_q1'?)"),
    (lens.pillar, "sustainability", "unknown Serverless Lens PillarId 'sustainability' (the lens defers to the Sustainability Pillar)"),
    (lens.pillar, "Security", "unknown Serverless Lens PillarId 'Security' (did you mean 'security'?)"),
    (lens.default_severity, "xyz", "unknown Serverless Lens ChoiceId 'xyz'"),
])
def test_unknown_ids_raise_a_clear_user_error(fn, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(lens.UnknownLensId) as info:
        fn(value)
    assert str(info.value) == message
    assert isinstance(info.value, WalensError) and isinstance(info.value, KeyError)


def test_import_does_not_read_the_catalogue() -> None:
    probe = ("import sys, walens.lens as l; print(l._catalogue.cache_info().currsize, 'yaml' in sys.modules);"
             "l.BEST_PRACTICES; print(l._catalogue.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["0", "True", "1"]


def test_unknown_module_attribute() -> None:
    with pytest.raises(AttributeError):
        lens.NOT_THERE  # noqa: B018
