"""Accepted risks: the waivers file, its validation, matching, expiry, and how a scan reports them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from walens import waivers
from walens.engine import Finding
from walens.errors import UsageError
from walens.model import Location

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders-app"

VALID = """\
waivers:
  - rule: COST001
    resource: ShipmentNotifier*
    owner: platform-team
    reason: Logs kept for the audit until the archive bucket exists
    ticket: OPS-123
    expires: 2030-01-31
"""


def _write(tmp_path: Path, text: str, name: str = ".walens-waivers.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _finding(rule: str = "COST001", resource: str = "ShipmentNotifierFunction", *, origin: str | None = None,
             file: str = "app/template.yaml", status: str = "fail", choice: str = "cost_cost_q1_a2") -> Finding:
    return Finding(rule_id=rule, rule_name="lambda-log-retention-unset", pillar="costOptimization",
                   lens_question="cost_q1", lens_choice=choice, severity="high", status=status,
                   resource={"id": resource, "origin": origin or resource, "arn": None},
                   location=Location(file, 3), message="m", fingerprint=f"{rule}-{resource}-{file}")


@pytest.mark.parametrize(("text", "message"), [
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    reason: r\n", "waivers[0].expires: required"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    reason: r\n    expires: next year\n",
     "waivers[0].expires: 'next year' is not an ISO date"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    reason: r\n    expires: 2030-02-30\n",
     "waivers[0].expires: '2030-02-30' is not an ISO date"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    reason: r\n    expires: 2030-01-01\n", "waivers[0].owner: required"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    expires: 2030-01-01\n", "waivers[0].reason: required"),
    ("waivers:\n  - rule: COST001\n    owner: a\n    reason: r\n    expires: 2030-01-01\n", "waivers[0].resource: required"),
    ("waivers:\n  - resource: X\n    owner: a\n    reason: r\n    expires: 2030-01-01\n", "waivers[0]: give exactly one"),
    ("waivers:\n  - rule: COST001\n    choice: cost_cost_q1_a2\n    resource: X\n    owner: a\n    reason: r\n"
     "    expires: 2030-01-01\n", "waivers[0]: give exactly one"),
    ("waivers:\n  - choice: cost_cost_q1_a9\n    resource: X\n    owner: a\n    reason: r\n    expires: 2030-01-01\n",
     "waivers[0].choice: 'cost_cost_q1_a9' is not"),
    ("waivers:\n  - rule: cost 001\n    resource: X\n    owner: a\n    reason: r\n    expires: 2030-01-01\n",
     "waivers[0].rule: 'cost 001' is not a rule ID"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    reason: r\n    expires: 2030-01-01\n    until: x\n",
     "waivers[0].until: unknown key"),
    ("waivers:\n  - rule: COST001\n    resource: X\n    owner: ''\n    reason: r\n    expires: 2030-01-01\n",
     "waivers[0].owner: expected a non-empty string"),
    ("waiver: []\n", "unknown key 'waiver'"),
    ("waivers: {rule: COST001}\n", "waivers: expected a list"),
    ("waivers: [\n", "not valid YAML"),
])
def test_invalid_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        waivers.WaiverSet.load(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert caught.value.exit_code == 2


def test_an_empty_file_has_no_waivers(tmp_path: Path) -> None:
    assert waivers.WaiverSet.load(_write(tmp_path, "")).waivers == []
    assert waivers.WaiverSet.load(_write(tmp_path, "waivers: []\n")).waivers == []


def test_a_waiver_accepts_until_its_date_then_the_finding_fails_again(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    for today, status in ((date(2030, 1, 30), "accepted"), (date(2030, 1, 31), "accepted"),
                          (date(2030, 2, 1), "fail")):
        ws = waivers.WaiverSet.load(path, today=today)
        f = _finding()
        ws.apply([f])
        assert f.status == status, today
        doc = {"findings": [f.to_dict()]}
        ws.annotate(doc)
        out = doc["findings"][0]
        assert out["waiver"] == {"owner": "platform-team", "reason": "Logs kept for the audit until the archive bucket exists",
                                 "ticket": "OPS-123", "expires": "2030-01-31"}
        assert out.get("waiver_expired", False) is (status == "fail")
        if status == "accepted":
            assert "platform-team" in (f.reason or "") and "2030-01-31" in (f.reason or "")
            assert doc["waivers"]["expired"] == []
        else:
            assert [w["index"] for w in doc["waivers"]["expired"]] == [0]


def test_matching_rule_name_choice_resource_and_file_globs(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
waivers:
  - rule: lambda-log-retention-unset
    resource: "Nightly*"
    owner: a
    reason: by name
    expires: 2099-01-01
  - choice: rel_rel_q1_a1
    resource: "*"
    file: "svc/*.yaml"
    owner: b
    reason: by practice and file
    expires: 2099-01-01
  - rule: COST001
    resource: "arn:aws:lambda:*:function:legacy-*"
    owner: c
    reason: by ARN
    expires: 2099-01-01
  - rule: COST001
    resource: ApiGenerated
    owner: d
    reason: never used
    expires: 2099-01-01
""")
    ws = waivers.WaiverSet.load(path, today=date(2025, 1, 1))
    by_name = _finding(resource="NightlyReportFunction")
    other = _finding(resource="GetOrderFunction")
    in_file = _finding("REL001", "OrdersApiStage", origin="OrdersApi", choice="rel_rel_q1_a1",
                       file=str(tmp_path / "svc" / "template.yaml"))
    elsewhere = _finding("REL001", "OrdersApiStage", choice="rel_rel_q1_a1", file=str(tmp_path / "other.yaml"))
    by_arn = _finding(resource="Fn")
    by_arn.resource["arn"] = "arn:aws:lambda:eu-west-1:123456789012:function:legacy-report"
    passing = _finding(resource="NightlyReportFunction", status="pass")
    ws.apply([by_name, other, in_file, elsewhere, by_arn, passing])
    assert [f.status for f in (by_name, other, in_file, elsewhere, by_arn, passing)] == [
        "accepted", "fail", "accepted", "fail", "accepted", "pass"]
    doc: dict = {"findings": []}
    ws.annotate(doc, expiring_within=30)
    assert [w["owner"] for w in doc["waivers"]["unused"]] == ["d"]
    assert doc["waivers"]["expiring"] == []


