"""The review history: every saved review of a workload, and the answers people gave for it.

SQLite by default (``$XDG_DATA_HOME/walens/history.sqlite``, else ``~/.local/share/walens/...``;
``--history PATH`` moves it), one row per review (the whole review document kept as JSON, so any
reporter re-renders it) and one row per finding (so counts and diffs need no JSON parsing).
``--history s3://bucket/prefix`` keeps the same things as JSON objects in S3 for a team.

The SQLite schema is versioned: ``schema_version`` holds the version and ``MIGRATIONS`` the ordered
functions that bring a database from one version to the next, each in its own transaction.
Nothing here runs unless a command asks for the history: a plain scan never creates the file.
"""

from __future__ import annotations

import builtins  # a History has a method named list: annotations after it name the builtin this way
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from walens.errors import UsageError, WalensError, need_extra

if TYPE_CHECKING:
    import sqlite3

HISTORY_FILE = "history.sqlite"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HistoryError(WalensError):
    """The history cannot be opened, read or written (a user-facing problem, exit 2)."""


def default_path() -> Path:
    """``$XDG_DATA_HOME/walens/history.sqlite``, or ``~/.local/share/walens/history.sqlite``."""
    base = os.environ.get("XDG_DATA_HOME")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "walens" / HISTORY_FILE


def check_workload(name: str) -> str:
    """A workload name as the history stores it: trimmed, non-empty, printable, at most 200 characters."""
    value = (name or "").strip()
    if not value or len(value) > 200 or _CONTROL.search(value):
        raise UsageError(f"workload name {name!r}: expected 1-200 printable characters")
    return value


def default_workload(paths: list[str] | tuple[str, ...]) -> str:
    """The folder name of the first path: ``examples/orders-app`` and ``examples/orders-app/t.yaml`` → orders-app."""
    first = next((p for p in paths if p and p != "-"), None)
    target = Path(first).resolve() if first else Path.cwd()
    if not target.is_dir():
        target = target.parent
    return target.name or "default"


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    """One saved review as ``history list`` shows it."""

    id: str
    workload: str
    saved_at: str
    finished_at: str
    tool_version: str
    source: str
    inputs: int
    failing: int
    by_severity: dict[str, int] = field(default_factory=dict)
    accepted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class History(Protocol):
    """What every backend offers (SQLite and S3)."""

    location: str

    def save(self, doc: Mapping[str, Any], workload: str) -> ReviewInfo: ...
    def list(self, workload: str | None = None) -> list[ReviewInfo]: ...
    def get(self, review_id: str) -> dict[str, Any]: ...
    def info(self, review_id: str) -> ReviewInfo: ...
    def workloads(self) -> builtins.list[str]: ...
    def answers(self, workload: str) -> dict[str, dict[str, Any]]: ...
    def save_answers(self, workload: str, answers: Mapping[str, Mapping[str, Any]]) -> None: ...
    def close(self) -> None: ...


def open_history(location: str | os.PathLike[str] | None = None) -> History:
    """The history at ``location``: an ``s3://bucket/prefix`` URL, a file path, or the default file."""
    text = str(location) if location is not None else ""
    if text.startswith("s3://"):
        return S3History.from_url(text)
    return SqliteHistory(Path(text).expanduser() if text else default_path())


