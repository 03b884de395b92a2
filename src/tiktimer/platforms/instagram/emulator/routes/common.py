"""Reading a request the way Graph does: parameters from the query and the form (or JSON)
body together, and the token from `access_token` or an `Authorization` header."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request

from ..emulator import Emulator


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def parameters(request: Request) -> dict[str, str]:
    values = dict(request.query_params)
    raw = await request.body()
    if not raw:
        return values
    if request.headers.get("content-type", "").startswith("application/json"):
        body = json.loads(raw)
        if isinstance(body, dict):
            values |= {key: _text(value) for key, value in body.items()}
        return values
    values |= dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return values


async def form_only(request: Request) -> dict[str, str]:
    """A form body and nothing else (the code exchange must be a POST form, §2.2)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return dict(parse_qsl((await request.body()).decode("latin-1"), keep_blank_values=True))


def token_of(request: Request, params: dict[str, str]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return params.get("access_token", "")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
