"""The fleet functions' package as ``sam build`` makes it (deploy/fleet/src/Makefile), run from the package alone.

The Makefile is built for this machine's platform and Python instead of arm64 and 3.13 (its ``PLATFORM`` and
``LAMBDA_PYTHON``), from a copy of the files a clone has. Then each Step Functions task runs in a fresh
interpreter the way Lambda runs it: ``python -I -S`` (no site-packages, no PYTHONPATH: nothing of this checkout
or of the test environment), the package directory first on ``sys.path`` like ``/var/task``, an unwritable
home, the handler ``app.handler``, against a moto server on 127.0.0.1. So a module, a rule file, a report
template or a dependency missing from the package fails here, not in the first deployed run.

pip fetches the dependencies' wheels from the package index (its cache, after ``pip install '.[test]'``).
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto.server")
import boto3

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = Path("deploy", "fleet", "src", "Makefile")
ACCOUNT, MEMBER, REGION = "123456789012", "111111111111", "us-east-1"
ROLE, BUCKET = "walens-audit", "walens-fleet-reviews"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _host_platform() -> str | None:
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"manylinux2014_{machine}" if sys.platform == "linux" and machine in ("x86_64", "aarch64") else None


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed: sam build's makefile builder needs it")
    host = _host_platform()
    if host is None:
        pytest.skip(f"no manylinux wheels for {sys.platform}/{platform.machine()}: the package is built on Linux")
    tmp = tmp_path_factory.mktemp("fleet-package")
    src = tmp / "root"  # what sam build's scratch copy of the project root holds: the files of a clone
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    shutil.copytree(ROOT / "walens", src / "walens", ignore=ignore)
    shutil.copytree(ROOT / "deploy" / "fleet" / "src", src / "deploy" / "fleet" / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp / "ScanFunction"
    proc = subprocess.run(
        ["make", "--no-print-directory", "-f", str(src / MAKEFILE), "build-ScanFunction", f"ARTIFACTS_DIR={out}",
         f"PYTHON={sys.executable}", f"PLATFORM={host}", f"LAMBDA_PYTHON={sys.version_info[0]}.{sys.version_info[1]}"],
        cwd=src, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"make failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out


def _aws(tmp: Path, endpoint: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": str(tmp / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true"}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _seed(env: dict[str, str]) -> None:
    """One function with X-Ray tracing off in the scanner's own account, one with it on in a member account."""
    plain = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing",
             "region_name": REGION}
    caller = boto3.Session(**plain)
    creds = caller.client("sts", endpoint_url=env["AWS_ENDPOINT_URL"]).assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    member = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], region_name=REGION)
    for session, name, mode in ((caller, "home-fn", "PassThrough"), (member, "member-fn", "Active")):
        url = env["AWS_ENDPOINT_URL"]
        role = session.client("iam", endpoint_url=url).create_role(RoleName="fn-role",
                                                                   AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        session.client("lambda", endpoint_url=url).create_function(
            FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
            Code={"ZipFile": _zip()}, TracingConfig={"Mode": mode})
    caller.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=BUCKET)


INVOKE = """\
import json, sys
sys.path.insert(0, sys.argv[1])   # the package directory, as /var/task is on Lambda
import app, walens, yaml
here = walens.__file__
assert here.startswith(sys.argv[1]), here
assert yaml.__with_libyaml__, "PyYAML without libyaml"
print(json.dumps(app.handler(json.loads(sys.argv[2]), None)))
"""


def invoke(package: Path, env: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    """One Lambda invocation: a fresh interpreter with nothing but the standard library and the package."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", INVOKE, str(package), json.dumps(event)],
                          cwd=package, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{event['task']} failed:\n{proc.stderr[-4000:]}"
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_the_built_package_runs_a_fleet_review_from_the_package_alone(package: Path, moto_endpoint: str,
                                                                       tmp_path: Path) -> None:
    endpoint = moto_endpoint
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home / "missing"),
           "XDG_CACHE_HOME": "/proc/walens-cannot-write-here", "XDG_DATA_HOME": "/proc/walens-cannot-write-here",
           **_aws(tmp_path, endpoint), "BUCKET": BUCKET, "REGIONS": REGION, "ACCOUNTS": f"{ACCOUNT},{MEMBER}",
           "ROLE_NAME": ROLE, "SELECT": "OPS001", "SERVICES": "lambda", "LOGS_INSIGHTS": "false",
           "FAIL_ON": "never", "PARTITION_RETRIES": "2", "WALENS_RATE_LIMITS": "off"}
    _seed(env)
    assert not (package / "__pycache__").exists() and (package / "app.py").is_file()
    assert any(package.glob("walens/rules/**/*.yaml")) and any(package.glob("walens/reports_templates/*"))

    planned = invoke(package, env, {"task": "plan", "run": "20261206T000000Z"})
    assert (planned["accounts"], planned["partitions"]) == (2, 2)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                      aws_secret_access_key="testing", aws_session_token="testing")
    items = json.loads(s3.get_object(Bucket=BUCKET, Key=planned["items_key"])["Body"].read())
    assert items == [{"account": ACCOUNT, "regions": [REGION]}, {"account": MEMBER, "regions": [REGION]}]
    for item in items:
        scanned = invoke(package, env, {"task": "scan", "run": planned["run"], "account": item["account"],
                                        "region": REGION, "attempt": 0})
        assert scanned["status"] == "assessed"
    merged = invoke(package, env, {"task": "merge", "run": planned["run"]})

    assert merged["coverage"]["assessed"] == 2 and merged["coverage"].get("not_assessed", 0) == 0
    review = json.loads(s3.get_object(Bucket=BUCKET, Key=merged["keys"]["json"])["Body"].read())
    verdicts = {(f["rule_id"], f["resource"]["id"].split(":")[-1], f["status"]) for f in review["findings"]}
    assert {("OPS001", "home-fn", "fail"), ("OPS001", "member-fn", "pass")} <= verdicts, verdicts
    html = s3.get_object(Bucket=BUCKET, Key=merged["keys"]["html"])["Body"].read().decode("utf-8")
    assert "home-fn" in html and "</html>" in html
