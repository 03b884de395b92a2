"""Pure ASGI middleware that applies the scripted faults to Google's endpoints.

Pure ASGI because faults need the raw `send` and `receive`: a dropped connection must
look like one over a socket (uvicorn closes it when an app fails mid-response), and a
body cut short must look to the route like a client that went away.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware

from .errors import api_error_body
from .faults import Fault, FaultKind, FaultPhase

if TYPE_CHECKING:
    from .emulator import YouTubeEmulator

OAUTH_ENDPOINTS = ("token", "revoke")


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut the connection, as a real server crash would."""


def endpoint_for(method: str, path: str) -> str | None:
    if path.startswith("/o/oauth2/v2/auth"):
        return "authorize"
    return {
        ("POST", "/token"): "token",
        ("POST", "/revoke"): "revoke",
        ("POST", "/upload/youtube/v3/videos"): "insert",
        ("PUT", "/upload/youtube/v3/videos"): "chunk",
        ("GET", "/youtube/v3/videos"): "list",
    }.get((method, path))


class FaultMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, emulator: YouTubeEmulator) -> None:
        super().__init__(app)
        self.emulator = emulator

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        endpoint = endpoint_for(scope["method"], path)
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        plan = self.emulator.plan_faults(endpoint)
        if plan.latency:
            await asyncio.sleep(plan.latency)
        if plan.outcome is None:
            await self.app(scope, receive, send)
        else:
            await self._inflict(plan.outcome, endpoint, scope, receive, send)

    async def _inflict(
        self, fault: Fault, endpoint: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault.kind is FaultKind.CUT_BODY:
            await self.app(scope, _cut(receive, fault.keep_bytes), _discard)
            await _drop(send)
            return
        if fault.phase is FaultPhase.AFTER:
            await self.app(scope, receive, _discard)
        if fault.kind is FaultKind.HANG:
            await asyncio.sleep(fault.seconds or 3600.0)
            await _drop(send)
        elif fault.kind is FaultKind.DROP:
            await _drop(send)
        else:
            status = fault.status or 503
            reason = fault.reason or ("backendError" if status >= 500 else "badRequest")
            await _respond(send, endpoint, status, reason, fault.message or reason)


def _cut(receive: Receive, keep: int) -> Receive:
    """A `receive` that hands over `keep` body bytes, then reports the client gone."""
    passed = 0

    async def cut_receive() -> Message:
        nonlocal passed
        if passed >= keep:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] != "http.request":
            return message
        body: bytes = message.get("body", b"")[: keep - passed]
        passed += len(body)
        if not message.get("more_body", False) and passed < keep:
            return message  # the whole body was shorter than the cut
        return {"type": "http.request", "body": body, "more_body": True}

    return cut_receive


async def _discard(message: Message) -> None:
    """The response of a request processed before its reply is lost."""


async def _drop(send: Send) -> None:
    # Announce a body that never comes, then fail: uvicorn closes the socket mid-response.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
    )
    raise ConnectionDropped("Server disconnected without sending a complete response.")


async def _respond(send: Send, endpoint: str, status: int, reason: str, message: str) -> None:
    if endpoint in OAUTH_ENDPOINTS:
        payload = {"error": reason, "error_description": message}
    else:
        payload = api_error_body(status, reason, message, "global")
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json; charset=UTF-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
