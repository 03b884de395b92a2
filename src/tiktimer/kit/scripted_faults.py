"""Scripted misbehaviour for the platform emulators: which call a fault hits, and how.

A fault counts the calls to its endpoint from the moment it is added and hits the `nth`
one (and `times - 1` more; `times=None` keeps hitting). With `phase="after"` the request
is fully processed first and only the response is lost or replaced, which is how a client
learns that a call may have taken effect although it saw a 5xx or a timeout.

Each emulator subclasses `ScriptedFault` with its own kinds (a `StrEnum` whose latency
member is `"latency"`) and the fields of its platform's errors; the counting and the
plan (`FaultBook`) are the same for every platform.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

import httpx
from starlette.types import Message, Receive, Scope, Send

_ids = itertools.count(1)

LATENCY = "latency"


class FaultPhase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


@dataclass(kw_only=True)
class ScriptedFault:
    endpoint: str  # the emulator's name for an endpoint, or "*"
    kind: StrEnum
    nth: int = 1
    times: int | None = 1
    seconds: float = 0.0
    status: int | None = None
    message: str = ""
    phase: FaultPhase = FaultPhase.BEFORE
    id: int = field(default_factory=lambda: next(_ids))
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError("nth and times start at 1")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def claim(self, endpoint: str) -> bool:
        """Count a call to `endpoint` and say whether this fault hits it."""
        if self.endpoint not in (endpoint, "*") or self.exhausted:
            return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        self.fired += 1
        return True


F = TypeVar("F", bound=ScriptedFault)


@dataclass(frozen=True)
class FaultPlan(Generic[F]):
    """What to do to one call: added latency, then at most one disruptive fault."""

    latency: float = 0.0
    outcome: F | None = None


class FaultBook(Generic[F]):
    """The faults in force; the owner serialises access."""

    def __init__(self) -> None:
        self._faults: list[F] = []

    def add(self, fault: F) -> F:
        self._faults.append(fault)
        return fault

    def all(self) -> list[F]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()

    def plan_for(self, endpoint: str) -> FaultPlan[F]:
        latency = 0.0
        outcome: F | None = None
        for fault in self._faults:
            if fault.kind == LATENCY:
                if fault.claim(endpoint):
                    latency += fault.seconds
            elif outcome is None and fault.claim(endpoint):
                outcome = fault
        return FaultPlan(latency=latency, outcome=outcome)


# -- on the wire: how an emulator's middleware inflicts a fault ------------------------


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by an emulator app to cut the connection, as a real server crash would:
    httpx's ASGI transport re-raises it in-process, uvicorn closes the socket over TCP."""


def route_path(scope: Scope) -> str:
    """The path inside an emulator, whether it runs at root or mounted under a prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


async def discard(message: Message) -> None:
    """The `send` of a request processed before its reply is lost."""


async def drop(send: Send) -> None:
    """Announce a body that never comes, then fail: the client sees a protocol error (the
    socket closed mid-response) rather than a tidy 500."""
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
    )
    raise ConnectionDropped("Server disconnected without sending a complete response.")


def cut_body(receive: Receive, keep: int) -> Receive:
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
