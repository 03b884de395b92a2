"""Scripted misbehaviour: latency, 5xx, hangs, dropped connections and TikTok error codes.

The counting (`nth`, `times`, `phase`) is every emulator's (`kit.scripted_faults`); with
`phase="after"` an init is processed and only its reply lost, which is how a client learns
that an init may have created a task even though it saw a 5xx or a timeout.
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
    TIKTOK_ERROR = "tiktok_error"


@dataclass(kw_only=True)
class Fault(scripted_faults.ScriptedFault):
    kind: FaultKind
    error_code: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind is FaultKind.TIKTOK_ERROR and not self.error_code:
            raise ValueError("a tiktok_error fault needs error_code")


class FaultBook(scripted_faults.FaultBook[Fault]):
    """TikTok's faults in force."""


FaultPlan: TypeAlias = scripted_faults.FaultPlan[Fault]
