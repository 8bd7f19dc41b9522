"""benchmarks/gate.py: the share of templates the default gate fails, failing checks per template, and the
high rules that fire, computed from a review document."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPEC = importlib.util.spec_from_file_location("gate", HERE.parent / "gate.py")
assert SPEC and SPEC.loader
gate = importlib.util.module_from_spec(SPEC)
sys.modules["gate"] = gate
SPEC.loader.exec_module(gate)

FIXTURES = REPO / "tests" / "fixtures" / "rules"


def test_gate_report_counts_templates_failing_at_high_and_the_rules_that_fail_them() -> None:
    from walens.pipeline import scan_templates

    high = str(FIXTURES / "SEC004" / "fail.yaml")  # a function URL open to anyone: high
    medium = str(FIXTURES / "COST001" / "pass.yaml")  # only medium and lower failures
    doc = scan_templates([high, medium], fail_on="never")
    assert doc["summary"]["by_severity"].get("high")
    text = "\n".join(gate.gate_report(doc))
    assert "| fail the default gate (`--fail-on high`) | 1 | **50.0%** |" in text
    assert "| would fail `--fail-on medium` | 2 | 100.0% |" in text
    assert "| SEC004 `lambda-url-auth-none` |" in text
    assert "COST001" not in text  # medium: not a high rule


def test_corpus_paths_leave_out_the_translators_error_inputs(tmp_path: Path) -> None:
    for name in ("a.yaml", "error_b.yaml", "c.json"):
        (tmp_path / name).write_text("Resources: {}\n")
    assert [Path(p).name for p in gate.corpus_paths(tmp_path)] == ["a.yaml", "c.json"]
