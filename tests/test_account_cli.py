"""``walens scan account`` as a user runs it: a moto server on 127.0.0.1, reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto.server")
from test_account_scan import (  # noqa: E402
    EXPECTED,
    OTHER,
    REGION,
    RULES,
    fake_aws_env,
    gap_kinds,
    outcomes,
    seed,
)

REPO = Path(__file__).resolve().parents[1]
# The runtime rules depend on today's date, which a subprocess cannot pin: the rest must match exactly.
DATED = {"OPS004", "OPS005", "OPS006"}


@pytest.fixture(scope="module")
def account(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    endpoint = moto_endpoint
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("aws")
    fake_aws_env(mp, tmp)
    try:
        labels = seed(endpoint)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
        env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
        env.update({"AWS_ENDPOINT_URL": endpoint, "PYTHONPATH": str(REPO), "LANG": "C.UTF-8"})
        yield {"labels": labels, "env": env}
    finally:
        mp.undo()


def walens(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


def test_scan_account_over_aws_endpoint_url(account: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "review.json"
    proc = walens(account["env"], "scan", "account", "--region", f"{REGION},{OTHER}", "--select", ",".join(RULES),
                  "--max-workers", "4", "--format", "json", "--output", str(out))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr  # high-severity failures (COST001, SEC002...) fail the run
    doc = json.loads(out.read_text())
    got = {k: v for k, v in outcomes(doc, account["labels"]).items() if k[0] not in DATED}
    assert got == {k: v for k, v in EXPECTED.items() if k[0] not in DATED}
    assert gap_kinds(doc) == set()  # no selected rule reads the recursion config moto lacks: not asked
    assert doc["scan"]["accounts"] == ["123456789012"] and doc["scan"]["regions"] == [REGION, OTHER]
    # Every format renders the saved account review, in both languages.
    for fmt in ("console", "markdown", "html", "sarif"):
        for lang in ("en", "ja"):
            shown = walens(account["env"], "report", str(out), "--format", fmt, "--lang", lang)
            assert shown.returncode == 0, shown.stderr
            assert "bad-fn" in shown.stdout


def test_fail_on_never_and_console_output(account: dict[str, Any]) -> None:
    proc = walens(account["env"], "scan", "account", "--region", REGION, "--services", "lambda,logs",
                  "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert "COST001" in proc.stdout and "AWS account" in proc.stdout


def test_usage_errors_are_one_line(account: dict[str, Any]) -> None:
    env = {k: v for k, v in account["env"].items() if k not in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    proc = walens(env, "scan", "account")
    assert proc.returncode == 2 and proc.stderr.startswith("walens: error: no region"), proc.stderr
    proc = walens(account["env"], "scan", "account", "--services", "lambda,ec3")
    assert proc.returncode == 2 and "--services 'ec3'" in proc.stderr, proc.stderr
    proc = walens(account["env"], "scan", "account", "--region", REGION, "--all-regions")
    assert proc.returncode == 2 and "exclude each other" in proc.stderr, proc.stderr
    env = {k: v for k, v in account["env"].items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                                  "AWS_SESSION_TOKEN")}
    proc = walens(env, "scan", "account", "--region", REGION)
    assert proc.returncode == 4 and "no AWS credentials" in proc.stderr, proc.stderr
