"""The Markdown report: links to file lines with --repo-url, the 65,536-character limit, injection."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from walens.errors import UsageError
from walens.pipeline import scan_templates
from walens.reporters import render
from walens.reporters.markdown import LIMIT, check_repo_url

REPO = Path(__file__).resolve().parents[1]
OCCURRENCE = re.compile(r"^- \*\*(.+?)\*\* · ", flags=re.M)  # one line per failing finding
SAMPLE = REPO / "tests" / "fixtures" / "reporters" / "review.json"
INJECTION = REPO / "tests" / "fixtures" / "report" / "injection.yaml"
BLOB = "https://github.com/o/r/blob/main/"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def big_review(count: int) -> dict[str, Any]:
    """The sample review with ``count`` failing findings over many rules, resources and severities."""
    doc = sample()
    templates = [f for f in doc["findings"] if f["status"] == "fail"]
    doc["findings"] = []
    for i in range(count):
        f = copy.deepcopy(templates[i % len(templates)])
        f["resource"]["id"] = f["resource"]["origin"] = f"Resource{i:04d}"
        f["location"]["line"] = i + 1
        doc["findings"].append(f)
    return doc


def test_repo_url_links_each_location_to_its_line() -> None:
    out = render("markdown", sample(), "en", options={"repo_url": "https://github.com/o/r/blob/main"})
    links = re.findall(r"^- \*\*\[([^\]]+)\]\(([^)]+)\)\*\* · ", out, flags=re.M)
    assert len(links) == 9
    assert ("examples/orders/template.yaml:24", f"{BLOB}examples/orders/template.yaml#L24") in links
    assert ("examples/payments/template.yml:18", f"{BLOB}examples/payments/template.yml#L18") in links
    # Without --repo-url, plain text.
    assert "](https://github.com" not in render("markdown", sample(), "en")


def test_repo_url_never_links_absolute_or_escaping_paths_and_quotes_odd_characters() -> None:
    doc = sample()
    fails = [f for f in doc["findings"] if f["status"] == "fail"]
    fails[0]["location"]["file"] = "/etc/passwd"
    fails[1]["location"]["file"] = "../outside/template.yaml"
    fails[2]["location"]["file"] = "dir with space/t(1).yaml"
    out = render("markdown", doc, "en", options={"repo_url": BLOB})
    # An absolute path is no local path to publish nor a repository file to link: its name, as text.
    assert "- **passwd:24** · " in out and "/etc/passwd" not in out and "blob/main//etc" not in out
    assert "blob/main/../outside" not in out and "blob/main/outside" not in out
    assert f"]({BLOB}dir%20with%20space/t%281%29.yaml#L" in out


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x/", "https://x/a)b", "https://x/<b>", "", "https://x/#frag"])
def test_repo_url_must_be_a_plain_http_url(url: str) -> None:
    with pytest.raises(UsageError, match="--repo-url must be a plain http"):
        check_repo_url(url)
    assert check_repo_url("https://gitlab.example/g/p/-/blob/main") == "https://gitlab.example/g/p/-/blob/main/"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_more_than_500_findings_stay_under_the_limit_and_say_so(lang: str) -> None:
    doc = big_review(520)
    out = render("markdown", doc, lang, options={"repo_url": BLOB})
    assert len(out) <= LIMIT
    shown = len(OCCURRENCE.findall(out))
    assert 20 < shown < 520
    if lang == "en":
        note = re.search(r"(\d+) more failing findings are not shown", out)
    else:
        note = re.search(r"表示されていない不合格の検出結果が (\d+) 件あります", out)
    assert note is not None and int(note.group(1)) == 520 - shown
    # Summary table, lens coverage and the tail sections are still there after the truncation.
    assert OCCURRENCE.search(out).start() < note.start() < out.rindex("## ")  # type: ignore[union-attr]
    assert ("| **Total** | **" if lang == "en" else "| **合計** | **") in out
    # Grouped by severity, highest first.
    heads = re.findall(r"^### (\S+) \((\d+)\)$", out, flags=re.M)
    assert heads and heads[0][0] in ("High", "高")


def test_generated_summary_counts_all_findings_even_when_truncated() -> None:
    doc = big_review(600)
    out = render("markdown", doc, "en")
    total = re.search(r"^\| \*\*Total\*\* \|.*\| \*\*(\d+)\*\* \|$", out, flags=re.M)
    assert total is not None and int(total.group(1)) == 600


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_injection_template_is_escaped_in_markdown(lang: str) -> None:
    doc = scan_templates([str(INJECTION)], fail_on="never")
    out = render("markdown", doc, lang, options={"repo_url": BLOB})
    prose = re.sub(r"^(`{3,})yaml\n.*?\n\1$", "", out, flags=re.M | re.S)
    parser = Tags()
    parser.feed(prose)
    # The only raw HTML is walens' own <details>/<summary>, without attributes.
    assert {t for t, _ in parser.tags} == {"details", "summary"}
    assert [a for _, a in parser.tags if a] == []
    for raw in ("<script>", "<img", "<iframe", "<svg", "<style>", "<b onmouseover"):
        assert raw not in prose, raw
    # No Markdown link or image whose target came from the template.
    targets = re.findall(r"(?<!\\)\]\(([^)\s]*)\)", prose)
    assert all(t.startswith(BLOB) or t.startswith("https://docs.aws.amazon.com/") or t.startswith("https://")
               for t in targets), targets
    assert not any("evil.example" in t or t.startswith("javascript:") for t in targets)
    assert re.search(r"(?<!\\)!\[", prose) is None
    # Table rows keep their cell count: no `|` from the input opens a new cell.
    rows = [ln for ln in prose.splitlines() if ln.startswith("| ")]
    assert {len(re.split(r"(?<!\\)\|", ln)) - 2 for ln in rows} <= {6, 7}
    # The payloads are still visible as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
