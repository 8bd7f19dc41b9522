"""walens/ type-checks with ``mypy --strict`` (the configuration is pyproject.toml's [tool.mypy])."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed ([test] has it)")
def test_walens_is_mypy_strict_clean(tmp_path: Path) -> None:
    # A fresh cache: what is checked is this tree, not what an earlier run remembered (about 6 s cold).
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "walens"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
