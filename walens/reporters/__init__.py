"""Reporters: one module per output format, each rendering the review document to text."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, TextIO

from walens.errors import UsageError

FORMATS = ("console", "json", "markdown", "html", "sarif", "junit")
# `json` would shadow the standard library module inside the package.
_MODULES = {"console": "console", "json": "json_", "markdown": "markdown", "html": "html", "sarif": "sarif",
            "junit": "junit"}
# Formats whose render() takes report options (--title, --customer, --author, --logo, --repo-url);
# the others ignore them. PDF is binary and written by walens.reporters.pdf.write.
_OPTION_FORMATS = ("markdown", "html")


def _options(fmt: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(options or {}) if fmt in _OPTION_FORMATS else {}


def render(fmt: str, doc: dict[str, Any], lang: str = "en", color: bool = False,
           options: Mapping[str, Any] | None = None) -> str:
    """Render the review document ``doc`` as ``fmt`` in ``lang``; imports only that format's module."""
    if fmt not in _MODULES:
        raise UsageError(f"unknown report format {fmt!r} (choose one of {', '.join(FORMATS)})")
    module = importlib.import_module(f"walens.reporters.{_MODULES[fmt]}")
    text: str = module.render(doc, lang, color=color, **_options(fmt, options))
    return text


def write(fmt: str, doc: dict[str, Any], handle: TextIO, lang: str = "en", color: bool = False,
          options: Mapping[str, Any] | None = None) -> None:
    """Render ``doc`` into ``handle``, streaming when the format can (JSON), with a final newline."""
    if fmt not in _MODULES:
        raise UsageError(f"unknown report format {fmt!r} (choose one of {', '.join(FORMATS)})")
    module = importlib.import_module(f"walens.reporters.{_MODULES[fmt]}")
    last = ""
    pieces = (module.chunks(doc, lang, color=color) if hasattr(module, "chunks")
              else [module.render(doc, lang, color=color, **_options(fmt, options))])
    for piece in pieces:
        if piece:
            handle.write(piece)
            last = piece
    if not last.endswith("\n"):
        handle.write("\n")
