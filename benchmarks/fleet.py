"""Fleet run speed: ``walens fleet run`` over A accounts × R regions × F functions on a moto server, and the
projected cost and time of the same run on Step Functions (deploy/fleet).

The moto server runs in a process of its own (benchmarks/account.py's, answering each request ``--latency-ms``
late like a regional endpoint, and answering the Lambda reads moto lacks). Every member account is seeded
through ``sts:AssumeRole`` (moto keys resources by the assumed account), F functions in each of R regions.
Then ``python -m walens fleet run --accounts ... --role-name walens-audit`` runs as a child process: its wall
time and peak memory are measured, and the partitions' own scan times (each partition review's
``started_at``/``finished_at``) feed the projection:

- Step Functions Standard: state transitions = 3 (Plan, ScanAccounts, Merge) + per account 1 (ScanRegions)
  + 1 per partition (ScanPartition) + retries + 1 per not-assessed partition (RecordNotAssessed);
- Lambda: ScanFunction invocations (one per partition) × its duration × 1 GB, plus plan and merge at 10 GB;
- time: Plan + ceil(A / AccountConcurrency) × ceil(R / PerAccountConcurrency) × the p95 partition time + Merge.

Prices are parameters (``--price-*``), defaulting to the us-east-1 list prices written in docs/fleet.md.

    python benchmarks/fleet.py                                   # 100 accounts × 4 regions × 50 functions
    python benchmarks/fleet.py --accounts 100 --functions 5      # the run published in docs/fleet.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from account import REPO, TRUST, _zip, fake_env, start_server

HOME = "123456789012"  # moto's default account: the caller
ROLE = "walens-audit"
REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1", "us-west-2")


def member_ids(count: int) -> list[str]:
    return [f"{200000000000 + i:012d}" for i in range(count)]


def seed(endpoint: str, accounts: list[str], regions: list[str], functions: int) -> int:
    """F functions (half traced, two thirds with log retention) in every (account, region)."""
    import boto3

    code = _zip()
    sts = boto3.client("sts", region_name=regions[0], endpoint_url=endpoint)

    def one_account(account: str) -> int:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"])
        role = session.client("iam", region_name=regions[0], endpoint_url=endpoint).create_role(
            RoleName="bench-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        made = 0
        for region in regions:
            lam = session.client("lambda", region_name=region, endpoint_url=endpoint)
            logs = session.client("logs", region_name=region, endpoint_url=endpoint)
            for i in range(functions):
                name = f"fn-{i:03d}"
                lam.create_function(FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
                                    Code={"ZipFile": code}, MemorySize=128 + 64 * (i % 16),
                                    TracingConfig={"Mode": "Active" if i % 2 else "PassThrough"})
                logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
                if i % 3:
                    logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=30)
                made += 1
        return made

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(pool.map(one_account, accounts))


def run_fleet(env: dict[str, str], out: str, accounts: list[str], regions: list[str], jobs: int,
              per_account: int, services: str | None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS KiB, stdout) of one ``walens fleet run`` child process."""
    cmd = [sys.executable, "-m", "walens", "fleet", "run", "-o", out, "--accounts", ",".join(accounts),
           "--role-name", ROLE, "--region", ",".join(regions), "--jobs", str(jobs), "--per-account", str(per_account),
           "--no-logs-insights", "--fail-on", "never", "--backoff", "1"]
    if services:
        cmd += ["--services", services]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        timer = shutil.which("time", path="/usr/bin:/bin")
        argv = [timer, "-f", "%M", "-o", rss.name, *cmd] if timer else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - start
        words = rss.read().split()
        peak = int(words[-1]) if timer and words and words[-1].isdigit() else 0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"walens fleet run failed ({proc.returncode}): {stderr.decode()[-3000:]}")
    return wall, peak, stdout.decode()


def _seconds(doc: dict[str, Any]) -> float:
    scan = doc["scan"]
    return (datetime.fromisoformat(scan["finished_at"]) - datetime.fromisoformat(scan["started_at"])).total_seconds()


MERGE = """
import json, sys, tempfile, time
from walens.fleet import merge, store
from walens.fleet.worker import ScanOptions
src = store.LocalStore(sys.argv[1])
run = json.loads(src.get("latest.json") or "{}")["run"]
plan = store.load_plan(src, run)
dest = store.LocalStore(sys.argv[2])
start = time.perf_counter()
results = merge.load_results(src, run, plan, ScanOptions())
written = merge.finish(dest, run, results)
print(json.dumps({"seconds": time.perf_counter() - start, "keys": written.keys}))
"""