def _finding_rows(doc: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for f in doc.get("findings") or []:
        resource = f.get("resource") or {}
        location = f.get("location") or {}
        rows.append((str(f.get("fingerprint") or ""), str(f.get("rule_id") or ""), f.get("pillar"),
                     (f.get("lens") or {}).get("choice"), f.get("severity"), str(f.get("status") or ""),
                     resource.get("id") or resource.get("arn"), location.get("file"), location.get("line")))
    return rows


def _counts(doc: Mapping[str, Any]) -> tuple[int, dict[str, int], int]:
    failing = [f for f in doc.get("findings") or [] if f.get("status") == "fail"]
    by_sev: dict[str, int] = {}
    for f in failing:
        by_sev[str(f.get("severity"))] = by_sev.get(str(f.get("severity")), 0) + 1
    accepted = sum(1 for f in doc.get("findings") or [] if f.get("status") == "accepted")
    return len(failing), by_sev, accepted


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# SQLite


def _migrate_1(conn: sqlite3.Connection) -> None:
    """Reviews (the whole document) and their findings."""
    conn.execute(
        "CREATE TABLE reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, workload TEXT NOT NULL, saved_at TEXT NOT NULL,"
        " finished_at TEXT, tool_version TEXT, source TEXT, inputs INTEGER NOT NULL DEFAULT 0, document TEXT NOT NULL)")
    conn.execute("CREATE INDEX reviews_by_workload ON reviews (workload, id)")
    conn.execute(
        "CREATE TABLE findings (review_id INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,"
        " fingerprint TEXT NOT NULL, rule_id TEXT NOT NULL, pillar TEXT, choice TEXT, severity TEXT,"
        " status TEXT NOT NULL, resource_id TEXT, file TEXT, line INTEGER)")
    conn.execute("CREATE INDEX findings_by_review ON findings (review_id)")
    conn.execute("CREATE INDEX findings_by_fingerprint ON findings (fingerprint)")


def _migrate_2(conn: sqlite3.Connection) -> None:
    """Manual answers per workload; a failing count on each review for a cheap ``history list``."""
    conn.execute(
        "CREATE TABLE answers (workload TEXT NOT NULL, choice TEXT NOT NULL, answer TEXT NOT NULL,"
        " notes TEXT NOT NULL DEFAULT '', answered_by TEXT NOT NULL, answered_at TEXT NOT NULL,"
        " PRIMARY KEY (workload, choice))")
    conn.execute("ALTER TABLE reviews ADD COLUMN failing INTEGER NOT NULL DEFAULT 0")
    conn.execute("UPDATE reviews SET failing = (SELECT count(*) FROM findings"
                 " WHERE findings.review_id = reviews.id AND findings.status = 'fail')")


# In order: MIGRATIONS[n] brings a database from version n to n + 1. Never edit a released one.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_1, _migrate_2)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version a database is at (0 for an empty one)."""
    found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not found:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, path: str = "") -> int:
    """Bring the database to ``SCHEMA_VERSION``, one transaction per migration; the version reached."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise HistoryError(f"history schema version {current} is newer than this walens knows ({SCHEMA_VERSION});"
                           " upgrade walens", file=path or None)
    for version in range(current, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return SCHEMA_VERSION


class SqliteHistory:
    """The history in one SQLite file."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = path
        self.location = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: every write below opens its own explicit transaction.
            self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA foreign_keys = ON")
            migrate(self.conn, str(path))
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot open the history: {exc}", file=str(path)) from exc
        except OSError as exc:
            raise HistoryError(f"cannot create the history: {exc.strerror}", file=str(path)) from exc

    def close(self) -> None:
        self.conn.close()

    def save(self, doc: Mapping[str, Any], workload: str) -> ReviewInfo:
        """Store the review ``doc`` under ``workload``; its new ID is in the returned info."""
        workload = check_workload(workload)
        scan = doc.get("scan") or {}
        failing, _, _ = _counts(doc)
        inputs = len(scan.get("inputs") or [])
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO reviews (workload, saved_at, finished_at, tool_version, source, inputs, document, failing)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (workload, _now(), scan.get("finished_at"), (doc.get("tool") or {}).get("version"),
                 scan.get("source"), inputs, json.dumps(doc, ensure_ascii=False, separators=(",", ":")), failing))
            review_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO findings (review_id, fingerprint, rule_id, pillar, choice, severity, status, resource_id,"
                " file, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(review_id, *row) for row in _finding_rows(doc)])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return self.info(str(review_id))

    def _infos(self, where: str, args: tuple[Any, ...]) -> list[ReviewInfo]:
        rows = self.conn.execute(
            f"SELECT id, workload, saved_at, finished_at, tool_version, source, inputs, failing FROM reviews {where}"
            " ORDER BY id", args).fetchall()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        by_sev: dict[int, dict[str, int]] = {}
        accepted: dict[int, int] = {}
        for rid, status, severity, count in self.conn.execute(
                f"SELECT review_id, status, severity, count(*) FROM findings WHERE review_id IN ({marks})"
                " AND status IN ('fail', 'accepted') GROUP BY review_id, status, severity", ids):
            if status == "fail":
                by_sev.setdefault(rid, {})[str(severity)] = count
            else:
                accepted[rid] = accepted.get(rid, 0) + count
        return [ReviewInfo(id=str(r[0]), workload=r[1], saved_at=r[2], finished_at=r[3] or "", tool_version=r[4] or "",
                           source=r[5] or "", inputs=r[6], failing=r[7], by_severity=by_sev.get(r[0], {}),
                           accepted=accepted.get(r[0], 0)) for r in rows]

    @staticmethod
    def _id(review_id: str) -> int:
        text = str(review_id).strip().lstrip("#")
        if not text.isdigit():
            raise UsageError(f"review ID {review_id!r}: expected a number (see 'walens history list')")
        return int(text)

    def list(self, workload: str | None = None) -> list[ReviewInfo]:
        """Saved reviews, oldest first; only ``workload``'s when given."""
        if workload is None:
            return self._infos("", ())
        return self._infos("WHERE workload = ?", (workload,))

    def info(self, review_id: str) -> ReviewInfo:
        found = self._infos("WHERE id = ?", (self._id(review_id),))
        if not found:
            raise UsageError(f"no review {review_id!r} in the history {self.location}")
        return found[0]

    def get(self, review_id: str) -> dict[str, Any]:
        """The stored review document."""
        row = self.conn.execute("SELECT document FROM reviews WHERE id = ?", (self._id(review_id),)).fetchone()
        if row is None:
            raise UsageError(f"no review {review_id!r} in the history {self.location}")
        doc: dict[str, Any] = json.loads(row[0])
        return doc

    def workloads(self) -> builtins.list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT workload FROM reviews ORDER BY workload")]

    def failing_by_pillar(self, review_ids: builtins.list[str]) -> dict[str, dict[str, int]]:
        """Failing findings per pillar of each review (from the findings table, no JSON parsing)."""
        ids = [self._id(r) for r in review_ids]
        out: dict[str, dict[str, int]] = {str(i): {} for i in ids}
        if not ids:
            return out
        for rid, pillar, count in self.conn.execute(
                f"SELECT review_id, pillar, count(*) FROM findings WHERE review_id IN ({','.join('?' * len(ids))})"
                " AND status = 'fail' GROUP BY review_id, pillar", ids):
            out[str(rid)][str(pillar)] = count
        return out

    def answers(self, workload: str) -> dict[str, dict[str, Any]]:
        """The current answer of each best practice of ``workload`` (ChoiceId → answer)."""
        rows = self.conn.execute("SELECT choice, answer, notes, answered_by, answered_at FROM answers"
                                 " WHERE workload = ? ORDER BY choice", (workload,))
        return {c: {"answer": a, "notes": n, "by": b, "at": t} for c, a, n, b, t in rows}

    def save_answers(self, workload: str, answers: Mapping[str, Mapping[str, Any]]) -> None:
        """Record (or replace) answers of ``workload``; others it already had stay as they were."""
        workload = check_workload(workload)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                "INSERT OR REPLACE INTO answers (workload, choice, answer, notes, answered_by, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(workload, c, a["answer"], a.get("notes") or "", a["by"], a["at"]) for c, a in answers.items()])
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


# ---------------------------------------------------------------------------------------------
# S3: the same content as JSON objects, for a team that shares its history.


class S3History:
    """The history under ``s3://bucket/prefix``: one JSON object per review, one per workload's answers.

    Layout: ``<prefix>/workloads/<workload>/reviews/<id>.json`` (the review document, its summary in
    the object's metadata) and ``<prefix>/workloads/<workload>/answers.json``. IDs sort by time.
    """

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.location = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        if client is None:
            need_extra("boto3", "an s3:// history")
            import boto3  # only the S3 backend needs it

            client = boto3.client("s3")
        self.client = client

    @classmethod
    def from_url(cls, url: str, client: Any = None) -> S3History:
        rest = url[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise UsageError(f"--history {url!r}: expected s3://bucket/prefix")
        return cls(bucket, prefix, client)

    def close(self) -> None:
        pass

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    @staticmethod
    def _quote(workload: str) -> str:
        from urllib.parse import quote

        return quote(workload, safe="")

    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise HistoryError(f"cannot {what} the history {self.location}: {error.get('Code')}: "
                               f"{error.get('Message')}") from exc
        except BotoCoreError as exc:
            raise HistoryError(f"cannot {what} the history {self.location}: {exc}") from exc

    def _review_keys(self, workload: str | None) -> list[tuple[str, str, str]]:
        """(id, workload, key) of every stored review, oldest first."""
        from urllib.parse import unquote

        prefix = self._key("workloads", self._quote(workload), "reviews") + "/" if workload else \
            self._key("workloads") + "/"
        out = []
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("list", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=prefix)))
        for page in pages:
            for obj in page.get("Contents") or []:
                key = obj["Key"]
                parts = key[len(self._key("workloads")) + 1:].split("/")
                if len(parts) == 3 and parts[1] == "reviews" and parts[2].endswith(".json"):
                    out.append((parts[2][:-5], unquote(parts[0]), key))
        return sorted(out)

    def save(self, doc: Mapping[str, Any], workload: str) -> ReviewInfo:
        import secrets
        from datetime import UTC, datetime

        workload = check_workload(workload)
        review_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"
        scan = doc.get("scan") or {}
        failing, by_sev, accepted = _counts(doc)
        info = ReviewInfo(id=review_id, workload=workload, saved_at=_now(), finished_at=scan.get("finished_at") or "",
                          tool_version=str((doc.get("tool") or {}).get("version") or ""),
                          source=str(scan.get("source") or ""), inputs=len(scan.get("inputs") or []),
                          failing=failing, by_severity=by_sev, accepted=accepted)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        meta = {"walens-info": json.dumps({k: v for k, v in info.to_dict().items() if k not in ("id", "workload")},
                                          separators=(",", ":"))}
        self._call("write", self.client.put_object, Bucket=self.bucket,
                   Key=self._key("workloads", self._quote(workload), "reviews", f"{review_id}.json"), Body=body,
                   ContentType="application/json", Metadata=meta)
        return info

    def list(self, workload: str | None = None) -> list[ReviewInfo]:
        infos = []
        for review_id, name, key in self._review_keys(workload):
            head = self._call("read", self.client.head_object, Bucket=self.bucket, Key=key)
            raw = (head.get("Metadata") or {}).get("walens-info")
            data = json.loads(raw) if raw else {}
            infos.append(ReviewInfo(id=review_id, workload=name, **{k: v for k, v in data.items()
                                                                     if k in ReviewInfo.__slots__}))
        infos.sort(key=lambda i: i.id)
        return infos

    def _find(self, review_id: str) -> tuple[str, str]:
        for rid, name, key in self._review_keys(None):
            if rid == str(review_id).strip():
                return name, key
        raise UsageError(f"no review {review_id!r} in the history {self.location}")

    def info(self, review_id: str) -> ReviewInfo:
        name, _ = self._find(review_id)
        for info in self.list(name):
            if info.id == review_id:
                return info
        raise UsageError(f"no review {review_id!r} in the history {self.location}")

    def get(self, review_id: str) -> dict[str, Any]:
        _, key = self._find(review_id)
        obj = self._call("read", self.client.get_object, Bucket=self.bucket, Key=key)
        doc: dict[str, Any] = json.loads(obj["Body"].read())
        return doc

    def workloads(self) -> builtins.list[str]:
        return sorted({name for _, name, _ in self._review_keys(None)})

    def answers(self, workload: str) -> dict[str, dict[str, Any]]:
        from botocore.exceptions import ClientError

        key = self._key("workloads", self._quote(workload), "answers.json")
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return {}
            raise HistoryError(f"cannot read the answers in {self.location}: {exc}") from exc
        data: dict[str, dict[str, Any]] = json.loads(obj["Body"].read())
        return data

    def save_answers(self, workload: str, answers: Mapping[str, Mapping[str, Any]]) -> None:
        workload = check_workload(workload)
        merged = {**self.answers(workload), **{c: dict(a) for c, a in answers.items()}}
        body = json.dumps(dict(sorted(merged.items())), ensure_ascii=False, indent=1).encode("utf-8")
        self._call("write", self.client.put_object, Bucket=self.bucket,
                   Key=self._key("workloads", self._quote(workload), "answers.json"), Body=body,
                   ContentType="application/json")


