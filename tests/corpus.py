"""The SAM translator corpus (``../shared/corpus``) as linked resources with facts, for tests that compare
two ways of computing something on every real template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from walens import facts, graph
from walens.errors import InputError, NotATemplate
from walens.model import Resource
from walens.scanners import intrinsics, sam
from walens.scanners.template import discover, load_file

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sam-translator" / "input"


def linked_templates() -> Iterator[tuple[str, list[Resource]]]:
    """(path, resources) of every readable corpus template: SAM expanded, intrinsics resolved, graph
    linked, facts computed (the pipeline's steps before the rules); unreadable inputs are left out."""
    for path in discover([str(CORPUS)])[0]:
        try:
            template = load_file(path)
            resources = intrinsics.resolve_resources(template.data, sam.expand(template.data), template.path)
        except (InputError, NotATemplate):
            continue
        graph.link(resources)
        facts.compute(resources)
        yield path, resources