def merge_step(out: str, dest: str | None = None) -> dict[str, Any]:
    """The merge step alone (what the Step Functions Merge task runs: load the stored partitions, write the
    fleet review), in a child process of its own: its time, its peak memory, the sizes of what it wrote.

    ``dest`` is where it writes (a temporary directory by default); a ``dest`` already holding a fleet review
    is the previous run, which the merge loads and diffs against, as every run after the first does."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        where = dest or tmp
        timer = shutil.which("time", path="/usr/bin:/bin")
        cmd = [sys.executable, "-c", MERGE, out, where]
        argv = [timer, "-f", "%M", "-o", rss.name, *cmd] if timer else cmd
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if proc.returncode != 0:
            raise SystemExit(f"the merge step failed: {proc.stderr[-3000:]}")
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        words = rss.read().split()
        sizes = {fmt: os.path.getsize(os.path.join(where, key)) for fmt, key in data["keys"].items()}
    return {"seconds": float(data["seconds"]), "peak_kib": int(words[-1]) if words and words[-1].isdigit() else 0,
            "sizes": sizes}


def merge_only(out: str) -> int:
    """``--merge-only DIR``: the merge step over a kept run (``--out``), first alone, then again with that
    first fleet review as the previous run (the diff and trend of every later run)."""
    with tempfile.TemporaryDirectory() as dest:
        for label in ("first run (no previous review)", "a later run (previous review loaded and diffed)"):
            m = merge_step(out, dest)
            sizes = ", ".join(f"{fmt} {size / 2**20:,.1f} MiB" for fmt, size in m["sizes"].items())
            print(f"merge, {label}: {m['seconds']:.1f} s, peak memory {m['peak_kib'] / 1024:,.0f} MiB; wrote {sizes}")
    return 0


def project(args: argparse.Namespace, accounts: int, regions: int, partitions: list[float], merge_s: float,
            not_assessed: int, retries: int) -> list[str]:
    """The Step Functions run's cost and time, with its arithmetic."""
    n = len(partitions)
    transitions = 3 + accounts + n + retries + not_assessed
    mean = statistics.fmean(partitions)
    p95 = sorted(partitions)[max(0, math.ceil(0.95 * n) - 1)]
    gb_s_scan = n * mean * args.memory_gb
    gb_s_fleet = (args.plan_s + merge_s) * args.fleet_memory_gb
    cost_sfn = transitions * args.price_transition / 1000
    cost_lambda = (gb_s_scan + gb_s_fleet) * args.price_gb_s + (n + 3 + retries) * args.price_request / 1e6
    puts, gets = n + 6, n + 4
    cost_s3 = puts * args.price_put / 1000 + gets * args.price_get / 1000
    waves = math.ceil(accounts / args.account_concurrency) * math.ceil(regions / args.per_account)
    minutes = (args.plan_s + waves * p95 + merge_s) / 60
    return [
        (f"Projected Step Functions run ({accounts} accounts × {regions} regions = {n} partitions, "
        f"ScanFunction {args.memory_gb:g} GB arm64, AccountConcurrency {args.account_concurrency}, "
        f"PerAccountConcurrency {args.per_account}):"),
        "",
        "| item | arithmetic | per run |",
        "|---|---|---:|",
        (f"| state transitions | 3 + {accounts} + {n} + {retries} retries + {not_assessed} not assessed = {transitions} "
        f"× ${args.price_transition}/1,000 | ${cost_sfn:.4f} |"),
        (f"| Lambda compute | {n} × {mean:.2f} s (mean partition) × {args.memory_gb:g} GB + "
        f"({args.plan_s:g} + {merge_s:.1f}) s × {args.fleet_memory_gb:g} GB = {gb_s_scan + gb_s_fleet:,.0f} GB-s × "
        f"${args.price_gb_s:.10f}/GB-s | ${(gb_s_scan + gb_s_fleet) * args.price_gb_s:.4f} |"),
        (f"| Lambda requests | {n + 3 + retries} × ${args.price_request}/1M | "
        f"${(n + 3 + retries) * args.price_request / 1e6:.5f} |"),
        f"| S3 | {puts} PUT × ${args.price_put}/1,000 + {gets} GET × ${args.price_get}/1,000 | ${cost_s3:.4f} |",
        f"| **total** | | **${cost_sfn + cost_lambda + cost_s3:.3f}** |",
        "",
        (f"Time: {args.plan_s:g} s plan + {waves} waves (⌈{accounts}/{args.account_concurrency}⌉ × "
        f"⌈{regions}/{args.per_account}⌉) × {p95:.1f} s (p95 partition) + {merge_s:.1f} s merge ≈ {minutes:.1f} min."),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--regions", type=int, default=4, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--functions", type=int, default=50, help="functions per account and region")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--per-account", type=int, default=2)
    parser.add_argument("--services", default=None, help="--services for the scan (default: all)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--memory-gb", type=float, default=1.0, help="ScanFunction memory (GB)")
    parser.add_argument("--fleet-memory-gb", type=float, default=10.0, help="FleetFunction memory (GB): plan, merge")
    parser.add_argument("--account-concurrency", type=int, default=40)
    parser.add_argument("--plan-s", type=float, default=3.0, help="Plan task seconds (ListAccounts + S3 writes)")
    parser.add_argument("--price-transition", type=float, default=0.025, help="USD per 1,000 state transitions")
    parser.add_argument("--price-gb-s", type=float, default=0.0000133334, help="USD per GB-second, arm64")
    parser.add_argument("--price-request", type=float, default=0.20, help="USD per 1M Lambda requests")
    parser.add_argument("--price-put", type=float, default=0.005, help="USD per 1,000 S3 PUT")
    parser.add_argument("--price-get", type=float, default=0.0004, help="USD per 1,000 S3 GET")
    parser.add_argument("--json", help="write the measurements to this file")
    parser.add_argument("--out", help="keep the fleet run's output (reviews, fleet.html) in this directory")
    parser.add_argument("--merge-only", metavar="DIR", help="only time the merge step over a run kept with --out")
    args = parser.parse_args(argv)
    if args.merge_only:
        return merge_only(args.merge_only)

    regions = list(REGIONS[:args.regions])
    members = member_ids(args.accounts)
    server, endpoint, _ = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = fake_env(endpoint, tmp)
            os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
            t0 = time.perf_counter()
            made = seed(endpoint, members, regions, args.functions)
            seeded_s = time.perf_counter() - t0
            print(f"seeded {made} functions in {seeded_s:.0f} s", file=sys.stderr)
            out = args.out or os.path.join(tmp, "fleet")
            wall, peak, stdout = run_fleet(env, out, members, regions, args.jobs, args.per_account, args.services)
            latest = json.loads(Path(out, "latest.json").read_text(encoding="utf-8"))
            doc = json.loads(Path(out, latest["key"]).read_text(encoding="utf-8"))
            parts = sorted(Path(out, "runs", latest["run"], "partitions").iterdir())
            stored = [json.loads(p.read_text(encoding="utf-8")) for p in parts]
            durations = [_seconds(s["review"]) for s in stored if s["outcome"]["status"] != "not_assessed"]
            retries = sum(max(0, int(s["outcome"]["attempts"]) - 1) for s in stored)
            merged = merge_step(out)
            merge_s = merged["seconds"]
    finally:
        server.terminate()
        server.join(10)

    fleet = doc["fleet"]
    calls = sum(doc["scan"]["api_calls"].values())
    print(f"walens fleet run, moto server on 127.0.0.1 in its own process answering {args.latency_ms:g} ms late, "
          f"{args.accounts} accounts × {args.regions} regions × {args.functions} functions = {made} functions, "
          f"--jobs {args.jobs} --per-account {args.per_account}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs\n")
    print("| partitions | assessed | wall time | per partition (mean / p95) | API calls | findings | merge | "
          "peak memory |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    p95 = sorted(durations)[max(0, math.ceil(0.95 * len(durations)) - 1)] if durations else 0.0
    print(f"| {fleet['coverage']['planned']} | {fleet['coverage'].get('assessed', 0)} | {wall:.0f} s | "
          f"{statistics.fmean(durations) if durations else 0:.1f} s / {p95:.1f} s | {calls} | {len(doc['findings'])} | "
          f"{merge_s:.1f} s | {peak / 1024:.0f} MiB |\n")
    sizes = ", ".join(f"{fmt} {size / 2**20:,.1f} MiB" for fmt, size in merged["sizes"].items())
    print(f"Merge step alone (a process of its own, as the Merge task): {merge_s:.1f} s, peak memory "
          f"{merged['peak_kib'] / 1024:,.0f} MiB; it wrote {sizes}.\n")
    print("\n".join(project(args, args.accounts, args.regions, durations,
                            merge_s, fleet["coverage"].get("not_assessed", 0), retries)))
    print("\n" + stdout.strip())
    if args.json:
        Path(args.json).write_text(json.dumps({"wall_s": wall, "peak_rss_kib": peak, "durations_s": durations,
                                               "merge_s": merge_s, "merge_peak_kib": merged["peak_kib"],
                                               "merge_sizes": merged["sizes"], "api_calls": calls, "coverage": fleet["coverage"],
                                               "seeded_functions": made, "seed_s": seeded_s}, indent=1),
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
