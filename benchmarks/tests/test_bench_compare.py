"""Tests of the benchmark harness's logic: inputs, exit-code judgement, output checks, summary. No timings."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SPEC = importlib.util.spec_from_file_location("compare", HERE.parent / "compare.py")
assert SPEC and SPEC.loader
compare = importlib.util.module_from_spec(SPEC)
sys.modules["compare"] = compare  # dataclasses resolve annotations through sys.modules
SPEC.loader.exec_module(compare)

SAM = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
CFN = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SAM, f"Transform: AWS::Serverless-2016-10-31\n{SAM}"),
        (f"Transform: AWS::Serverless-2016-10-31\n{SAM}", None),
        (f"Transform:\n  - AWS::Serverless-2016-10-31\n{SAM}", None),
        (CFN, None),
        (f"---\n{SAM}", None),
        (f"%YAML 1.1\n---\n{SAM}", None),
        ('{"Resources": {"Fn": {"Type": "AWS::Serverless::Function"}}}', None),
    ],
)
def test_with_sam_transform(text: str, expected: str | None) -> None:
    assert compare.with_sam_transform(text) == expected


def test_stage_corpus_copies_valid_templates_and_adds_missing_transforms(tmp_path: Path) -> None:
    src = tmp_path / "input"
    src.mkdir()
    (src / "a.yaml").write_text(SAM)
    (src / "b.yaml").write_text(f"Transform: AWS::Serverless-2016-10-31\n{SAM}")
    (src / "c.yaml").write_text(CFN)
    (src / "error_bad.yaml").write_text(SAM)
    (src / "notes.txt").write_text("x")
    dest = tmp_path / "out"

    assert compare.stage_corpus(src, dest, add_transform=True) == (3, 1)
    assert {p.name for p in dest.iterdir()} == {"a.yaml", "b.yaml", "c.yaml"}
    assert (dest / "a.yaml").read_text() == f"Transform: AWS::Serverless-2016-10-31\n{SAM}"
    assert (dest / "c.yaml").read_text() == CFN


def test_stage_corpus_leaves_out_excluded_names(tmp_path: Path) -> None:
    src = tmp_path / "input"
    src.mkdir()
    for name in ("a.yaml", "resource_with_invalid_type.yaml"):
        (src / name).write_text(CFN)
    assert compare.stage_corpus(src, tmp_path / "out", True, frozenset(compare.DEFAULT_EXCLUDES)) == (1, 0)
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"a.yaml"}


def test_default_exclusions_name_real_corpus_files() -> None:
    assert {n for n in compare.DEFAULT_EXCLUDES if (compare.CORPUS_INPUT / n).is_file()} == set(
        compare.DEFAULT_EXCLUDES)


def test_stage_corpus_as_is_keeps_files_byte_for_byte(tmp_path: Path) -> None:
    src = tmp_path / "input"
    src.mkdir()
    (src / "a.yaml").write_text(SAM)
    assert compare.stage_corpus(src, tmp_path / "out", add_transform=False) == (1, 0)
    assert (tmp_path / "out" / "a.yaml").read_text() == SAM


def test_discover_matches_walens_file_kinds_and_skipped_folders(tmp_path: Path) -> None:
    for rel in ("t.yaml", "u.yml", "v.json", "w.template", "x.txt", "sub/y.yaml",
                "node_modules/z.yaml", ".aws-sam/build/z.yaml", "cdk.out/z.json", ".git/z.yaml"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CFN)
    found = {p.relative_to(tmp_path).as_posix() for p in compare.discover(tmp_path)}
    assert found == {"t.yaml", "u.yml", "v.json", "w.template", "sub/y.yaml"}


def test_read_pins(tmp_path: Path) -> None:
    req = tmp_path / "req.txt"
    req.write_text("# peers\ncfn-lint==1.58.0\n\ncheckov==3.3.30  # slow to install\n")
    assert compare.read_pins(req) == {"cfn-lint": "1.58.0", "checkov": "3.3.30"}
    req.write_text("checkov>=3\n")
    with pytest.raises(SystemExit, match="not pinned"):
        compare.read_pins(req)


def test_shipped_requirements_pin_the_three_peers() -> None:
    pins = compare.read_pins(compare.REQUIREMENTS)
    assert set(pins) == {"cfn-lint", "cfn-lint-serverless", "checkov"}


def test_cfn_lint_exit_codes_that_mean_finished() -> None:
    assert {c for c in range(-9, 40) if compare.cfn_lint_ok(c)} == {0, 2, 4, 6, 8, 10, 12, 14}


def test_inspect_cfn_lint_counts_findings_and_its_own_errors(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text(
        "/t/a.yaml:4:5:4:12:W1030:{'Ref': 'X'} does not match 'a:b'\n"
        "/t/a.yaml:9:3:9:9:ES1005:Lambda function F does not have a MemorySize property\n"
        "/t/b.yaml:1:1:1:2:E0000:Null value at line 3 column 1\n"
        "/t/c.yaml:1:1:1:2:E0002:Unknown exception while processing rule E3012\n"
        "not a parseable line\n"
    )
    assert compare.inspect_cfn_lint(out) == {"findings": 4, "E0000": 1, "E0001": 0, "E0002": 1}


def test_inspect_checkov_sums_every_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = {"check_type": "cloudformation", "results": {},
              "summary": {"passed": 3, "failed": 5, "skipped": 0, "parsing_errors": 1, "resource_count": 7}}
    out.write_text(json.dumps([report, report]))
    assert compare.inspect_checkov(out) == {"failed": 10, "passed": 6, "parsing_errors": 2, "resource_count": 14}
    out.write_text(json.dumps(report))
    assert compare.inspect_checkov(out) == {"failed": 5, "passed": 3, "parsing_errors": 1, "resource_count": 7}


def test_inspect_checkov_rejects_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("Traceback (most recent call last):\n  ...\n")
    with pytest.raises(compare.OutputError, match="not JSON"):
        compare.inspect_checkov(out)


def test_inspect_walens(tmp_path: Path) -> None:
    review = tmp_path / "review.json"
    assert compare.inspect_walens(review, placeholder=True) == {"no_review_written": 1}
    with pytest.raises(compare.OutputError, match="wrote no review"):
        compare.inspect_walens(review)
    review.write_text(json.dumps({"findings": [{}, {}, {}], "skipped": [{"path": "x", "reason": "y"}],
                                  "summary": {"by_status": {"fail": 2, "pass": 1}}}))
    assert compare.inspect_walens(review) == {"findings": 3, "skipped": 1, "status_fail": 2, "status_pass": 1}
    review.write_text("[1, 2")
    with pytest.raises(compare.OutputError, match="not JSON"):
        compare.inspect_walens(review)


def test_make_tools_builds_the_documented_commands(tmp_path: Path) -> None:
    venv = Path("/v")
    folder = tmp_path / "corpus"
    files = (folder / "a.yaml", folder / "b.yaml")
    folder.mkdir()
    inp = compare.Input("folder", folder, files)
    tools = {t.name: t for t in compare.make_tools(["walens"], venv)}
    out = Path("/o/review.json")
    assert list(tools) == ["python -c pass", "walens", "cfn-lint + serverless-rules", "cfn-lint", "checkov"]
    assert tools["python -c pass"].command(inp, out) == ["/v/bin/python", "-c", "pass"]
    assert tools["walens"].command(inp, out) == [
        "walens", "scan", "template", str(folder), "--format", "json", "--output", "/o/review.json",
        "--fail-on", "never"]
    assert tools["cfn-lint + serverless-rules"].command(inp, out) == [
        "/v/bin/cfn-lint", "--format", "parseable", "--append-rules", "cfn_lint_serverless.rules", "--",
        str(files[0]), str(files[1])]
    assert tools["cfn-lint"].command(inp, out) == [
        "/v/bin/cfn-lint", "--format", "parseable", "--", str(files[0]), str(files[1])]
    assert tools["checkov"].command(inp, out) == [
        "/v/bin/checkov", "-d", str(folder), "--framework", "cloudformation", "--quiet", "--compact",
        "-o", "json", "--skip-download"]
    single = compare.Input("small", files[0], (files[0],))
    assert tools["checkov"].command(single, out)[:3] == ["/v/bin/checkov", "-f", str(files[0])]


def test_measure_reports_exit_code_and_stdout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = compare.measure([sys.executable, "-c", "import sys; print('hi'); sys.stderr.write('boom'); sys.exit(3)"],
                        out)
    assert (m.exit_code, m.timed_out, m.stderr_tail, out.read_text()) == (3, False, "boom", "hi\n")


def test_measure_peak_rss_is_per_child_not_the_running_maximum(tmp_path: Path) -> None:
    big = compare.measure([sys.executable, "-c", "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
                          tmp_path / "big")
    small = compare.measure([sys.executable, "-c", "pass"], tmp_path / "small")
    assert big.max_rss_mib > 300
    assert small.max_rss_mib < 100


@pytest.mark.skipif(compare.gnu_time() is None, reason="GNU time is not installed")
def test_measure_with_gnu_time_is_not_floored_at_the_harness_rss(tmp_path: Path) -> None:
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page so the harness really holds 400 MiB
    time_cmd = compare.gnu_time()
    m = compare.measure([sys.executable, "-c", "import sys; sys.exit(4)"], tmp_path / "out", time_cmd=time_cmd)
    assert (m.exit_code, m.timed_out) == (4, False)
    assert m.max_rss_mib < 100
    del ballast


def test_measure_kills_a_run_past_its_timeout(tmp_path: Path) -> None:
    m = compare.measure([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "out", timeout_s=0.5)
    assert (m.timed_out, m.exit_code) == (True, -9)


def _run(tool: str, label: str, wall: float, ok: bool = True, code: int = 0, problem: str = "") -> object:
    return compare.Run(tool=tool, input=label, repeat=0, wall_s=wall, cpu_s=wall, max_rss_mib=wall * 10,
                       exit_code=code, ok=ok, problem=problem)


def test_summarise_medians_ratios_and_failures() -> None:
    runs = [
        _run("walens", "small", 0.2), _run("walens", "small", 0.4), _run("walens", "small", 0.3),
        _run("cfn-lint", "small", 3.0, code=6), _run("cfn-lint", "small", 2.0, code=2),
        _run("cfn-lint", "small", 4.0, code=6),
        _run("checkov", "small", 5.0, code=1), _run("checkov", "small", 0.1, ok=False, code=1,
                                                  problem="checkov stdout is not JSON (Expecting value)"),
    ]
    rows = {r.tool: r for r in compare.summarise(runs)}
    assert (rows["walens"].median_s, rows["walens"].min_s, rows["walens"].ratio) == (0.3, 0.2, 1.0)
    assert (rows["cfn-lint"].median_s, rows["cfn-lint"].min_s, rows["cfn-lint"].exit_codes) == (3.0, 2.0, (2, 6))
    assert rows["cfn-lint"].ratio == pytest.approx(10.0)
    assert rows["cfn-lint"].peak_rss_mib == 40.0
    # One crash in the repeats: reported as failed, never given a (fast) time.
    checkov = rows["checkov"]
    assert (checkov.median_s, checkov.ratio, checkov.failed, checkov.runs) == (None, None, 1, 2)
    assert checkov.problems == ("checkov stdout is not JSON (Expecting value)",)


def test_render_markdown_has_the_table_and_marks_failures() -> None:
    runs = [_run("walens", "folder", 1.0), _run("checkov", "folder", 0.5, ok=False, code=2, problem="exit 2: boom")]
    meta = {"machine": {"nproc": "2", "cpu": "CPU", "memory": "1.0 GiB", "os": "Linux", "python": "3.11.7"},
            "walens": "walens 0.1.0", "peers": {"checkov": "3.3.30"}, "inputs_text": "folder = x",
            "repeats": "folder 1"}
    text = compare.render_markdown(compare.summarise(runs), meta)
    lines = text.splitlines()
    assert "| input | tool | median (s) | min (s) | × walens | CPU median (s) | peak RSS (MiB) | status |" in lines
    assert "| folder | walens | 1.000 | 1.000 | 1.0 | 1.00 | 10 | exit 0 |" in lines
    assert "| folder | checkov | — | — | — | — | — | exit 2; **FAILED 1/1**: exit 2: boom |" in lines


def test_walens_exit_codes_that_mean_finished() -> None:
    tool = {t.name: t for t in compare.make_tools(["walens"], Path("/v"))}["walens"]
    assert {c for c in range(-9, 80) if tool.ok_exit(c)} == {0, 3}
    assert tool.env is not None and tool.env["PYTHONPATH"].split(":")[0] == str(compare.REPO)


def test_rotated_moves_each_tool_to_the_front_in_turn() -> None:
    assert [compare.rotated([1, 2, 3], k) for k in range(4)] == [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3]]
