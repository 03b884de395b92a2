"""Pure ASGI middleware that applies the scripted faults to Google's endpoints.

Pure ASGI because faults need the raw `send` and `receive`: a dropped connection must
look like one over a socket (uvicorn closes it when an app fails mid-response), and a
body cut short must look to the route like a client that went away.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.kit.scripted_faults import cut_body, discard, drop

from .errors import api_error_body
from .faults import Fault, FaultKind, FaultPhase

if TYPE_CHECKING:
    from .emulator import YouTubeEmulator

OAUTH_ENDPOINTS = ("token", "revoke")


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
            await self.app(scope, cut_body(receive, fault.keep_bytes), discard)
            await drop(send)
            return
        if fault.phase is FaultPhase.AFTER:
            await self.app(scope, receive, discard)
        if fault.kind is FaultKind.HANG:
            await asyncio.sleep(fault.seconds or 3600.0)
            await drop(send)
        elif fault.kind is FaultKind.DROP:
            await drop(send)
        else:
            status = fault.status or 503
            reason = fault.reason or ("backendError" if status >= 500 else "badRequest")
            await _respond(send, endpoint, status, reason, fault.message or reason)


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
