"""Account scan speed: ``walens scan account`` against a seeded moto server, for 1, 4 and 16 workers.

Starts a moto server on 127.0.0.1 in a process of its own, answering every request ``--latency-ms``
late (default 20 ms, a typical round trip to a regional AWS endpoint; moto itself answers in a few ms
of CPU, so without it the scan measures the emulator, not the concurrency) and answering the Lambda
operations moto lacks (GetAccountSettings, ListCodeSigningConfigs, GetFunctionRecursionConfig) as
Lambda would for the seeded account, so the call count is what a real account costs; seeds it with
N functions (default 1,000) plus their log groups, one queue per 10 functions (each with an event source
mapping) and one REST API per 50 functions, then runs ``python -m walens scan account`` as a child
process for each worker count, ``--repeat`` times, and prints one table: median wall time, API calls per
function (the review's ``scan.api_calls``) and peak memory (the child's max RSS, from ``wait4``). A last
in-process run with a ``before-call`` hook breaks the calls down per operation, to show which ones
dominate, and one per ``--select`` selection (default: the security pillar) shows what the call planner
spares a review of fewer rules. Nothing touches real AWS: fake credentials, ``AWS_ENDPOINT_URL`` at the
local server.

``--throttle`` instead makes the server throttle as AWS does once seeding is done: above the rates in
``AWS_RATES`` (Lambda's control plane 15 requests/s, GetPolicy 15/s and GetFunction 100/s apart, API
Gateway 10/s; token buckets holding one second) it answers ``429 TooManyRequestsException``. walens then
runs once with its default pacing and once with pacing off (backoff only), and the table reports wall
time, throttling answers, retries, throttled gaps and the functions missing from the review or left
not_assessed by throttling (both must be 0).

    python benchmarks/account.py                       # 1,000 functions, workers 1 4 16, 3 runs each
    python benchmarks/account.py --functions 200 --repeat 1 --workers 1 8
    python benchmarks/account.py --functions 200 --workers 16 --throttle
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


# What AWS allows per account and region, in requests per second ("service:Operation": a quota of its own;
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html): --throttle answers above it.
AWS_RATES = {"lambda": 15.0, "lambda:GetPolicy": 15.0, "lambda:GetFunction": 100.0, "apigateway": 10.0}
NO_PACING = "off"
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


class _Bucket:
    """A token bucket holding one second of requests: what the endpoint lets through."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def _bucket_key(environ: Any) -> str:
    """``service`` or ``service:Operation`` (Lambda's GetPolicy and GetFunction) of a request."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else ""
    path = environ.get("PATH_INFO", "").rstrip("/")
    if service == "lambda" and environ.get("REQUEST_METHOD") == "GET":
        if re.fullmatch(r"/2015-03-31/functions/[^/]+/policy", path):
            return "lambda:GetPolicy"
        if re.fullmatch(r"/2015-03-31/functions/[^/]+", path):
            return "lambda:GetFunction"
    return service


def fake_env(endpoint: str, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.path.join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
                "PYTHONPATH": str(REPO)})
    return env


def _serve(port: int, latency_s: float, ready: Any, throttling: Any = None) -> None:
    """Run a moto server on 127.0.0.1:port, answering each request ``latency_s`` late (its own process);
    once ``throttling`` is set, requests above AWS_RATES get Lambda's and API Gateway's throttling answer."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    moto_app = DomainDispatcherApplication(create_backend_app)
    buckets = {key: _Bucket(rate) for key, rate in AWS_RATES.items()}
    answered = Counter[str]()  # throttling answers sent, per bucket
    answered_lock = threading.Lock()

    def app(environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/walens-bench/throttled":  # what the harness asks between runs
            with answered_lock:
                body = json.dumps(answered).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if latency_s and not path.startswith("/moto-api"):
            time.sleep(latency_s)  # a network round trip: sleeps, so it costs the server no CPU
        bucket = buckets.get(_bucket_key(environ)) if throttling is not None and throttling.is_set() else None
        if bucket is not None and not bucket.take():
            with answered_lock:
                answered[_bucket_key(environ)] += 1
            body = json.dumps({"message": "Rate exceeded", "Reason": "CallerRateLimitExceeded", "Type": "User"}).encode()
            start_response("429 Too Many Requests", [("Content-Type", "application/json"),
                                                     ("x-amzn-ErrorType", "TooManyRequestsException"),
                                                     ("Content-Length", str(len(body)))])
            return [body]
        answer = _missing_in_moto(path.rstrip("/"))
        if answer is not None:
            body = json.dumps(answer).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return moto_app(environ, start_response)

    import logging

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log on the terminal
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - moto prints a line per request it has no backend for
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    ready.set()
    server.serve_forever()


def _missing_in_moto(path: str) -> dict[str, Any] | None:
    """Lambda operations moto lacks, answered as Lambda would for the seeded account (else None).

    Without them walens would fall back or give up once per region and the call count would be lower
    than against AWS: the benchmark counts the calls a real account costs.
    """
    if path == "/2016-08-19/account-settings":
        return _account_settings()
    if path == "/2020-04-22/code-signing-configs":
        return {"CodeSigningConfigs": []}  # the seed creates none
    if path.startswith("/2024-08-31/functions/") and path.endswith("/recursion-config"):
        return {"RecursiveLoop": "Terminate"}  # Lambda's default; the seed changes no function's
    return None


def _account_settings() -> dict[str, Any]:
    """lambda:GetAccountSettings, which moto lacks, computed from moto's own functions (one account, one
    region here) the way Lambda computes it: the unreserved pool is the limit minus every reservation."""
    from moto.awslambda.models import lambda_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    functions = list(lambda_backends[DEFAULT_ACCOUNT_ID][REGION]._lambdas.all())
    reserved = sum(int(fn.reserved_concurrency or 0) for fn in functions)
    return {"AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                             "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
                             "UnreservedConcurrentExecutions": 1000 - reserved},
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)}}