def latest(history: History, workload: str, count: int = 2) -> list[ReviewInfo]:
    """The last ``count`` reviews of ``workload``, oldest first."""
    return history.list(workload)[-count:]


TREND_MAX = 12  # reviews in a trend: the current one and up to 11 before it


def failing_by_pillar(doc: Mapping[str, Any]) -> dict[str, int]:
    """Failing findings per pillar (every pillar, in lens order; a finding is a risk while ``fail``)."""
    from walens.model import PILLARS

    counts = dict.fromkeys(PILLARS, 0)
    for f in doc.get("findings") or []:
        if f.get("status") == "fail":
            counts[str(f.get("pillar"))] = counts.get(str(f.get("pillar")), 0) + 1
    return counts


def trend_point(doc: Mapping[str, Any], ref: str | None, by_pillar: Mapping[str, int] | None = None) -> dict[str, Any]:
    """One review in a trend: ``{review, finished_at, failing: {pillar: n}, total}``."""
    from walens.model import PILLARS

    counts = dict(by_pillar) if by_pillar is not None else failing_by_pillar(doc)
    counts = {**dict.fromkeys(PILLARS, 0), **counts}
    return {"review": ref, "finished_at": (doc.get("scan") or {}).get("finished_at"), "failing": counts,
            "total": sum(counts.values())}


