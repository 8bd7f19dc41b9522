"""Manual answers: the answers file, interactive prompts (en, ja), storage per workload, and the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from walens import answers
from walens.errors import UsageError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders-app"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_answerable_practices_are_the_ones_configuration_cannot_settle() -> None:
    from walens import lens

    ids = {bp.id for bp in answers.answerable()}
    assert ids == {bp.id for bp in lens.BEST_PRACTICES if bp.check in ("MANUAL", "PARTIAL", "HINT")}
    assert len(ids) == 38 - sum(bp.check == "AUTO" for bp in lens.BEST_PRACTICES)


def test_answers_file_is_validated(tmp_path: Path) -> None:
    got = answers.load_file(_file(tmp_path, """\
by: alice
answers:
  ops_ops_q1_a1: met
  sec_sec_q1_a3: {answer: not applicable, notes: "  No public endpoint  ", by: bob}
  rel_rel_q1_a2: {answer: not_met, at: 2025-01-15}
"""))
    assert got["ops_ops_q1_a1"]["answer"] == "met" and got["ops_ops_q1_a1"]["by"] == "alice"
    assert got["sec_sec_q1_a3"] == {"answer": "not_applicable", "notes": "No public endpoint", "by": "bob",
                                    "at": got["sec_sec_q1_a3"]["at"]}
    assert got["rel_rel_q1_a2"]["at"] == "2025-01-15T00:00:00+00:00"


@pytest.mark.parametrize(("text", "message"), [
    ("answers:\n  ops_ops_q1_a9: met\n", "answers.ops_ops_q1_a9: unknown Serverless Lens ChoiceId"),
    ("answers:\n  ops_ops_q1_no: met\n", "'None of these' choice"),
    ("answers:\n  ops_ops_q1_a1: maybe\n", "answers.ops_ops_q1_a1.answer: 'maybe' is not one of met, not_met"),
    ("answers:\n  ops_ops_q1_a1: {answer: met, comment: x}\n", "answers.ops_ops_q1_a1.comment: unknown key"),
    ("answers:\n  ops_ops_q1_a1: {answer: met, at: 2025-02-30}\n", "answers.ops_ops_q1_a1.at: '2025-02-30'"),
    ("answer:\n  ops_ops_q1_a1: met\n", "unknown key 'answer'"),
    ("answers: []\n", "answers: expected a mapping"),
    ("- met\n", "expected a mapping with 'answers'"),
])
def test_bad_answers_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        answers.load_file(path)
    assert message in str(caught.value) and str(caught.value).startswith(str(path))


def _lens(*entries: tuple[str, str]) -> list[dict]:
    return [{"choice": c, "question": "q", "status": s, "answer": None} for c, s in entries]


def test_apply_records_answers_with_their_age_and_settles_open_practices() -> None:
    doc = {"scan": {"finished_at": "2025-03-11T10:00:00+00:00"},
           "lens": _lens(("a", "needs_answer"), ("b", "needs_answer"), ("c", "needs_answer"), ("d", "evidenced"),
                         ("e", "risk"), ("f", "evidenced"), ("g", "needs_answer"))}
    given = {c: {"answer": a, "notes": "n", "by": "alice", "at": "2025-03-01T09:00:00+00:00"}
             for c, a in (("a", "met"), ("b", "not_met"), ("c", "not_applicable"), ("d", "not_met"), ("e", "met"),
                          ("f", "met"))}
    answers.apply(doc, given)
    assert {e["choice"]: e["status"] for e in doc["lens"]} == {
        "a": "evidenced", "b": "risk", "c": "not_applicable", "d": "risk", "e": "risk", "f": "evidenced",
        "g": "needs_answer"}
    assert doc["answers"]["a"] == {"answer": "met", "notes": "n", "by": "alice", "at": "2025-03-01T09:00:00+00:00",
                                   "age_days": 10}
    assert doc["lens"][0]["answer"]["by"] == "alice" and doc["lens"][6]["answer"] is None


def test_changed_keeps_unchanged_answers_and_their_date() -> None:
    current = {"a": {"answer": "met", "notes": "x", "by": "alice", "at": "2025-01-01"}}
    assert answers.changed(current, {"a": {"answer": "met", "notes": "x", "by": "bob", "at": "2025-06-01"}}) == {}
    assert set(answers.changed(current, {"a": {"answer": "not_met", "notes": "x", "by": "b", "at": "t"},
                                         "b": {"answer": "met", "notes": "", "by": "b", "at": "t"}})) == {"a", "b"}


# ---------------------------------------------------------------------------------------------
# The CLI


def walens(*args: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walens", *args], capture_output=True, text=True, input=stdin, cwd=REPO, timeout=180,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", "HOME": str(home),
             "XDG_DATA_HOME": str(home / "data"), "USER": "tester"})


def test_answers_carry_over_to_the_next_review_and_appear_in_the_report(tmp_path: Path) -> None:
    path = _file(tmp_path, """\
