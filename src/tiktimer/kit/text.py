"""Text every database stores: PostgreSQL refuses NUL, so TikTimer refuses it on every backend.

PostgreSQL `text` cannot hold U+0000, and no UTF-8 encoder takes a lone surrogate
(U+D800-U+DFFF, which JSON's `\\ud800` escapes can produce). Both are refused at the edge
with a 422 naming the field, identically on SQLite and PostgreSQL, instead of reaching a
driver that answers 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

UNSTORABLE_TYPE = "string_unstorable"
UNSTORABLE_MESSAGE = "Text must not contain NUL (\\u0000) characters or lone surrogates"

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """True when `text` holds a character PostgreSQL text (or UTF-8) cannot store."""
    if text.isascii():
        return "\x00" in text
    return _UNSTORABLE.search(text) is not None


def unstorable_paths(value: Any) -> Iterator[tuple[str | int, ...]]:
    """Where in a JSON-like value (str, list, tuple, dict) unstorable text sits; keys count too.

    Iterative, with each step linked to its parent, so a deeply nested value costs linear
    time and cannot exhaust the interpreter's recursion limit.
    """
    stack: list[tuple[_Step | None, Any]] = [(None, value)]
    while stack:
        step, item = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                yield _path(step)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and unstorable(key):
                    yield _path(step)
                stack.append(((step, str(key)), child))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(((step, index), child) for index, child in enumerate(item))


_Step = tuple[Any, str | int]  # (parent step or None, key or index)


def _path(step: _Step | None) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    while step is not None:
        step, part = step
        parts.append(part)
    return tuple(reversed(parts))
