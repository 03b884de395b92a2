"""A strict, offline emulator of TikTok's Login Kit and Content Posting API.

The acceptance bar: a client that would fail against real TikTok fails here too. Every
lifetime and limit is in `EmulatorConfig`; `app.state.emulator` (an `Emulator`) exposes
the recorded requests and publications, fault injection and clock control, which the
`/_emulator/` admin API also offers over HTTP.
"""

from __future__ import annotations

from tiktimer.kit.scripted_faults import ConnectionDropped

from .app import create_emulator_app
from .config import (
    SANDBOX_CLIENT_KEY,
    ClientConfig,
    ConfigError,
    CreatorSettings,
    EmulatorConfig,
    RateLimits,
)
from .emulator import Emulator
from .enums import FailReason, PrivacyLevel, PublishStatus
from .faults import Fault, FaultKind, FaultPhase
from .records import PublicationRecord, RequestRecord
from .store import LockedState, StateStore, StateUnavailable

__all__ = [
    "SANDBOX_CLIENT_KEY",
    "ClientConfig",
    "ConfigError",
    "ConnectionDropped",
    "CreatorSettings",
    "Emulator",
    "EmulatorConfig",
    "FailReason",
    "Fault",
    "FaultKind",
    "FaultPhase",
    "PrivacyLevel",
    "PublicationRecord",
    "PublishStatus",
    "RateLimits",
    "RequestRecord",
    "LockedState",
    "StateStore",
    "StateUnavailable",
    "create_emulator_app",
]
