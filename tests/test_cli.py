"""The command line as a CI job meets it: exit codes, one-line errors, batches that survive bad files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / "tests" / "fixtures" / "cli"
GOOD, BAD, BROKEN, PACKAGE = (str(CLI / n) for n in ("good.yaml", "bad.yaml", "broken.yaml", "package.json"))


def walens(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walens", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"},
        timeout=120,
    )


def review(*args: str, stdin: str | None = None) -> tuple[int, dict]:
    proc = walens("scan", "template", *args, "--format", "json", stdin=stdin)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def failing(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]["origin"]) for f in doc["findings"] if f["status"] == "fail"}


def test_clean_template_exits_0() -> None:
    code, doc = review(GOOD)
    assert code == 0
    assert failing(doc) == set()
    assert {f["status"] for f in doc["findings"]} == {"pass"}
    assert doc["summary"]["failed"] is False


def test_failing_finding_exits_1_and_fail_on_never_exits_0() -> None:
    code, doc = review(BAD)
    assert code == 1
    assert ("COST001", "BadFunction") in failing(doc)
    code, doc = review(BAD, "--fail-on", "never")
    assert code == 0
    assert ("COST001", "BadFunction") in failing(doc)


def test_unreadable_file_exits_3_and_the_others_are_still_reviewed() -> None:
    code, doc = review(GOOD, BROKEN, BAD)
    assert code == 3
    assert [e["file"] for e in doc["errors"]] == [BROKEN]
    assert doc["errors"][0]["kind"] == "yaml"
    assert {i["path"] for i in doc["scan"]["inputs"]} == {GOOD, BAD}
    assert ("COST001", "BadFunction") in failing(doc)


def test_unreadable_file_is_one_line_on_the_console() -> None:
    proc = walens("scan", "template", BROKEN)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "broken.yaml" in line]
    assert len(lines) == 1, proc.stdout


def test_non_template_files_are_skipped_not_errors() -> None:
    code, doc = review(GOOD, PACKAGE)
    assert code == 0
    assert [s["path"] for s in doc["skipped"]] == [PACKAGE]
    assert doc["errors"] == []


def test_a_non_template_file_named_alone_is_skipped_not_an_error() -> None:
    code, doc = review(PACKAGE)  # pre-commit passes every staged YAML/JSON file
    assert code == 0
    assert [s["path"] for s in doc["skipped"]] == [PACKAGE] and doc["scan"]["inputs"] == []


def usage_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line of a usage error: exit 2, no report on stdout (never an empty review that passes)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walens: error: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize(("given", "said"), [
    ("does/not/exist.yaml", "does/not/exist.yaml: no such file or directory"),
    ("none/**/*.yaml", "none/**/*.yaml: no files match this pattern"),
])
def test_a_path_that_names_nothing_is_a_usage_error(given: str, said: str) -> None:
    for args in ((given,), (GOOD, given)):  # even next to a good template: a typo is not a review
        assert usage_error(walens("scan", "template", *args)) == f"walens: error: {said}"


def test_a_folder_without_templates_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert usage_error(walens("scan", "template", str(empty))).endswith(
        f"{empty}: no .yaml, .yml, .json or .template files in this folder")
    other = tmp_path / "other"
    other.mkdir()
    (other / "package.json").write_text(Path(PACKAGE).read_text())
    (other / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    assert usage_error(walens("scan", "template", str(other))) == (
        f"walens: error: no CloudFormation or SAM template in {other}: the 2 files found there are not "
        "CloudFormation or SAM")
    assert usage_error(walens("scan", "template", f"{other}/*.yaml")).startswith(
        "walens: error: no CloudFormation or SAM template in ")


def test_no_path_outside_a_repository_is_a_usage_message(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(Path(BAD).read_text())
    proc = subprocess.run([sys.executable, "-m", "walens", "scan", "template"], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=120,
                          input=Path(BAD).read_text())  # stdin is read only with -
    assert "name template files, folders or globs, or - to read stdin" in usage_error(proc)


def test_no_path_inside_a_repository_says_what_it_reviews(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "template.yaml").write_text(Path(BAD).read_text())
    proc = subprocess.run([sys.executable, "-m", "walens", "scan", "template", "-f", "json"], capture_output=True,
                          text=True, cwd=tmp_path / "stacks", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"walens: no PATH given: reviewing the repository root {tmp_path}\n"
    assert [i["path"] for i in json.loads(proc.stdout)["scan"]["inputs"]] == [str(tmp_path / "stacks" / "template.yaml")]


def test_output_says_where_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "review.sarif"
    proc = walens("scan", "template", BAD, "--format", "sarif", "-o", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"walens: wrote the sarif report to {out}\n"
    assert json.loads(out.read_text())["runs"]


def test_stdin() -> None:
    code, doc = review("-", stdin=Path(BAD).read_text())
    assert code == 1
    assert ("COST001", "BadFunction") in failing(doc)
    assert {f["location"]["file"] for f in doc["findings"]} == {"<stdin>"}


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "template", GOOD, "--format", "xml"),
        ("scan", "template", GOOD, "--fail-on", "critical"),
        ("scan", "template", GOOD, "--select", "NOPE999"),
        ("scan", "template", GOOD, "--lang", "fr"),
        ("rules", "show", "NOPE999"),
    ],
)
def test_usage_errors_exit_2_on_one_line(args: tuple[str, ...]) -> None:
    proc = walens(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("args", "hint"), [
    (("scan", "template", GOOD, "--format", "htlm"), "(did you mean 'html'?)"),
    (("scan", "template", GOOD, "--fail-on", "hihg"), "(did you mean 'high'?)"),
    (("scan", "template", GOOD, "--lang", "eng"), "(did you mean 'en'?)"),
    (("report", GOOD, "--format", "markdwon"), "(did you mean 'markdown'?)"),
    (("scan", "template", GOOD, "--select", "COST01"), "(did you mean 'COST001'?)"),
    (("scan", "template", GOOD, "--ignore", "perfomance"), "(did you mean 'performance'?)"),
    (("scan", "template", GOOD, "--select", "lambda-log-retention"), "(did you mean 'lambda-log-retention-unset'?)"),
    (("scan", "template", GOOD, "--select", "cost_cost_q1_a22"), "(did you mean 'cost_cost_q1_a2'?)"),
    (("rules", "show", "sec3"), "(did you mean 'SEC003'?)"),
    (("scan", "template", GOOD, "--fail-onn", "high"), "--fail-on"),
])
def test_unknown_values_and_options_suggest_the_closest(args: tuple[str, ...], hint: str) -> None:
    proc = walens(*args)
    assert proc.returncode == 2, proc.stderr
    error = [line for line in proc.stderr.splitlines() if "rror" in line]
    assert len(error) == 1 and hint in error[0], proc.stderr


def test_choices_are_case_insensitive() -> None:
    code, doc = review(BAD, "--fail-on", "HIGH", "--lang", "JA")
    assert code == 1 and doc["summary"]["failed"] is True and doc["lang"] == "ja"
    code, _ = review(BAD, "--fail-on", "Never")
    assert code == 0


def test_select_and_ignore() -> None:
    _, doc = review(BAD, "--select", "COST001")
    assert {f["rule_id"] for f in doc["findings"]} == {"COST001"}
    _, doc = review(BAD, "--ignore", "COST001,costOptimization")
    assert all(f["pillar"] != "costOptimization" for f in doc["findings"])
    _, doc = review(BAD, "--select", "security")
    assert {f["pillar"] for f in doc["findings"]} <= {"security"}


def test_malformed_custom_rule_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "CUSTOM001.yaml").write_text("id: CUSTOM001\nname: x\n")
    proc = walens("scan", "template", GOOD, "--rules-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "CUSTOM001.yaml" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["console", "markdown", "html", "sarif", "json"])
def test_report_re_renders_a_saved_review(tmp_path: Path, fmt: str) -> None:
    saved = tmp_path / "review.json"
    proc = walens("scan", "template", BAD, "--format", "json", "--output", str(saved))
    assert proc.returncode == 1 and proc.stdout == ""
    for lang in ("en", "ja"):
        out = tmp_path / f"report.{fmt}.{lang}"
        proc = walens("report", str(saved), "--format", fmt, "--lang", lang, "--output", str(out))
        assert proc.returncode == 0, proc.stderr
        assert "BadFunction" in out.read_text(encoding="utf-8")


def test_report_rejects_a_file_that_is_not_a_review(tmp_path: Path) -> None:
    proc = walens("report", PACKAGE)
    assert proc.returncode == 2
    assert "package.json" in proc.stderr and "Traceback" not in proc.stderr


def test_rules_list_show_and_lens_in_both_languages() -> None:
    listing = walens("rules", "list")
    assert listing.returncode == 0
    assert "COST001" in listing.stdout
    shown = walens("rules", "show", "COST001", "--lang", "ja")
    assert shown.returncode == 0
    assert "cost_cost_q1_a2" in shown.stdout and "重大度" in shown.stdout
    lens = walens("lens", "--format", "json")
    practices = json.loads(lens.stdout)
    assert len(practices) == 38
    assert "COST001" in next(p for p in practices if p["choice"] == "cost_cost_q1_a2")["rules"]
    text = walens("lens", "--lang", "ja")
    assert "ログ出力とその保持を最適化する" in text.stdout


def test_version() -> None:
    proc = walens("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("walens ")


def test_lens_lists_all_38_by_pillar_and_question_with_tier_check_rules_and_question() -> None:
    from walens import lens
    from walens.rules import load_rules

    rules_by_choice: dict[str, list[str]] = {}
    for rule in sorted(load_rules(), key=lambda r: r.id):
        rules_by_choice.setdefault(rule.lens_choice, []).append(rule.id)
    proc = walens("lens")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = [ln.split() for ln in lines if ln.startswith("    ") and not ln.startswith("     ")]
    assert [(r[0], r[1], r[2]) for r in rows] == [(bp.id, bp.tier.value, bp.check.value) for bp in lens.BEST_PRACTICES]
    # Pillar headings, then questions, in WA Tool order.
    headings = [ln for ln in lines if ln and not ln.startswith(" ")][2:]
    lacking = [bp.id for bp in lens.BEST_PRACTICES if bp.check in ("AUTO", "PARTIAL") and bp.id not in rules_by_choice]
    if lacking:  # said at the end, never silently
        assert headings.pop() == f"AUTO/PARTIAL best practices without a rule: {', '.join(lacking)}"
    assert headings == [p.title.en for p in lens.PILLARS]
    assert [ln.split("  ")[1].strip() for ln in lines if ln.startswith("  ") and not ln.startswith("   ")] == [
        q.label for q in lens.QUESTIONS]
    text = proc.stdout
    for bp in lens.BEST_PRACTICES:
        block = re.split(r"\n {0,4}\S", text.split(f"\n    {bp.id} ", 1)[1], maxsplit=1)[0]
        ids = rules_by_choice.get(bp.id)
        assert f"Rules: {', '.join(ids) if ids else 'none yet'}" in block
        assert (bp.manual_question is not None) == ("Question to ask:" in block), bp.id
        if bp.manual_question is not None:
            assert f"Question to ask: {bp.manual_question.en}" in block
    ja = walens("lens", "--lang", "ja").stdout
    assert ja.count("確認する質問: ") == sum(bp.manual_question is not None for bp in lens.BEST_PRACTICES) == 31
    assert "ベストプラクティス 38 件" in ja and "運用上の優秀性" in ja and "ログ出力とその保持を最適化する" in ja
    practices = json.loads(walens("lens", "--format", "json", "--lang", "ja").stdout)
    assert [p["choice"] for p in practices] == [bp.id for bp in lens.BEST_PRACTICES]
    for p in practices:
        bp = lens.choice(p["choice"])
        assert (p["tier"], p["check"], p["question_label"]) == (bp.tier, bp.check, lens.question(bp.question).label)
        assert p["rules"] == rules_by_choice.get(bp.id, [])
        assert p["manual_question"] == (bp.manual_question.ja if bp.manual_question else None)


def test_lens_shows_custom_rules(tmp_path: Path) -> None:
    from walens.rules import builtin_root

    source = builtin_root().joinpath("cost_optimization", "COST001.yaml").read_text(encoding="utf-8")
    custom = source.replace("id: COST001", "id: CUSTOM901").replace("cost_cost_q1_a2", "cost_cost_q1_a4")
    custom = custom.replace("name: ", "name: custom-", 1)
    (tmp_path / "CUSTOM901.yaml").write_text(custom, encoding="utf-8")
    proc = walens("lens", "--format", "json", "--rules-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    practices = {p["choice"]: p for p in json.loads(proc.stdout)}
    assert "CUSTOM901" in practices["cost_cost_q1_a4"]["rules"]
