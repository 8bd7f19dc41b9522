"""The rule reference (docs/rules/, docs/rules.md, docs/rules.ja.md) is generated from the rules and checked in;
it must be current, and the catalogue must list every best practice and every rule."""

from __future__ import annotations

import re
from pathlib import Path

from walens import lens
from walens.ruledocs import render_all
from walens.rules import load_rules

REPO = Path(__file__).resolve().parents[1]
CATALOGUES = {Path("docs/rules.md"), Path("docs/rules.ja.md")}


def test_rule_reference_is_current() -> None:
    pages = render_all(REPO)
    on_disk = {p.relative_to(REPO) for p in (REPO / "docs" / "rules").glob("*.md")}
    assert on_disk == set(pages) - CATALOGUES, "run: python -m walens.ruledocs"
    assert CATALOGUES <= set(pages)
    missing = [str(p) for p in CATALOGUES if not (REPO / p).is_file()]
    assert missing == [], f"missing {missing}; run: python -m walens.ruledocs"
    stale = [str(p) for p, text in pages.items() if (REPO / p).read_text(encoding="utf-8") != text]
    assert stale == [], f"stale pages {stale}; run: python -m walens.ruledocs"


def test_catalogue_lists_every_best_practice_and_rule_in_lens_order() -> None:
    pages = render_all(REPO)
    rules = load_rules()
    for path, lang in ((Path("docs/rules.md"), "en"), (Path("docs/rules.ja.md"), "ja")):
        text = pages[path]
        # Every best practice once, in WA Tool order, under its question, under its pillar.
        choices = re.findall(r"^#### .* \(`([a-z]+_[a-z]+_q\d_a\d)`\)$", text, flags=re.M)
        assert choices == [bp.id for bp in lens.BEST_PRACTICES]
        questions = re.findall(r"^### ([A-Z]+ \d) — ", text, flags=re.M)
        assert questions == [q.label for q in lens.QUESTIONS]
        assert re.findall(r"^## (.+)$", text, flags=re.M) == [p.title.get(lang) for p in lens.PILLARS]
        # Every rule once, linked to its page, under its own best practice.
        for rule in rules:
            assert text.count(f"[{rule.id}](rules/{rule.id}.md)") == 1, rule.id
            section = text.split(f"(`{rule.lens_choice}`)", 1)[1].split("\n#### ", 1)[0]
            assert f"[{rule.id}](rules/{rule.id}.md)" in section
            assert rule.title[lang] in section
        # Every practice with a question to ask shows it.
        for bp in lens.BEST_PRACTICES:
            if bp.manual_question is not None:
                assert bp.manual_question.get(lang) in text
        assert f"| **{len(rules)}** | **38** |" in text
