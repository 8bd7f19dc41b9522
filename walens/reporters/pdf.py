"""The PDF report: the HTML report printed by headless Chromium (its print stylesheet: A4, cover page).

walens does not ship a browser. ``find_chromium`` looks for ``$WALENS_CHROMIUM``, then Chromium or
Google Chrome on PATH; without one, ``write`` raises a UsageError (exit 2) saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from walens.errors import UsageError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_MAC_APPS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
             "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
INSTALL_HINT = ("--format pdf needs Chromium or Google Chrome (chromium, chromium-browser or google-chrome on PATH, "
                "or WALENS_CHROMIUM=/path/to/browser): install it, e.g. 'sudo apt install chromium' or "
                "'brew install --cask chromium', or print the --format html report from a browser")
TIMEOUT = 120


def find_chromium() -> str | None:
    """The browser to print with, or None when none is installed."""
    override = os.environ.get("WALENS_CHROMIUM")
    if override:
        return override if (shutil.which(override) or Path(override).is_file()) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return next((app for app in _MAC_APPS if Path(app).is_file()), None)


def command(browser: str, html_path: Path, pdf_path: Path, profile: Path) -> list[str]:
    """The headless print command: no sandbox (containers, CI), no network chatter, no header/footer."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--no-pdf-header-footer", "--print-to-pdf-no-header",
            f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]


def write(doc: dict[str, Any], output: str, lang: str = "en", **options: Any) -> None:
    """Render ``doc`` as HTML and print it to the PDF file ``output``."""
    from walens.reporters import html

    browser = find_chromium()
    if browser is None:
        raise UsageError(INSTALL_HINT)
    text = html.render(doc, lang, **{k: v for k, v in options.items() if k != "repo_url"})
    target = Path(output)
    with tempfile.TemporaryDirectory(prefix="walens-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(text, encoding="utf-8")
        printed = Path(tmp) / "report.pdf"
        try:
            proc = subprocess.run(command(browser, page, printed, Path(tmp) / "profile"), capture_output=True,
                                  text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise UsageError(f"{browser} did not print the report within {TIMEOUT} s") from exc
        except OSError as exc:
            raise UsageError(f"cannot run {browser}: {exc.strerror}") from exc
        if not printed.is_file() or printed.stat().st_size == 0 or not printed.read_bytes().startswith(b"%PDF"):
            lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
            detail = f": {lines[-1].strip()}" if lines else ""
            raise UsageError(f"{browser} did not produce a PDF (exit {proc.returncode}){detail}")
        try:
            shutil.copyfile(printed, target)
        except OSError as exc:
            raise UsageError(f"cannot write the report: {exc.strerror}", file=str(target)) from exc
