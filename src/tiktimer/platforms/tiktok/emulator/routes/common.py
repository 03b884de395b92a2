"""Request plumbing shared by the routes: the emulator, self URLs, bearer tokens, bodies."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from ..emulator import Emulator
from ..errors import MALFORMED_PARAMETERS, ApiError, OAuthError


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def self_base_url(request: Request) -> str:
    """Where this emulator is reachable, mount prefix included (config can override)."""
    configured = emulator_of(request).config.public_base_url
    if configured:
        return configured.rstrip("/")
    root_path = request.scope.get("root_path", "")
    return str(request.url.replace(path=root_path, query="", fragment="")).rstrip("/")


def upload_base_url(request: Request) -> str:
    configured = emulator_of(request).config.upload_base_url
    return configured.rstrip("/") if configured else self_base_url(request)


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("access_token_invalid", "The access token is missing.")
    return token.strip()


async def json_body(request: Request, *, optional: bool = False) -> bytes:
    """The raw JSON body; endpoints that take none still refuse a non-JSON one."""
    return checked_json(request, await request.body(), optional=optional)


def checked_json(request: Request, raw: bytes, *, optional: bool = False) -> bytes:
    """`json_body`'s check on a body already read (routes read it before taking the lock)."""
    if optional and not raw:
        return raw
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError("invalid_param", "Content-Type must be application/json.")
    return raw


async def form_fields(request: Request, *, multi: frozenset[str] = frozenset()) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body as a dict; repeated fields are malformed.

    Fields named in `multi` may repeat; their values are joined with commas.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(
            "invalid_request", "Content-Type must be application/x-www-form-urlencoded."
        )
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", MALFORMED_PARAMETERS) from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields and name not in multi:
            raise OAuthError("invalid_request", MALFORMED_PARAMETERS)
        fields[name] = f"{fields[name]},{value}" if name in fields else value
    return fields
