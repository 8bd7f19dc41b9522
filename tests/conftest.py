"""Shared pytest hooks: the browser tests' screenshots are listed at the end of the run, with or without -s."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots and PDFs tests recorded with ``record_property("screenshot", path)``."""
    shots = [(report.nodeid, str(value)) for reports in terminalreporter.stats.values() for report in reports
             if hasattr(report, "user_properties") and getattr(report, "when", "call") == "call"
             for key, value in report.user_properties if key in ("screenshot", "pdf")]
    if shots:
        terminalreporter.section("browser screenshots")
        for nodeid, path in shots:
            terminalreporter.write_line(f"{path}  ({nodeid})")
