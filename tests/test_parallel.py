"""A batch reviewed in worker processes gives exactly the document a one-process review gives.

Workers load and evaluate; suppressions, the baseline and the order of everything stay in the parent.
The batch mixes what makes that hard: inline and template suppressions (with malformed entries whose
errors carry lines), an unreadable file, a file that is not a template, and enough files to start workers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from walens import pipeline
from walens.config import load_config
from walens.pipeline import scan_templates

REPO = Path(__file__).resolve().parents[1]
RULE_FIXTURES = REPO / "tests" / "fixtures" / "rules"
SUPPRESS = REPO / "tests" / "fixtures" / "suppress" / "template.yaml"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


def _batch(root: Path) -> Path:
    (root / ".git").mkdir()
    folder = root / "templates"
    folder.mkdir()
    fails = sorted(RULE_FIXTURES.glob("*/fail.yaml"))[:40]
    for path in fails:
        shutil.copy(path, folder / f"{path.parent.name}.yaml")
    shutil.copy(SUPPRESS, folder / "suppressed.yaml")
    (folder / "broken.yaml").write_text("Resources:\n  A: [unclosed\n")
    (folder / "package.json").write_text('{"name": "not-a-template"}\n')
    (root / ".walens.yml").write_text("report_unused_suppressions: true\n")
    assert len(list(folder.iterdir())) >= pipeline.PARALLEL_MIN_FILES
    return folder


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc, default=str))
    doc["scan"].pop("started_at")
    doc["scan"].pop("finished_at")
    return doc


def test_workers_produce_the_same_document_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _batch(tmp_path)
    config = load_config(start=str(tmp_path))
    calls: list[int] = []
    real_pool = pipeline.review_files

    def spy(tasks: Any, rules: Any, lang: str, jobs: int | None = None) -> Any:
        calls.append(jobs or 0)
        return real_pool(tasks, rules, lang, jobs)

    monkeypatch.setattr(pipeline, "review_files", spy)
    serial = _stable(scan_templates([str(folder)], config=config, jobs=1))
    parallel = _stable(scan_templates([str(folder)], config=config, jobs=2))
    assert calls == [1, 2]
    assert serial == parallel
    # The batch exercised what it was built for.
    assert {e["kind"] for e in serial["errors"]} >= {"yaml", "suppression"}
    assert all(e["line"] for e in serial["errors"] if e["kind"] == "suppression")
    assert [s["path"] for s in serial["skipped"]] == [str(folder / "package.json")]
    assert {f["status"] for f in serial["findings"]} >= {"fail", "pass", "suppressed"}
    assert serial["unused_suppressions"]
    assert len(serial["scan"]["inputs"]) >= pipeline.PARALLEL_MIN_FILES


def test_workers_really_run_in_other_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    folder = _batch(tmp_path)
    seen: set[int] = set()
    real = pipeline.review_file

    def recording(path: str, rel: str, rules: Any, lang: str) -> pipeline.FileReview:
        review = real(path, rel, rules, lang)
        review.metadata = {**review.metadata, "pid": os.getpid()}
        return review

    monkeypatch.setattr(pipeline, "review_file", recording)
    tasks = [(str(p), p.name) for p in sorted(folder.iterdir())]
    for review in pipeline.review_files(tasks, [], "en", jobs=2):
        seen.add(review.metadata["pid"])
    assert os.getpid() not in seen and len(seen) == 2
    # Few files: no workers.
    seen.clear()
    for review in pipeline.review_files(tasks[:3], [], "en", jobs=2):
        seen.add(review.metadata["pid"])
    assert seen == {os.getpid()}


def test_cli_jobs_option(tmp_path: Path) -> None:
    folder = _batch(tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"review-{jobs}.json"
        run = subprocess.run([sys.executable, "-m", "walens", "scan", "template", str(folder), "--format", "json",
                              "--output", str(out), "--jobs", jobs, "--fail-on", "never"],
                             capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 3, run.stderr  # the broken file
        outputs.append(_stable(json.loads(out.read_text())))
    assert outputs[0] == outputs[1]
    bad = subprocess.run([sys.executable, "-m", "walens", "scan", "template", str(folder), "-j", "0"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