def test_expiring_within_lists_only_active_waivers_due_soon(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID + """\
  - rule: REL001
    resource: "*"
    owner: b
    reason: soon
    expires: 2030-01-10
  - rule: REL003
    resource: "*"
    owner: c
    reason: already over
    expires: 2029-12-01
""")
    ws = waivers.WaiverSet.load(path, today=date(2030, 1, 1))
    assert [w.owner for w in ws.expiring(15)] == ["b"]
    assert [w.owner for w in ws.expiring(31)] == ["b", "platform-team"]
    doc: dict = {"findings": []}
    ws.annotate(doc, expiring_within=15)
    assert doc["waivers"]["expiring"][0]["days_left"] == 9


def test_the_file_is_found_walking_up_to_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "services" / "orders").mkdir(parents=True)
    assert waivers.find_file(repo / "services" / "orders") is None
    _write(repo, VALID)
    assert waivers.find_file(repo / "services" / "orders") == repo / ".walens-waivers.yml"
    # Above the repository root is never searched.
    _write(tmp_path, VALID)
    (repo / ".walens-waivers.yml").unlink()
    assert waivers.find_file(repo / "services") is None
    with pytest.raises(UsageError, match="no such file"):
        waivers.load_for_scan(str(tmp_path / "missing.yml"))


# ---------------------------------------------------------------------------------------------
# Through a scan of the bundled example


def walens(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=180, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"})


def test_scan_reports_accepted_expired_and_expiring_waivers(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
waivers:
  - rule: COST001
    resource: ShipmentNotifierFunction
    owner: platform-team
    reason: Logs kept for the audit until the archive bucket exists
    ticket: OPS-123
    expires: 2099-01-31
  - rule: REL003
    resource: ShipmentNotifier*
    owner: alice
    reason: Notifications can be re-sent by hand
    expires: 2020-06-30
""")
    proc = walens("scan", "template", str(EXAMPLE), "--waivers", str(path), "--format", "json", "--fail-on", "never",
                  "--waivers-expiring-within", "36500")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    by = {(f["rule_id"], f["resource"]["origin"]): f for f in doc["findings"]}
    accepted = by[("COST001", "ShipmentNotifierFunction")]
    assert accepted["status"] == "accepted" and accepted["waiver"]["ticket"] == "OPS-123"
    expired = by[("REL003", "ShipmentNotifierFunction")]
    assert expired["status"] == "fail" and expired["waiver_expired"] is True
    assert doc["summary"]["by_status"]["accepted"] == 1
    assert [w["owner"] for w in doc["waivers"]["expiring"]] == ["platform-team"]
    assert [w["owner"] for w in doc["waivers"]["expired"]] == ["alice"]
    # The lens still counts the accepted finding's practice as known, not as a risk found.
    [cost] = [e for e in doc["lens"] if e["choice"] == "cost_cost_q1_a2"]
    assert cost["results"].get("accepted") == 1

    console = walens("scan", "template", str(EXAMPLE), "--waivers", str(path), "--fail-on", "never",
                     "--waivers-expiring-within", "36500").stdout
    assert "Accepted risks (1)" in console and "Owner: platform-team" in console and "Expires: 2099-01-31" in console
    assert "Expired waivers (failing again) (1)" in console and "waiver expired on 2020-06-30" in console
    assert "Waivers expiring within 36,500 days (1)" in console
    md = walens("scan", "template", str(EXAMPLE), "--waivers", str(path), "--fail-on", "never", "--format", "markdown",
                "--lang", "ja").stdout
    assert "## 受容したリスク (1)" in md and "platform-team" in md and "OPS-123" in md
    html = walens("scan", "template", str(EXAMPLE), "--waivers", str(path), "--fail-on", "never", "--format", "html").stdout
    assert "Logs kept for the audit until the archive bucket exists (platform-team; OPS-123; → 2099-01-31)" in html


def test_a_waiver_file_is_discovered_and_a_bad_one_exits_2(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app").mkdir()
    (repo / "app" / "template.yaml").write_text((EXAMPLE / "template.yaml").read_text())
    _write(repo, VALID.replace("ShipmentNotifier*", "ShipmentNotifierFunction"))
    proc = walens("scan", "template", "app", "--format", "json", "--fail-on", "never", cwd=repo)
    doc = json.loads(proc.stdout)
    assert doc["waivers"]["file"].endswith(".walens-waivers.yml")
    assert any(f["status"] == "accepted" for f in doc["findings"])
    _write(repo, "waivers:\n  - rule: COST001\n    resource: X\n    owner: a\n    reason: r\n")
    proc = walens("scan", "template", "app", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(".walens-waivers.yml: waivers[0].expires: required (an ISO date, YYYY-MM-DD): "
                                        "every accepted risk ends")
    assert "Traceback" not in proc.stderr
