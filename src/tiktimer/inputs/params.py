"""One check for text in URLs and forms: NUL never reaches a query, on any backend.

Installed as an app-wide dependency, so every route (and every new one) is covered: the
query string, the path parameters and, when FastAPI parsed one, the form (`/token`). JSON
bodies are checked by `kit.schemas.StrictInput`, where each field is validated anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form

from tiktimer.kit.text import UNSTORABLE_MESSAGE, UNSTORABLE_TYPE, unstorable


def _errors(where: str, items: Iterable[tuple[str, object]]) -> list[dict[str, object]]:
    return [
        {"loc": (where, name), "msg": UNSTORABLE_MESSAGE, "type": UNSTORABLE_TYPE, "input": None}
        for name, value in items
        if unstorable(name) or (isinstance(value, str) and unstorable(value))
    ]


async def refuse_unstorable_text(request: Request) -> None:
    """422 naming the parameter when a query, path or form value holds NUL."""
    errors = _errors("query", request.query_params.multi_items())
    errors += _errors("path", request.path_params.items())
    body_field = getattr(request.scope.get("route"), "body_field", None)
    if body_field is not None and isinstance(body_field.field_info, Form):
        # FastAPI parsed the form before solving dependencies: this is the cached one.
        errors += _errors("body", (await request.form()).multi_items())
    if errors:
        raise RequestValidationError(errors)
