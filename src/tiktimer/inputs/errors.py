"""422 answers stay small whatever was sent: a bounded excerpt, never the input itself.

A 10 MB body of unknown keys used to come back as a 49 MB list of errors. Now at most
`MAX_ERRORS` errors are listed, each location part and message cut short, and one more
entry says how many were left out. The shape stays `{"detail": [{"loc", "msg", "type"}]}`.
Input values are never echoed: they may be passwords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tiktimer.kit.schemas import ID_NOT_FOUND

MAX_ERRORS = 20
MAX_LOC_PARTS = 5
MAX_LOC_PART_CHARS = 48
MAX_MESSAGE_CHARS = 200
MAX_TYPE_CHARS = 64


def _excerpt(text: str, limit: int) -> str:
    """At most `limit` characters, and always encodable (lone surrogates become '?')."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _loc_part(part: Any) -> str | int:
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    return _excerpt(str(part), MAX_LOC_PART_CHARS)


def _entry(error: Any) -> dict[str, Any]:
    if not isinstance(error, Mapping):  # a bare message someone raised as a list item
        error = {"loc": (), "msg": error, "type": "value_error"}
    loc = list(error.get("loc") or ())
    parts = [_loc_part(part) for part in loc[:MAX_LOC_PARTS]]
    if len(loc) > MAX_LOC_PARTS:
        parts.append("…")
    return {
        "loc": parts,
        "msg": _excerpt(str(error.get("msg", "")), MAX_MESSAGE_CHARS),
        "type": _excerpt(str(error.get("type", "")), MAX_TYPE_CHARS),
    }


def bounded_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """The first `MAX_ERRORS` errors as `{loc, msg, type}`, then a count of the rest."""
    shown = [_entry(error) for error in errors[:MAX_ERRORS]]
    left_out = len(errors) - len(shown)
    if left_out > 0:
        shown.append(
            {
                "loc": [],
                "msg": f"{left_out} more errors not shown",
                "type": "too_many_errors",
            }
        )
    return shown


def path_id_not_found(errors: Sequence[Mapping[str, Any]]) -> str | None:
    """The 404 detail when an id in the path cannot exist (`kit.schemas.IdInPath`)."""
    for error in errors:
        loc = error.get("loc") or ()
        if error.get("type") == ID_NOT_FOUND and loc and loc[0] == "path":
            return str(error.get("msg") or "Not found")
    return None


JSON_TOO_DEEP = {"loc": ["body"], "msg": "JSON nested too deeply", "type": "json_invalid"}
