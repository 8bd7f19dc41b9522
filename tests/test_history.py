"""The review history: SQLite store, schema migrations, the S3 backend (moto), and the CLI commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from walens import history
from walens.errors import UsageError

REPO = Path(__file__).resolve().parents[1]


def _doc(findings: list[tuple[str, str, str]], finished: str = "2025-01-01T00:00:00+00:00") -> dict:
    """A small review document: (fingerprint, status, severity) per finding."""
    return {
        "schema_version": "1", "tool": {"name": "walens", "version": "0.1.0"}, "lang": "en",
        "scan": {"source": "template", "inputs": [{"path": "t.yaml", "sha256": "x"}], "finished_at": finished},
        "findings": [{"rule_id": f"R{i:03d}", "pillar": "security", "lens": {"choice": "sec_sec_q1_a1"},
                      "severity": sev, "status": status, "resource": {"id": f"Res{i}"},
                      "location": {"file": "t.yaml", "line": i}, "fingerprint": fp}
                     for i, (fp, status, sev) in enumerate(findings)],
        "summary": {},
    }


def test_default_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert history.default_path() == tmp_path / "data" / "walens" / "history.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert history.default_path() == tmp_path / "home" / ".local" / "share" / "walens" / "history.sqlite"
    # A relative XDG_DATA_HOME is invalid per the spec and ignored.
    monkeypatch.setenv("XDG_DATA_HOME", "relative")
    assert history.default_path() == tmp_path / "home" / ".local" / "share" / "walens" / "history.sqlite"


def test_default_workload_is_the_folder_of_the_first_path(tmp_path: Path) -> None:
    app = tmp_path / "orders-app"
    app.mkdir()
    (app / "template.yaml").write_text("Resources: {}\n")
    assert history.default_workload([str(app)]) == "orders-app"
    assert history.default_workload([str(app / "template.yaml"), "other"]) == "orders-app"
    with pytest.raises(UsageError):
        history.check_workload("  ")
    with pytest.raises(UsageError):
        history.check_workload("bad\x1bname")


def test_save_list_get_one_row_per_review_and_finding(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    store = history.open_history(db)
    first = store.save(_doc([("a", "fail", "high"), ("b", "pass", "low"), ("c", "accepted", "medium")]), "shop")
    second = store.save(_doc([("a", "fail", "high"), ("d", "fail", "low")], "2025-02-01T00:00:00+00:00"), "shop")
    store.save(_doc([]), "other")
    assert [i.id for i in store.list("shop")] == [first.id, second.id]
    assert first.failing == 1 and first.by_severity == {"high": 1} and first.accepted == 1
    assert second.by_severity == {"high": 1, "low": 1}
    assert store.workloads() == ["other", "shop"]
    assert len(store.list()) == 3
    assert store.get(second.id)["findings"][1]["fingerprint"] == "d"
    assert [i.id for i in history.latest(store, "shop")] == [first.id, second.id]
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM reviews").fetchone() == (3,)
    assert conn.execute("SELECT count(*) FROM findings").fetchone() == (5,)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(history.SCHEMA_VERSION,)]
    with pytest.raises(UsageError, match="no review"):
        history.open_history(db).get("99")
    with pytest.raises(UsageError, match="expected a number"):
        history.open_history(db).get("abc")


def test_answers_are_kept_per_workload_and_replaced_when_changed(tmp_path: Path) -> None:
    store = history.open_history(tmp_path / "h.sqlite")
    a = {"answer": "met", "notes": "runbooks in the wiki", "by": "alice", "at": "2025-01-01T00:00:00+00:00"}
    store.save_answers("shop", {"ops_ops_q1_a1": a, "sec_sec_q1_a1": {**a, "answer": "not_met"}})
    store.save_answers("shop", {"ops_ops_q1_a1": {**a, "answer": "not_applicable", "by": "bob"}})
    store.save_answers("other", {"ops_ops_q1_a1": a})
    got = store.answers("shop")
    assert got["ops_ops_q1_a1"]["answer"] == "not_applicable" and got["ops_ops_q1_a1"]["by"] == "bob"
    assert got["sec_sec_q1_a1"]["answer"] == "not_met"
    assert store.answers("nobody") == {}


def _v1_database(path: Path) -> None:
    """A database exactly as walens wrote it at schema version 1 (built by the v1 migration alone)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    history.MIGRATIONS[0](conn)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    doc = _doc([("a", "fail", "high"), ("b", "fail", "low"), ("c", "pass", "low")])
    conn.execute("INSERT INTO reviews (workload, saved_at, finished_at, tool_version, source, inputs, document)"
                 " VALUES ('shop', '2024-12-01T00:00:00+00:00', '2024-12-01T00:00:00+00:00', '0.1.0', 'template', 1, ?)",
                 (json.dumps(doc),))
    conn.executemany("INSERT INTO findings (review_id, fingerprint, rule_id, severity, status) VALUES (1, ?, ?, ?, ?)",
                     [("a", "R000", "high", "fail"), ("b", "R001", "low", "fail"), ("c", "R002", "low", "pass")])
    conn.close()


