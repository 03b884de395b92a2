"""The pure pieces: where unstorable text hides, and how a 422 is cut down to size."""

from __future__ import annotations

import json

from tiktimer.inputs.errors import MAX_ERRORS, bounded_errors
from tiktimer.kit.text import unstorable, unstorable_paths


def test_unstorable_text() -> None:
    assert unstorable("a\x00")
    assert unstorable("é\x00")
    assert unstorable("\ud800")
    assert not unstorable("tab\t bell\x07 🎬 \ufffd")


def test_unstorable_paths_walk_keys_and_deep_values_without_recursion() -> None:
    value: object = "\x00"
    for _ in range(50_000):  # far deeper than the interpreter's recursion limit
        value = [value]
    assert next(unstorable_paths(value)) == (0,) * 50_000
    assert list(unstorable_paths({"ok": ["fine", {"k\x00": 1}]})) == [("ok", 1)]
    assert list(unstorable_paths({"a": 1, "b": ["x"]})) == []


def test_bounded_errors_cut_every_part_and_count_the_rest() -> None:
    one = {"loc": ("body", "k" * 10_000, 1, 2, 3, 4, 5), "msg": "m" * 10_000, "type": "t" * 500}
    errors = [one] * 100_000
    shown = bounded_errors(errors)
    assert len(shown) == MAX_ERRORS + 1
    assert shown[-1] == {"loc": [], "msg": "99980 more errors not shown", "type": "too_many_errors"}
    assert len(json.dumps({"detail": shown})) < 16 * 1024
    assert shown[0]["loc"][0] == "body"
    assert shown[0]["loc"][-1] == "…"
    assert isinstance(shown[0]["loc"][2], int)


def test_bounded_errors_make_lone_surrogates_encodable() -> None:
    shown = bounded_errors([{"loc": ("body", "a\udc80"), "msg": "\ud800", "type": "x"}])
    json.dumps(shown, ensure_ascii=False).encode("utf-8")  # would raise on a surrogate
