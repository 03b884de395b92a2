"""Request bodies: JSON has a size cap, and a body that stops arriving is ended (408).

`RequestBodyGuard` wraps `receive`, so both rules hold wherever the body is read:

* **Size.** Routes whose body FastAPI parses (JSON or a form: the route has a
  `body_field`) take at most `max_json_bytes`: a larger `Content-Length` is refused with
  413 before a byte is read, and a body without one is counted as it streams. Routes that
  stream their own body (uploads, webhooks) keep their own, larger limits.
* **Stalls.** While a body is incomplete, each wait for the next piece is bounded by
  `stall_seconds`. A client that stops sending gets 408 with `Connection: close`, and the
  connection is freed instead of being held for as long as the client likes.

Both are `HTTPException`s raised from `receive`, so FastAPI re-raises them unchanged and
the app's handlers render them as `{"detail": …}`.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The JSON body is larger than {limit // 1024} KiB")


class BodyStalled(HTTPException):
    """The client stopped sending its body; the rest of it will never be read."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"The request body stalled: nothing arrived for {seconds:g} seconds",
            headers={"Connection": "close"},
        )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class _GuardedReceive:
    """`receive` for one request: counts the body and bounds each wait for it."""

    __slots__ = ("_capped", "_done", "_limit", "_receive", "_received", "_scope", "_stall")

    def __init__(self, scope: Scope, receive: Receive, limit: int, stall: float) -> None:
        self._scope = scope
        self._receive = receive
        self._limit = limit
        self._stall = stall
        self._capped: bool | None = None  # decided at the first read: routing is done by then
        self._received = 0
        self._done = False

    async def __call__(self) -> Message:
        if self._done:
            return await self._receive()  # only `http.disconnect` is left to wait for
        if self._capped is None:
            self._capped = getattr(self._scope.get("route"), "body_field", None) is not None
            declared = _declared_length(self._scope)
            if self._capped and declared is not None and declared > self._limit:
                raise BodyTooLarge(self._limit)
        try:
            async with asyncio.timeout(self._stall):
                message = await self._receive()
        except TimeoutError:
            raise BodyStalled(self._stall) from None
        if message["type"] != "http.request":
            self._done = True
            return message
        self._received += len(message.get("body", b""))
        if self._capped and self._received > self._limit:
            raise BodyTooLarge(self._limit)
        self._done = not message.get("more_body", False)
        return message


class RequestBodyGuard(HttpMiddleware):
    """Pure ASGI: wraps each HTTP request's `receive` in a `_GuardedReceive`."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, stall_seconds: float) -> None:
        super().__init__(app)
        self.max_json_bytes = max_json_bytes
        self.stall_seconds = stall_seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = _GuardedReceive(scope, receive, self.max_json_bytes, self.stall_seconds)
        await self.app(scope, guarded, send)
