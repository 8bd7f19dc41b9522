"""KAIZEN in the reports: "Since the last review" (lists, trend chart), 'walens diff --format html',
accepted risks and manual answers in every report.

The bundled example is reviewed, fixed (tests/fixtures/kaizen/orders-app-after.yaml) and reviewed again,
both reviews saved to a history in tmp_path; the HTML is parsed with html.parser, never with regexes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from walens.reporters import render
from walens.reporters._common import PILLARS

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders-app" / "template.yaml"
AFTER = REPO / "tests" / "fixtures" / "kaizen" / "orders-app-after.yaml"
SAMPLE = REPO / "tests" / "fixtures" / "reporters" / "review.json"

RESOLVED = {("COST001", "ShipmentNotifierFunction"), ("OPS001", "ProcessOrderFunction")}
NEW = {("COST001", "NightlyReportFunction")}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# ---- a tiny DOM over html.parser --------------------------------------------------------------------

@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        def ok(n: Node) -> bool:
            for k, v in attrs.items():
                key = k.rstrip("_").replace("_", "-")
                if key == "class":
                    if v not in (n.attrs.get("class") or "").split():
                        return False
                elif n.attrs.get(key) != v:
                    return False
            return True
        return [n for n in self.iter() if n.tag == tag and ok(n)]

    def find(self, tag: str, **attrs: str) -> Node | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def text(self) -> str:
        return " ".join("".join(c if isinstance(c, str) else " " + c.text() + " " for c in self.children).split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def dom(text: str) -> Node:
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root


def rows(table: Node) -> list[list[str]]:
    body = table.find("tbody")
    assert body is not None
    return [[c.text() for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")] for tr in body.find_all("tr")]


# ---- the two reviews --------------------------------------------------------------------------------

def walens(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=home, timeout=180,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", "HOME": str(home),
             "XDG_DATA_HOME": str(home / "data"), "USER": "tester"})


@pytest.fixture(scope="module")
def reviews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """orders-app reviewed, fixed and reviewed again; both saved to a history in the tmp dir."""
    home = tmp_path_factory.mktemp("kaizen")
    app = home / "orders-app"
    app.mkdir()
    shutil.copy(EXAMPLE, app / "template.yaml")
    history = str(home / "history.sqlite")
    common = ("--save", "--history", history, "--fail-on", "never")
    first = walens("scan", "template", str(app), *common, "--format", "html", "-o", str(home / "first.html"), home=home)
    assert first.returncode == 0, first.stderr
    shutil.copy(AFTER, app / "template.yaml")
    second = walens("scan", "template", str(app), *common, "--format", "json", "-o", str(home / "second.json"),
                    home=home)
    assert second.returncode == 0, second.stderr
    out: dict[str, object] = {"home": home, "history": history,
                              "second": json.loads((home / "second.json").read_text(encoding="utf-8"))}
    for name, args in {
        "html": ("history", "show", "2", "--format", "html"),
        "html_ja": ("history", "show", "2", "--format", "html", "--lang", "ja"),
        "markdown": ("history", "show", "2", "--format", "markdown"),
        "console": ("history", "show", "2"),
        "shown_json": ("history", "show", "2", "--format", "json"),
        "first_shown": ("history", "show", "1", "--format", "html"),
        "first_md": ("history", "show", "1", "--format", "markdown"),
        "diff_html": ("diff", "1", "2", "--format", "html"),
        "diff_json": ("diff", "1", "2", "--format", "json"),
    }.items():
        proc = walens(*args, "--history", history, home=home)
        assert proc.returncode == 0, (name, proc.stderr)
        out[name] = proc.stdout
    out["first"] = (home / "first.html").read_text(encoding="utf-8")
    return out


def _pairs(table: Node) -> set[tuple[str, str]]:
    """(rule ID, logical ID) of each row of a since-list table (rule cell: ID then title; resource cell)."""
    out = set()
    for tr in table.find("tbody").find_all("tr"):  # type: ignore[union-attr]
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag == "td"]
        rule = cells[1].find("span", class_="rid")
        assert rule is not None
        out.add((rule.text(), cells[2].text().split(" (")[0]))
    return out


def _failing_by_pillar(doc: dict) -> dict[str, int]:
    counts = dict.fromkeys(PILLARS, 0)
    for f in doc["findings"]:
        if f["status"] == "fail":
            counts[f["pillar"]] += 1
    return counts


# ---- tests --------------------------------------------------------------------------------------------

def test_saved_review_carries_the_lists_and_the_trend(reviews: dict) -> None:
    since = reviews["second"]["since_last_review"]
    assert since["review"] == "1" and (since["new"], since["resolved"], since["changed_severity"]) == (1, 2, 0)
    pairs = {k: {(i["rule_id"], i["resource"]["origin"]) for i in since["findings"][k]} for k in since["findings"]}
    assert pairs == {"new": NEW, "resolved": RESOLVED, "changed_severity": set()}
    assert since["by_pillar"]["costOptimization"] == {"new": 1, "resolved": 1, "changed_severity": 0, "persisting": 0}
    assert since["by_pillar"]["operationalExcellence"]["resolved"] == 1
    # The trend: the earlier review and this one, every pillar counted from the documents.
    assert [p["review"] for p in since["trend"]] == ["1", "2"]
    assert since["trend"][1]["failing"] == _failing_by_pillar(reviews["second"])
    assert since["trend"][0]["total"] - since["trend"][1]["total"] == len(RESOLVED) - len(NEW)
    # 'history show' recomputes it from the history (the stored copy cannot know its own ID).
    shown = json.loads(reviews["shown_json"])["since_last_review"]
    assert shown["trend"] == since["trend"] and shown["findings"] == since["findings"]


def test_html_section_lists_exactly_the_resolved_and_the_new_findings(reviews: dict) -> None:
    page = dom(reviews["html"])
    section = page.find("section", id="since")
    assert section is not None
    # After the executive summary, before the lens; in the table of contents.
    ids = [n.attrs["id"] for n in page.iter() if n.tag == "section" and n.attrs.get("id")]
    assert ids.index("summary") + 1 == ids.index("since") and ids.index("since") < ids.index("lens")
    assert page.find("a", href="#since") is not None
    new = section.find("table", class_="since-new")
    resolved = section.find("table", class_="since-resolved")
    assert new is not None and resolved is not None
    assert _pairs(new) == NEW
    assert _pairs(resolved) == RESOLVED
    assert [r[-1] for r in rows(resolved)] == ["Passed", "Passed"]  # what they are now
    assert section.find("table", class_="since-changed_severity") is None
    assert "Changed severity (0)" in section.text()
    counts = {li.attrs["class"].split()[-1]: li.find("span", class_="n").text()  # type: ignore[union-attr]
              for li in section.find_all("li", class_="kind")}
    assert counts == {"kind-new": "1", "kind-resolved": "2", "kind-changed_severity": "0",
                      "kind-persisting": str(reviews["second"]["since_last_review"]["persisting"])}
    # A new finding links to its rule block in the findings section.
    link = new.find("a")
    assert link is not None and link.attrs["href"] == "#rule-COST001" and page.find("details", id="rule-COST001")


def test_trend_chart_has_two_points_per_pillar_and_a_text_table(reviews: dict) -> None:
    section = dom(reviews["html"]).find("section", id="since")
    assert section is not None
    [svg] = section.find_all("svg", class_="trend")
    assert svg.attrs["role"] == "img" and svg.attrs["aria-label"].startswith("Failing findings per pillar across reviews")
    assert svg.find("title") is not None
    trend = reviews["second"]["since_last_review"]["trend"]
    for pillar in PILLARS:
        points = svg.find_all("circle", data_pillar=pillar)
        assert [p.attrs["data-review"] for p in points] == ["1", "2"], pillar
        assert [int(p.attrs["data-value"] or 0) for p in points] == [pt["failing"][pillar] for pt in trend]
        assert len(svg.find_all("polyline", class_=f"p-{pillar}")) == 1
    table = section.find("table", class_="trend-table")
    assert table is not None
    body = rows(table)
    assert len(body) == len(PILLARS) + 1  # a row per pillar and the total
    assert body[-1][1:] == [str(pt["total"]) for pt in trend]
    assert all(len(r) == 3 for r in body)


def test_markdown_and_console_show_the_short_version(reviews: dict) -> None:
    md = reviews["markdown"]
    part = md.split("## Since the last review", 1)[1].split("\n## ", 1)[0]
    assert "**Since review 1: 1 new, 2 resolved, 0 changed severity" in part
    new = part.split("### New risks (1)", 1)[1].split("###", 1)[0]
    resolved = part.split("### Resolved risks (2)", 1)[1].split("###", 1)[0]
    assert [line.split(" — ")[1] for line in new.strip().splitlines()] == ["NightlyReportFunction"]
    assert sorted(line.split(": ", 1)[1].split(" ")[0] + " " + line.split(" — ")[1]
                  for line in resolved.strip().splitlines()) == sorted(f"{r} {n}" for r, n in RESOLVED)
    trend = [line for line in part.split("### Failing findings per pillar across reviews", 1)[1].splitlines()
             if line.startswith("| ") and not line.startswith("| Pillar")]
    assert len(trend) == len(PILLARS) + 1 and all(line.count("|") == 4 for line in trend)
    # The Markdown section comes before the findings; the console keeps its one line.
    assert md.index("\n## Since the last review") < md.index("\n## Failing findings (")
    assert "Since review 1: 1 new, 2 resolved, 0 changed severity" in reviews["console"]


def test_without_an_earlier_review_the_section_is_absent(reviews: dict) -> None:
    for text in (reviews["first"], reviews["first_shown"]):
        page = dom(text)
        assert page.find("section", id="since") is None and page.find("a", href="#since") is None
        assert page.find("svg", class_="trend") is None
    assert "Since the last review" not in reviews["first_md"]
    # A review without history data renders exactly as before (the sample carries none).
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert dom(render("html", sample, "en")).find("section", id="since") is None


def test_japanese_section(reviews: dict) -> None:
    section = dom(reviews["html_ja"]).find("section", id="since")
    assert section is not None
    text = section.text()
    assert "前回のレビューからの変化" in text and "新たに見つかったリスク (1)" in text and "解消したリスク (2)" in text
    assert section.find("svg", class_="trend").attrs["aria-label"].startswith("レビューごとの柱別の不合格件数の推移")  # type: ignore[union-attr]
    assert _pairs(section.find("table", class_="since-resolved")) == RESOLVED  # type: ignore[arg-type]


def test_diff_html_uses_the_same_section_and_lists_persisting_findings(reviews: dict) -> None:
    text = reviews["diff_html"]
    page = dom(text)
    d = json.loads(reviews["diff_json"])
    section = page.find("section", id="since")
    assert section is not None and page.find("h1") is not None
    assert _pairs(section.find("table", class_="since-new")) == NEW  # type: ignore[arg-type]
    assert _pairs(section.find("table", class_="since-resolved")) == RESOLVED  # type: ignore[arg-type]
    persisting = section.find("table", class_="since-persisting")
    assert persisting is not None
    assert _pairs(persisting) == {(i["rule_id"], i["resource"]["origin"]) for i in d["findings"]["persisting"]}
    svg = section.find("svg", class_="trend")
    assert svg is not None
    assert {p: len(svg.find_all("circle", data_pillar=p)) for p in PILLARS} == dict.fromkeys(PILLARS, 2)
    # Self-contained and inert: our stylesheet pinned by the CSP, no script at all.
    csp = page.find("meta", http_equiv="Content-Security-Policy")
    assert csp is not None and "script-src 'none'" in (csp.attrs["content"] or "")
    assert page.find("script") is None and page.find("style") is not None


def test_accepted_risks_and_answers_in_every_report(tmp_path: Path) -> None:
    app = tmp_path / "orders-app"
    app.mkdir()
    shutil.copy(EXAMPLE, app / "template.yaml")
    (tmp_path / "waivers.yml").write_text("""\
