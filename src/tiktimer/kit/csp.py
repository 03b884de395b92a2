"""Per-response CSP nonces: a page that needs an inline `<style>` or `<script>` asks for one.

The nonce lives in the ASGI scope, so the security-headers middleware can name it in the
page's Content-Security-Policy. Pages that never ask get a policy with no inline code at all.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

_SCOPE_KEY = "csp_nonce"


def csp_nonce(request: HTTPConnection) -> str:
    """This response's nonce, made on first use (one per request)."""
    return nonce_in_scope(request.scope)


def nonce_in_scope(scope: MutableMapping[str, Any]) -> str:
    state = scope.setdefault("state", {})
    nonce = state.get(_SCOPE_KEY)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        state[_SCOPE_KEY] = nonce
    return str(nonce)


def existing_nonce(scope: MutableMapping[str, Any]) -> str | None:
    """The nonce a page asked for while answering this request, if any."""
    state = scope.get("state") or {}
    nonce = state.get(_SCOPE_KEY)
    return str(nonce) if nonce is not None else None
