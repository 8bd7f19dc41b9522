"""The HTML report in a real browser: headless Chromium (Debian's `chromium`, see the README).

Loads the report of the bundled example from file://, in English and Japanese, checks the script ran
without console errors, that the page asked for nothing on the network (Chromium's NetLog), takes a
desktop screenshot of each (kept in ``$WALENS_SCREENSHOTS``, default ``<tmp>/walens-browser``, and listed
at the end of the pytest run) and prints the PDF; the Japanese PDF embeds TrueType fonts only (no Type 3
glyphs) when an IPA font is installed; loads the injection template's report and checks nothing
injected runs or appears. Skipped, saying why, when no Chromium is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from walens.pipeline import scan_templates
from walens.reporters import render
from walens.reporters.pdf import command, find_chromium

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders-app" / "template.yaml"
INJECTION = REPO / "tests" / "fixtures" / "report" / "injection.yaml"
BROWSER = find_chromium()
TIMEOUT = 40
SHOTS = Path(os.environ.get("WALENS_SCREENSHOTS") or Path(tempfile.gettempdir()) / "walens-browser")
COUNT_TEXT = {"en": r"(\d+) of (\d+) rules shown", "ja": r"(\d+) ルール中 (\d+) ルールを表示"}
# Chromium's own background services (time sync, updates, accounts, dictionaries): not the page's requests.
BROWSER_HOSTS = re.compile(r"^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)(/|$)")

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium/Chrome found (install Debian's `chromium`, or set WALENS_CHROMIUM)")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    base = command(str(BROWSER), Path("x"), Path("x"), profile)
    flags = [a for a in base[:-1] if not a.startswith(("--print-to-pdf", "--no-pdf-header-footer"))]
    return subprocess.run([*flags, *args], capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)


def page_requests(netlog: Path) -> set[str]:
    """Every http(s) URL in a NetLog file that is not one of Chromium's own background services."""
    text = netlog.read_text(encoding="utf-8", errors="replace")
    urls = set(re.findall(r'"(?:url|original_url)":"(https?://[^"]+)"', text))
    return {u for u in urls if not BROWSER_HOSTS.match(u)}


def console_problems(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if ":CONSOLE" in ln or "Uncaught" in ln or "Refused to" in ln or "Content Security Policy" in ln]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="walens-browser-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module", params=["en", "ja"])
def example_page(workdir: Path, request: pytest.FixtureRequest) -> tuple[str, Path]:
    lang = str(request.param)
    doc = scan_templates([str(EXAMPLE)], fail_on="never", lang=lang)
    page = workdir / f"example.{lang}.html"
    page.write_text(render("html", doc, lang, options={"customer": "Example Corp", "author": "walens tests"}),
                    encoding="utf-8")
    return lang, page


def test_report_runs_its_script_without_console_errors_or_network_requests(
        workdir: Path, example_page: tuple[str, Path]) -> None:
    lang, page = example_page
    netlog = workdir / f"example.{lang}.netlog.json"
    proc = chromium("--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", "--dump-dom",
                    page.as_uri(), profile=workdir / f"p1-{lang}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert 'data-js="ready"' in dom  # the enhancement script ran to its end
    assert re.search(r'<form class="toolbar" id="toolbar"(?![^>]*hidden)[^>]*>', dom)
    count = re.search(r'id="filter-count"[^>]*>' + COUNT_TEXT[lang] + "<", dom)
    assert count is not None and count.group(1) == count.group(2) and int(count.group(1)) > 5
    assert dom.count("<details class=\"rule") == int(count.group(2))
    assert console_problems(proc.stderr) == []
    assert page_requests(netlog) == set()


def test_the_console_check_does_see_a_script_error(workdir: Path) -> None:
    # The control for the console assertions: a page whose script throws is caught.
    page = workdir / "throws.html"
    page.write_text("<!DOCTYPE html><html><body><script>null.x()</script></body></html>")
    proc = chromium("--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri(), profile=workdir / "p0")
    assert console_problems(proc.stderr) != []


def test_the_network_check_does_see_a_page_request(workdir: Path) -> None:
    # The control for the test above: a page that loads an image from another host is caught.
    page = workdir / "control.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://192.0.2.1/x.png" alt=""></body></html>')
    netlog = workdir / "control.netlog.json"
    chromium(f"--log-net-log={netlog}", "--dump-dom", page.as_uri(), profile=workdir / "p2")
    assert page_requests(netlog) == {"http://192.0.2.1/x.png"}


def test_desktop_screenshot_and_a4_pdf(workdir: Path, example_page: tuple[str, Path],
                                       record_property: pytest.RecordProperty) -> None:
    lang, page = example_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"report-{lang}.png"
    shot.unlink(missing_ok=True)
    proc = chromium("--hide-scrollbars", "--window-size=1366,1600", f"--screenshot={shot}", page.as_uri(),
                    profile=workdir / f"p3-{lang}")
    assert shot.is_file(), proc.stderr[-2000:]
    record_property("screenshot", str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1366 and int.from_bytes(data[20:24], "big") == 1600
    assert len(data) > 20_000  # a rendered page, not a blank one
    pdf = SHOTS / f"report-{lang}.pdf"
    pdf.unlink(missing_ok=True)
    proc = subprocess.run(command(str(BROWSER), page, pdf, workdir / f"p4-{lang}"), capture_output=True, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    body = pdf.read_bytes() if pdf.is_file() else b""
    assert body.startswith(b"%PDF"), proc.stderr[-2000:]
    record_property("pdf", str(pdf))
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", body))
    assert pages > 3
    # A4 media box (595 x 842 points).
    boxes = {tuple(round(float(x)) for x in m) for m in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", body)}
    assert boxes == {(595, 842)}
    if lang == "ja":
        if not ipa_font_installed():
            pytest.skip("no IPA font (apt install fonts-ipafont-gothic): the Japanese PDF falls back to a CFF font")
        # Skia writes a CFF-outline font (Noto Sans CJK) or a synthesised bold as Type 3 glyph procedures;
        # the print stylesheet avoids both, so every font is embedded TrueType (CIDFontType2 for CJK).
        assert b"/Type3" not in body
        assert b"/Subtype /CIDFontType2" in body and re.search(rb"/BaseFont\s*/[A-Z]{6}\+IPA", body)


def ipa_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=30).stdout
    return bool(re.search(r"IPAexGothic|IPAPGothic", out))


def test_injection_template_runs_nothing_in_the_browser(workdir: Path) -> None:
    doc = scan_templates([str(INJECTION)], fail_on="never")
    page = workdir / "injection.html"
    page.write_text(render("html", doc, "en", options={"title": "<script>alert('title')</script>"}), encoding="utf-8")
    netlog = workdir / "injection.netlog.json"
    # An alert() would block --dump-dom until the timeout: finishing in time means no dialog was raised.
    proc = chromium("--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", "--dump-dom", page.as_uri(),
                    profile=workdir / "p5")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert 'data-js="ready"' in dom
    tags = re.findall(r"<(script|img|iframe|svg|style|object|embed)\b([^>]*)>", dom)
    assert [t for t, _ in tags if t == "script"] == ["script"] and [t for t, _ in tags if t == "style"] == ["style"]
    assert {t for t, _ in tags} <= {"script", "style", "svg"}  # svg: walens' own charts
    assert all('role="img"' in attrs for t, attrs in tags if t == "svg")
    assert re.search(r"<[a-z]+[^>]*\son[a-z]+=", dom) is None
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', dom))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert console_problems(proc.stderr) == []
    assert page_requests(netlog) == set()
    json.dumps(doc)  # the review itself stays serialisable with the payloads