def since_last_review(store: History, workload: str, doc: Mapping[str, Any], *,
                      current_id: str | None = None) -> dict[str, Any] | None:
    """What changed since the previous review of ``workload`` (``diff.since_last``) plus its ``trend``.

    ``doc`` is the review ``current_id`` of the history, or (None) a review about to be saved. The
    trend lists up to ``TREND_MAX`` reviews, oldest first, the last one being ``doc`` itself. None
    when the workload has no earlier review.
    """
    from walens import diff

    infos = store.list(workload)
    if current_id is not None:
        ids = [i.id for i in infos]
        if str(current_id) not in ids:
            return None
        infos = infos[:ids.index(str(current_id))]
    if not infos:
        return None
    earlier = infos[-(TREND_MAX - 1):]
    previous = earlier[-1]
    previous_doc = store.get(previous.id)
    out = diff.since_last(diff.diff(previous_doc, doc, old_ref=previous.id, new_ref=current_id))
    counter = getattr(store, "failing_by_pillar", None)
    known: dict[str, dict[str, int]] = counter([i.id for i in earlier[:-1]]) if counter else {}
    trend = []
    for info in earlier[:-1]:
        counts = known.get(info.id)
        if counts is None:
            trend.append(trend_point(store.get(info.id), info.id))
        else:
            trend.append({**trend_point({}, info.id, counts), "finished_at": info.finished_at or None})
    out["trend"] = [*trend, trend_point(previous_doc, previous.id), trend_point(doc, current_id)]
    return out