by: alice
answers:
  ops_ops_q1_a2: {answer: met, notes: "On-call runbooks per alarm in the wiki"}
  sec_sec_q1_a3: {answer: not_applicable, notes: "Internal API only, no public endpoint"}
""")
    proc = walens("answer", "--workload", "orders-app", "--answers", str(path), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 answers saved for workload 'orders-app'" in proc.stdout
    again = walens("answer", "--workload", "orders-app", "--answers", str(path), home=tmp_path)
    assert "no answer changed" in again.stdout

    proc = walens("scan", "template", str(EXAMPLE), "--save", "--format", "json", "--fail-on", "never", home=tmp_path)
    doc = json.loads(proc.stdout)
    assert set(doc["answers"]) == {"ops_ops_q1_a2", "sec_sec_q1_a3"}
    assert doc["answers"]["ops_ops_q1_a2"]["by"] == "alice" and doc["answers"]["ops_ops_q1_a2"]["age_days"] == 0
    [entry] = [e for e in doc["lens"] if e["choice"] == "sec_sec_q1_a3"]
    assert entry["answer"]["answer"] == "not_applicable"
    # The stored review carries them too, and every reporter shows them.
    console = walens("history", "show", "1", home=tmp_path).stdout
    assert "Manual answers (2)" in console
    assert "(ops_ops_q1_a2): Met — On-call runbooks per alarm in the wiki (alice, answered 0 days ago)" in console
    md = walens("history", "show", "1", "--format", "markdown", "--lang", "ja", home=tmp_path).stdout
    assert "## 手動回答 (2)" in md and "該当しない" in md and "0 日前に回答" in md
    html = walens("history", "show", "1", "--format", "html", home=tmp_path).stdout
    assert "Internal API only, no public endpoint" in html and "alice" in html
    # A plain scan without --save/--workload reads no history: no answers.
    plain = json.loads(walens("scan", "template", str(EXAMPLE), "--format", "json", "--fail-on", "never",
                              home=tmp_path).stdout)
    assert "answers" not in plain


def test_interactive_prompts_in_japanese(tmp_path: Path) -> None:
    proc = walens("answer", "--workload", "shop", "--lang", "ja", "--choice", "ops_ops_q1_a2,sec_sec_q1_a3",
                  "--by", "hanako", home=tmp_path, stdin="met\nアラームごとに手順書あり\nskip\n")
    assert proc.returncode == 0, proc.stderr
    assert "ワークロード 'shop' について" in proc.stdout and "回答 (met = 満たしている" in proc.stdout
    assert "ワークロード 'shop' の回答 1 件を" in proc.stdout
    # The question asked is the best practice's own question, in Japanese.
    from walens import lens

    assert lens.choice("ops_ops_q1_a2").manual_question.ja in proc.stdout  # type: ignore[union-attr]
    # Enter keeps the current answer (shown as the default); an invalid choice is asked again.
    proc = walens("answer", "--workload", "shop", "--choice", "ops_ops_q1_a2", home=tmp_path, stdin="perhaps\n\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "current: met by hanako, 0 days ago" in proc.stdout
    assert "no answer changed" in proc.stdout
    listed = walens("answer", "--workload", "shop", "--choice", "ops_ops_q1_a9", home=tmp_path, stdin="")
    assert listed.returncode == 2 and "unknown Serverless Lens ChoiceId 'ops_ops_q1_a9'" in listed.stderr
