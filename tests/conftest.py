"""Shared pytest hooks: tests marked ``corpus`` run only where the SAM translator corpus is named by
``WALENS_CORPUS`` (tests/corpus.py); the browser tests' screenshots are listed at the end of the run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import corpus
import pytest


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


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1, for tests that run walens (or its Lambda package) as a child
    process reaching AWS through AWS_ENDPOINT_URL."""
    server_module = pytest.importorskip("moto.server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots and PDFs tests recorded with ``record_property("screenshot", path)``."""
    shots = [(report.nodeid, str(value)) for reports in terminalreporter.stats.values() for report in reports
             if hasattr(report, "user_properties") and getattr(report, "when", "call") == "call"
             for key, value in report.user_properties if key in ("screenshot", "pdf")]
    if shots:
        terminalreporter.section("browser screenshots")
        for nodeid, path in shots:
            terminalreporter.write_line(f"{path}  ({nodeid})")
