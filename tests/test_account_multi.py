"""Several accounts in one review: --accounts/--organization with --role-name, on moto's multi-account STS.

moto keys every resource by the account of the credentials that created it: credentials from
``AssumeRole`` into ``arn:aws:iam::<ID>:role/...`` act in account <ID>, so each member account here is
seeded through its own role, and the scan must find each function in (and only in) its own account.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

pytest.importorskip("moto")
import boto3  # noqa: E402
from botocore.awsrequest import AWSResponse  # noqa: E402

from test_account_scan import ACCOUNT, REGION, TRUST, _zip, aws  # noqa: E402,F401

ROLE = "walens-audit"
MEMBERS = ("111111111111", "222222222222")


def _member_session(account: str) -> boto3.Session:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=REGION)


def _function(session: Any, name: str, **extra: Any) -> None:
    iam = session.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    session.client("lambda").create_function(FunctionName=name, Runtime="python3.13", Role=role,
                                             Handler="index.handler", Code={"ZipFile": _zip()}, **extra)


def seed_accounts() -> None:
    _function(boto3.Session(region_name=REGION), "home-fn")
    for account in MEMBERS:
        _function(_member_session(account), f"fn-{account[:1]}", TracingConfig={"Mode": "Active"})


def scan(**kw: Any) -> dict[str, Any]:
    from walens.pipeline import scan_account

    kw.setdefault("regions", [REGION])
    kw.setdefault("select", ["OPS001"])  # X-Ray tracing: fails PassThrough, passes Active
    kw.setdefault("services", ["lambda"])
    kw.setdefault("fail_on", "never")
    return scan_account(**kw)


def by_account(doc: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for f in doc["findings"]:
        out.setdefault(f["resource"]["account"], set()).add((f["resource"]["name"], f["status"]))
        if f["resource"]["name"] == "*":  # what a gap hid (walens.pipeline.unseen_findings)
            assert f["status"] == "not_assessed" and f["resource"]["arn"] is None
            continue
        assert f["resource"]["region"] == REGION
        assert f["resource"]["arn"].split(":")[4] == f["resource"]["account"]
    return out


def assume_calls(params_seen: list[dict[str, Any]], refuse: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """A client hook recording every AssumeRole request, answering AccessDenied for roles in ``refuse``."""

    def hook(client: Any) -> None:
        if client.meta.service_model.service_name != "sts":
            return

        def record(params: dict[str, Any], **_: Any) -> None:
            params_seen.append(dict(params))

        def answer(params: dict[str, Any], **_: Any) -> Any:
            body = params.get("body") or {}
            if any(f"::{a}:" in str(body.get("RoleArn")) for a in refuse):
                return (AWSResponse("https://refused", 403, {}, None),
                        {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"},
                         "ResponseMetadata": {"HTTPStatusCode": 403}})
            return None

        client.meta.events.register("provide-client-params.sts.AssumeRole", record)
        client.meta.events.register("before-call.sts.AssumeRole", answer)

    return hook


def test_listed_accounts_are_reviewed_through_the_role_in_one_review(aws: None) -> None:
    seed_accounts()
    seen: list[dict[str, Any]] = []
    doc = scan(accounts=list(MEMBERS), role_name=ROLE, external_id="ext-42", hooks=[assume_calls(seen)])
    assert by_account(doc) == {"111111111111": {("fn-1", "pass")}, "222222222222": {("fn-2", "pass")}}
    assert doc["scan"]["accounts"] == list(MEMBERS)
    assert doc["gaps"] == [] or {g["operation"] for g in doc["gaps"]} == {"GetFunctionRecursionConfig"}
    assert sorted(p["RoleArn"] for p in seen) == [f"arn:aws:iam::{a}:role/{ROLE}" for a in MEMBERS]
    assert {p["ExternalId"] for p in seen} == {"ext-42"}
    names = {p["RoleSessionName"] for p in seen}
    assert len(names) == 1 and next(iter(names)).startswith("walens-2")
    assert doc["summary"]["by_status"] == {"pass": 2}


def test_own_account_uses_the_callers_credentials(aws: None) -> None:
    seed_accounts()
    seen: list[dict[str, Any]] = []
    doc = scan(accounts=[ACCOUNT, MEMBERS[0]], role_name=ROLE, hooks=[assume_calls(seen)])
    assert by_account(doc) == {ACCOUNT: {("home-fn", "fail")}, MEMBERS[0]: {("fn-1", "pass")}}
    assert [p["RoleArn"] for p in seen] == [f"arn:aws:iam::{MEMBERS[0]}:role/{ROLE}"]


def test_a_role_that_cannot_be_assumed_is_a_gap_and_the_others_are_still_reviewed(aws: None) -> None:
    seed_accounts()
    seen: list[dict[str, Any]] = []
    doc = scan(accounts=list(MEMBERS), role_name=ROLE, hooks=[assume_calls(seen, refuse={MEMBERS[1]})])
    # The account that could not be entered is not assessed as a whole, never "nothing there".
    assert by_account(doc) == {MEMBERS[0]: {("fn-1", "pass")}, MEMBERS[1]: {("*", "not_assessed")}}
    hidden = next(f for f in doc["findings"] if f["resource"]["account"] == MEMBERS[1])
    assert hidden["resource"]["region"] is None and "sts:AssumeRole" in hidden["reason"]
    gaps = [g for g in doc["gaps"] if g["service"] == "sts"]
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap["account"] == MEMBERS[1] and gap["operation"] == "AssumeRole" and gap["action"] == "sts:AssumeRole"
    assert gap["kind"] == "denied" and gap["error_code"] == "AccessDenied"
    assert f"arn:aws:iam::{MEMBERS[1]}:role/{ROLE}" in gap["reason"] and "not reviewed" in gap["reason"]
    assert doc["scan"]["accounts"] == list(MEMBERS)  # both were in scope; the gap says which one was not seen


def test_organization_lists_active_accounts_and_reviews_each(aws: None) -> None:
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    created = []
    for name in ("alpha", "beta"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        created.append(status["AccountId"])
    _function(boto3.Session(region_name=REGION), "home-fn")
    for account in created:
        _function(_member_session_for(account), f"fn-{account[-4:]}")
    seen: list[dict[str, Any]] = []
    doc = scan(organization=True, role_name=ROLE, hooks=[assume_calls(seen)])
    assert doc["scan"]["accounts"] == sorted([ACCOUNT, *created])
    assert by_account(doc) == {ACCOUNT: {("home-fn", "fail")},
                               **{a: {(f"fn-{a[-4:]}", "fail")} for a in created}}
    assert sorted(p["RoleArn"] for p in seen) == sorted(f"arn:aws:iam::{a}:role/{ROLE}" for a in created)
    assert doc["scan"]["api_calls"]["organizations"] >= 1


def _member_session_for(account: str) -> boto3.Session:
    return _member_session(account)


@pytest.mark.parametrize(("kw", "message"), [
    ({"accounts": ["111111111111"]}, "needs --role-name"),
    ({"organization": True}, "needs --role-name"),
    ({"role_name": ROLE}, "--role-name needs --accounts or --organization"),
    ({"accounts": ["1234"], "role_name": ROLE}, "12-digit"),
    ({"accounts": ["111111111111"], "organization": True, "role_name": ROLE}, "exclude each other"),
    ({"external_id": "x", "accounts": ["111111111111"]}, "needs --role-name"),
])
def test_option_mistakes_are_usage_errors_before_any_call(aws: None, kw: dict[str, Any], message: str) -> None:
    from walens.errors import UsageError

    calls: list[str] = []

    def hook(client: Any) -> None:
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))

    with pytest.raises(UsageError, match=message):
        scan(hooks=[hook], **kw)
    assert calls == []


def test_organization_listing_denied_is_a_usage_error(aws: None) -> None:
    from walens.errors import UsageError

    def deny(client: Any) -> None:
        client.meta.events.register("before-call.organizations.ListAccounts", lambda **_: (
            AWSResponse("https://refused", 400, {}, None),
            {"Error": {"Code": "AccessDeniedException", "Message": "not the management account"},
             "ResponseMetadata": {"HTTPStatusCode": 400}}))

    with pytest.raises(UsageError, match="cannot list the organization's accounts: organizations:ListAccounts denied"):
        scan(organization=True, role_name=ROLE, hooks=[deny])
    with pytest.raises(UsageError, match="lists no active account"):
        scan(organization=True, role_name=ROLE)  # moto without an organization lists nothing


def test_session_name_format() -> None:
    from datetime import UTC, datetime

    from walens.scanners.account.accounts import session_name

    assert session_name(datetime(2026, 6, 1, 12, 30, 5, tzinfo=UTC)) == "walens-20260601T123005Z"


# -- the progress display ------------------------------------------------------------------------
class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_is_silent_when_stderr_is_not_a_terminal(aws: None) -> None:
    from walens.scanners.account import progress_printer

    assert progress_printer(_Stream(False)) is None
    assert progress_printer(io.StringIO()) is None


def test_progress_counts_accounts_regions_and_services_on_a_terminal(aws: None) -> None:
    from walens.scanners.account import progress_printer

    seed_accounts()
    stream = _Stream(True)
    progress = progress_printer(stream)
    assert progress is not None
    # PERF010 reads what functions did: the planner runs the second phase for it.
    scan(accounts=list(MEMBERS), role_name=ROLE, services=["lambda", "logs"], progress=progress,
         select=["OPS001", "PERF010"])
    text = stream.getvalue()
    last = text.rstrip("\n").rsplit("\r", 1)[-1].strip()
    # 2 accounts x 1 region x (lambda, logs, then Logs Insights, metrics, Compute Optimizer) = 10
    assert last.startswith("walens: accounts 2/2 · regions 2/2 · services 10/10 · tasks "), last
    assert text.endswith("\n")
    assert "accounts 0/2" in text


def test_multi_account_scan_makes_only_reads_besides_assume_role(aws: None) -> None:
    from test_account_readonly import allowed

    seed_accounts()
    calls: list[tuple[str, str]] = []

    def hook(client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append((service, model.name)))

    scan(accounts=list(MEMBERS), role_name=ROLE, services=[], select=[], hooks=[hook])
    others = {op for op in calls if not allowed(*op)}
    assert others == {("sts", "AssumeRole")}
    assert ("lambda", "ListFunctions") in calls


# -- scan account --save/--workload/--history/--waivers (as scan template has them) -----------------
def test_scan_account_saves_to_the_history_and_applies_waivers(aws: None, tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from walens.cli import app

    seed_accounts()
    history = tmp_path / "history.sqlite"
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n"
        "  - rule: OPS001\n"
        "    resource: 'arn:aws:lambda:*:function:home-fn'\n"
        "    reason: tracing is not worth it for this one\n"
        "    owner: platform-team\n"
        "    expires: 2999-01-01\n", encoding="utf-8")
    out = tmp_path / "review.json"
    args = ["scan", "account", "--region", REGION, "--services", "lambda", "--select", "OPS001", "--fail-on", "high",
            "--save", "--history", str(history), "--waivers", str(waivers), "--format", "json", "--output", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["workload"] == f"aws-{ACCOUNT}" and doc["history"]["workload"] == f"aws-{ACCOUNT}"
    statuses = {f["resource"]["name"]: f["status"] for f in doc["findings"]}
    assert statuses == {"home-fn": "accepted"}
    assert doc["waivers"]["count"] == 1
    # A second, named run: same history, with what changed since the last review.
    result = CliRunner().invoke(app, [*args[:-4], "--workload", f"aws-{ACCOUNT}", "--format", "json",
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "since review" in result.output or "saved as review" in result.output
    listed = CliRunner().invoke(app, ["history", "list", "--history", str(history), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count(f"aws-{ACCOUNT}") >= 2
