"""All 831 SAM translator inputs in one batch: each reviewed or reported as a per-file error, no crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import INPUT

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.corpus


def test_every_corpus_input_is_reviewed_or_reported_in_one_batch(tmp_path: Path) -> None:
    out = tmp_path / "review.json"
    proc = subprocess.run(
        [sys.executable, "-m", "walens", "scan", "template", str(INPUT), "--format", "json", "--output", str(out),
         "--fail-on", "never"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (0, 3), proc.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    files = {str(p) for p in INPUT.glob("*.yaml")}
    reviewed = {i["path"] for i in doc["scan"]["inputs"]}
    errored = {e["file"] for e in doc["errors"]}
    skipped = {s["path"] for s in doc["skipped"]}
    assert len(files) == 831
    assert reviewed | errored | skipped == files
    assert not (reviewed & errored)
    # Every error is one line that names a kind; the valid (non error_*) inputs are nearly all reviewed.
    for error in doc["errors"]:
        assert error["kind"] and "\n" not in error["message"]
    valid = {f for f in files if not Path(f).name.startswith("error_")}
    # The two valid inputs walens refuses are templates CloudFormation refuses too: a resource whose
    # Type is a mapping, and a resource with no Type (the translator passes both through untouched).
    refused = {Path(f).name for f in valid - reviewed}
    assert refused == {"resource_with_invalid_type.yaml", "unsupported_resources.yaml"}, sorted(refused)
    assert any(f["status"] == "fail" for f in doc["findings"])
