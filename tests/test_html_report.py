"""The consultant's HTML report: cover options, structure, charts, highlighting, CSP, safety, PDF errors."""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from walens.errors import UsageError
from walens.pipeline import scan_templates
from walens.reporters import render
from walens.reporters.html import highlight_yaml, logo_data_uri

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "fixtures" / "reporters" / "review.json"
INJECTION = REPO / "tests" / "fixtures" / "report" / "injection.yaml"
EXAMPLE = REPO / "examples" / "orders-app" / "template.yaml"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


class Page(HTMLParser):
    """Start tags with attributes, ids, and the text of <script>/<style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in][-1] += data


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def assert_safe(out: str) -> Page:
    """Nothing from the review became markup: our one script, no img/iframe/object, no on*, no javascript:."""
    page = parse(out)
    names = [t for t, _ in page.tags]
    assert names.count("script") == 1 and [a for t, a in page.tags if t == "script"] == [{}]
    assert names.count("style") == 1
    assert {"img", "iframe", "object", "embed", "svg:script", "form"} & set(names) <= {"form"}
    assert names.count("form") <= 1  # the filter toolbar
    assert [(t, a) for t, a in page.tags if any(k.lower().startswith("on") for k in a)] == []
    for _, attrs in page.tags:
        for key in ("href", "src", "action", "xlink:href"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:text", "vbscript:")), (key, value)
    hrefs = [a["href"] for t, a in page.tags if t == "a" and a.get("href")]
    assert all(h.startswith("#") or h.startswith("https://") for h in hrefs), hrefs
    return page


# ---- cover ------------------------------------------------------------------------------------------

def test_cover_carries_title_customer_author_logo_date_scope_and_versions() -> None:
    logo = "data:image/png;base64," + base64.b64encode(PNG).decode()
    out = render("html", sample(), "en", options={"title": "Orders <review>", "customer": "ACME & Co",
                                                  "author": "Jane \"JD\" Doe", "logo": logo})
    cover = out.split('<header class="cover"', 1)[1].split("</header>", 1)[0]
    assert "<h1>Orders &lt;review&gt;</h1>" in cover
    assert "<dd>ACME &amp; Co</dd>" in cover and "<dd>Jane &#34;JD&#34; Doe</dd>" in cover
    assert f'<img src="{logo}" alt="Logo">' in cover
    assert "<dd>23 November 2026, 09:00 UTC</dd>" in cover
    assert "2 templates" in cover and "examples/orders/template.yaml" in cover
    assert "walens 0.1.0 · rules 0.1.0" in cover
    assert "<title>Orders &lt;review&gt; — ACME &amp; Co</title>" in out
    ja = render("html", sample(), "ja")
    assert "<dd>2026年11月23日 09:00 (UTC)</dd>" in ja and "<h1>サーバーレスアプリケーションレンズ レビュー</h1>" in ja
    # Without options: the default title, no customer/author rows, no image.
    plain = render("html", sample(), "en")
    assert "<h1>Serverless Lens review</h1>" in plain and "Customer" not in plain and "<img" not in plain


def test_logo_file_becomes_a_data_uri_and_anything_else_is_refused(tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(PNG)
    assert logo_data_uri(png) == "data:image/png;base64," + base64.b64encode(PNG).decode()
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert logo_data_uri(svg).startswith("data:image/svg+xml;base64,")
    for name, data, message in (("logo.exe", b"MZ", "must be a .png"), ("empty.png", b"", "empty"),
                                ("big.png", b"x" * (600 * 1024), "larger than")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UsageError, match=message):
            logo_data_uri(tmp_path / name)
    with pytest.raises(UsageError, match="cannot read"):
        logo_data_uri(tmp_path / "missing.png")
    with pytest.raises(UsageError, match="data:image URI"):
        render("html", sample(), "en", options={"logo": "https://evil.example/x.png"})


# ---- structure -------------------------------------------------------------------------------------

def test_sections_in_order_with_a_working_table_of_contents() -> None:
    out = render("html", sample(), "en")
    page = parse(out)
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    order = [i for i in ids if i in ("cover", "summary", "lens", "findings", "appendices", "not-assessed",
                                     "suppressed", "errors", "rules-ran", "inputs")]
    assert order == ["cover", "summary", "lens", "findings", "appendices", "not-assessed", "suppressed", "errors",
                     "rules-ran", "inputs"]
    assert len(ids) == len(set(ids)), "duplicate ids"
    targets = {a["href"][1:] for t, a in page.tags if t == "a" and (a.get("href") or "").startswith("#")}
    assert targets and targets <= set(ids)
    # Headings are semantic: one h1, then h2 sections; every table header cell has a scope.
    headings = [t for t, _ in page.tags if re.fullmatch(r"h[1-6]", t)]
    assert headings.count("h1") == 1 and headings[1] == "h2"
    assert all(a.get("scope") in ("col", "row", "rowgroup") for t, a in page.tags if t == "th")


def test_executive_summary_draws_three_labelled_svg_charts_and_the_top_risks() -> None:
    out = render("html", sample(), "en")
    summary = out.split('<section id="summary"', 1)[1].split("</section>", 1)[0]
    charts = re.findall(r'<svg viewBox="[^"]+" role="img" aria-label="([^"]+)"', summary)
    assert charts == [
        "Risks by severity — High 3, Medium 4, Low 1, Info 1",
        "Risks by pillar — Operational Excellence 2, Security 2, Reliability 2, Performance Efficiency 1, "
        "Cost Optimization 2",
        "Lens coverage by pillar — Risk found 9, Evidenced 1, Needs answer 24, Not applicable 4",
    ]
    # Numbers are text in the chart and in the legend, not only colours.
    assert '<text class="row-total" x="396" y="20" text-anchor="end">3</text>' in summary
    assert "High (3)" in summary and "Needs answer (24)" in summary
    top = re.findall(r'<li>\s*<h4><span class="badge sev-(\w+)">(\w+)</span> <a href="#rule-(\w+)">', summary)
    assert [(s, label) for s, label, _ in top] == [("high", "High")] * 3 + [("medium", "Medium")] * 2
    assert {r for *_, r in top} >= {"COST001", "SEC001", "SEC002"}
    assert "9 failing checks across 4 resources; 3 of them are high severity." in summary
    assert "Lens coverage of 38 best practices: 9 with a risk found, 1 evidenced" in summary


def test_lens_lists_every_best_practice_in_wa_tool_order_with_evidence_links() -> None:
    from walens import lens

    doc = sample()
    out = render("html", doc, "en")
    section = out.split('<section id="lens"', 1)[1].split('<section id="findings"', 1)[0]
    choices = re.findall(r'<span class="cid mono">\(([a-z0-9_]+)\)</span>', section)
    assert choices == [bp.id for bp in lens.BEST_PRACTICES]
    assert re.findall(r"<h4>([A-Z]+ \d+) — ", section) == [q.label for q in lens.QUESTIONS]
    for entry in doc["lens"]:
        for rule_id in entry["failing_rules"]:
            assert f'<a href="#rule-{rule_id}"><strong>{rule_id}</strong></a>' in section
    assert "1 failed" in section


def test_findings_are_grouped_by_pillar_and_practice_with_highlighted_fix() -> None:
    doc = sample()
    out = render("html", doc, "en")
    section = out.split('<section id="findings"', 1)[1].split('<section id="appendices"', 1)[0]
    rules = re.findall(r'<details class="rule sev-border-(\w+)" id="rule-(\w+)" data-severity="(\w+)" '
                       r'data-pillar="(\w+)" open>', section)
    failing = {f["rule_id"] for f in doc["findings"] if f["status"] == "fail"}
    assert {r for _, r, _, _ in rules} == failing and len(rules) == len(failing)
    pillars = [p for *_, p in rules]
    order = ["operationalExcellence", "security", "reliability", "performance", "costOptimization"]
    assert pillars == sorted(pillars, key=order.index)
    assert "examples/orders/template.yaml:24" in section
    assert re.search(r'<pre class="code( short)?" aria-label="Example"><code><span class="l"><span class="k">', section)
    # Everything is readable without JavaScript: the toolbar is hidden until the script shows it.
    assert '<form class="toolbar" id="toolbar" hidden' in section


def test_appendices_list_not_assessed_suppressed_rules_and_input_hashes() -> None:
    doc = sample()
    out = render("html", doc, "ja")
    appendix = out.split('<section id="appendices"', 1)[1]
    for entry in doc["scan"]["inputs"]:
        assert f'<td class="mono hash">{entry["sha256"]}</td>' in appendix
    assert appendix.count('<tr><td class="mono">') >= len(doc["rules"])
    text = html.unescape(appendix)
    # Not-assessed reasons in Japanese: the resolvers' wording translated, identifiers kept.
    reasons = [f["reason"] for f in doc["findings"] if f["status"] == "not_assessed"]
    assert reasons == ["TracingConfig.Mode: parameter TracingMode has no default",
                       "MethodSettings: Fn::ImportValue shared-throttle-settings cannot be resolved from the template"]
    assert "TracingConfig.Mode: パラメーター TracingMode にデフォルト値がありません" in text
    assert "MethodSettings: Fn::ImportValue shared-throttle-settings はテンプレートからは解決できません" in text
    assert not any(r in text for r in reasons)
    statuses = re.findall(r'<tr><td><span class="badge st-(\w+)">', appendix)
    assert statuses == ["suppressed", "accepted"]
    accepted = next(f for f in doc["findings"] if f["status"] == "accepted")
    assert accepted["reason"] and accepted["reason"] in text


def test_account_review_shows_account_locations_and_gaps() -> None:
    doc = sample()
    doc["scan"].update(source="account", inputs=None, accounts=["123456789012"], regions=["ap-northeast-1"])
    f = next(f for f in doc["findings"] if f["status"] == "fail")
    f["location"] = None
    f["resource"].update(account="123456789012", region="ap-northeast-1",
                         arn="arn:aws:lambda:ap-northeast-1:123456789012:function:orders-fn")
    doc["gaps"] = [{"account": "123456789012", "region": "ap-northeast-1", "service": "lambda",
                    "operation": "GetPolicy", "action": "lambda:GetPolicy", "error_code": "AccessDeniedException",
                    "kind": "denied", "reason": "not authorized to perform lambda:GetPolicy", "count": 3,
                    "rules": ["SEC001"]}]
    out = render("html", doc, "en")
    assert "AWS accounts 123456789012 in ap-northeast-1" in out
    assert "account 123456789012, ap-northeast-1" in out
    assert "arn:aws:lambda:ap-northeast-1:123456789012:function:orders-fn" in out
    gaps = out.split("What walens could not see in the account", 1)[1]
    assert "lambda:GetPolicy" in gaps and "AccessDeniedException" in gaps and "not authorized" in gaps
    assert "<td class=\"num\">3</td>" in gaps


# ---- self-contained, CSP, highlighting -------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ja"])
def test_page_is_self_contained_and_its_csp_pins_the_inline_style_and_script(lang: str) -> None:
    out = render("html", sample(), lang)
    page = parse(out)
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none'; img-src data:;")
    for kind in ("style", "script"):
        digest = base64.b64encode(hashlib.sha256(page.raw[kind][0].encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in csp
    # Nothing loads from another host: no src/href to http(s) on resources, no url() or @import in CSS.
    for tag, attrs in page.tags:
        if tag in ("script", "link", "img", "iframe", "source", "video", "audio", "embed", "object"):
            assert not re.match(r"^(https?:)?//", attrs.get("src") or attrs.get("href") or ""), (tag, attrs)
    assert "url(" not in page.raw["style"][0] and "@import" not in page.raw["style"][0]
    assert re.search(r"\bfetch\(|XMLHttpRequest|import\(", page.raw["script"][0]) is None
    assert "@page { size: A4" in page.raw["style"][0] and "break-before: page" in page.raw["style"][0]
    assert '"Hiragino Sans"' in page.raw["style"][0] and '"Noto Sans CJK JP"' in page.raw["style"][0]


def test_yaml_highlighter_escapes_every_character_and_keeps_the_text() -> None:
    text = ('Resources:\n  Fn:  # <b>comment</b>\n    Type: "<script>alert(1)</script>"\n'
            "    Value: !Ref X\n    List: [1, true, '</code>']\n    - key: >-\n      text & more\n")
    out = highlight_yaml(text)
    assert "<script>" not in out and "<b>" not in out and "</code>" not in out
    assert html.unescape(re.sub(r"<[^>]+>", "", out)) == text.rstrip("\n")
    assert set(re.findall(r'<span class="(\w)">', out)) == {"k", "s", "t", "n", "c", "p", "l"}
    # One span per line, classed by its indentation: a wrapped line continues under its own indentation.
    lines = re.findall(r'<span class="l( i\d+)?">', out)
    assert [c.strip() for c in lines] == ["", "i2", "i4", "i4", "i4", "i4", "i6"]
    assert out.count("\n") == len(text.rstrip("\n").splitlines()) - 1
    assert '<span class="k">Resources</span><span class="p">:</span>' in out
    assert '<span class="t">!Ref</span>' in out


# ---- safety: a hostile template -------------------------------------------------------------------

@pytest.fixture(scope="module")
def injection_doc() -> dict[str, Any]:
    doc = scan_templates([str(INJECTION)], fail_on="never")
    assert not doc["errors"] and sum(f["status"] == "fail" for f in doc["findings"]) > 10
    return doc


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_injection_template_renders_as_text_in_html(injection_doc: dict[str, Any], lang: str) -> None:
    doc = copy.deepcopy(injection_doc)
    out = render("html", doc, lang, options={"title": "<script>alert('t')</script>", "customer": '"><img src=x>',
                                             "author": "javascript:alert(1)"})
    assert_safe(out)
    ids = {f["resource"]["id"] for f in doc["findings"] if f["status"] == "fail"}
    assert "<script>alert(1)</script>" in ids and '"><img src=x onerror=alert(1)>' in ids
    assert "<script>alert" not in out and "<img src" not in out and "<style>body" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;style&gt;body{display:none}&lt;/style&gt;" in out


# ---- command line ---------------------------------------------------------------------------------

def walens(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "walens", *args], capture_output=True, text=True, cwd=REPO,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "LANG": "C.UTF-8", **(env or {})},
                          timeout=120)


def test_cli_cover_options_on_scan_and_report(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    cover = ("--title", "Orders review", "--customer", "Example Corp", "--author", "Jane Doe", "--logo", str(logo))
    proc = walens("scan", "template", str(EXAMPLE), "--format", "html", "--fail-on", "never", *cover)
    assert proc.returncode == 0, proc.stderr
    assert "<h1>Orders review</h1>" in proc.stdout and "<dd>Example Corp</dd>" in proc.stdout
    assert 'src="data:image/png;base64,' in proc.stdout
    review = tmp_path / "review.json"
    walens("scan", "template", str(EXAMPLE), "--format", "json", "--fail-on", "never", "--output", str(review))
    out = tmp_path / "report.html"
    proc = walens("report", str(review), "--lang", "ja", "--output", str(out), *cover)
    assert proc.returncode == 0, proc.stderr
    assert "<dd>Jane Doe</dd>" in out.read_text(encoding="utf-8")
    bad = walens("report", str(review), "--logo", str(tmp_path / "nope.png"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot read the logo" in bad.stderr


def test_pdf_needs_an_output_file_and_says_how_to_install_chromium(tmp_path: Path) -> None:
    review = tmp_path / "review.json"
    review.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    proc = walens("report", str(review), "--format", "pdf")
    assert proc.returncode == 2 and "--format pdf needs --output FILE" in proc.stderr
    proc = walens("report", str(review), "--format", "pdf", "--output", str(tmp_path / "r.pdf"),
                  env={"WALENS_CHROMIUM": str(tmp_path / "no-such-browser"), "PATH": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "apt install chromium" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_rules_with_a_cloudformation_example_show_it_beside_the_sam_one(lang: str) -> None:
    doc = scan_templates([str(EXAMPLE)], lang=lang, fail_on="never")
    out = render("html", doc, lang)
    labels = {"en": ("Example (AWS SAM)", "Example (plain CloudFormation)"), "ja": ("例 (AWS SAM)", "例 (CloudFormation)")}
    failing = {f["rule_id"] for f in doc["findings"] if f["status"] == "fail"}
    with_cfn = {rid for rid in failing if doc["rules"][rid]["remediation"].get("example_cfn")}
    assert with_cfn, "the example should fail at least one rule that has a CloudFormation example"
    assert out.count(f"<h6>{labels[lang][1]}</h6>") == len(with_cfn)
    assert out.count(f"<h6>{labels[lang][0]}</h6>") == len(with_cfn)
    # The CloudFormation snippet is highlighted like the SAM one and never carries the SAM transform.
    assert "AWS::Serverless-2016-10-31" not in "".join(
        doc["rules"][rid]["remediation"]["example_cfn"] for rid in with_cfn)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_customer_report_shows_paths_relative_to_the_scanned_folder_and_no_ci_gate(tmp_path: Path, lang: str) -> None:
    app = tmp_path / "home" / "alice" / "orders-app"
    (app / "nested").mkdir(parents=True)
    (app / "nested" / "template.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (app / "broken.yaml").write_text("Resources: [\n", encoding="utf-8")
    doc = scan_templates([str(app)], fail_on="never", lang=lang)
    assert doc["scan"]["roots"] == [str(app)] and doc["errors"]
    out = render("html", doc, lang)
    assert str(tmp_path) not in out and "/home/alice" not in out
    cover = out.split('<header class="cover"', 1)[1].split("</header>", 1)[0]
    assert {"en": "1 template in orders-app", "ja": "orders-app のテンプレート 1 件"}[lang] in cover
    findings = out.split('<section id="findings"', 1)[1].split('<section id="appendices"', 1)[0]
    assert re.search(r'<td class="mono">nested/template\.yaml:\d+</td>', findings)
    appendix = out.split('<section id="appendices"', 1)[1]
    assert '<td class="mono">nested/template.yaml</td>' in appendix
    assert re.search(r'<td class="mono">broken\.yaml(:\d+)?</td>', appendix)
    # The CI gate is the pipeline's business, not the customer's: no "fail-on never: PASSED".
    assert "fail-on" not in out and "PASSED" not in out
    assert ">fail-on never" not in out and "CI ゲート" not in out and "CI gate" not in out


def test_japanese_print_puts_a_truetype_cjk_font_first_and_breaks_lines_by_japanese_rules() -> None:
    ja = parse(render("html", sample(), "ja")).raw["style"][0]
    screen, _, printed = ja.partition("@media print")
    assert 'body { margin: 0;' in screen and 'font-family: "Hiragino Sans"' in screen  # screens: the platform font
    # Print: IPA (TrueType outlines, embedded as CIDFontType2) before the CFF Noto Sans CJK Skia prints as Type 3.
    assert 'font-family: "IPAexGothic", "IPAPGothic", "Hiragino Sans"' in printed
    assert '"IPAGothic", "Noto Sans Mono CJK JP"' in printed and "font-synthesis: none" in printed
    assert ":lang(ja) { line-break: strict; word-break: auto-phrase; }" in screen
    en = parse(render("html", sample(), "en")).raw["style"][0]
    assert "IPAexGothic" not in en


def test_japanese_text_has_no_space_after_punctuation_or_between_japanese_characters() -> None:
    from walens.reporters._common import tidy

    assert tidy("保持されます。 AWS は、 ログを 保存します。", "ja") == "保持されます。AWS は、ログを保存します。"
    assert tidy("Kept. Then, logs", "en") == "Kept. Then, logs"
    doc = sample()
    rule = next(iter(doc["rules"].values()))
    rule["rationale"]["ja"] = "ログは失効しません。 コストが増えます、 AWS Lambda は 作成します。"
    rid = next(r for r, v in doc["rules"].items() if v is rule)
    assert any(f["rule_id"] == rid and f["status"] == "fail" for f in doc["findings"])
    for fmt in ("html", "markdown"):
        out = render(fmt, doc, "ja")
        assert "ログは失効しません。コストが増えます、AWS Lambda は作成します。" in out


@pytest.mark.parametrize(("failing", "expected"), [
    (1, "1 failing check across 1 resource; 1 of them is high severity."),
    (2, "2 failing checks across 2 resources; 2 of them are high severity."),
])
def test_headline_counts_are_grammatical(failing: int, expected: str) -> None:
    doc = sample()
    fails = [f for f in doc["findings"] if f["status"] == "fail" and f["severity"] == "high"]
    keep = {id(f) for f in fails[:failing]}
    doc["findings"] = [f for f in doc["findings"] if f["status"] != "fail" or id(f) in keep]
    for i, f in enumerate(fails[:failing]):
        f["resource"]["origin"] = f["resource"]["id"] = f"Resource{i}"
    doc.pop("summary", None)
    out = render("html", doc, "en")
    assert f"<strong>{expected}</strong>" in out


def test_diff_page_shows_no_absolute_path(tmp_path: Path) -> None:
    from walens import diff
    from walens.reporters.html import render_diff

    app = tmp_path / "home" / "bob" / "app"
    app.mkdir(parents=True)
    text = EXAMPLE.read_text(encoding="utf-8")
    (app / "template.yaml").write_text(text.replace("Tracing: Active", "Tracing: PassThrough"), encoding="utf-8")
    old = scan_templates([str(app)], fail_on="never")
    (app / "template.yaml").write_text(text.replace("MemorySize: 128", "MemorySize: 1024"), encoding="utf-8")
    new = scan_templates([str(app)], fail_on="never")
    d = diff.diff(old, new)
    assert any((d["findings"] or {}).get(k) for k in ("new", "resolved", "persisting"))
    out = render_diff(d, "en", since=diff.since_last(d), rules=new["rules"])
    assert str(tmp_path) not in out and re.search(r">template\.yaml:\d+<", out)


def test_what_could_not_be_assessed_shows_at_the_top_and_in_the_lens_charts() -> None:
    """REL020's fixture leaves its only rule not assessed (a parameter without a default): the summary says
    how many results could not be judged and links to them, the lens chart and legend count the best
    practice as not assessed (it is neither risk nor evidence), in both languages; Markdown says it too."""
    fixture = Path(__file__).resolve().parent / "fixtures" / "rules" / "REL020" / "unknown.yaml"
    doc = scan_templates([str(fixture)], select=["REL020"], fail_on="never")
    assert doc["summary"]["coverage"]["not_assessed"] >= 1
    assert "rel_rel_q1_a4" in doc["summary"]["coverage"]["practices_not_assessed"] or any(
        e["status"] == "not_assessed" for e in doc["lens"])
    not_assessed = sum(1 for e in doc["lens"] if e["status"] == "not_assessed")
    assert not_assessed >= 1
    en = render("html", doc, "en")
    assert re.search(r'<p class="coverage"><a href="#not-assessed">\d+ results? could not be assessed', en)
    assert f"Not assessed ({not_assessed})" in en  # the lens chart's legend
    assert 'class="c-not_assessed"' in en or "c-not_assessed" in en
    ja = render("html", doc, "ja")
    assert "件の結果は評価できませんでした" in ja and f"評価不可 ({not_assessed})" in ja
    markdown = render("markdown", doc, "en")
    assert "not assessed" in markdown.split("###")[0].lower()


def test_a_complete_review_shows_no_not_assessed_status_in_the_lens_chart() -> None:
    doc = scan_templates([str(Path(__file__).resolve().parents[1] / "examples" / "orders-app")], fail_on="never")
    assert doc["summary"]["coverage"]["not_assessed"] == 0
    en = render("html", doc, "en")
    assert 'class="coverage"' not in en and "c-not_assessed" not in en.split("<style")[0] + en.split("</style>")[1]


def test_a_rule_failing_on_thousands_of_resources_lists_the_first_hundred_and_says_how_many_more() -> None:
    """A fleet fails one rule on thousands of functions: the page lists OCCURRENCES_SHOWN per rule (and
    APPENDIX_ROWS_SHOWN rows per appendix table) and counts the rest, in both languages; totals stay whole."""
    from walens.reporters.html import APPENDIX_ROWS_SHOWN, OCCURRENCES_SHOWN

    doc = sample()
    fail = next(f for f in doc["findings"] if f["status"] == "fail" and f["rule_id"] == "COST001")
    unknown = next(f for f in doc["findings"] if f["status"] == "not_assessed")
    many = [copy.deepcopy(fail) for _ in range(OCCURRENCES_SHOWN + 150)]
    for i, f in enumerate(many):
        f["resource"]["id"] = f["resource"]["origin"] = f"Fn{i:04d}"
        f["location"]["line"] = 10 + i
    blind = [copy.deepcopy(unknown) for _ in range(APPENDIX_ROWS_SHOWN + 7)]
    for i, f in enumerate(blind):
        f["resource"]["id"] = f"Blind{i:04d}"
    doc["findings"] = [f for f in doc["findings"] if f["rule_id"] != "COST001" and f["status"] != "not_assessed"]
    doc["findings"] += many + blind
    out = render("html", doc, "en")
    block = out.split('id="rule-COST001"')[1].split("</details>")[0]
    assert block.count("<tr><td class=\"mono\">") == OCCURRENCES_SHOWN
    assert "Fn0000" in block and f"Fn{OCCURRENCES_SHOWN - 1:04d}" in block and f"Fn{OCCURRENCES_SHOWN:04d}" not in block
    assert "… and 150 more resources fail this rule: the first 100 are listed" in block
    assert f"— {OCCURRENCES_SHOWN + 150} resources" in block  # the rule's count is the whole count
    summary_row = out.split('<a href="#rule-COST001"><span class="rid">')[1].split("</tr>")[0]
    assert f'<td class="n">{OCCURRENCES_SHOWN + 150}</td>' in summary_row
    appendix = out.split('id="not-assessed"')[1]
    assert appendix.count(">Blind") == APPENDIX_ROWS_SHOWN and "… and 7 more rows: the first 500 are listed" in appendix
    ja = render("html", doc, "ja")
    assert "… ほかに 150 件のリソースがこのルールに不合格です。最初の 100 件を表示しています。" in ja
    assert "… ほかに 7 行あります。最初の 500 行を表示しています。" in ja
    assert_safe(out)
