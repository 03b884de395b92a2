"""Scripted misbehaviour: latency, 5xx, hangs, dropped connections, Google error reasons,
and a chunk cut short mid-body.

The counting (`nth`, `times`, `phase`) is every emulator's (`kit.scripted_faults`); with
`phase="after"` a chunk is stored and only its reply lost: the client then cannot tell
whether it was stored, and must ask the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from tiktimer.kit import scripted_faults
from tiktimer.kit.scripted_faults import FaultPhase as FaultPhase

ENDPOINTS = ("authorize", "token", "revoke", "insert", "chunk", "list", "*")


class FaultKind(StrEnum):
    LATENCY = "latency"
    HTTP_ERROR = "http_error"  # a bare 5xx (or any status) with Google's envelope
    HANG = "hang"  # no answer for `seconds`, then the connection drops
    DROP = "drop"  # the connection closes without a complete response
    GOOGLE_ERROR = "google_error"  # `status` with `reason` in the error envelope
    CUT_BODY = "cut_body"  # the connection dies after `keep_bytes` of the request body


@dataclass(kw_only=True)
class Fault(scripted_faults.ScriptedFault):
    kind: FaultKind
    reason: str | None = None
    keep_bytes: int = 0

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {self.endpoint!r}")
        super().__post_init__()
        if self.kind is FaultKind.GOOGLE_ERROR and not (self.reason and self.status):
            raise ValueError("a google_error fault needs status and reason")


class FaultBook(scripted_faults.FaultBook[Fault]):
    """YouTube's faults in force."""


FaultPlan: TypeAlias = scripted_faults.FaultPlan[Fault]
