"""The JSON reporter: the review document itself, the contract every other output reads."""

from __future__ import annotations

import json
from typing import Any

from walens.reporters._common import check_lang


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review document as indented UTF-8 JSON (``lang`` and ``color`` do not change it)."""
    check_lang(lang)
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
