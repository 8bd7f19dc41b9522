"""``walens merge``: reviews made separately become the review one run over everything would have made."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from walens.errors import UsageError
from walens.merge import merge, merge_files
from walens.pipeline import scan_templates

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "rules"
A = str(FIXTURES / "COST001" / "fail.yaml")
B = str(FIXTURES / "OPS001" / "fail.yaml")
C = str(FIXTURES / "SEC003" / "pass.yaml")


def _key(f: dict[str, Any]) -> tuple[Any, ...]:
    return (f["rule_id"], f["resource"]["id"], (f["location"] or {}).get("file"), f["status"])


def test_merged_template_reviews_equal_one_review_of_everything() -> None:
    parts = [scan_templates([p]) for p in (A, B, C)]
    whole = scan_templates([A, B, C])
    merged = merge(parts)
    assert sorted(map(_key, merged["findings"])) == sorted(map(_key, whole["findings"]))
    assert [_key(f) for f in merged["findings"]] == [_key(f) for f in whole["findings"]]  # same order
    assert merged["summary"] == whole["summary"]
    assert merged["lens"] == whole["lens"]
    assert merged["scan"]["inputs"] == whole["scan"]["inputs"]
    assert merged["rules"] == whole["rules"]
    assert merged["merged"]["duplicate_findings"] == 0
    assert [r["findings"] for r in merged["merged"]["reviews"]] == [len(p["findings"]) for p in parts]


def test_the_same_review_twice_keeps_each_finding_once() -> None:
    one = scan_templates([A])
    later = copy.deepcopy(one)
    later["scan"]["finished_at"] = "2999-01-01T00:00:00+00:00"
    later["findings"][0]["message"] = "the later one"
    merged = merge([one, later])
    assert len(merged["findings"]) == len(one["findings"])
    assert merged["merged"]["duplicate_findings"] == len(one["findings"])
    assert "the later one" in {f["message"] for f in merged["findings"]}


def test_fail_on_is_recomputed() -> None:
    part = scan_templates([A], fail_on="never")
    assert part["summary"]["failed"] is False
    assert merge([part])["summary"]["failed"] is False
    assert merge([part], fail_on="high")["summary"]["failed"] is False  # COST001 is medium
    assert merge([part], fail_on="medium")["summary"]["failed"] is True
    strict = scan_templates([B], fail_on="low")
    assert merge([part, strict])["summary"]["fail_on"] == "low"


def _account_doc(account: str, gaps: list[dict[str, Any]], api_calls: dict[str, int]) -> dict[str, Any]:
    doc = scan_templates([A])
    doc["scan"].update({"source": "account", "inputs": None, "accounts": [account], "regions": ["us-east-1"],
                        "api_calls": api_calls, "services": ["lambda", "logs"]})
    for f in doc["findings"]:
        f["resource"]["account"] = account
        f["resource"]["id"] = f"arn:aws:lambda:us-east-1:{account}:function:{f['resource']['name']}"
        f["location"] = None
    doc["gaps"] = gaps
    return doc


def _gap(account: str, operation: str, count: int, rules: list[str]) -> dict[str, Any]:
    return {"account": account, "region": "us-east-1", "service": "lambda", "operation": operation,
            "action": f"lambda:{operation}", "error_code": "AccessDeniedException", "kind": "denied",
            "reason": f"lambda:{operation} denied in us-east-1", "count": count, "rules": rules}


def test_account_reviews_merge_accounts_gaps_and_call_counts() -> None:
    one = _account_doc("111111111111", [_gap("111111111111", "GetPolicy", 2, ["REL003"])], {"lambda": 5, "sts": 1})
    two = _account_doc("222222222222", [_gap("222222222222", "GetPolicy", 1, ["REL003"])], {"lambda": 7, "sts": 1})
    again = _account_doc("222222222222", [_gap("222222222222", "GetPolicy", 3, ["SEC004"])], {"lambda": 1})
    again["scan"]["finished_at"] = "2999-01-01T00:00:00+00:00"
    merged = merge([one, two, again])
    assert merged["scan"]["source"] == "account"
    assert merged["scan"]["accounts"] == ["111111111111", "222222222222"]
    assert merged["scan"]["api_calls"] == {"lambda": 13, "sts": 2}
    assert "throttled" not in merged["scan"]  # reviews written before walens counted throttling
    one["scan"].update({"throttled": {"lambda": 4}, "retries": {"lambda": 3}})
    two["scan"].update({"throttled": {"lambda": 1, "logs": 2}, "retries": {"lambda": 1, "logs": 2}})
    counted = merge([one, two, again])["scan"]
    assert (counted["throttled"], counted["retries"]) == ({"lambda": 5, "logs": 2}, {"lambda": 4, "logs": 2})
    assert merged["scan"]["inputs"] is None
    gaps = {(g["account"], g["operation"]): (g["count"], g["rules"]) for g in merged["gaps"]}
    assert gaps == {("111111111111", "GetPolicy"): (2, ["REL003"]),
                    ("222222222222", "GetPolicy"): (4, ["REL003", "SEC004"])}
    accounts = {f["resource"]["account"] for f in merged["findings"]}
    assert accounts == {"111111111111", "222222222222"}
    assert len(merged["findings"]) == 2 * len(one["findings"])
    by_status: dict[str, int] = {}
    for f in merged["findings"]:
        by_status[f["status"]] = by_status.get(f["status"], 0) + 1
    assert merged["summary"]["by_status"] == dict(sorted(by_status.items()))


def test_reviews_that_cannot_be_read_side_by_side_are_refused() -> None:
    template = scan_templates([A])
    account = _account_doc("111111111111", [], {})
    with pytest.raises(UsageError, match="different sources"):
        merge([template, account])
    ja = scan_templates([B], lang="ja")
    with pytest.raises(UsageError, match="different languages"):
        merge([template, ja])
    with pytest.raises(UsageError, match="at least one"):
        merge([])


def test_merge_files_refuses_what_is_not_a_review(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a walens review"):
        merge_files([bad])
    with pytest.raises(UsageError, match="cannot read"):
        merge_files([tmp_path / "missing.json"])


def test_merge_command_writes_one_review_and_exits_like_a_scan(tmp_path: Path) -> None:
    paths = []
    for i, p in enumerate((A, C)):
        out = tmp_path / f"r{i}.json"
        out.write_text(json.dumps(scan_templates([p])), encoding="utf-8")
        paths.append(str(out))
    merged = tmp_path / "merged.json"
    proc = subprocess.run([sys.executable, "-m", "walens", "merge", *paths, "--output", str(merged),
                           "--fail-on", "medium"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1, proc.stderr  # COST001 fails at medium severity
    doc = json.loads(merged.read_text(encoding="utf-8"))
    assert [i["path"] for i in doc["scan"]["inputs"]] == [A, C]
    proc = subprocess.run([sys.executable, "-m", "walens", "merge", *paths, "--format", "markdown",
                           "--fail-on", "never"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "COST001" in proc.stdout
