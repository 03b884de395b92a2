"""Pure ASGI middleware that records every call and applies the scripted faults.

Pure ASGI so that a dropped connection is one over a socket: uvicorn closes the transport
when an app fails after starting its response (the same approach as TikTok's emulator).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.kit.scripted_faults import cut_body, discard, drop, route_path

from .endpoints import endpoint_for
from .errors import error_body
from .faults import Fault, FaultKind, FaultPhase
from .records import RequestRecord

if TYPE_CHECKING:
    from .emulator import Emulator


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
        await app(scope, cut_body(receive, fault.after_bytes), discard)
        await drop(send)
        return
    if fault.phase is FaultPhase.AFTER:
        await app(scope, receive, discard)
    if fault.kind is FaultKind.HANG:
        await asyncio.sleep(fault.seconds or 3600.0)
        await drop(send)
    elif fault.kind is FaultKind.DROP:
        await drop(send)
    elif fault.kind is FaultKind.HTTP_ERROR:
        body = error_body(2, fault.message or "An unexpected error has occurred.")
        await _respond(send, fault.status or 500, body)
    else:
        assert fault.code is not None
        body = error_body(fault.code, fault.message or "Scripted error.", fault.subcode)
        await _respond(send, fault.status or 400, body)


async def _respond(send: Send, status: int, body: dict[str, object]) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
