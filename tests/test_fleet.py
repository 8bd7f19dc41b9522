"""walens fleet: partitions (account × region) scanned through the read-only role, retried, merged, diffed.

moto's multi-account STS: credentials from AssumeRole into ``arn:aws:iam::<ID>:role/...`` act in <ID>, so
each member account is seeded through its own role with a different defect in each region.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3
from test_account_multi import ROLE, _function, _member_session, assume_calls
from test_account_scan import ACCOUNT, OTHER, REGION, aws

M1, M2, BAD = "111111111111", "222222222222", "333333333333"


def _session(account: str, region: str) -> Any:
    if account == ACCOUNT:
        return boto3.Session(region_name=region)
    s = _member_session(account)
    creds = s.get_credentials()
    return boto3.Session(aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                         aws_session_token=creds.token, region_name=region)


def seed() -> None:
    # OPS001 (X-Ray tracing): PassThrough fails, Active passes.
    _function(_session(ACCOUNT, REGION), "home-fn")
    _function(_session(M1, REGION), "m1-east", TracingConfig={"Mode": "Active"})
    _function(_session(M1, OTHER), "m1-west", TracingConfig={"Mode": "Active"})
    _function(_session(M2, REGION), "m2-east", TracingConfig={"Mode": "Active"})
    _function(_session(M2, OTHER), "m2-west")


def options(**kw: Any) -> Any:
    from walens.fleet.worker import ScanOptions

    kw.setdefault("role_name", ROLE)
    kw.setdefault("select", ["OPS001"])
    kw.setdefault("services", ["lambda"])
    kw.setdefault("fail_on", "never")
    kw.setdefault("logs_insights", False)
    return ScanOptions(**kw)


def run_fleet(opts: Any, accounts: list[str], tmp: Any, run: str, scan: Any = None) -> Any:
    from walens.fleet import merge, plan, runner, worker
    from walens.fleet.store import LocalStore

    sleeps: list[float] = []
    parts = plan.partitions(accounts, [REGION, OTHER])
    caller = boto3.Session(region_name=REGION)
    scan = scan or (lambda p: worker.scan_partition(p, opts, session=caller))
    results = runner.run(parts, scan, opts, jobs=2, per_account=1, retries=2, backoff=0.5, sleep=sleeps.append)
    written = merge.finish(LocalStore(tmp), run, results)
    written.review["_sleeps"] = sleeps
    return written


def _by_partition(doc: dict[str, Any]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    out: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for f in doc["findings"]:
        r = f["resource"]
        out.setdefault((r["account"], r["region"]), set()).add((r["name"], f["status"]))
    return out


def test_each_partition_is_reviewed_in_its_account_and_region_and_a_refused_one_is_not_assessed(
        aws: None, tmp_path: Any) -> None:
    seed()
    seen: list[dict[str, Any]] = []
    opts = options(hooks=[assume_calls(seen, refuse={BAD})])
    doc = run_fleet(opts, [ACCOUNT, M1, M2, BAD], tmp_path, "r1").review
    assert _by_partition(doc) == {
        (ACCOUNT, REGION): {("home-fn", "fail")},
        (M1, REGION): {("m1-east", "pass")}, (M1, OTHER): {("m1-west", "pass")},
        (M2, REGION): {("m2-east", "pass")}, (M2, OTHER): {("m2-west", "fail")},
    }
    fleet = doc["fleet"]
    status = {(p["account"], p["region"]): (p["status"], p["attempts"]) for p in fleet["partitions"]}
    assert status[(BAD, REGION)] == ("not_assessed", 3) and status[(BAD, OTHER)] == ("not_assessed", 3)
    assert {v for k, v in status.items() if k[0] != BAD} == {("assessed", 1)}
    assert fleet["coverage"] == {"assessed": 6, "not_assessed": 2, "planned": 8}
    assert doc["summary"]["not_assessed_partitions"] == 2
    gaps = [g for g in doc["gaps"] if g["kind"] == "not_assessed"]
    assert {(g["account"], g["region"]) for g in gaps} == {(BAD, REGION), (BAD, OTHER)}
    assert all("AccessDenied" == g["error_code"] and "OPS001" in g["rules"] for g in gaps)
    # backoff between attempts: two waits for each refused partition, none for the others
    assert len(doc["_sleeps"]) == 4 and all(0 <= s <= 1.0 for s in doc["_sleeps"])
    accounts = {row["account"]: row for row in fleet["accounts"]}
    assert accounts[M2]["score"] == 50 and accounts[M1]["score"] == 100 and accounts[BAD]["score"] is None
    assert accounts[BAD]["regions_not_assessed"] == [REGION, OTHER]
    regions = {row["region"]: row for row in fleet["regions"]}
    assert regions[OTHER]["by_status"] == {"fail": 1, "pass": 1} and regions[OTHER]["accounts_assessed"] == 3
    worst = fleet["worst_practices"]
    assert len(worst) == 1 and worst[0]["accounts"] == [ACCOUNT, M2] and worst[0]["failing"] == 2
    assert sorted(doc["scan"]["accounts"]) == sorted([ACCOUNT, M1, M2, BAD])


def test_second_run_diffs_against_the_first_and_extends_the_trend(aws: None, tmp_path: Any) -> None:
    seed()
    opts = options()
    first = run_fleet(opts, [ACCOUNT, M1, M2], tmp_path, "r1").review
    assert "since_last_run" not in first["fleet"]
    _session(M2, OTHER).client("lambda").delete_function(FunctionName="m2-west")  # the defect is gone
    written = run_fleet(opts, [ACCOUNT, M1, M2], tmp_path, "r2")
    since = written.review["fleet"]["since_last_run"]
    assert (since["new"], since["resolved"], since["persisting"]) == (0, 1, 1)
    assert [f["resource"]["arn"].split(":")[-1] for f in since["findings"]["resolved"]] == ["m2-west"]
    assert [p["run"] for p in written.review["fleet"]["trend"]] == ["r1", "r2"]
    assert [p["failing"] for p in written.review["fleet"]["trend"]] == [2, 1]
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest == {"run": "r2", "key": "runs/r2/fleet.json"}
    md = (tmp_path / "runs/r2/fleet.md").read_text()
    assert md.startswith("# Serverless Lens fleet review") and "Since run r1: 0 new, 1 resolved" in md
    # accounts worst first: the one failing (score 0), then the others by ID
    rows = [line.split(" | ")[0].strip("| ") for line in md.split("### Accounts (3)")[1].split("### Regions")[0]
            .splitlines() if line.startswith("| 1") or line.startswith("| 2")]
    assert rows == [ACCOUNT, M1, M2]
    assert "| 222222222222 | 2/2 | – | 1 | 0 | 0 | 0 | 100 |" in md
    assert "### New risks" not in md and "m2-west" in md.split("### Resolved")[1]  # the standard since section
    page = (tmp_path / "runs/r2/fleet.html").read_text()
    fleet = page.split('<section id="fleet" class="major fleet">')[1].split("</section>")[0]
    assert '<a href="#fleet">Fleet</a>' in page and "<h1>Serverless Lens fleet review</h1>" in page
    assert re.findall(r'<tr><th scope="row" class="mono">(\d+)</th>', fleet.split('id="fleet-regions"')[0]) == [
        ACCOUNT, M1, M2]
    assert 'id="since-resolved"' in page and "m2-west" in page.split('id="since-resolved"')[1].split("</table>")[0]
    assert page.count('class="trend-chart') == 1 or 'class="chart trend-chart"' in page
    from walens.fleet import report

    ja = report.render(written.review, "html", "ja")
    section = ja.split('<section id="fleet" class="major fleet">')[1].split("</section>")[0]
    assert "フリートレビュー r2" in section and "アカウント別 (3)" in section and "推移" in section
    assert not re.search(r"Accounts|Regions assessed|Worst best practices|Trend|Score", section), section
    from walens.fleet import merge

    text = merge.summary_text(written.review, "s3://bucket/runs/r2/fleet.html", "ja")
    assert "前回の実行からの変化: 新規 0 件、解消 1 件、未確認 0 件" in text and "レポート: s3://bucket/" in text
    assert merge.subject(written.review, "ja") == "walens フリート r2: 新規 0 件、解消 1 件、未評価 0"
    assert merge.subject(written.review) == "walens fleet r2: 0 new, 1 resolved, 0 not assessed"


def test_a_partition_not_assessed_this_run_hides_nothing_as_resolved(aws: None, tmp_path: Any) -> None:
    seed()
    run_fleet(options(), [ACCOUNT, M2], tmp_path, "r1")
    second = run_fleet(options(hooks=[assume_calls([], refuse={M2})]), [ACCOUNT, M2], tmp_path, "r2").review
    since = second["fleet"]["since_last_run"]
    # m2-west failed in r1; in r2 its account could not be entered: unseen, not resolved
    assert (since["new"], since["resolved"], since["unseen"], since["persisting"]) == (0, 0, 1, 1)
    assert ("1 earlier risk was not seen this run because its partition was not assessed"
            in (tmp_path / "runs/r2/fleet.md").read_text())


def test_a_throttled_partition_is_retried_then_kept_as_partial(aws: None, tmp_path: Any) -> None:
    from walens.fleet import worker
    from walens.fleet.plan import Partition

    seed()
    opts = options()
    caller = boto3.Session(region_name=REGION)
    calls: dict[str, int] = {}

    def flaky(p: Partition) -> dict[str, Any]:
        """M1/us-east-1 is throttled on its first attempt; M2/eu-west-1 on every attempt."""
        doc = worker.scan_partition(p, opts, session=caller)
        calls[p.key] = calls.get(p.key, 0) + 1
        if (p.key == f"{M1}/{REGION}" and calls[p.key] == 1) or p.key == f"{M2}/{OTHER}":
            gap = {"account": p.account, "region": p.region, "service": "lambda", "operation": "ListFunctions",
                   "action": "lambda:ListFunctions", "error_code": "ThrottlingException", "kind": "throttled",
                   "reason": "still throttled after retries", "count": 1, "rules": ["OPS001"]}
            return worker.classify(p, {**doc, "gaps": [gap]})
        return doc

    doc = run_fleet(opts, [M1, M2], tmp_path, "r1", scan=flaky).review
    status = {(p["account"], p["region"]): (p["status"], p["attempts"]) for p in doc["fleet"]["partitions"]}
    assert status[(M1, REGION)] == ("assessed", 2)
    assert status[(M2, OTHER)] == ("partial", 3)
    assert status[(M1, OTHER)] == ("assessed", 1)
    partial = next(p for p in doc["fleet"]["partitions"] if p["status"] == "partial")
    assert "lambda:ListFunctions" in partial["error"]
    assert any(g["kind"] == "throttled" and g["account"] == M2 for g in doc["gaps"])
    assert doc["fleet"]["coverage"] == {"assessed": 3, "partial": 1, "planned": 4}


def test_a_partition_with_no_stored_result_is_reported_not_assessed(tmp_path: Any) -> None:
    from walens.fleet import merge, store
    from walens.fleet.plan import Partition

    s = store.LocalStore(tmp_path)
    parts = [Partition(M1, REGION), Partition(M2, REGION)]
    store.save_plan(s, "r1", parts)
    results = merge.load_results(s, "r1", store.load_plan(s, "r1"), options())
    assert [r.outcome["status"] for r in results] == ["not_assessed", "not_assessed"]
    doc = merge.finish(s, "r1", results).review
    assert doc["fleet"]["coverage"] == {"not_assessed": 2, "planned": 2}
    assert {g["account"] for g in doc["gaps"]} == {M1, M2}
    assert doc["fleet"]["score"] is None


def test_cli_fleet_run_with_a_per_account_waiver(aws: None, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from walens.cli import app

    seed()
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(f"waivers:\n  - rule: OPS001\n    resource: '*'\n    account: '{M2}'\n    owner: ops\n"
                       "    reason: tracing costs more than it tells here\n    expires: 2099-01-01\n")
    out = tmp_path / "fleet"
    result = CliRunner().invoke(app, ["fleet", "run", "-o", str(out), "--accounts", f"{ACCOUNT},{M2}",
                                      "--role-name", ROLE, "--region", f"{REGION},{OTHER}", "--select", "OPS001",
                                      "--services", "lambda", "--no-logs-insights", "--waivers", str(waivers),
                                      "--fail-on", "high", "--backoff", "0"])
    latest = json.loads((out / "latest.json").read_text())
    doc = json.loads((out / latest["key"]).read_text())
    assert _by_partition(doc) == {(ACCOUNT, REGION): {("home-fn", "fail")}, (M2, REGION): {("m2-east", "pass")},
                                  (M2, OTHER): {("m2-west", "accepted")}}
    assert doc["waivers"]["unused"] == []
    assert "4/4 partitions assessed" in result.output
    assert result.exit_code == (1 if doc["summary"]["failed"] else 0)
    assert (out / latest["key"]).with_name("fleet.md").is_file()
    assert len(list((out / "runs" / latest["run"] / "partitions").iterdir())) == 4
    bad = CliRunner().invoke(app, ["fleet", "run", "-o", str(out), "--accounts", M2, "--region", REGION])
    assert "--role-name" in str(bad.exception)


def test_a_waiver_account_glob_limits_it_to_those_accounts() -> None:
    from datetime import date

    from walens.errors import UsageError
    from walens.waivers import WaiverSet, parse

    items = [{"rule": "OPS001", "resource": "*", "account": "2222*", "owner": "o", "reason": "r", "expires": "2099-01-01"},
             {"rule": "OPS002", "resource": "*", "owner": "o", "reason": "r", "expires": "2099-01-01"}]
    ws = WaiverSet("w.yml", parse({"waivers": items}, "w.yml"), today=date(2026, 1, 1))
    assert ws.match("OPS001", "x", "c", {"id": "f", "account": M2}, None) is not None
    assert ws.match("OPS001", "x", "c", {"id": "f", "account": M1}, None) is None
    assert ws.match("OPS002", "x", "c", {"id": "f", "account": M1}, None) is not None  # fleet-wide
    with pytest.raises(UsageError, match="account"):
        parse({"waivers": [{**items[0], "account": "prod"}]}, "w.yml")


def test_cli_fleet_run_over_profiles_reviews_each_profiles_account(aws: None, tmp_path: Any) -> None:
    """--profiles: no role is named; each profile acts in its own account (here: assume-role profiles)."""
    from typer.testing import CliRunner

    from walens.cli import app

    seed()
    (tmp_path / "no-config").write_text(
        "[profile home]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        + "".join(f"[profile p{a[0]}]\nrole_arn = arn:aws:iam::{a}:role/{ROLE}\ncredential_source = Environment\n"
                  for a in (M1, M2)))
    out = tmp_path / "fleet"
    result = CliRunner().invoke(app, ["fleet", "run", "-o", str(out), "--profiles", "home,p1,p2,p1",
                                      "--region", REGION, "--select", "OPS001", "--services", "lambda",
                                      "--no-logs-insights", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    latest = json.loads((out / "latest.json").read_text())
    doc = json.loads((out / latest["key"]).read_text())
    assert _by_partition(doc) == {(ACCOUNT, REGION): {("home-fn", "fail")}, (M1, REGION): {("m1-east", "pass")},
                                  (M2, REGION): {("m2-east", "pass")}}
    assert [(p["account"], p.get("profile")) for p in doc["fleet"]["partitions"]] == [
        (ACCOUNT, "home"), (M1, "p1"), (M2, "p2")]


def test_the_runner_interleaves_accounts_and_keeps_the_per_account_limit() -> None:
    """Two jobs, one partition per account at once: the first two partitions run together only if they are
    of different accounts (each waits at the barrier for the other); no account ever has two at once."""
    import threading

    from walens.fleet import runner
    from walens.fleet.plan import partitions

    barrier = threading.Barrier(2, timeout=10)
    lock = threading.Lock()
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    first: list[str] = []

    def scan(p: Any) -> dict[str, Any]:
        with lock:
            running[p.account] = running.get(p.account, 0) + 1
            peak[p.account] = max(peak.get(p.account, 0), running[p.account])
            first.append(p.key)
            wait = len(first) <= 2
        if wait:
            barrier.wait()
        with lock:
            running[p.account] -= 1
        return {"findings": [], "summary": {}, "gaps": []}

    parts = partitions([M1, M2], [REGION, OTHER])
    results = runner.run(parts, scan, options(), jobs=2, per_account=1, retries=0)
    assert [r.partition for r in results] == parts  # plan order
    assert {k.split("/")[0] for k in first[:2]} == {M1, M2}
    assert peak == {M1: 1, M2: 1}


def test_cli_fleet_run_over_the_organization(aws: None, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from walens.cli import app

    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    created = [org.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["AccountId"]
               for n in ("alpha", "beta")]
    out = tmp_path / "fleet"
    result = CliRunner().invoke(app, ["fleet", "run", "-o", str(out), "--organization", "--role-name", ROLE,
                                      "--region", REGION, "--select", "OPS001", "--services", "lambda",
                                      "--no-logs-insights", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    latest = json.loads((out / "latest.json").read_text())
    plan = json.loads((out / "runs" / latest["run"] / "plan.json").read_text())
    assert plan == [{"account": a, "region": REGION} for a in sorted([ACCOUNT, *created])]
    assert "3/3 partitions assessed" in result.output


def test_a_run_that_stops_on_an_error_keeps_the_partitions_it_finished(tmp_path: Any) -> None:
    """Each result is stored as its partition finishes (as the Step Functions scan task does): a bug or Ctrl-C
    in partition 3 of 4 leaves the first two on disk, and nothing for the failing one or one never started."""
    from walens.fleet import merge, runner
    from walens.fleet.plan import partitions
    from walens.fleet.store import LocalStore, partition_key

    store = LocalStore(tmp_path)
    parts = partitions([M1, M2], [REGION, OTHER])
    order: list[str] = []

    def scan(p: Any) -> dict[str, Any]:
        order.append(p.key)
        if len(order) == 3:
            raise RuntimeError("a bug in walens")
        return {"findings": [], "summary": {}, "gaps": []}

    with pytest.raises(RuntimeError, match="a bug in walens"):
        runner.run(parts, scan, options(), jobs=1, per_account=1, retries=0,
                   on_result=lambda r: merge.save_result(store, "r1", r))
    stored = [p.key for p in parts if store.get(partition_key("r1", p)) is not None]
    # the two before the bug are kept; the failing one is not stored; one already started may finish
    assert set(order[:2]) <= set(stored) and order[2] not in stored
    assert sorted(stored) == sorted(k for k in order if k != order[2])