def start_server(latency_ms: float) -> tuple[Any, str, Any]:
    """A moto server in a separate process, so the emulator never competes with this one for the GIL;
    also the event that turns its throttling on."""
    import multiprocessing

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    throttling = context.Event()
    server = context.Process(target=_serve, args=(port, latency_ms / 1000, ready, throttling), daemon=True)
    server.start()
    if not ready.wait(60):
        server.terminate()
        raise SystemExit("the moto server did not start")
    return server, f"http://127.0.0.1:{port}", throttling


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def seed(endpoint: str, functions: int) -> dict[str, int]:
    import boto3

    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

    role = client("iam").create_role(RoleName="bench-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    code = _zip()
    lam, logs, sqs, apigw = client("lambda"), client("logs"), client("sqs"), client("apigateway")

    def one(i: int) -> None:
        name = f"fn-{i:04d}"
        lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
                            Code={"ZipFile": code}, MemorySize=128 + 64 * (i % 16), Timeout=10 + i % 20,
                            TracingConfig={"Mode": "Active" if i % 2 else "PassThrough"})
        logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
        if i % 3:
            logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=30)
        if i % 10 == 0:
            url = sqs.create_queue(QueueName=f"queue-{i:04d}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
        if i % 50 == 0:
            api = apigw.create_rest_api(name=f"api-{i:04d}", endpointConfiguration={"types": ["REGIONAL"]})["id"]
            root = apigw.get_resources(restApiId=api)["items"][0]["id"]
            res = apigw.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
            apigw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE")
            apigw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="MOCK")
            apigw.create_deployment(restApiId=api, stageName="prod")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(functions)))
    return {"functions": functions, "log_groups": functions, "queues": (functions + 9) // 10,
            "apis": (functions + 49) // 50}


def run_once(env: dict[str, str], workers: int, out: str) -> tuple[float, int, dict[str, Any]]:
    """(wall seconds, peak RSS in KiB, review) of one ``walens scan account`` child process.

    Peak RSS: Linux starts a forked child's ru_maxrss at its parent's RSS, and this harness grows to
    hundreds of MiB (seeding clients, the reviews it reads back), so the child is started through GNU
    time (a ~2 MiB process) when installed, as benchmarks/compare.py does; else wait4's figure is an
    upper bound.
    """
    cmd = [sys.executable, "-m", "walens", "scan", "account", "--region", REGION, "--max-workers", str(workers),
           "--format", "json", "--output", out, "--fail-on", "never"]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        timer = shutil.which("time", path="/usr/bin:/bin")
        argv = [timer, "-f", "%M", "-o", rss.name, *cmd] if timer else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=env.get("PYTHONPATH", REPO), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        peak = int(usage.ru_maxrss)
        words = rss.read().split()
        if timer and words and words[-1].isdigit():
            peak = int(words[-1])
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"walens failed ({proc.returncode}): {err[-2000:]}")
    with open(out, encoding="utf-8") as handle:
        doc = json.load(handle)
    return wall, peak, doc


