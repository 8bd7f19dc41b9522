"""Tests marked ``corpus`` run only where the SAM translator corpus is named by ``WALENS_CORPUS`` (tests/corpus.py)."""

from __future__ import annotations

import pytest

import corpus


def pytest_configure(config: pytest.Config) -> None:
    wrong = corpus.problem()
    if wrong is not None:
        # Asked for explicitly and not there: a run that silently skipped them would look green.
        raise pytest.UsageError(wrong)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if corpus.ROOT is not None:
        return
    skip = pytest.mark.skip(reason=corpus.SKIP_REASON)
    for item in items:
        if item.get_closest_marker("corpus") is not None:
            # First, so that it wins over pytest's "got empty parameter set" for lists read from the corpus.
            item.add_marker(skip, append=False)
