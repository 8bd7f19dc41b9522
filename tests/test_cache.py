"""walens.cache: a faster start, never a wrong answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from walens import cache


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WALENS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("WALENS_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_built_once_then_served_and_rebuilt_when_a_source_changes(cache_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "rule.yaml"
    source.write_text("a: 1\n")
    calls: list[str] = []

    def build() -> str:
        calls.append(source.read_text())
        return source.read_text()

    assert cache.cached("t", [source], build) == "a: 1\n"
    assert cache.cached("t", [source], build) == "a: 1\n"
    assert len(calls) == 1
    source.write_text("a: 22\n")  # a different size: a new key even on a coarse-mtime filesystem
    assert cache.cached("t", [source], build) == "a: 22\n"
    assert len(calls) == 2
    assert len(list(cache_home.glob("t-*.pickle"))) == 1  # the stale entry is gone


def test_a_damaged_cache_file_is_rebuilt(cache_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "s"
    source.write_text("x")
    cache.cached("t", [source], lambda: 1)
    (entry,) = cache_home.glob("t-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert cache.cached("t", [source], lambda: 2) == 2


def test_off_switch_and_unwritable_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = tmp_path / "s"
    source.write_text("x")
    monkeypatch.setenv("WALENS_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert cache.cached("t", [source], lambda: 3) == 3
    monkeypatch.delenv("WALENS_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("WALENS_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert cache.cached("t", [source], lambda: 4) == 4


def test_rules_served_from_cache_equal_rules_from_source(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from walens.rules import load_rules

    first = load_rules()
    second = load_rules()  # from the pickle
    monkeypatch.setenv("WALENS_NO_CACHE", "1")
    fresh = load_rules()
    assert [r.to_doc() for r in second] == [r.to_doc() for r in fresh] == [r.to_doc() for r in first]
    assert [r.assert_.expression for r in second] == [r.assert_.expression for r in fresh]
    assert any(cache_home.glob("rules-*.pickle"))
    assert os.environ["WALENS_CACHE_DIR"] == str(cache_home)
