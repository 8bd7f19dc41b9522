#!/usr/bin/env python3
"""Time walens against cfn-lint (+ serverless rules) and checkov on the same inputs, in one run.

Standard library only. See benchmarks/README.md for what it measures and how to read the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS_INPUT = REPO.parent / "shared" / "corpus" / "sam-translator" / "input"
DEFAULT_SMALL = REPO / "examples" / "minimal" / "template.yaml"
FALLBACK_SMALL = CORPUS_INPUT / "basic_function.yaml"
REQUIREMENTS = HERE / "requirements-peers.txt"
DEFAULT_PEERS_VENV = HERE / ".peers-venv"
# The same file kinds and skipped folders as walens's own discover(), so every tool sees one set.
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = frozenset({"node_modules", ".aws-sam", "cdk.out", ".git"})
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
DEFAULT_REPEATS = {"small": 5, "folder": 3}
# checkov 3.3.30 aborts the whole run (exit 2, "TypeError: unhashable type: 'dict'") on this template,
# whose resource Type is a mapping; left out by default so checkov gets a time (--include-all keeps it).
DEFAULT_EXCLUDES = ("resource_with_invalid_type.yaml",)
RUN_TIMEOUT_S = 900.0
# cfn-lint ORs 2 (error), 4 (warning) and 8 (informational) into its exit code; anything else is a failure.
CFN_LINT_FINDING_BITS = 2 | 4 | 8
# E0000 template not parsed, E0001 transform failed, E0002 a rule crashed (cfn-lint reports its own bugs as findings).
CFN_LINT_SELF_ERRORS = ("E0000", "E0001", "E0002")
WALENS_OK_EXITS = frozenset({0, 3})  # 3: some inputs unreadable, recorded, the batch finished; 1 cannot
# happen under --fail-on never, and it is what Python exits with on an uncaught error


class OutputError(ValueError):
    """A tool exited with an accepted code but wrote output that proves it did not finish."""


@dataclass(frozen=True)
class Input:
    """What one measurement scans: a single template or a folder of them."""

    label: str
    root: Path
    files: tuple[Path, ...]

    @property
    def is_folder(self) -> bool:
        """True when the input is a folder."""
        return self.root.is_dir()


@dataclass(frozen=True)
class Tool:
    """A command under test: how to build its argv, which exit codes mean "finished", what its output says."""

    name: str
    command: Callable[[Input, Path], list[str]]
    ok_exit: Callable[[int], bool]
    inspect: Callable[[Path], dict[str, int]]
    env: dict[str, str] | None = None


@dataclass
class Run:
    """One timed execution of one tool on one input."""

    tool: str
    input: str
    repeat: int
    wall_s: float
    cpu_s: float
    max_rss_mib: float
    exit_code: int
    ok: bool
    problem: str = ""
    notes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Measured:
    """Raw numbers of one child process, reaped with os.wait4 so its rusage is its own."""

    wall_s: float
    cpu_s: float
    max_rss_mib: float
    exit_code: int
    timed_out: bool
    stderr_tail: str


def gnu_time() -> str | None:
    """Path of GNU time when installed (it reaps the tool from a tiny process, see measure())."""
    path = shutil.which("time", path="/usr/bin:/bin")
    if path is None:
        return None
    proc = subprocess.run([path, "-f", "%M", "true"], capture_output=True, text=True)
    return path if proc.returncode == 0 and proc.stderr.strip().isdigit() else None


def measure(argv: Sequence[str], stdout_path: Path, timeout_s: float = RUN_TIMEOUT_S,
            cwd: Path | None = None, time_cmd: str | None = None,
            env: dict[str, str] | None = None) -> Measured:
    """Run argv once with stdout to stdout_path; return wall time, CPU, peak RSS and exit code.

    Peak RSS: Linux starts a child's ru_maxrss at its parent's RSS when it forks, so a child forked
    from this (growing) harness never looks smaller than the harness. With time_cmd (GNU time) the
    tool is forked from a ~2 MiB process instead; without it, os.wait4 gives the child's own rusage
    (never the running maximum over all children that RUSAGE_CHILDREN deltas would give).
    """
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        command = [time_cmd, "-f", "%M", "-o", rss.name, *argv] if time_cmd else list(argv)
        timed_out = threading.Event()
        start = time.perf_counter()
        # A new session lets a timeout kill the whole tree (checkov forks workers).
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=env, start_new_session=True)

        def kill() -> None:
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-800:].decode("utf-8", "replace")
        max_rss_kib = float(usage.ru_maxrss)  # Linux reports KiB
        if time_cmd:
            # GNU time writes "Command exited with non-zero status N" before the format line.
            lines = rss.read().split()
            if lines and lines[-1].isdigit():
                max_rss_kib = float(lines[-1])
    return Measured(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mib=max_rss_kib / 1024,
        exit_code=proc.returncode,
        timed_out=timed_out.is_set(),
        stderr_tail=tail,
    )


# ---------------------------------------------------------------- inputs

def discover(folder: Path) -> tuple[Path, ...]:
    """Template files under folder, the way walens discovers them."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(TEMPLATE_SUFFIXES))
    return tuple(found)


