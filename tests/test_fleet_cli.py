"""``walens fleet run`` for a user who gets things wrong: the exit codes and one-line errors of ``scan account``.

Every run goes through the entry point (``walens.cli.main``), as a user's does: what reaches stderr and the exit
code are what a user sees. AWS is moto in-process, or a closed port on 127.0.0.1 (never a real endpoint).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto")
import botocore.session
from test_account_gaps import _deny
from test_account_multi import ROLE, assume_calls
from test_account_scan import ACCOUNT, OTHER, REGION, aws, fake_aws_env  # noqa: F401 - aws is a fixture
from test_cli_aws_errors import closed_port
from test_fleet import M1, M2, seed

BAD = "333333333333"


@pytest.fixture(autouse=True)
def _gc_restored() -> Iterator[None]:
    """cli.main freezes the heap and raises the collection thresholds for its process: undo it for the next test."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def walens(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``walens ARGS`` run through the CLI's entry point."""
    from walens import cli

    monkeypatch.setattr(sys, "argv", ["walens", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out.out, out.err


def one_line(err: str) -> str:
    """The single ``walens: error:`` line a user error prints (no traceback, no "internal error")."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walens: error: "), err
    return lines[0]


def click_error(err: str) -> str:
    """The ``Error:`` line of a usage error click reports (the same for every walens command), no traceback."""
    assert "Traceback" not in err and "internal error" not in err, err
    return err.strip().splitlines()[-1]


def fleet(out: Path, *args: str) -> list[str]:
    return ["fleet", "run", "-o", str(out), *args]


MEMBER = ["--role-name", ROLE, "--select", "OPS001", "--services", "lambda", "--no-logs-insights", "--backoff", "0"]


def _every_client(monkeypatch: pytest.MonkeyPatch, hook: Any) -> None:
    """Apply a walens client hook (test_account_multi.assume_calls) to every client the run creates."""
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        hook(client)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)


def _review(out: Path) -> dict[str, Any]:
    latest = json.loads((out / "latest.json").read_text())
    return dict(json.loads((out / latest["key"]).read_text()))


def _plan(out: Path) -> list[dict[str, str]]:
    latest = json.loads((out / "latest.json").read_text())
    return list(json.loads((out / "runs" / latest["run"] / "plan.json").read_text()))


# ---- --strict: the contract of scan --strict (exit 5; 3 > 5 > 1 > 0) ----------------------------------------

def test_strict_exits_5_when_a_partition_was_not_assessed(aws: None, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed()
    _every_client(monkeypatch, assume_calls([], refuse={BAD}))
    args = ["--accounts", f"{M1},{BAD}", "--region", REGION, *MEMBER, "--retries", "0", "--fail-on", "never"]
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "plain", *args))
    assert code == 0, out
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "strict", *args, "--strict"))
    assert code == 5, out
    doc = _review(tmp_path / "strict")
    assert doc["fleet"]["coverage"] == {"assessed": 1, "not_assessed": 1, "planned": 2}
    assert (doc["summary"]["strict"], doc["summary"]["incomplete"]) == (True, True)
    assert "--strict: 1 gap(s) and 0 result(s) not assessed: exit 5." in out.splitlines()
    assert _review(tmp_path / "plain")["summary"]["incomplete"] is False


def test_strict_not_assessed_wins_over_failing_findings_as_in_scan(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed()  # OPS001 (medium) fails on home-fn in the caller's account
    _every_client(monkeypatch, assume_calls([], refuse={BAD}))
    args = ["--accounts", f"{ACCOUNT},{BAD}", "--region", REGION, *MEMBER, "--retries", "0", "--fail-on", "medium"]
    assert walens(monkeypatch, capsys, *fleet(tmp_path / "a", *args))[0] == 1
    assert walens(monkeypatch, capsys, *fleet(tmp_path / "b", *args, "--strict"))[0] == 5


def test_strict_passes_a_complete_fleet_and_keeps_exit_1_for_findings(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed()
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "m1", "--accounts", M1, "--region",
                                                      f"{REGION},{OTHER}", *MEMBER, "--strict"))
    assert code == 0, out
    assert _review(tmp_path / "m1")["summary"]["incomplete"] is False and "--strict:" not in out
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "home", "--accounts", ACCOUNT, "--region", REGION,
                                                      *MEMBER, "--strict", "--fail-on", "medium"))
    assert code == 1, out


def test_strict_counts_what_an_assessed_partition_could_not_judge(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """lambda:ListFunctions denied: the partition is reviewed (assessed), OPS001 ends not_assessed there; as
    ``scan account --strict`` does, ``fleet run --strict`` fails on it."""
    seed()
    _deny(monkeypatch, "lambda:ListFunctions")
    args = ["--accounts", M1, "--region", REGION, *MEMBER, "--fail-on", "never"]
    assert walens(monkeypatch, capsys, *fleet(tmp_path / "plain", *args))[0] == 0
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "strict", *args, "--strict"))
    assert code == 5, out
    doc = _review(tmp_path / "strict")
    assert doc["fleet"]["coverage"] == {"assessed": 1, "planned": 1}
    assert [(f["rule_id"], f["status"]) for f in doc["findings"]] == [("OPS001", "not_assessed")]
    assert doc["summary"]["not_assessed"] == 1 and doc["summary"]["incomplete"] is True


# ---- bad input: one line, its exit code, nothing reviewed, nothing written -----------------------------------

@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Fake keys, no profile files, and every AWS endpoint a closed local port: no call can get anywhere."""
    fake_aws_env(monkeypatch, tmp_path)
    endpoint = closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return endpoint


ACCOUNTS = ["--accounts", M1, "--role-name", ROLE, "--region", REGION]


@pytest.mark.parametrize(("args", "said"), [
    (["--accounts", "1234", "--role-name", ROLE, "--region", REGION],
     "--accounts '1234': expected a 12-digit AWS account ID"),
    (["--accounts", M1, "--role-name", ROLE, "--region", "us-east-9"],
     "--region 'us-east-9': not an AWS region botocore"),
    ([*ACCOUNTS, "--services", "lambda,stepfunction"], "(did you mean 'stepfunctions'?)"),
    ([*ACCOUNTS, "--select", "OPS01"], "unknown rule or pillar 'OPS01' (did you mean 'OPS001'?)"),
    ([*ACCOUNTS, "--ignore", "REL999"], "unknown rule or pillar 'REL999'"),
    (["--accounts", M1, "--region", REGION], "--accounts needs --role-name"),
    (["--profiles", "prod", "--role-name", ROLE, "--region", REGION], "--role-name would be ignored; drop it"),
    (["--accounts", M1, "--organization", "--role-name", ROLE, "--region", REGION], "exactly one of"),
])
def test_a_bad_option_is_one_line_exit_2_before_any_call(
        offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        args: list[str], said: str) -> None:
    code, out, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", *args))
    assert code == 2, err
    assert said in one_line(err) and out == ""
    assert not (tmp_path / "out").exists()  # checked before anything is written (or any AWS call: 4 otherwise)


def test_an_unknown_region_names_the_closest(offline: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--accounts", M1, "--role-name", ROLE,
                                                      "--region", f"{REGION},eu-west-l"))
    assert code == 2
    assert one_line(err).endswith("--region 'eu-west-l': not an AWS region botocore "
                                  f"{botocore.__version__} knows (did you mean 'eu-west-1'?)")


def test_lang_and_fail_on_are_the_choices_of_scan_account() -> None:
    from walens import cli
    from walens.fleet import cli as fleet_cli

    assert fleet_cli.Lang is cli.Lang and fleet_cli.FailOn is cli.FailOn  # one definition: walens.choices


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--lang", "xx", "Error: Invalid value for '--lang': 'xx' is not one of 'en', 'ja'."),
    ("--fail-on", "bogus", ("Error: Invalid value for '--fail-on': 'bogus' is not one of 'high', 'medium', 'low', "
                            "'info', 'never'.")),
    ("--fail-on", "hihg", ("Error: Invalid value for '--fail-on': 'hihg' is not one of 'high', 'medium', 'low', "
                           "'info', 'never' (did you mean 'high'?)")),
])
def test_a_bad_choice_is_refused_as_scan_account_refuses_it(
        offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        option: str, value: str, said: str) -> None:
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", *ACCOUNTS, option, value))
    assert (code, click_error(err)) == (2, said)
    scan = walens(monkeypatch, capsys, "scan", "account", "--region", REGION, option, value)
    assert (scan[0], click_error(scan[2])) == (2, said)
    assert not (tmp_path / "out").exists()


