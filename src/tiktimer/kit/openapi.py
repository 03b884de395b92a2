"""The error answers in the OpenAPI document: one model, one helper for `responses=`.

Every error body is `{"detail": …}` (see `tiktimer.exception_handlers`). Routes list the
statuses they can answer with `responses=errors(404, 409)`; routers that need a bearer token
declare 401 once, at router level, with `responses=errors(401)`. Other answers of a route
go in `also`: `responses=errors(404, also={206: {"description": "Partial content"}})`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """An error answer: one sentence saying what went wrong."""

    detail: str = Field(description="What went wrong, in plain words")


class FieldError(BaseModel):
    """One refused input: where it is, why, and a machine-readable code."""

    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then names"
    )
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """A 422: usually one entry per refused field; a whole-body refusal is one sentence."""

    detail: list[FieldError] | str


_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (or a duplicate, as the route says)",
    401: "Missing, invalid or expired bearer token (`WWW-Authenticate: Bearer`)",
    403: "Not allowed",
    404: "Not found; another user's object is always 404",
    408: "The request body stalled",
    409: "Conflicts with the current state of the object",
    412: "A precondition (such as the tus version) does not hold",
    413: "The body is larger than allowed",
    415: "Unsupported `Content-Type`",
    416: "The range lies outside the content (`Content-Range: bytes */size`)",
    422: "Invalid input: each refused field with its location",
    429: "Too many requests; wait `Retry-After` seconds",
    503: "A service this call needs (TikTok, the database, storage) did not answer",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    416: {"Content-Range": {"schema": {"type": "string"}, "description": "`bytes */<size>`"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}


def multipart_body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """An `openapi_extra` documenting a multipart body that the endpoint streams itself."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


def errors(
    *statuses: int, also: Mapping[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error statuses, each with the error model, plus the
    route's other documented answers in `also` (a 206, an HTML page, …)."""
    responses: dict[int | str, dict[str, Any]] = dict(also or {})
    for status in statuses:
        entry: dict[str, Any] = {
            "model": ValidationErrorBody if status == 422 else ErrorBody,
            "description": _DESCRIPTIONS[status],
        }
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        responses[status] = entry
    return responses


def document_on_bodies(app: FastAPI, status: int) -> None:
    """Document `status` on every operation that takes a request body.

    For answers that a middleware gives to any body, whatever the route (a stalled body's
    408): routes cannot list them one by one without one of them being forgotten."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        entry = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation["responses"].setdefault(str(status), entry)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
