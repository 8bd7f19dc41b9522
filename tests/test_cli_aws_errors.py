"""Account mode when AWS cannot be reached or refuses the credentials: one line, exit 4, never "internal error".

Everything stays on 127.0.0.1: a closed port, and a small server that answers STS like AWS does when the
credentials are expired or unknown. No real AWS endpoint is ever addressed (AWS_ENDPOINT_URL is always set).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


class FakeSts(BaseHTTPRequestHandler):
    """Answers every STS call with the error whose code is the request's access key ID (query protocol)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization") or ""
        code = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else "MissingAuthenticationToken"
        body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>refused by the test server</Message></Error>"
                "<RequestId>t16</RequestId></ErrorResponse>").encode()
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sts() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


def walens(tmp_path: Path, endpoint: str, *args: str, **aws: str) -> subprocess.CompletedProcess[str]:
    """``walens scan account`` with nothing from the caller's AWS setup: no files, no keys, no instance role."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", "HOME": str(tmp_path),
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION, **aws}
    return subprocess.run([sys.executable, "-m", "walens", "scan", "account", "--services", "lambda", *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stdout == "", proc.stdout  # no report: nothing was reviewed
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("walens: error: "), proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    return lines[0]


KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


def test_no_credentials(tmp_path: Path) -> None:
    proc = walens(tmp_path, closed_port())
    assert proc.returncode == 4
    assert "no AWS credentials found" in one_line(proc)


def test_unreachable_endpoint(tmp_path: Path) -> None:
    endpoint = closed_port()
    proc = walens(tmp_path, endpoint, **KEYS)
    assert proc.returncode == 4
    line = one_line(proc)
    assert "cannot reach AWS" in line and endpoint in line


def test_unknown_profile(tmp_path: Path) -> None:
    proc = walens(tmp_path, closed_port(), "--profile", "no-such-profile")
    assert proc.returncode == 4
    assert "AWS profile 'no-such-profile' not found" in one_line(proc)


def test_partial_credentials(tmp_path: Path) -> None:
    proc = walens(tmp_path, closed_port(), AWS_ACCESS_KEY_ID="AKIDEXAMPLE")
    assert proc.returncode == 4
    assert "AWS_SECRET_ACCESS_KEY" in one_line(proc)


@pytest.mark.parametrize(("code", "said"), [
    ("ExpiredToken", "the AWS credentials have expired (ExpiredToken: refused by the test server)"),
    ("InvalidClientTokenId", "AWS rejected the credentials (InvalidClientTokenId: refused by the test server)"),
    ("AccessDenied", "cannot identify the account (sts:GetCallerIdentity): AWS refused GetCallerIdentity "
                     "(AccessDenied: refused by the test server)"),
])
def test_sts_refuses_the_credentials(tmp_path: Path, sts: str, code: str, said: str) -> None:
    proc = walens(tmp_path, sts, AWS_ACCESS_KEY_ID=code, AWS_SECRET_ACCESS_KEY="secret",
                  AWS_SESSION_TOKEN="token")
    assert proc.returncode == 4
    assert said in one_line(proc)


def test_bad_region_is_a_usage_error(tmp_path: Path) -> None:
    proc = walens(tmp_path, closed_port(), "--region", "us east 1", **KEYS)
    assert proc.returncode == 2
    assert "--region: " in one_line(proc)


def test_an_aws_failure_anywhere_is_one_line_exit_4(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A botocore failure that reaches the entry point from any command is not reported as a bug."""
    import botocore.exceptions

    from walens import cli, pipeline

    def unreachable(**_: object) -> None:
        raise botocore.exceptions.ConnectTimeoutError(endpoint_url="https://lambda.example.invalid")

    monkeypatch.setattr(pipeline, "scan_account", unreachable)
    monkeypatch.setattr(sys, "argv", ["walens", "scan", "account", "--region", REGION])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 4
    err = capsys.readouterr().err
    assert err == ('walens: error: cannot reach AWS: Connect timeout on endpoint URL: '
                   '"https://lambda.example.invalid" (check the network, a proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL)\n')


def test_unknown_service_suggests_the_closest(tmp_path: Path) -> None:
    proc = walens(tmp_path, closed_port(), "--services", "lambda,stepfunction", **KEYS)
    assert proc.returncode == 2
    assert one_line(proc).endswith("(did you mean 'stepfunctions'?)")
