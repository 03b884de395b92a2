"""Pure ASGI middleware that records every call and applies the scripted faults.

Pure ASGI so that a dropped connection is one over a socket: uvicorn closes the transport
when an app fails after starting its response (the same approach as TikTok's emulator).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware

from .endpoints import endpoint_for
from .errors import error_body
from .faults import Fault, FaultKind, FaultPhase
from .records import RequestRecord

if TYPE_CHECKING:
    from .emulator import Emulator


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut the connection, as a real server crash would."""


class EmulatorMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        super().__init__(app)
        self.emulator = emulator

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        endpoint = endpoint_for(scope["method"], path)
        started_at = self.emulator.clock.now()
        status: list[int | None] = [None]
        fault: Fault | None = None

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            plan = self.emulator.faults.plan_for(endpoint) if endpoint else None
            if plan and plan.latency:
                await asyncio.sleep(plan.latency)
            fault = plan.outcome if plan else None
            if fault is None:
                await self.app(scope, receive, recording_send)
            else:
                await _inflict(self.app, fault, scope, receive, recording_send)
        finally:
            self.emulator.record(
                RequestRecord(
                    method=scope["method"],
                    path=path,
                    endpoint=endpoint.value if endpoint else None,
                    status=status[0],
                    at=started_at,
                    fault=fault.kind.value if fault else None,
                )
            )


async def _inflict(app: ASGIApp, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    if fault.kind is FaultKind.CUT:
        await app(scope, _truncated(receive, fault.after_bytes), _discard)
        await _drop(send)
        return
    if fault.phase is FaultPhase.AFTER:
        await app(scope, receive, _discard)
    if fault.kind is FaultKind.HANG:
        await asyncio.sleep(fault.seconds or 3600.0)
        await _drop(send)
    elif fault.kind is FaultKind.DROP:
        await _drop(send)
    elif fault.kind is FaultKind.HTTP_ERROR:
        body = error_body(2, fault.message or "An unexpected error has occurred.")
        await _respond(send, fault.status or 500, body)
    else:
        assert fault.code is not None
        body = error_body(fault.code, fault.message or "Scripted error.", fault.subcode)
        await _respond(send, fault.status or 400, body)


def _truncated(receive: Receive, limit: int) -> Receive:
    """The request body as far as `limit` bytes, then the client is gone."""
    seen = 0

    async def partial() -> Message:
        nonlocal seen
        if seen >= limit:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            body: bytes = message.get("body", b"")[: limit - seen]
            seen += len(body)
            more = bool(message.get("more_body")) or seen >= limit
            return {"type": "http.request", "body": body, "more_body": more}
        return message

    return partial


def route_path(scope: Scope) -> str:
    """The path inside the emulator, whether it runs at root or mounted under a prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


async def _discard(message: Message) -> None:
    """The response of a request processed before its reply is lost."""


async def _drop(send: Send) -> None:
    # Announce a body that never comes, then fail: the client sees a protocol error.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
    )
    raise ConnectionDropped("Server disconnected without sending a complete response.")


async def _respond(send: Send, status: int, body: dict[str, object]) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
