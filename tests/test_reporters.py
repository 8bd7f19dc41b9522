"""Reporters: snapshots of the sample review in every format and language, escaping, catalogues, colour."""

from __future__ import annotations

import copy
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from walens.errors import UsageError
from walens.reporters import FORMATS, render
from walens.reporters._common import finding_message, format_message
from walens.reporters.markdown import LIMIT

HERE = Path(__file__).resolve().parent / "fixtures" / "reporters"
SNAPSHOTS = HERE / "snapshots"
MESSAGES = Path(__file__).resolve().parents[1] / "walens" / "reports_templates" / "messages"
EXT = {"console": "txt", "json": "json", "markdown": "md", "html": "html", "sarif": "sarif", "junit": "xml"}
UPDATE = os.environ.get("WALENS_UPDATE_SNAPSHOTS") == "1"

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "| table | break |",
    "[x](javascript:alert(1))",
    "![](http://evil)",
)


def sample() -> dict[str, Any]:
    return json.loads((HERE / "review.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_snapshot(fmt: str, lang: str) -> None:
    out = render(fmt, sample(), lang)
    path = SNAPSHOTS / f"{fmt}.{lang}.{EXT[fmt]}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8"), f"{path.name} differs; WALENS_UPDATE_SNAPSHOTS=1 rewrites it"


def test_unknown_format_and_language_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown report format 'xml'"):
        render("xml", sample(), "en")
    for fmt in FORMATS:
        with pytest.raises(UsageError, match="unsupported report language 'fr'"):
            render(fmt, sample(), "fr")


def test_json_is_the_document_itself() -> None:
    doc = sample()
    out = render("json", doc, "ja")
    assert json.loads(out) == doc
    assert out.endswith("}\n") and "関数" in out  # ensure_ascii=False keeps Japanese readable


# ---- message catalogues and languages ----------------------------------------------------------

def test_catalogues_have_the_same_keys_and_no_empty_label() -> None:
    en = yaml.safe_load((MESSAGES / "en.yaml").read_text(encoding="utf-8"))
    ja = yaml.safe_load((MESSAGES / "ja.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(ja)
    assert [k for k, v in {**en, **ja}.items() if not isinstance(v, str) or not v.strip()] == []
    # Placeholders match too, so a label formats the same way in both languages.
    fields = re.compile(r"\{(\w+)\}")
    assert {k: set(fields.findall(en[k])) for k in en} == {k: set(fields.findall(ja[k])) for k in ja}


def test_japanese_uses_aws_japan_wording() -> None:
    ja = yaml.safe_load((MESSAGES / "ja.yaml").read_text(encoding="utf-8"))
    assert [ja[f"severity_{s}"] for s in ("high", "medium", "low", "info")] == ["高", "中", "低", "情報"]
    assert [ja[f"pillar_{p}"] for p in ("operationalExcellence", "security", "reliability", "performance",
                                        "costOptimization")] == [
        "運用上の優秀性", "セキュリティ", "信頼性", "パフォーマンス効率", "コスト最適化"]
    assert (ja["status_not_assessed"], ja["severity"], ja["pillar"], ja["best_practice"], ja["findings"],
            ja["remediation"]) == ("評価不可", "重大度", "柱", "ベストプラクティス", "検出結果", "修復方法")


def test_format_message_leaves_unknown_placeholders_as_written() -> None:
    values = {"name": "fn", "params": {"days": 30}, "count": 3}
    text = "{name} {missing} {params.days} {params.nope} {count:>3} {other.attr} {missing[0]}"
    assert format_message(text, values) == "fn {missing} 30 {params.nope}   3 {other.attr} {missing[0]}"
    assert format_message("stray { brace", values) == "stray { brace"


def test_message_is_taken_as_stored_in_its_language_and_re_rendered_in_the_other() -> None:
    doc = sample()
    cost = next(f for f in doc["findings"] if f["rule_id"] == "COST001" and f["status"] == "fail")
    cost["message"] = "stored text"
    assert finding_message(doc, cost, "en") == "stored text"
    assert finding_message(doc, cost, "ja") == (
        "関数 orders-fn のログは無期限に保持されます。RetentionInDays を設定したロググループがありません (最大 3653 日)")
    # A name that is only a reference placeholder shows the logical ID instead.
    queue = next(f for f in doc["findings"] if f["rule_id"] == "REL001" and f["status"] == "fail")
    assert finding_message(doc, queue, "ja") == (
        "キュー OrdersQueue に RedrivePolicy がありません。処理に失敗し続けるメッセージは有効期限切れまで再試行されます")
    doc["lang"] = "ja"
    assert finding_message(doc, cost, "en") == (
        "Function orders-fn keeps its logs forever: no log group with RetentionInDays (at most 3653 days)")


# ---- console ------------------------------------------------------------------------------------

def test_console_has_no_escape_codes_without_color_even_from_hostile_input() -> None:
    doc = sample()
    doc["findings"][0]["message"] = "evil \x1b[2J\x1b]0;title\x07 message"
    doc["errors"][0]["message"] = "bad \x1b[31m red"
    plain = render("console", doc, "en", color=False)
    assert "\x1b" not in plain and "\x07" not in plain
    assert "evil \\x1b[2J\\x1b]0;title\\x07 message" in plain
    coloured = render("console", doc, "en", color=True)
    assert "\x1b[1;31mHIGH  \x1b[0m" in coloured
    assert coloured.count("\x1b[2J") == 0


def test_console_final_line_and_one_line_per_error() -> None:
    lines = render("console", sample(), "en").splitlines()
    assert lines[-1] == ("9 failed (3 high, 4 medium, 1 low, 1 info), 3 passed, 2 not assessed, 1 suppressed, "
                         "1 accepted, 2 errors, 1 skipped — fail-on high: FAILED")
    assert [ln for ln in lines if "examples/broken/template.yaml" in ln] == [
        "  examples/broken/template.yaml:7: mapping values are not allowed here (line 7, column 12) (yaml)"]
    ja = render("console", sample(), "ja").splitlines()
    assert ja[-1] == ("不合格 9 件 (高 3、中 4、低 1、情報 1)、合格 3 件、評価不可 2 件、抑制 1 件、リスク受容 1 件、"
                      "エラー 2 件、スキップ 1 件 — fail-on high: 不合格")


def test_console_failing_lines_are_file_line_severity_rule_resource_message() -> None:
    lines = render("console", sample(), "en").splitlines()
    failing = [ln for ln in lines if re.match(r"^examples/\S+:\d+  ", ln)]
    assert [tuple(ln.split()[:3]) for ln in failing] == [
        ("examples/orders/template.yaml:24", "HIGH", "COST001"),
        ("examples/orders/template.yaml:24", "MEDIUM", "OPS001"),
        ("examples/orders/template.yaml:24", "LOW", "PERF001"),
        ("examples/orders/template.yaml:41", "HIGH", "SEC001"),
        ("examples/orders/template.yaml:41", "MEDIUM", "REL002"),
        ("examples/orders/template.yaml:62", "MEDIUM", "REL001"),
        ("examples/payments/template.yml:18", "HIGH", "SEC002"),
        ("examples/payments/template.yml:18", "MEDIUM", "OPS002"),
        ("examples/payments/template.yml:18", "INFO", "COST002"),
    ]


def test_console_passes_when_nothing_fails() -> None:
    doc = sample()
    doc["findings"] = [f for f in doc["findings"] if f["status"] != "fail"]
    doc["errors"] = []
    doc["skipped"] = []
    doc["summary"] = {"fail_on": "high", "failed": False}
    lines = render("console", doc, "en").splitlines()
    assert "No failing findings." in lines
    assert lines[-1] == "0 failed, 3 passed, 2 not assessed, 1 suppressed, 1 accepted, 0 errors — fail-on high: PASSED"


# ---- escaping (HTML and Markdown) ---------------------------------------------------------------

def hostile() -> dict[str, Any]:
    """The sample review with every outside-controlled string replaced by an injection payload."""
    doc = sample()
    for i, f in enumerate(doc["findings"]):
        p = PAYLOADS[i % len(PAYLOADS)]
        q = PAYLOADS[(i + 1) % len(PAYLOADS)]
        f["resource"].update(id=f"Fn{p}", name=q, origin=f"Origin{q}", type=p)
        f["location"]["file"] = f"dir/{q}/template.yaml"
        f["message"] = f"msg {p} {q}"
        f["reason"] = f"reason {q}"
        f["rule_name"] = p
    for e in doc["errors"]:
        e.update(file=PAYLOADS[0], message=PAYLOADS[1], kind=PAYLOADS[4])
    doc["skipped"] = [{"path": PAYLOADS[5], "reason": PAYLOADS[2]}]
    doc["scan"]["inputs"] = [{"path": p, "sha256": "0"} for p in PAYLOADS]
    for rule in doc["rules"].values():
        rule["title"] = {"en": PAYLOADS[4], "ja": PAYLOADS[5]}
        rule["rationale"] = {"en": PAYLOADS[0], "ja": PAYLOADS[1]}
        rule["remediation"] = {"en": PAYLOADS[3], "ja": PAYLOADS[0], "example": "```\n</code></pre><script>x()</script>"}
        rule["references"] = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                              'https://ok.example/"onmouseover="alert(1)', "https://docs.aws.amazon.com/ok"]
    return doc


class Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(text)
    parser.close()
    return parser.tags


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_escapes_everything_from_the_review(lang: str) -> None:
    out = render("html", hostile(), lang)
    tags = parse(out)
    # The one script is walens' own inline enhancement (no src); nothing from the review becomes a tag.
    assert [a for t, a in tags if t == "script"] == [{}] and out.count("<script") == 1
    assert "img" not in {t for t, _ in tags}
    assert [(t, a) for t, a in tags if any(k.startswith("on") for k in a)] == []
    hrefs = {a["href"] for t, a in tags if "href" in a and not a["href"].startswith("#")}
    assert hrefs == {"https://docs.aws.amazon.com/ok"}
    assert all(a.get("rel") == "noopener noreferrer" for t, a in tags if t == "a" and not a["href"].startswith("#"))
    assert not any("src" in a for _, a in tags)
    for payload in ("<script>alert", "<script>x()", "<img", "</code></pre><script>"):
        assert payload not in out
    # The payloads are still shown, as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "javascript:alert(1)" in out


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_markdown_escapes_everything_from_the_review(lang: str) -> None:
    out = render("markdown", hostile(), lang)
    # Fenced code is shown verbatim as code (its fence is longer than any backtick run inside);
    # outside it, the only raw HTML is the <details>/<summary> walens writes itself.
    prose = re.sub(r"^(`{3,})yaml\n.*?\n\1$", "", out, flags=re.M | re.S)
    assert prose.count("<script>") == 0 and out.count("<script>x()</script>") == 9
    assert {t for t, _ in parse(prose)} == {"details", "summary"}
    assert [a for _, a in parse(prose) if a] == []
    for payload in PAYLOADS:
        if payload != "javascript:alert(1)":  # plain text, never a link target (checked below)
            assert payload not in out, payload
    assert re.search(r"(?<!\\)\]\((javascript|data):", out) is None
    links = re.findall(r"\]\(([^)\s]*)\)", out.replace("\\]", ""))
    assert set(links) == {"https://docs.aws.amazon.com/ok"}
    # Table rows keep their six cells: no `|` from the input opens a new one.
    rows = [ln for ln in out.splitlines() if ln.startswith("| ")]
    assert {len(re.split(r"(?<!\\)\|", ln)) - 2 for ln in rows} == {6}
    # The example's fence is longer than any backtick run inside it.
    assert "````yaml\n```\n</code></pre>" in out


def test_html_is_self_contained_and_japanese_sets_lang_and_fonts() -> None:
    ja = render("html", sample(), "ja")
    assert ja.startswith('<!DOCTYPE html>\n<html lang="ja">')
    assert '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic UI", "Meiryo", "Noto Sans CJK JP", "Noto Sans JP", sans-serif' in ja
    en = render("html", sample(), "en")
    assert en.startswith('<!DOCTYPE html>\n<html lang="en">')
    for out in (ja, en):
        tags = parse(out)
        assert {t for t, _ in tags} & {"link", "img", "iframe", "object", "embed"} == set()
        assert [a for t, a in tags if t == "script"] == [{}]  # walens' own inline script, pinned by the CSP
        assert {a["href"] for t, a in tags if "href" in a and not a["href"].startswith("#")} == {
            "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
            "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-to-api.html",
            "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-apiauth.html",
            "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-templates.html",
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html",
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html",
            "https://docs.aws.amazon.com/lambda/latest/operatorguide/computing-power.html",
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention",
            "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html",
        }
        assert "url(" not in out and "@import" not in out


def test_html_lens_coverage_has_all_38_best_practices_with_text_labels() -> None:
    out = render("html", sample(), "en")
    badges = re.findall(r'<span class="badge lens-(\w+)">(.) ([^<]+)</span>', out)
    assert len(badges) == 38
    assert set(badges) == {("risk", "✖", "Risk found"), ("evidenced", "✔", "Evidenced"),
                           ("needs_answer", "?", "Needs answer"), ("not_applicable", "–", "Not applicable")}


# ---- Markdown size limit ------------------------------------------------------------------------

def test_markdown_stays_under_the_limit_and_says_what_it_left_out() -> None:
    doc = sample()
    template = next(f for f in doc["findings"] if f["rule_id"] == "COST001" and f["status"] == "fail")
    doc["findings"] = []
    for i in range(600):
        f = copy.deepcopy(template)
        f["resource"]["id"] = f["resource"]["origin"] = f"Function{i:04d}"
        f["severity"] = ("high", "medium", "low", "info")[i % 4]
        f["location"]["line"] = i + 1
        doc["findings"].append(f)
    out = render("markdown", doc, "en")
    assert len(out) <= LIMIT
    shown = len(re.findall(r"^- \*\*.+?\*\* · ", out, flags=re.M))  # one line per failing finding shown
    note = re.search(r"(\d+) more failing findings are not shown \(([^)]*)\)", out)
    assert note is not None and int(note.group(1)) == 600 - shown and shown > 20
    # Highest severities are shown first, so what is left out is the least severe.
    assert note.group(2).split(", ")[-1].startswith("Info ")
    small = render("markdown", sample(), "en")
    assert "not shown" not in small and len(re.findall(r"^- \*\*.+?\*\* · ", small, flags=re.M)) == 9
    # The rule's explanation is said once per rule, whatever the number of its resources.
    heads = re.findall(r"^#### COST001 ", out, flags=re.M)  # one rule at four severities: up to four blocks
    assert 1 <= len(heads) <= 4 and out.count("**Why it matters:**") == len(heads) and shown > 10 * len(heads)


@pytest.mark.parametrize("value", [{}, [], {"a": [1, {"b": []}], "c": {}}, [[1, 2], {"x": "日本 <&>"}], "s", None, 0])
def test_dump_json_is_json_at_every_depth(value: Any) -> None:
    from walens.reporters._common import dump_json

    for depth in range(5):
        assert json.loads(dump_json(value, depth)) == value


def test_json_review_has_one_finding_per_line() -> None:
    out = render("json", sample(), "en")
    findings = sample()["findings"]
    lines = [line for line in out.splitlines() if line.startswith('    {"rule_id"')]
    assert len(lines) == len(findings) > 0


# ---- lens coverage --------------------------------------------------------------------------------

def test_console_summarises_lens_coverage_in_one_line() -> None:
    doc = sample()
    counts = {s: sum(e["status"] == s for e in doc["lens"]) for s in ("risk", "evidenced", "needs_answer",
                                                                        "not_applicable")}
    assert counts == {"risk": 9, "evidenced": 1, "needs_answer": 24, "not_applicable": 4}
    en = render("console", doc, "en").splitlines()
    assert "Lens coverage (38 best practices): 9 risk found, 1 evidenced, 24 need an answer, 4 not applicable" in en
    ja = render("console", doc, "ja").splitlines()
    assert "レンズの対応状況 (ベストプラクティス 38 件): リスクあり 9、対応済み 1、要回答 24、該当なし 4" in ja


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_markdown_coverage_table_lists_every_practice_under_its_pillar_and_question(lang: str) -> None:
    from walens import lens

    doc = sample()
    out = render("markdown", doc, lang)
    section = out.split("\n## " + ("Lens coverage" if lang == "en" else "レンズの対応状況") + "\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "\\_q" in ln]
    assert [re.search(r"\(([a-z\\_0-9]+)\) \|", r).group(1).replace("\\", "") for r in rows] == [  # type: ignore[union-attr]
        bp.id for bp in lens.BEST_PRACTICES]
    assert re.findall(r"^### (.+)$", section, flags=re.M) == [p.title.get(lang) for p in lens.PILLARS]
    assert [h.split(" — ")[0] for h in re.findall(r"^#### (.+)$", section, flags=re.M)] == [
        q.label for q in lens.QUESTIONS]
    by_choice = {e["choice"]: e for e in doc["lens"]}
    for row, bp in zip(rows, lens.BEST_PRACTICES, strict=True):
        entry = by_choice[bp.id]
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert len(cells) == 6
        if entry["ask"]:
            assert cells[5].replace("\\", "") == entry["ask"][lang].replace("\\", ""), bp.id
        else:
            assert cells[5] == "—"
        if entry["status"] == "needs_answer":
            assert entry["ask"], bp.id  # a practice that needs an answer always says what to ask
        for rule_id in entry["failing_rules"]:
            assert f"**{rule_id}**" in cells[4]
    # The one-line counts sit in the summary too.
    assert out.count("38") >= 1 and ("9 risk found" in out if lang == "en" else "リスクあり 9" in out)


@pytest.mark.parametrize("fmt", ["markdown", "html", "console"])
def test_review_written_before_coverage_fields_renders_the_same(fmt: str) -> None:
    # A saved review from before entries carried tier/check/ask takes them from walens.lens.
    doc = sample()
    old = copy.deepcopy(doc)
    for entry in old["lens"]:
        for key in ("tier", "check", "results", "failing_rules", "ask"):
            entry.pop(key)
    for lang in ("en", "ja"):
        new_out = render(fmt, doc, lang)
        old_out = render(fmt, old, lang)
        if fmt != "console":  # failing rules are bold only when the review names them
            new_out = new_out.replace("<strong>", "").replace("</strong>", "")
            old_out = old_out.replace("<strong>", "").replace("</strong>", "")
            new_out = re.sub(r"\*\*([A-Z]+\d{3})\*\*", r"\1", new_out)
        assert old_out == new_out


def test_html_coverage_shows_tier_check_and_the_question_to_ask() -> None:
    doc = sample()
    out = render("html", doc, "ja")
    section = out.split('<section id="lens"', 1)[1].split("</section>", 1)[0]
    assert section.count('<tr>\n  <td class="bp">') == 38 and section.count("<thead>") == 9
    for entry in doc["lens"]:
        if entry["ask"]:
            assert f"<td>{html_escape(entry['ask']['ja'])}</td>" in section, entry["choice"]
    assert "<td>必須</td>" in section and "<td>一部自動</td>" in section and "<td>手動</td>" in section


def html_escape(text: str) -> str:
    import html

    return html.escape(text)


def test_every_fixed_not_assessed_reason_of_walens_reads_in_japanese() -> None:
    from walens.reporters._common import reason_text

    source = Path(__file__).resolve().parents[1] / "walens"
    literals = {m for path in source.rglob("*.py")
                for m in re.findall(r'Unknown\("([^"{}]+)"\)', path.read_text(encoding="utf-8"))}
    assert len(literals) > 20
    untranslated = sorted(r for r in literals if reason_text(r, "ja") == r)
    assert untranslated == []
    # A reason under a property path keeps the path and translates the rest, however deep.
    assert reason_text("Properties.X: Fn::If: condition IsProd cannot be decided from parameter defaults", "ja") == (
        "Properties.X: Fn::If: 条件 IsProd はパラメーターのデフォルト値からは判定できません")
    assert reason_text("parameter P has no default", "en") == "parameter P has no default"
    assert reason_text("a custom fact's own words", "ja") == "a custom fact's own words"


@pytest.mark.parametrize(("roots", "inputs", "path", "shown"), [
    (["examples/orders-app"], ["examples/orders-app/template.yaml"], "examples/orders-app/template.yaml", "template.yaml"),
    (["/home/u/p"], ["/home/u/p/a/template.yaml"], "/home/u/p/a/template.yaml", "a/template.yaml"),
    (["/home/u/p/t.yaml"], ["/home/u/p/t.yaml"], "/home/u/p/t.yaml", "t.yaml"),  # a file root: its folder
    (["/home/u/a", "/home/u/b"], ["/home/u/a/t.yaml", "/home/u/b/t.yaml"], "/home/u/b/t.yaml", "b/t.yaml"),
    (["."], ["sub/t.yaml"], "sub/t.yaml", "sub/t.yaml"),
    (["/home/u/p"], ["/home/u/p/t.yaml"], "/etc/passwd", "passwd"),  # outside every root: never absolute
    (None, ["/abs/x/t.yaml"], "/abs/x/t.yaml", "t.yaml"),  # a review written before scan.roots
    (None, ["rel/t.yaml"], "rel/t.yaml", "rel/t.yaml"),
    (["C:\\Users\\u\\p"], ["C:\\Users\\u\\p\\t.yaml"], "C:\\Users\\u\\p\\t.yaml", "t.yaml"),
])
def test_report_paths_are_relative_to_what_was_scanned(roots: list[str] | None, inputs: list[str], path: str,
                                                      shown: str) -> None:
    from walens.reporters._common import PathDisplay, with_display_paths

    doc: dict[str, Any] = {"scan": {"inputs": [{"path": i, "sha256": ""} for i in inputs]},
                           "findings": [{"status": "fail", "location": {"file": path, "line": 3}}],
                           "errors": [{"file": path, "kind": "io", "message": "x"}]}
    if roots is not None:
        doc["scan"]["roots"] = roots
    assert PathDisplay.of(doc)(path) == shown
    view = with_display_paths(doc)
    assert view["findings"][0]["location"] == {"file": shown, "line": 3} and view["errors"][0]["file"] == shown
    assert doc["findings"][0]["location"]["file"] == path  # the review itself is left as it was


def test_merged_reviews_keep_every_scanned_root(tmp_path: Path) -> None:
    from walens.merge import merge
    from walens.pipeline import scan_templates

    example = Path(__file__).resolve().parents[1] / "examples" / "orders-app" / "template.yaml"
    docs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "template.yaml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
        docs.append(scan_templates([str(tmp_path / name)], fail_on="never"))
    merged = merge(docs, names=["a.json", "b.json"])
    assert merged["scan"]["roots"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    out = render("html", merged, "en")
    assert str(tmp_path) not in out and "a/template.yaml" in out and "b/template.yaml" in out
