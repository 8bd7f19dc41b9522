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

    python benchmarks/account.py                       # 1,000 functions, workers 1 4 16, 3 runs each
    python benchmarks/account.py --functions 200 --repeat 1 --workers 1 8
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def fake_env(endpoint: str, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.path.join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
                "PYTHONPATH": str(REPO)})
    return env


def _serve(port: int, latency_s: float, ready: Any) -> None:
    """Run a moto server on 127.0.0.1:port, answering each request ``latency_s`` late (its own process)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if latency_s and not path.startswith("/moto-api"):
            time.sleep(latency_s)  # a network round trip: sleeps, so it costs the server no CPU
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


def start_server(latency_ms: float) -> tuple[Any, str]:
    """A moto server in a separate process, so the emulator never competes with this one for the GIL."""
    import multiprocessing

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_serve, args=(port, latency_ms / 1000, ready), daemon=True)
    server.start()
    if not ready.wait(60):
        server.terminate()
        raise SystemExit("the moto server did not start")
    return server, f"http://127.0.0.1:{port}"


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
        proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    args = parser.parse_args(argv)

    server, endpoint = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = fake_env(endpoint, tmp)
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            t0 = time.perf_counter()
            seeded = seed(endpoint, args.functions)
            print(f"seeded {seeded} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            out = os.path.join(tmp, "review.json")
            run_once(env, args.workers[-1], out)  # untimed warm-up: .pyc files, page cache
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


if __name__ == "__main__":
    sys.exit(main())
