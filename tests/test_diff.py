"""walens diff: findings matched by fingerprint across reviews; the orders-app before and after a fix."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from walens import diff
from walens.reporters.diff import render

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders-app" / "template.yaml"
AFTER = REPO / "tests" / "fixtures" / "kaizen" / "orders-app-after.yaml"


def _f(fp: str, status: str, severity: str = "high", *, rule: str = "COST001", pillar: str = "costOptimization",
       choice: str = "cost_cost_q1_a2", **extra: object) -> dict:
    return {"rule_id": rule, "rule_name": rule.lower(), "pillar": pillar,
            "lens": {"question": choice.split("_")[1] + "_" + choice.split("_")[2], "choice": choice},
            "severity": severity, "status": status, "resource": {"id": f"Res{fp}", "type": "AWS::Lambda::Function"},
            "location": {"file": "template.yaml", "line": 3}, "message": f"message {fp}", "fingerprint": fp, **extra}


def _doc(*findings: dict, when: str = "2025-01-01T00:00:00+00:00") -> dict:
    return {"schema_version": "1", "tool": {"version": "0.1.0"}, "lang": "en",
            "scan": {"finished_at": when}, "findings": list(findings)}


def test_kinds_are_decided_by_fingerprint_and_status() -> None:
    old = _doc(_f("persist", "fail"), _f("fixed", "fail"), _f("gone", "fail"), _f("waived", "fail"),
               _f("sev", "fail", "medium", rule="REL001", pillar="reliability", choice="rel_rel_q1_a1"),
               _f("newly", "pass"), _f("was-na", "not_assessed"))
    new = _doc(_f("persist", "fail"), _f("fixed", "pass"),
               _f("waived", "accepted", waiver={"owner": "o", "reason": "r", "ticket": None, "expires": "2030-01-01"}),
               _f("sev", "fail", "high", rule="REL001", pillar="reliability", choice="rel_rel_q1_a1"),
               _f("newly", "fail"), _f("was-na", "fail"), _f("brand-new", "fail", "low"),
               _f("still-pass", "pass"))
    d = diff.diff(old, new, old_ref="1", new_ref="2")
    got = {k: sorted(i["fingerprint"] for i in v) for k, v in d["findings"].items()}
    assert got == {"new": ["brand-new", "newly", "was-na"], "resolved": ["fixed", "gone", "waived"],
                   "persisting": ["persist"], "changed_severity": ["sev"]}
    resolved = {i["fingerprint"]: i for i in d["findings"]["resolved"]}
    assert resolved["fixed"]["now"] == "pass" and resolved["gone"]["now"] == "absent"
    assert resolved["waived"]["now"] == "accepted" and resolved["waived"]["waiver"]["owner"] == "o"
    assert d["findings"]["changed_severity"][0]["old_severity"] == "medium"
    assert {i["fingerprint"]: i["was"] for i in d["findings"]["new"]} == {
        "brand-new": "absent", "newly": "pass", "was-na": "not_assessed"}
    assert d["summary"] == {"new": 3, "resolved": 3, "changed_severity": 1, "persisting": 1}
    # Grouped by pillar and best practice, in lens order (Reliability before Cost Optimization).
    assert [(r["pillar"], r["choice"]) for r in d["by_practice"]] == [
        ("reliability", "rel_rel_q1_a1"), ("costOptimization", "cost_cost_q1_a2")]
    assert d["by_practice"][1] == {"pillar": "costOptimization", "question": "cost_q1", "choice": "cost_cost_q1_a2",
                                   "new": 3, "resolved": 3, "changed_severity": 0, "persisting": 1}
    assert d["old_review"]["ref"] == "1" and d["new_review"]["ref"] == "2"


def test_renderers_group_by_pillar_and_practice_in_both_languages() -> None:
    d = diff.diff(_doc(_f("a", "fail"), _f("b", "fail")), _doc(_f("a", "fail"), _f("c", "fail", "low")),
                  old_ref="1", new_ref="2")
    text = render(d, "console", "en")
    assert "review 1 (2025-01-01) → review 2 (2025-01-01)" in text
    assert "1 new, 1 resolved, 0 changed severity, 1 persisting" in text
    assert "Cost Optimization" in text
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("NEW  Low  COST001  Resc") for line in lines), text
    assert any(line.startswith("RESOLVED  High  COST001  Resb") and "no longer reported" in line for line in lines)
    ja = render(d, "console", "ja")
    assert "前回のレビューからの変化" in ja and "新規 1 件" in ja and "コスト最適化" in ja
    md = render(d, "markdown", "en")
    assert md.startswith("# Since the last review") and "## Cost Optimization" in md
    assert "| NEW | Low | COST001 | Resc |" in md
    assert json.loads(render(d, "json"))["summary"]["new"] == 1
    same = diff.diff(_doc(_f("a", "fail")), _doc(_f("a", "fail")))
    assert "No change in failing findings." in render(same, "console")
    with pytest.raises(Exception, match="console, json, markdown or html"):
        render(d, "pdf")


def test_markdown_escapes_what_came_from_templates() -> None:
    evil = _f("x", "fail")
    evil["resource"]["id"] = "Evil|[link](http://x)"
    d = diff.diff(_doc(), _doc(evil))
    md = render(d, "markdown")
    assert "[link](http" not in md and "Evil\\|" in md


# ---------------------------------------------------------------------------------------------
# The "done means": two reviews of the bundled example, before and after a fix.


def walens(*args: str, home: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=cwd, timeout=180,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", "HOME": str(home),
             "XDG_DATA_HOME": str(home / "data")})


def _failing(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["resource"]["origin"]) for f in doc["findings"] if f["status"] == "fail"}


def test_orders_app_before_and_after_a_fix(tmp_path: Path) -> None:
    app = tmp_path / "orders-app"
    app.mkdir()
    template = app / "template.yaml"
    shutil.copy(EXAMPLE, template)
    first = walens("scan", "template", str(app), "--save", "--format", "json", "--fail-on", "never", home=tmp_path)
    assert first.returncode == 0, first.stderr
    before = json.loads(first.stdout)
    assert "since_last_review" not in before
    shutil.copy(AFTER, template)
    second = walens("scan", "template", str(app), "--save", "--format", "json", "--fail-on", "never", home=tmp_path)
    assert second.returncode == 0, second.stderr
    after = json.loads(second.stdout)
    assert after["workload"] == "orders-app" and after["history"]["id"] == "2"

    proc = walens("diff", "--format", "json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    pairs = {k: {(i["rule_id"], i["resource"]["origin"]) for i in v} for k, v in d["findings"].items()}
    resolved = {("COST001", "ShipmentNotifierFunction"), ("OPS001", "ProcessOrderFunction")}
    new = {("COST001", "NightlyReportFunction")}
    assert pairs["resolved"] == resolved
    assert pairs["new"] == new
    assert pairs["changed_severity"] == set()
    assert pairs["persisting"] == _failing(before) - resolved == _failing(after) - new
    since = after["since_last_review"]
    assert {k: since[k] for k in ("review", *d["summary"])} == {"review": "1", **d["summary"]}
    assert "(since review 1: 1 new, 2 resolved" in second.stderr

    # The same diff from the two JSON documents, and by explicit IDs; console and Markdown.
    (tmp_path / "a.json").write_text(first.stdout)
    (tmp_path / "b.json").write_text(second.stdout)
    from_files = json.loads(walens("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--format", "json",
                                   home=tmp_path).stdout)
    assert from_files["findings"] == d["findings"]
    console = walens("diff", "1", "2", home=tmp_path).stdout
    assert "orders-app: review 1" in console and "RESOLVED" in console and "NEW" in console
    md = walens("diff", "1", "--format", "markdown", "--lang", "ja", home=tmp_path).stdout
    assert md.startswith("# 前回のレビューからの変化") and "解消" in md


def test_diff_needs_two_reviews_and_a_workload(tmp_path: Path) -> None:
    proc = walens("diff", home=tmp_path)
    assert proc.returncode == 2 and "no review yet" in proc.stderr
    walens("scan", "template", str(EXAMPLE), "--save", "--fail-on", "never", home=tmp_path)
    proc = walens("diff", home=tmp_path)
    assert proc.returncode == 2 and "has 1 saved review(s); a diff needs two" in proc.stderr
    walens("scan", "template", str(EXAMPLE), "--save", "--workload", "second", "--fail-on", "never", home=tmp_path)
    proc = walens("diff", home=tmp_path)
    assert proc.returncode == 2 and "several workloads (orders-app, second)" in proc.stderr
    proc = walens("diff", "nope.json", "1", home=tmp_path)
    assert proc.returncode == 2 and "expected a number" in proc.stderr
