"""The JSON reporter: the review document itself, the contract every other output reads."""

from __future__ import annotations

from typing import Any

from walens.reporters._common import check_lang, dump_json


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review document as UTF-8 JSON, one finding per line (``lang`` and ``color`` do not change it)."""
    check_lang(lang)
    return dump_json(doc, depth=2)