waivers:
  - rule: COST001
    resource: ShipmentNotifierFunction
    owner: platform-team
    reason: Logs kept for the audit until the archive bucket exists
    ticket: OPS-123
    expires: 2099-01-31
  - rule: REL003
    resource: ShipmentNotifier*
    owner: alice
    reason: Notifications can be re-sent by hand
    expires: 2020-06-30
""", encoding="utf-8")
    (tmp_path / "answers.yml").write_text("""\
by: alice
answers:
  ops_ops_q1_a2: {answer: met, notes: "On-call runbooks per alarm in the wiki"}
""", encoding="utf-8")
    history = str(tmp_path / "h.sqlite")
    proc = walens("answer", "--workload", "orders-app", "--answers", str(tmp_path / "answers.yml"),
                  "--history", history, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    base = ("scan", "template", str(app), "--save", "--history", history, "--waivers", str(tmp_path / "waivers.yml"),
            "--waivers-expiring-within", "36500", "--fail-on", "never")
    html = walens(*base, "--format", "html", home=tmp_path)
    assert html.returncode == 0, html.stderr
    page = dom(html.stdout)
    accepted = page.find("section", id="accepted")
    assert accepted is not None and page.find("a", href="#accepted") is not None
    tables = accepted.find_all("table")
    first = rows(tables[0])
    # The location is relative to the folder scanned (an absolute path here): no local path in the report.
    assert first == [["COST001", "ShipmentNotifierFunction", "template.yaml:321", "platform-team",
                      "Logs kept for the audit until the archive bucket exists", "OPS-123", "2099-01-31"]]
    assert str(tmp_path) not in html.stdout
    text = accepted.text()
    assert "Expired waivers (failing again) (1)" in text and "waiver expired on 2020-06-30" in text
    assert "Waivers expiring within 36,500 days (1)" in text  # counts from 1,000 on are grouped
    answers = page.find("section", id="answers")
    assert answers is not None
    [row] = rows(answers.find("table"))  # type: ignore[arg-type]
    assert row[1] == "Met" and row[2] == "On-call runbooks per alarm in the wiki"
    assert row[3].startswith("alice answered 0 days ago")
    # Console and Markdown carry the same (from the stored review).
    console = walens("history", "show", "1", "--history", history, home=tmp_path).stdout
    assert "Accepted risks (1)" in console and "OPS-123" in console and "answered 0 days ago" in console
    md = walens("history", "show", "1", "--format", "markdown", "--history", history, home=tmp_path).stdout
    assert "## Accepted risks (1)" in md and "platform-team" in md and "2099-01-31" in md
    assert "## Manual answers (1)" in md and "answered 0 days ago" in md


def test_section_escapes_what_came_from_templates_and_tolerates_old_reviews() -> None:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    evil = "<script>alert(1)</script>"
    item = {"rule_id": evil, "rule_name": evil, "pillar": "security", "choice": "sec_sec_q1_a1", "severity": "high",
            "resource": {"id": f'x"><img src=x onerror=alert(1)>{evil}', "origin": evil},
            "location": {"file": evil, "line": 3}, "was": "absent"}
    doc["since_last_review"] = {
        "review": evil, "finished_at": evil, "new": 1, "resolved": 0, "changed_severity": 0, "persisting": 0,
        "by_pillar": {"security": {"new": 1, "resolved": 0, "changed_severity": 0, "persisting": 0}},
        "findings": {"new": [item], "resolved": [], "changed_severity": []},
        "trend": [{"review": evil, "finished_at": evil, "failing": {"security": 1}, "total": 1},
                  {"review": None, "finished_at": None, "failing": {"security": 2}, "total": 2}]}
    page = dom(render("html", doc, "en"))
    assert len(page.find_all("script")) == 1 and page.find_all("img") == []
    assert [n for n in page.iter() if any(k.startswith("on") for k in n.attrs)] == []
    section = page.find("section", id="since")
    assert section is not None and evil in section.text()
    svg = section.find("svg", class_="trend")
    assert svg is not None and len(svg.find_all("circle", data_pillar="security")) == 2
    # A review saved before the lists existed (counts only): the counts, no empty lists, no chart.
    doc["since_last_review"] = {"review": "1", "new": 2, "resolved": 1, "changed_severity": 0, "persisting": 5}
    section = dom(render("html", doc, "ja")).find("section", id="since")
    assert section is not None and section.find("svg") is None and section.find("table") is None
    assert "レビュー 1 との比較です。" in section.text()
    md = render("markdown", doc, "en")
    assert "**Since review 1: 2 new, 1 resolved, 0 changed severity, 5 persisting**" in md
