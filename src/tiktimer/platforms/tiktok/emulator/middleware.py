"""Pure ASGI middleware that logs every TikTok call and applies the scripted faults.

It is pure ASGI (not BaseHTTPMiddleware) because faults need to control the raw
`send`: a dropped connection must look like one both in-process (httpx.ASGITransport
re-raises the app's exception) and over a socket (uvicorn closes the transport when an
app fails after starting its response).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiktimer.kit.asgi import HttpMiddleware
from tiktimer.kit.scripted_faults import discard, drop, route_path

from . import ids
from .endpoints import ADMIN_PREFIX, Family, endpoint_for, family_of
from .errors import API_ERROR_STATUS
from .faults import Fault, FaultKind, FaultPhase
from .records import RequestRecord

if TYPE_CHECKING:
    from .emulator import Emulator


class EmulatorMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        super().__init__(app)
        self.emulator = emulator

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.emulator.ensure_background()
        path = route_path(scope)
        if path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_for(path)
        started_at = self.emulator.now_datetime()
        status: list[int | None] = [None]
        fault: Fault | None = None

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if endpoint is None:
                await self.app(scope, receive, recording_send)
                return
            plan = self.emulator.plan_faults(endpoint)
            if plan.latency:
                await asyncio.sleep(plan.latency)
            fault = plan.outcome
            if fault is None:
                await self.app(scope, receive, recording_send)
            else:
                await self._inflict(fault, endpoint, scope, receive, recording_send)
        finally:
            self.emulator.record_request(
                RequestRecord(
                    method=scope["method"],
                    path=path,
                    endpoint=endpoint,
                    token_hash=_token_hash(scope),
                    status=status[0],
                    at=started_at,
                    fault=fault.kind.value if fault else None,
                )
            )

    async def _inflict(
        self, fault: Fault, endpoint: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault.phase is FaultPhase.AFTER:
            await self.app(scope, receive, discard)
        if fault.kind is FaultKind.HANG:
            await asyncio.sleep(fault.seconds or 3600.0)
            await drop(send)
        elif fault.kind is FaultKind.DROP:
            await drop(send)
        elif fault.kind is FaultKind.HTTP_ERROR:
            await _respond(send, endpoint, fault.status or 500, "internal_error", fault.message)
        else:
            code = fault.error_code or "internal_error"
            status = fault.status or API_ERROR_STATUS.get(code, 400)
            await _respond(send, endpoint, status, code, fault.message)


def _token_hash(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return ids.token_hash(token.strip())
    return None


async def _respond(send: Send, endpoint: str, status: int, code: str, message: str) -> None:
    family = family_of(endpoint)
    log_id = ids.log_id()
    body: bytes
    if family is Family.API:
        error = {"code": code, "message": message or code, "log_id": log_id}
        body = json.dumps({"data": {}, "error": error}).encode()
    elif family is Family.OAUTH:
        flat = {"error": code, "error_description": message or code, "log_id": log_id}
        body = json.dumps(flat).encode()
    else:
        body = (message or code).encode()
    content_type = b"text/plain" if family in (Family.UPLOAD, Family.PAGE) else b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-tt-logid", log_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