def with_sam_transform(text: str) -> str | None:
    """Text with `Transform: AWS::Serverless-2016-10-31` prepended, or None when it needs none or can't take one.

    The translator's test inputs often omit the Transform; a deployable SAM template has it, and
    without it cfn-lint skips its SAM handling and reports E3038 on every resource instead.
    """
    if "AWS::Serverless::" not in text:
        return None
    if re.search(r"^Transform\s*:", text, re.MULTILINE):
        return None
    # Flow-style/JSON documents, directives and explicit document markers can't take a prepended key.
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) or re.search(r"^(---|%)", text, re.MULTILINE):
        return None
    return f"Transform: {SAM_TRANSFORM}\n{text}"


def stage_corpus(source: Path, dest: Path, add_transform: bool,
                 exclude: frozenset[str] = frozenset()) -> tuple[int, int]:
    """Copy the valid (not error_*, not excluded) corpus templates into dest; return (copied, transforms added)."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = added = 0
    for src in sorted(source.iterdir()):
        if src.name.startswith("error_") or src.name in exclude or not src.name.endswith(TEMPLATE_SUFFIXES):
            continue
        text = src.read_text(encoding="utf-8")
        patched = with_sam_transform(text) if add_transform else None
        (dest / src.name).write_text(patched if patched is not None else text, encoding="utf-8")
        copied += 1
        added += patched is not None
    return copied, added


def stage_small(source: Path, dest_dir: Path, add_transform: bool) -> Path:
    """Copy the small template into its own folder (so checkov -d and walens see only it)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8")
    patched = with_sam_transform(text) if add_transform else None
    dest = dest_dir / source.name
    dest.write_text(patched if patched is not None else text, encoding="utf-8")
    return dest


# ---------------------------------------------------------------- peers' environment

def read_pins(requirements: Path) -> dict[str, str]:
    """name -> pinned version from a requirements file of `name==version` lines."""
    pins: dict[str, str] = {}
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"{requirements}: '{line}' is not pinned with ==")
        pins[name.strip()] = version.strip()
    return pins