def per_operation(endpoint: str, tmp: str, workers: int, select: list[str] | None = None) -> Counter[str]:
    """Calls per operation of one in-process scan (a before-call hook on every client) of the ``select``
    rules (all of them by default): the call planner makes only the calls the selected rules need."""
    os.environ.update(fake_env(endpoint, tmp))
    from walens.pipeline import scan_account

    calls: Counter[str] = Counter()

    def hook(client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([f"{service}:{model.name}"]))

    scan_account(regions=[REGION], max_workers=workers, fail_on="never", hooks=[hook], select=select or ())
    return calls


def _server_throttled(env: dict[str, str]) -> dict[str, int]:
    """The throttling answers the server has sent so far, per bucket."""
    import urllib.request

    with urllib.request.urlopen(env["AWS_ENDPOINT_URL"] + "/walens-bench/throttled", timeout=30) as answer:
        return dict(json.load(answer))


def throttled_runs(env: dict[str, str], workers: int, out: str, functions: int,
                   others: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One scan with walens' default pacing and one with pacing off, against the throttling server; then
    one per ``LABEL=DIR`` in ``others`` (walens from another source tree, e.g. an earlier commit)."""
    expected = {f"fn-{i:04d}" for i in range(functions)}
    rows = []
    variants: list[tuple[str, dict[str, str]]] = [("default pacing", {}),
                                                  ("no pacing (backoff only)", {"WALENS_RATE_LIMITS": NO_PACING})]
    for other in others:
        label, _, src = other.partition("=")
        variants.append((label, {"PYTHONPATH": str(Path(src).resolve())}))
    for label, extra in variants:
        before = sum(_server_throttled(env).values())
        wall, peak, doc = run_once({**env, **extra}, workers, out)
        sent = sum(_server_throttled(env).values()) - before
        scan = doc["scan"]
        seen = {f["resource"]["name"] for f in doc["findings"] if f["resource"]["type"] == "AWS::Lambda::Function"}
        hidden = {f["resource"]["name"] for f in doc["findings"] if f["resource"]["type"] == "AWS::Lambda::Function"
                  and f["status"] == "not_assessed" and "throttled" in (f.get("reason") or "")}
        row = {"walens": label, "workers": workers, "wall_s": round(wall, 1), "peak_rss_kib": peak,
               "api_calls": sum(scan["api_calls"].values()), "throttled_by_server": sent,
               # None: a walens that did not count them (--compare-with an earlier tree)
               "throttled": sum(scan["throttled"].values()) if "throttled" in scan else None,
               "retries": sum(scan["retries"].values()) if "retries" in scan else None,
               "throttled_gaps": sum(g["count"] for g in doc["gaps"] if g["kind"] == "throttled"),
               "missing_functions": len(expected - seen), "functions_not_assessed_by_throttling": len(hidden)}
        print(f"{label}: {row}", file=sys.stderr)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0,
                        help="answer every request this late, like an AWS endpoint's round trip (0: raw moto)")
    parser.add_argument("--select", nargs="*", default=["security"],
                        help="also count the calls of a review of only these rules (one selection each; "
                             "comma-separated rule IDs or pillars); default: security")
    parser.add_argument("--json", help="write every run and the summary to this file")
    parser.add_argument("--throttle", action="store_true",
                        help="throttle above AWS's rates; compare default pacing with none (--workers: last value)")
    parser.add_argument("--compare-with", action="append", default=[], metavar="LABEL=DIR",
                        help="with --throttle, also run walens from DIR (e.g. an earlier commit's tree)")
    args = parser.parse_args(argv)

    server, endpoint, throttling = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = fake_env(endpoint, tmp)
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            t0 = time.perf_counter()
            seeded = seed(endpoint, args.functions)
            print(f"seeded {seeded} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            out = os.path.join(tmp, "review.json")
            run_once(env, args.workers[-1], out)  # untimed warm-up: .pyc files, page cache
            if args.throttle:
                throttling.set()
                throttled = throttled_runs(env, args.workers[-1], out, args.functions, args.compare_with)
                print_throttled(throttled, args, seeded)
                if args.json:
                    Path(args.json).write_text(json.dumps({"throttled": throttled}, indent=1), encoding="utf-8")
                return 0
            rows = []
            runs: list[dict[str, Any]] = []
            for workers in args.workers:
                walls, rss, calls = [], [], []
                for n in range(args.repeat):
                    wall, peak, doc = run_once(env, workers, out)
                    total = sum(doc["scan"]["api_calls"].values())
                    walls.append(wall)
                    rss.append(peak)
                    calls.append(total)
                    runs.append({"workers": workers, "run": n + 1, "wall_s": round(wall, 3), "peak_rss_kib": peak,
                                 "api_calls": doc["scan"]["api_calls"], "findings": len(doc["findings"]),
                                 "gaps": len(doc["gaps"])})
                    print(f"workers {workers} run {n + 1}: {wall:.1f} s, {total} calls, {peak / 1024:.0f} MiB",
                          file=sys.stderr)
                rows.append((workers, statistics.median(walls), min(walls), max(walls),
                             statistics.median(calls) / args.functions, max(rss) / 1024))
            breakdown = per_operation(endpoint, tmp, args.workers[-1])
            selected = {name: per_operation(endpoint, tmp, args.workers[-1], name.split(","))
                        for name in args.select}
    finally:
        server.terminate()
        server.join(10)

    print(f"walens scan account, moto server on 127.0.0.1 in its own process answering {args.latency_ms:g} ms late, "
          f"{args.functions} functions "
          f"({seeded['log_groups']} log groups, {seeded['queues']} queues, {seeded['apis']} REST APIs), "
          f"median of {args.repeat} runs, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| --max-workers | wall time (median) | min – max | API calls per function | peak memory |")
    print("|---:|---:|---:|---:|---:|")
    for workers, median, low, high, per_fn, peak in rows:
        print(f"| {workers} | {median:.1f} s | {low:.1f} – {high:.1f} s | {per_fn:.2f} | {peak:.0f} MiB |")
    total = sum(breakdown.values())
    print(f"\nCalls per operation (one scan, {total} calls, {total / args.functions:.2f} per function):\n")
    print("| operation | calls | per function |")
    print("|---|---:|---:|")
    for op, count in breakdown.most_common():
        if count >= args.functions / 20:
            print(f"| {op} | {count} | {count / args.functions:.2f} |")
    rest = sum(c for c in breakdown.values() if c < args.functions / 20)
    print(f"| everything else | {rest} | {rest / args.functions:.2f} |")
    for name, counts in selected.items():
        total = sum(counts.values())
        print(f"\nCalls per operation with --select {name} ({total} calls, {total / args.functions:.2f} per "
              f"function; the call planner asks only what the selected rules read):\n")
        print("| operation | calls | per function |")
        print("|---|---:|---:|")
        for op, count in counts.most_common():
            if count >= args.functions / 20:
                print(f"| {op} | {count} | {count / args.functions:.2f} |")
        rest = sum(c for c in counts.values() if c < args.functions / 20)
        print(f"| everything else | {rest} | {rest / args.functions:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "operations": dict(breakdown),
                                               "selections": {k: dict(v) for k, v in selected.items()}}, indent=1),
                                   encoding="utf-8")
    return 0


def print_throttled(rows: list[dict[str, Any]], args: Any, seeded: dict[str, int]) -> None:
    rates = ", ".join(f"{k} {v:g}/s" for k, v in AWS_RATES.items())
    print(f"walens scan account against a moto server on 127.0.0.1 that throttles like AWS ({rates}; 429 "
          f"TooManyRequestsException above), answering {args.latency_ms:g} ms late, {args.functions} functions "
          f"({seeded['queues']} queues, {seeded['apis']} REST APIs), --max-workers {args.workers[-1]}, one run "
          f"each, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| walens | wall time | API calls | 429s sent by the server | throttled answers walens counted | retries "
          "| throttled gaps | functions missing | functions not assessed (throttled) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        counts = {k: "–" if r[k] is None else r[k] for k in ("throttled", "retries")}
        print(f"| {r['walens']} | {r['wall_s']:.1f} s | {r['api_calls']} | {r['throttled_by_server']} "
              f"| {counts['throttled']} | {counts['retries']} "
              f"| {r['throttled_gaps']} | {r['missing_functions']} | {r['functions_not_assessed_by_throttling']} |")


if __name__ == "__main__":
    sys.exit(main())
