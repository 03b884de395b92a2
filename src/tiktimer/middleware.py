"""Pure-ASGI middleware: cheap enough for every request on the hot path."""

from __future__ import annotations

import re
import secrets

from starlette.types import Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.logging import request_id_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware(HttpMiddleware):
    """Take X-Request-ID from the request (when sane) or make one; echo it and log with it."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or secrets.token_hex(8)
        # Also kept in the scope: the 500 handler runs outside this middleware.
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
