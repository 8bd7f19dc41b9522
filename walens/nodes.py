"""Decoded template values that remember where they were written (1-based line and column)."""

from __future__ import annotations

from typing import Any


class DictNode(dict):  # type: ignore[type-arg]
    """A mapping with its own position and the position of each of its keys."""

    __slots__ = ("line", "col", "key_marks")

    def __init__(self, *args: Any, line: int = 0, col: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.col = col
        self.key_marks: dict[Any, tuple[int, int]] = {}


class ListNode(list):  # type: ignore[type-arg]
    """A sequence with its position."""

    __slots__ = ("line", "col")

    def __init__(self, *args: Any, line: int = 0, col: int = 0) -> None:
        super().__init__(*args)
        self.line = line
        self.col = col


class StrNode(str):
    """A string with its position; equal to (and hashes like) the plain string."""

    # str subclasses cannot have non-empty __slots__, so positions live in a per-instance __dict__.
    line: int
    col: int

    def __new__(cls, value: str, line: int = 0, col: int = 0) -> StrNode:
        obj = str.__new__(cls, value)
        obj.line = line
        obj.col = col
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (StrNode, (str(self), self.line, self.col))


def mark(node: Any, key: Any = None) -> tuple[int, int] | None:
    """The (line, col) of ``node``, or of ``key`` inside mapping ``node``; None when unknown."""
    if key is not None:
        marks = getattr(node, "key_marks", None)
        if marks is not None and key in marks:
            return marks[key]  # type: ignore[no-any-return]
        return None
    line = getattr(node, "line", 0)
    if line:
        return (line, node.col)
    return None


def to_plain(value: Any) -> Any:
    """A deep copy of ``value`` as plain dicts, lists and strs (for JSON, comparisons, tests)."""
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
