"""Scripted misbehaviour: latency, 5xx, hangs, dropped connections and Graph error codes.

The counting (`nth`, `times`, `phase`) is every emulator's (`kit.scripted_faults`); with
`phase="after"` a call is processed and only its reply lost: how a client learns that
`media_publish` may have published although it saw a timeout or a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from tiktimer.kit import scripted_faults
from tiktimer.kit.scripted_faults import FaultPhase as FaultPhase


class FaultKind(StrEnum):
    LATENCY = "latency"
    HTTP_ERROR = "http_error"
    HANG = "hang"
    DROP = "drop"
    GRAPH_ERROR = "graph_error"
    CUT = "cut"  # the connection breaks after `after_bytes` of the request body


@dataclass(kw_only=True)
class Fault(scripted_faults.ScriptedFault):
    endpoint: str  # an `endpoints.Endpoint` value, or "*"
    kind: FaultKind
    code: int | None = None
    subcode: int | None = None
    after_bytes: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind is FaultKind.GRAPH_ERROR and self.code is None:
            raise ValueError("a graph_error fault needs a code")


class FaultBook(scripted_faults.FaultBook[Fault]):
    """Instagram's faults in force."""


FaultPlan: TypeAlias = scripted_faults.FaultPlan[Fault]