def test_choices_are_case_insensitive(offline: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``--fail-on HIGH --lang JA`` are accepted: the run goes on to AWS (here unreachable: exit 4)."""
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", *ACCOUNTS, "--fail-on", "HIGH", "--lang", "JA"))
    assert code == 4 and "cannot reach AWS" in one_line(err)


def test_output_is_a_directory(offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                               tmp_path: Path) -> None:
    file = tmp_path / "fleet.json"
    file.write_text("{}")
    code, _, err = walens(monkeypatch, capsys, *fleet(file, *ACCOUNTS))
    assert code == 2
    assert one_line(err) == (f"walens: error: {file}: --output: not a directory (walens fleet run writes a "
                             "directory of runs)")
    code, _, err = walens(monkeypatch, capsys, *fleet(file / "runs", *ACCOUNTS))
    assert code == 2 and f"--output: {file} is a file, not a directory" in one_line(err)
    assert file.read_text() == "{}"


def test_an_unknown_profile_is_exit_4_as_in_scan_account(
        offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "no-config").write_text("[profile prod]\nregion = us-east-1\n[profile staging]\nregion = us-east-1\n")
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--profiles", "prod,stagign",
                                                      "--region", REGION))
    assert code == 4
    assert one_line(err) == ("walens: error: --profiles: AWS profile 'stagign' not found in the shared config and "
                             "credentials files (did you mean 'staging'?) (see 'aws configure list-profiles')")
    scan = walens(monkeypatch, capsys, "scan", "account", "--profile", "stagign", "--region", REGION)
    assert scan[0] == 4 and "AWS profile 'stagign' not found" in one_line(scan[2])
    assert not (tmp_path / "out").exists()


def test_no_credentials_is_exit_4_and_nothing_is_reviewed(
        offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    code, out, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", *ACCOUNTS))
    assert code == 4 and out == ""
    assert "walens: error: no AWS credentials found" in one_line(err)
    assert not (tmp_path / "out").exists()  # no fleet review saying "0/1 assessed" with exit 0


def test_no_credentials_for_a_profile_names_the_profile(
        offline: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    (tmp_path / "no-config").write_text("[profile prod]\nregion = us-east-1\n")
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--profiles", "prod", "--region", REGION))
    assert code == 4
    assert one_line(err).startswith("walens: error: --profiles 'prod': no AWS credentials found")


def test_an_unreachable_endpoint_is_exit_4(offline: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", *ACCOUNTS))
    assert code == 4 and out == ""
    line = one_line(err)
    assert "cannot reach AWS" in line and offline in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("refused", ["AccessDeniedException", "AWSOrganizationsNotInUseException", None])
def test_organization_not_listable_is_what_scan_account_says(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        refused: str | None) -> None:
    """ListAccounts denied, no organization, or one with no active account (moto's answer without one): the
    line and exit code of ``scan account --organization``."""
    if refused:
        _deny(monkeypatch, "organizations:ListAccounts", code=refused)
    code, out, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--organization", *MEMBER,
                                                        "--region", REGION))
    line = one_line(err)
    if refused:
        assert "--organization: cannot list the organization's accounts: organizations:ListAccounts" in line
        assert refused in line and "(run from the management account or a delegated administrator)" in line
    else:
        assert line == "walens: error: --organization: the organization lists no active account"
    scan = walens(monkeypatch, capsys, "scan", "account", "--organization", "--role-name", ROLE, "--region", REGION,
                  "--services", "lambda")
    assert (code, line) == (scan[0], one_line(scan[2])) and code == 2
    assert out == "" and not (tmp_path / "out" / "latest.json").exists()


# ---- duplicates: each partition once -------------------------------------------------------------------------

def test_duplicate_accounts_and_regions_are_reviewed_once(aws: None, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed()
    code, out, _ = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--accounts", f"{M1}, {M1}", "--accounts", M1,
                                                      "--region", f"{REGION},{REGION}", "--region", f" {REGION}",
                                                      *MEMBER, "--fail-on", "never"))
    assert code == 0, out
    assert _plan(tmp_path / "out") == [{"account": M1, "region": REGION}]
    assert "1/1 partitions assessed" in out
    assert [(f["resource"]["name"], f["status"]) for f in _review(tmp_path / "out")["findings"]] == [("m1-east", "pass")]


def test_two_profiles_of_one_account_review_it_once_and_say_so(
        aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed()
    (tmp_path / "no-config").write_text(
        "".join(f"[profile {name}]\nrole_arn = arn:aws:iam::{M2}:role/{ROLE}\ncredential_source = Environment\n"
                for name in ("m2", "m2-admin")))
    code, _, err = walens(monkeypatch, capsys, *fleet(tmp_path / "out", "--profiles", "m2,m2-admin,m2",
                                                        "--region", REGION, "--select", "OPS001", "--services",
                                                        "lambda", "--no-logs-insights", "--fail-on", "never"))
    assert code == 0, err
    assert err == (f"walens: profiles 'm2' and 'm2-admin' both act in account {M2}: it is reviewed once, "
                   "through 'm2'\n")
    assert _plan(tmp_path / "out") == [{"account": M2, "region": REGION, "profile": "m2"}]


# ---- the runner: a user error or a bug ends the run at once --------------------------------------------------

def test_an_error_that_is_no_partition_outcome_cancels_the_partitions_not_started() -> None:
    from test_fleet import options

    from walens.errors import UsageError
    from walens.fleet import runner
    from walens.fleet.plan import partitions

    started: list[str] = []

    def scan(p: Any) -> dict[str, Any]:
        started.append(p.key)
        raise UsageError("a malformed waiver")

    parts = partitions([M1, M2, BAD], [REGION, OTHER])
    with pytest.raises(UsageError, match="malformed waiver"):
        runner.run(parts, scan, options(), jobs=1, per_account=1, retries=0)
    assert started == [f"{M1}/{REGION}"]
