"""Scripted misbehaviour: latency, 5xx, hangs, dropped connections, Google error reasons,
and a chunk cut short mid-body.

A fault counts the calls to its endpoint from the moment it is added and hits the `nth`
one (and `times - 1` more; `times=None` keeps hitting). With `phase="after"` the request
is fully processed first and only the response is lost or replaced: the client then
cannot tell whether a chunk was stored, and must ask the session.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

_ids = itertools.count(1)

ENDPOINTS = ("authorize", "token", "revoke", "insert", "chunk", "list", "*")


class FaultKind(StrEnum):
    LATENCY = "latency"
    HTTP_ERROR = "http_error"  # a bare 5xx (or any status) with Google's envelope
    HANG = "hang"  # no answer for `seconds`, then the connection drops
    DROP = "drop"  # the connection closes without a complete response
    GOOGLE_ERROR = "google_error"  # `status` with `reason` in the error envelope
    CUT_BODY = "cut_body"  # the connection dies after `keep_bytes` of the request body


class FaultPhase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


@dataclass(kw_only=True)
class Fault:
    endpoint: str
    kind: FaultKind
    nth: int = 1
    times: int | None = 1
    seconds: float = 0.0
    status: int | None = None
    reason: str | None = None
    message: str = ""
    keep_bytes: int = 0
    phase: FaultPhase = FaultPhase.BEFORE
    id: int = field(default_factory=lambda: next(_ids))
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError("nth and times start at 1")
        if self.kind is FaultKind.GOOGLE_ERROR and not (self.reason and self.status):
            raise ValueError("a google_error fault needs status and reason")

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


@dataclass(frozen=True)
class FaultPlan:
    latency: float = 0.0
    outcome: Fault | None = None


class FaultBook:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def plan_for(self, endpoint: str) -> FaultPlan:
        latency = 0.0
        outcome: Fault | None = None
        for fault in self._faults:
            if fault.kind is FaultKind.LATENCY:
                if fault.claim(endpoint):
                    latency += fault.seconds
            elif outcome is None and fault.claim(endpoint):
                outcome = fault
        return FaultPlan(latency=latency, outcome=outcome)
