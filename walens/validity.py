"""``--cfn-lint``: cfn-lint's own schema validation, reported as the review's template validity section.

cfn-lint costs ~0.6 s and ~70 MiB to import, so this module is imported only when asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def validate(paths: list[str]) -> list[dict[str, Any]]:
    """Run cfn-lint on each template and return its matches as plain dicts."""
    from cfnlint.api import lint_file

    results: list[dict[str, Any]] = []
    for path in paths:
        for match in lint_file(Path(path)):
            rule_id = match.rule.id
            results.append(
                {
                    "file": path,
                    "line": match.linenumber,
                    "column": match.columnnumber,
                    "rule": rule_id,
                    "level": {"E": "error", "W": "warning", "I": "info"}.get(rule_id[:1], "error"),
                    "message": match.message,
                }
            )
    return results