def venv_bin(venv: Path, name: str) -> Path:
    """Path of an executable inside a virtualenv."""
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def installed_versions(venv: Path, names: Sequence[str]) -> dict[str, str | None]:
    """Versions of names as installed in venv (None when absent)."""
    python = venv_bin(venv, "python")
    if not python.exists():
        return {n: None for n in names}
    probe = ("import importlib.metadata as m, json, sys\n"
             "def v(n):\n"
             "    try: return m.version(n)\n"
             "    except m.PackageNotFoundError: return None\n"
             "print(json.dumps({n: v(n) for n in sys.argv[1:]}))")
    proc = subprocess.run([str(python), "-c", probe, *names], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def ensure_peers(venv: Path, requirements: Path, log: Path) -> dict[str, str]:
    """Create venv and pip-install the pinned peers unless they are already there; return their versions."""
    pins = read_pins(requirements)
    have = installed_versions(venv, list(pins))
    if have != pins:
        say(f"installing peers into {venv} (log: {log}) ...")
        if not venv_bin(venv, "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        with open(log, "ab") as fh:
            proc = subprocess.run([str(venv_bin(venv, "python")), "-m", "pip", "install",
                                   "--disable-pip-version-check", "-r", str(requirements)],
                                  stdout=fh, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise SystemExit(f"pip install -r {requirements} failed (exit {proc.returncode}); see {log}")
        have = installed_versions(venv, list(pins))
        if have != pins:
            raise SystemExit(f"{venv}: installed {have}, expected {pins}")
    return {name: version for name, version in have.items() if version is not None}


# ---------------------------------------------------------------- tools

def no_notes(_: Path) -> dict[str, int]:
    """Output that carries nothing to check."""
    return {}


def inspect_cfn_lint(stdout: Path) -> dict[str, int]:
    """Count cfn-lint's parseable findings and its own parse/transform/rule errors."""
    notes = {"findings": 0} | {code: 0 for code in CFN_LINT_SELF_ERRORS}
    for line in stdout.read_text(encoding="utf-8", errors="replace").splitlines():
        # path:line:col:endline:endcol:RULE:message
        parts = line.split(":", 6)
        if len(parts) < 7:
            continue
        notes["findings"] += 1
        if parts[5] in CFN_LINT_SELF_ERRORS:
            notes[parts[5]] += 1
    return notes


def inspect_checkov(stdout: Path) -> dict[str, int]:
    """Sum checkov's JSON summary; raise OutputError if the output is not its report."""
    text = stdout.read_text(encoding="utf-8", errors="replace")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputError(f"checkov stdout is not JSON ({exc.msg})") from exc
    reports = doc if isinstance(doc, list) else [doc]
    notes = {"failed": 0, "passed": 0, "parsing_errors": 0, "resource_count": 0}
    for report in reports:
        if not isinstance(report, dict):
            raise OutputError("checkov JSON is not a report object")
        # With no file to scan checkov prints an empty summary without "results".
        summary = report.get("summary", {})
        for key in notes:
            notes[key] += int(summary.get(key, 0))
    return notes


def inspect_walens(review: Path, placeholder: bool = False) -> dict[str, int]:
    """Count the review document's findings and skipped files; only a placeholder may write none."""
    if not review.exists() or review.stat().st_size == 0:
        if placeholder:
            return {"no_review_written": 1}
        raise OutputError("walens wrote no review")
    try:
        doc = json.loads(review.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise OutputError(f"walens review is not JSON ({exc.msg})") from exc
    if not isinstance(doc, dict):
        raise OutputError("walens review is not a JSON object")
    notes = {"findings": len(doc.get("findings", [])), "skipped": len(doc.get("skipped", []))}
    for status, count in sorted(doc.get("summary", {}).get("by_status", {}).items()):
        notes[f"status_{status}"] = int(count)
    return notes


def cfn_lint_ok(code: int) -> bool:
    """cfn-lint finished: 0 or only finding bits set."""
    return code >= 0 and code & ~CFN_LINT_FINDING_BITS == 0


def make_tools(walens_cmd: list[str], venv: Path, placeholder: bool = False) -> list[Tool]:
    """The tools in the order they run within a repeat (the order rotates per repeat).

    placeholder: walens_cmd is a stand-in (not the real CLI), so it need not write a review.
    """
    python = str(venv_bin(venv, "python"))
    cfn_lint = str(venv_bin(venv, "cfn-lint"))
    checkov = str(venv_bin(venv, "checkov"))

    def floor(_: Input, __: Path) -> list[str]:
        return [python, "-c", "pass"]

    def walens(inp: Input, out: Path) -> list[str]:
        # The review goes to the harness's output file (as the peers' stdout does) so it can be checked.
        return [*walens_cmd, "scan", "template", str(inp.root), "--format", "json",
                "--output", str(out), "--fail-on", "never"]

    def walens_one_process(inp: Input, out: Path) -> list[str]:
        # A folder is reviewed in one worker per CPU by default; this row shows the single-process cost.
        return [*walens(inp, out), "--jobs", "1"]

    def cfn_lint_serverless(inp: Input, _: Path) -> list[str]:
        return [cfn_lint, "--format", "parseable", "--append-rules", "cfn_lint_serverless.rules",
                "--", *map(str, inp.files)]

    def cfn_lint_plain(inp: Input, _: Path) -> list[str]:
        return [cfn_lint, "--format", "parseable", "--", *map(str, inp.files)]

    def checkov_cfn(inp: Input, _: Path) -> list[str]:
        target = ["-d", str(inp.root)] if inp.is_folder else ["-f", str(inp.root)]
        # --skip-download: no guideline/policy fetch from the vendor's platform (no network here, and
        # a user without an API key gains nothing from it); --quiet: failed checks only.
        return [checkov, *target, "--framework", "cloudformation", "--quiet", "--compact",
                "-o", "json", "--skip-download"]

    return [
        Tool("python -c pass", floor, lambda c: c == 0, no_notes),
        # The repo on PYTHONPATH so `python -m walens` works from a checkout without an install;
        # tools run in a scratch folder so no project config (.cfnlintrc, .checkov.yaml) is picked up.
        Tool("walens", walens, lambda c: c in WALENS_OK_EXITS,
             lambda out: inspect_walens(out, placeholder),
             env=walens_env()),
        Tool("walens -j 1", walens_one_process, lambda c: c in WALENS_OK_EXITS,
             lambda out: inspect_walens(out, placeholder), env=walens_env()),
        Tool("cfn-lint + serverless-rules", cfn_lint_serverless, cfn_lint_ok, inspect_cfn_lint),
        Tool("cfn-lint", cfn_lint_plain, cfn_lint_ok, inspect_cfn_lint),
        Tool("checkov", checkov_cfn, lambda c: c in (0, 1), inspect_checkov),
    ]


def run_once(tool: Tool, inp: Input, repeat: int, scratch: Path, time_cmd: str | None = None) -> Run:
    """Time one tool on one input and judge whether it finished."""
    out = scratch / f"{re.sub(r'[^a-z0-9]+', '-', tool.name.lower())}-{inp.label}.out"
    out.unlink(missing_ok=True)
    m = measure(tool.command(inp, out), out, cwd=scratch, time_cmd=time_cmd, env=tool.env)
    run = Run(tool=tool.name, input=inp.label, repeat=repeat, wall_s=m.wall_s, cpu_s=m.cpu_s,
              max_rss_mib=m.max_rss_mib, exit_code=m.exit_code, ok=False)
    if m.timed_out:
        run.problem = f"killed after {RUN_TIMEOUT_S:.0f} s"
    elif not tool.ok_exit(m.exit_code):
        last = m.stderr_tail.strip().splitlines()[-1:] or [""]
        run.problem = f"exit {m.exit_code}: {last[0][:200]}"
    else:
        try:
            run.notes = tool.inspect(out)
            run.ok = True
        except OutputError as exc:
            run.problem = str(exc)
    return run


def rotated(tools: list[Tool], k: int) -> list[Tool]:
    """tools rotated left by k, so no tool always runs right after the same neighbour."""
    k %= len(tools)
    return tools[k:] + tools[:k]


def benchmark(tools: list[Tool], inputs: list[Input], repeats: dict[str, int], scratch: Path,
              warmup: Input | None = None, time_cmd: str | None = None) -> list[Run]:
    """Run every tool on every input, interleaving tools within each repeat; warm up on one input first."""
    runs: list[Run] = []
    if warmup is not None:
        # One untimed run each on a small input: compiles .pyc and fills the page cache for every tool.
        for tool in tools:
            run_once(tool, warmup, -1, scratch, time_cmd)
    for inp in inputs:
        for r in range(repeats[inp.label]):
            for tool in rotated(tools, r):
                run = run_once(tool, inp, r, scratch, time_cmd)
                runs.append(run)
                state = "ok" if run.ok else f"FAILED ({run.problem})"
                say(f"  {inp.label:<6} #{r + 1} {tool.name:<28} {run.wall_s:8.2f} s  "
                    f"{run.max_rss_mib:7.1f} MiB  {state}")
    return runs


# ---------------------------------------------------------------- report

@dataclass(frozen=True)
class Row:
    """Summary of one tool on one input."""

    input: str
    tool: str
    runs: int
    failed: int
    median_s: float | None
    min_s: float | None
    cpu_median_s: float | None
    peak_rss_mib: float | None
    exit_codes: tuple[int, ...]
    problems: tuple[str, ...]
    notes: dict[str, int]
    ratio: float | None = None


def summarise(runs: list[Run], reference: str = "walens") -> list[Row]:
    """One row per (input, tool); ratio = tool median / reference median on the same input."""
    order: list[tuple[str, str]] = []
    for run in runs:
        if (run.input, run.tool) not in order:
            order.append((run.input, run.tool))
    rows: list[Row] = []
    for label, tool in order:
        mine = [r for r in runs if r.input == label and r.tool == tool]
        good = [r for r in mine if r.ok]
        walls = [r.wall_s for r in good]
        # A tool that failed even once is reported as failed, never timed as fast.
        clean = bool(good) and len(good) == len(mine)
        rows.append(Row(
            input=label, tool=tool, runs=len(mine), failed=len(mine) - len(good),
            median_s=statistics.median(walls) if clean else None,
            min_s=min(walls) if clean else None,
            cpu_median_s=statistics.median(r.cpu_s for r in good) if clean else None,
            peak_rss_mib=max(r.max_rss_mib for r in good) if clean else None,
            exit_codes=tuple(sorted({r.exit_code for r in mine})),
            problems=tuple(sorted({r.problem for r in mine if r.problem})),
            notes=good[-1].notes if good else {},
        ))
    medians = {(r.input, r.tool): r.median_s for r in rows}
    out: list[Row] = []
    for row in rows:
        ref = medians.get((row.input, reference))
        ratio = row.median_s / ref if row.median_s is not None and ref else None
        out.append(replace(row, ratio=ratio))
    return out


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": str(nproc), "cpu": cpu, "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "python_impl": platform.python_implementation()}


def walens_env() -> dict[str, str]:
    """The environment walens runs in: this checkout first on PYTHONPATH."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}


def walens_version(cmd: list[str]) -> str:
    """`walens --version`, or the command itself when it does not answer like walens."""
    try:
        proc = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60,
                              cwd=tempfile.gettempdir(), env=walens_env())
    except OSError as exc:
        return f"not runnable: {exc}"
    first = (proc.stdout.strip().splitlines() or [""])[0]
    return first if first.startswith("walens") else f"placeholder `{shlex.join(cmd)}`"


def fmt(value: float | None, spec: str) -> str:
    """A number, or an em dash when absent."""
    return "—" if value is None else format(value, spec)


def cell_status(row: Row) -> str:
    """Exit codes, failures and noteworthy notes for one row."""
    bits = [f"exit {','.join(map(str, row.exit_codes))}"]
    if row.failed:
        bits.append(f"**FAILED {row.failed}/{row.runs}**: {'; '.join(row.problems)}")
    for key in ("E0000", "E0001", "E0002", "parsing_errors", "no_review_written", "skipped"):
        if row.notes.get(key):
            bits.append(f"{key}={row.notes[key]}")
    return "; ".join(bits)


def render_markdown(rows: list[Row], meta: dict[str, object]) -> str:
    """The results as a Markdown section ready to paste into the README."""
    m = meta["machine"]
    assert isinstance(m, dict)
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['os']}, "
        f"Python {m['python']}.  ",
        f"Tools: {meta['walens']}; " + ", ".join(f"{k} {v}" for k, v in sorted(meta["peers"].items()))  # type: ignore[union-attr]
        + ".  ",
        f"Inputs: {meta['inputs_text']}.  ",
        f"Repeats: {meta['repeats']} (medians/min of wall time; tools interleaved per repeat; "
        f"one untimed warm-up run each). Peak RSS (via {meta.get('rss_method', 'os.wait4')}) is the largest single "
        "process of the tool's tree.",
        "",
        "| input | tool | median (s) | min (s) | × walens | CPU median (s) | peak RSS (MiB) | status |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.input} | {row.tool} | {fmt(row.median_s, '.3f')} | {fmt(row.min_s, '.3f')} | "
            f"{fmt(row.ratio, '.1f')} | {fmt(row.cpu_median_s, '.2f')} | {fmt(row.peak_rss_mib, '.0f')} | "
            f"{cell_status(row)} |"
        )
    return "\n".join(lines) + "\n"


def render_text(rows: list[Row], meta: dict[str, object]) -> str:
    """The results as a plain aligned table."""
    m = meta["machine"]
    assert isinstance(m, dict)
    head = (f"machine: {m['nproc']} CPUs, {m['cpu']}, {m['memory']}, Python {m['python']}\n"
            f"walens: {meta['walens']}\npeers: {meta['peers']}\ninputs: {meta['inputs_text']}\n")
    table = [f"{'input':<7}{'tool':<29}{'median s':>10}{'min s':>9}{'x walens':>9}{'cpu s':>8}"
             f"{'RSS MiB':>9}  status"]
    for row in rows:
        table.append(f"{row.input:<7}{row.tool:<29}{fmt(row.median_s, '.3f'):>10}{fmt(row.min_s, '.3f'):>9}"
                     f"{fmt(row.ratio, '.1f'):>9}{fmt(row.cpu_median_s, '.2f'):>8}"
                     f"{fmt(row.peak_rss_mib, '.0f'):>9}  {cell_status(row)}")
    return head + "\n".join(table) + "\n"


# ---------------------------------------------------------------- command line

def say(message: str) -> None:
    """Progress to stderr, so stdout stays the report."""
    print(message, file=sys.stderr, flush=True)


def default_walens() -> str:
    """The walens next to this interpreter, else on PATH, else `python -m walens`."""
    beside = Path(sys.executable).with_name("walens")
    if beside.exists():
        return str(beside)
    found = shutil.which("walens")
    return found if found else shlex.join([sys.executable, "-m", "walens"])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", type=Path,
                   help="folder of templates (default: the valid templates of the SAM translator corpus)")
    p.add_argument("--small", type=Path,
                   help=f"one small template (default: {DEFAULT_SMALL.relative_to(REPO)}, "
                        f"else corpus {FALLBACK_SMALL.name})")
    p.add_argument("--repeat", type=int, help="timed repeats for every input (default: small 5, folder 3)")
    p.add_argument("--peers-venv", type=Path, default=DEFAULT_PEERS_VENV,
                   help="virtualenv holding the pinned peers (created when missing)")
    p.add_argument("--walens", default=None,
                   help="walens command prefix; `scan template PATH --format json --output F --fail-on never` "
                        "is appended (default: walens beside this python, on PATH, or python -m walens)")
    p.add_argument("--only", choices=("small", "folder"), help="time one input only")
    p.add_argument("--as-is", action="store_true",
                   help="do not add the SAM Transform to corpus templates that lack it")
    p.add_argument("--exclude", action="append", default=[], metavar="NAME",
                   help="leave this corpus file out (repeatable; added to the default exclusions)")
    p.add_argument("--include-all", action="store_true",
                   help=f"drop the default exclusions ({', '.join(DEFAULT_EXCLUDES)})")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up pass")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table for the README")
    p.add_argument("--json", type=Path, help="also write every run and the summary to this file")
    args = p.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: prepare peers and inputs, time everything, print the report."""
    args = parse_args(argv)
    walens_cmd = shlex.split(args.walens or default_walens())
    peers = ensure_peers(args.peers_venv.resolve(), REQUIREMENTS, HERE / "peers-install.log")

    with tempfile.TemporaryDirectory(prefix="walens-bench-") as tmp:
        scratch = Path(tmp)
        add_transform = not args.as_is
        small_src = args.small or (DEFAULT_SMALL if DEFAULT_SMALL.exists() else FALLBACK_SMALL)
        inputs: list[Input] = []
        texts: list[str] = []
        small = stage_small(small_src.resolve(), scratch / "small", add_transform)
        small_input = Input("small", small, (small,))
        if args.only in (None, "small"):
            inputs.append(small_input)
            texts.append(f"small = {small_src.name} ({small.stat().st_size} bytes)")
        if args.only in (None, "folder"):
            if args.folder:
                folder = args.folder.resolve()
                note = str(args.folder)
            else:
                folder = scratch / "corpus"
                exclude = frozenset(args.exclude) | (frozenset() if args.include_all else frozenset(DEFAULT_EXCLUDES))
                copied, added = stage_corpus(CORPUS_INPUT, folder, add_transform, exclude)
                note = (f"SAM translator corpus, {copied} valid templates"
                        + (f" (left out: {', '.join(sorted(exclude))})" if exclude else "")
                        + (f", Transform added to {added} that lacked it" if added else ""))
            files = discover(folder)
            if not files:
                raise SystemExit(f"{folder}: no template files (*{', *'.join(TEMPLATE_SUFFIXES)})")
            size = sum(f.stat().st_size for f in files)
            inputs.append(Input("folder", folder, files))
            texts.append(f"folder = {note} ({len(files)} files, {size / 1024 / 1024:.1f} MiB)")
        repeats = {inp.label: args.repeat or DEFAULT_REPEATS[inp.label] for inp in inputs}

        version = walens_version(walens_cmd)
        tools = make_tools(walens_cmd, args.peers_venv.resolve(), placeholder=not version.startswith("walens"))
        time_cmd = gnu_time()
        meta: dict[str, object] = {
            "rss_method": "GNU time %M" if time_cmd else "os.wait4 ru_maxrss (floored at the harness's RSS)",
            "machine": machine(), "walens": version, "walens_command": walens_cmd,
            "peers": peers, "inputs_text": "; ".join(texts),
            "repeats": ", ".join(f"{k} {v}" for k, v in repeats.items()),
            "commands": {t.name: shlex.join(t.command(inputs[0], Path("OUT"))) for t in tools},
        }
        say(f"timing {len(tools)} tools on {', '.join(i.label for i in inputs)} ...")
        started = time.perf_counter()
        runs = benchmark(tools, inputs, repeats, scratch,
                         warmup=None if args.no_warmup else small_input, time_cmd=time_cmd)
        meta["total_s"] = round(time.perf_counter() - started, 1)

    rows = summarise(runs)
    print(render_markdown(rows, meta) if args.markdown else render_text(rows, meta), end="")
    say(f"total benchmark time: {meta['total_s']} s")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows],
                                         "runs": [asdict(r) for r in runs]}, indent=2), encoding="utf-8")
    return 1 if any(row.failed for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
