"""The rule reference in docs/rules/ is generated from the rules and checked in; it must be current."""

from __future__ import annotations

from pathlib import Path

from walens.ruledocs import render_all

REPO = Path(__file__).resolve().parents[1]


def test_rule_reference_is_current() -> None:
    pages = render_all(REPO)
    on_disk = {p.relative_to(REPO) for p in (REPO / "docs" / "rules").glob("*.md")}
    assert on_disk == set(pages), "run: python -m walens.ruledocs"
    stale = [str(p) for p, text in pages.items() if (REPO / p).read_text(encoding="utf-8") != text]
    assert stale == [], f"stale pages {stale}; run: python -m walens.ruledocs"
