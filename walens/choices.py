"""The choices that several commands share (``--lang``, ``--fail-on``): one definition for ``walens.cli`` and
``walens.fleet.cli`` (which ``walens.cli`` imports, so it cannot import them from there). Standard library only."""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    en = "en"
    ja = "ja"


class FailOn(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    never = "never"
