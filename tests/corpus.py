"""The SAM translator test corpus, for the tests marked ``corpus``: where it is, and its templates as linked
resources with facts (for tests that compare two ways of computing something on every real template).

The corpus (aws/serverless-application-model ``tests/translator/{input,output}``, 831 SAM inputs and the
translator's CloudFormation for each) is not part of this repository. Its folder is named by the environment
variable ``WALENS_CORPUS``; unset, the tests marked ``corpus`` are skipped with a reason (``conftest.py``),
and set to a folder without ``input/`` and ``output/``, the run stops with a usage error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from walens.model import Resource

ENV = "WALENS_CORPUS"
SKIP_REASON = f"SAM translator corpus: {ENV} is not set (README, Development)"

ROOT: Path | None = Path(os.environ[ENV]).resolve() if os.environ.get(ENV) else None
# Paths under a corpus that is not there list nothing, so parametrisations over it collect one skipped item.
INPUT = (ROOT or Path(os.devnull)) / "input"
OUTPUT = (ROOT or Path(os.devnull)) / "output"


def problem() -> str | None:
    """Why ``WALENS_CORPUS`` names no usable corpus; None when it is unset or usable."""
    if ROOT is None or (INPUT.is_dir() and OUTPUT.is_dir()):
        return None
    return f"{ENV}={os.environ[ENV]}: no input/ and output/ folders there"


def linked_templates() -> Iterator[tuple[str, list[Resource]]]:
    """(path, resources) of every readable corpus input: SAM expanded, intrinsics resolved, graph
    linked, facts computed (the pipeline's steps before the rules); unreadable inputs are left out."""
    from walens import facts, graph
    from walens.errors import InputError, NotATemplate
    from walens.scanners import intrinsics, sam
    from walens.scanners.template import discover, load_file

    for path in discover([str(INPUT)])[0]:
        try:
            template = load_file(path)
            resources = intrinsics.resolve_resources(template.data, sam.expand(template.data), template.path)
        except (InputError, NotATemplate):
            continue
        graph.link(resources)
        facts.compute(resources)
        yield path, resources
