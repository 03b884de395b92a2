"""Scripted misbehaviour: latency, 5xx, hangs, dropped connections and Graph error codes.

A fault counts the calls to its endpoint from the moment it is added and hits the `nth`
one (and `times - 1` more; `times=None` keeps hitting). With `phase="after"` the request
is fully processed first and only the response is lost or replaced: how a client learns
that `media_publish` may have published although it saw a timeout or a 5xx.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

_ids = itertools.count(1)


class FaultKind(StrEnum):
    LATENCY = "latency"
    HTTP_ERROR = "http_error"
    HANG = "hang"
    DROP = "drop"
    GRAPH_ERROR = "graph_error"
    CUT = "cut"  # the connection breaks after `after_bytes` of the request body


class FaultPhase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


@dataclass(kw_only=True)
class Fault:
    endpoint: str  # an `endpoints.Endpoint` value, or "*"
    kind: FaultKind
    nth: int = 1
    times: int | None = 1
    seconds: float = 0.0
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    after_bytes: int = 0
    message: str = ""
    phase: FaultPhase = FaultPhase.BEFORE
    id: int = field(default_factory=lambda: next(_ids))
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError("nth and times start at 1")
        if self.kind is FaultKind.GRAPH_ERROR and self.code is None:
            raise ValueError("a graph_error fault needs a code")

    def claim(self, endpoint: str) -> bool:
        """Count a call to `endpoint` and say whether this fault hits it."""
        exhausted = self.times is not None and self.fired >= self.times
        if self.endpoint not in (endpoint, "*") or exhausted:
            return False
        self.seen += 1
        if self.seen < self.nth:
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one call: added latency, then at most one disruptive fault."""

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
        latency, outcome = 0.0, None
        for fault in self._faults:
            if fault.kind is FaultKind.LATENCY:
                if fault.claim(endpoint):
                    latency += fault.seconds
            elif outcome is None and fault.claim(endpoint):
                outcome = fault
        return FaultPlan(latency=latency, outcome=outcome)
