"""The JSON reporter: the review document itself, the contract every other output reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from walens.reporters._common import check_lang, iter_json


def render(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> str:
    """The review document as UTF-8 JSON, one finding per line (``lang`` and ``color`` do not change it)."""
    return "".join(chunks(doc, lang))


def chunks(doc: dict[str, Any], lang: str = "en", *, color: bool = False) -> Iterator[str]:
    """:func:`render` in pieces, for writing a large review without holding its text."""
    check_lang(lang)
    return iter_json(doc, depth=2)