@dataclass
class ScanRecord:
    """What ``scan template --save/--workload`` does with the history around one scan."""

    workload: str | None = None
    save: bool = False
    store: History | None = None
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


def prepare_scan(paths: list[str] | tuple[str, ...], *, save: bool, workload: str | None,
                 location: str | None) -> ScanRecord:
    """Open the history when the scan saves or names a workload (a plain scan touches nothing)."""
    if not save and workload is None:
        return ScanRecord()
    name = check_workload(workload) if workload is not None else default_workload(paths)
    store = open_history(location)
    return ScanRecord(workload=name, save=save, store=store, answers=store.answers(name))


def record_scan(doc: dict[str, Any], rec: ScanRecord) -> str | None:
    """Name the workload in ``doc`` and, with --save, store it (with what changed since the last review).

    Returns the line to print on stderr, or None.
    """
    if rec.store is None or rec.workload is None:
        return None
    doc["workload"] = rec.workload
    if not rec.save:
        rec.store.close()
        return None
    since = since_last_review(rec.store, rec.workload, doc)
    if since is not None:
        doc["since_last_review"] = since
    info = rec.store.save(doc, rec.workload)
    if since is not None:
        since["trend"][-1]["review"] = info.id  # stored as null: 'history show' recomputes it
    doc["history"] = {"id": info.id, "workload": info.workload, "location": rec.store.location}
    rec.store.close()
    line = f"walens: saved as review {info.id} of workload {info.workload!r} in {doc['history']['location']}"
    if since is not None:
        line += (f" (since review {since['review']}: {since['new']} new, {since['resolved']} resolved, "
                 f"{since['changed_severity']} changed severity, {since['persisting']} persisting)")
    return line