def test_a_v1_database_opens_with_the_current_code(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite"
    _v1_database(db)
    conn = sqlite3.connect(db)
    assert history.schema_version(conn) == 1
    conn.close()
    store = history.open_history(db)
    # Migrated: answers table exists, the failing count was backfilled, old reviews read as before.
    [old] = store.list("shop")
    assert old.failing == 2 and old.by_severity == {"high": 1, "low": 1}
    assert store.get(old.id)["findings"][0]["fingerprint"] == "a"
    store.save_answers("shop", {"ops_ops_q1_a1": {"answer": "met", "notes": "", "by": "a", "at": "2025-01-01"}})
    assert store.answers("shop")["ops_ops_q1_a1"]["answer"] == "met"
    new = store.save(_doc([("a", "fail", "high")]), "shop")
    assert int(new.id) == 2
    store.close()
    assert history.schema_version(sqlite3.connect(db)) == history.SCHEMA_VERSION


def test_a_newer_database_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "future.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (?)", (history.SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(history.HistoryError, match="newer than this walens"):
        history.open_history(db)


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "junk.sqlite"
    db.write_text("not a database " * 100)
    with pytest.raises(history.HistoryError, match="cannot open the history"):
        history.open_history(db)


def test_s3_backend_with_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        boto3.client("s3").create_bucket(Bucket="team-reviews")
        store = history.open_history("s3://team-reviews/walens/history")
        assert isinstance(store, history.S3History)
        first = store.save(_doc([("a", "fail", "high"), ("c", "accepted", "low")]), "shop app")
        second = store.save(_doc([("b", "fail", "low")]), "shop app")
        store.save(_doc([]), "other")
        assert [i.id for i in store.list("shop app")] == [first.id, second.id]
        assert store.list("shop app")[0].by_severity == {"high": 1} and store.list("shop app")[0].accepted == 1
        assert store.workloads() == ["other", "shop app"]
        assert store.get(second.id)["findings"][0]["fingerprint"] == "b"
        assert store.info(first.id).failing == 1
        store.save_answers("shop app", {"ops_ops_q1_a1": {"answer": "met", "notes": "", "by": "a", "at": "x"}})
        store.save_answers("shop app", {"sec_sec_q1_a1": {"answer": "not_met", "notes": "", "by": "b", "at": "y"}})
        assert set(store.answers("shop app")) == {"ops_ops_q1_a1", "sec_sec_q1_a1"}
        assert store.answers("other") == {}
        with pytest.raises(UsageError, match="no review"):
            store.get("nope")
        missing = history.open_history("s3://no-such-bucket/x")
        with pytest.raises(history.HistoryError, match="NoSuchBucket"):
            missing.save(_doc([]), "shop")


# ---------------------------------------------------------------------------------------------
# The CLI


def walens(*args: str, data_home: Path, stdin: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walens", *args], capture_output=True, text=True, input=stdin, cwd=cwd, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", "HOME": str(data_home),
             "XDG_DATA_HOME": str(data_home / "xdg")})


def test_scan_save_list_show(tmp_path: Path) -> None:
    before = str(REPO / "examples" / "orders-app")
    proc = walens("scan", "template", before, "--save", "--fail-on", "never", data_home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "saved as review 1 of workload 'orders-app'" in proc.stderr
    db = tmp_path / "xdg" / "walens" / "history.sqlite"
    assert db.is_file()
    proc = walens("scan", "template", before, "--save", "--workload", "orders", "--format", "json",
                  "--fail-on", "never", data_home=tmp_path)
    doc = json.loads(proc.stdout)
    assert doc["history"] == {"id": "2", "workload": "orders", "location": str(db)}
    listed = walens("history", "list", "--format", "json", data_home=tmp_path)
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["workload"]) for r in rows] == [("1", "orders-app"), ("2", "orders")]
    text = walens("history", "list", "--workload", "orders", data_home=tmp_path).stdout
    assert "orders" in text and "orders-app" not in text
    shown = walens("history", "show", "2", "--format", "json", data_home=tmp_path)
    assert json.loads(shown.stdout)["findings"] == doc["findings"]
    md = walens("history", "show", "2", "--format", "markdown", "--lang", "ja", data_home=tmp_path)
    assert md.returncode == 0 and md.stdout.startswith("# ")
    missing = walens("history", "show", "7", data_home=tmp_path)
    assert missing.returncode == 2 and "no review '7'" in missing.stderr


def test_history_option_moves_the_file_and_a_plain_scan_touches_nothing(tmp_path: Path) -> None:
    before = str(REPO / "examples" / "orders-app")
    walens("scan", "template", before, "--fail-on", "never", data_home=tmp_path)
    assert not (tmp_path / "xdg").exists()
    custom = tmp_path / "repo" / ".walens" / "history.sqlite"
    proc = walens("scan", "template", before, "--save", "--history", str(custom), "--fail-on", "never",
                  data_home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert custom.is_file() and not (tmp_path / "xdg").exists()
    assert "orders-app" in walens("history", "list", "--history", str(custom), data_home=tmp_path).stdout
