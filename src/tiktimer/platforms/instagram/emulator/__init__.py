"""A strict, offline emulator of Instagram's Business Login and Reels content publishing
(containers from a URL, or by rupload when `rupload_with_instagram_login` is on).

The bar: a client that would fail against Instagram fails here too (shared/instagram-api.md
§11). Lifetimes and limits are in `EmulatorConfig`; `app.state.emulator` (an `Emulator`)
holds the state (behind `StateStore`, in memory for now), the clock, the request records,
fault injection and the test hooks. It never reaches the internet: media URLs are
registered bytes or a loopback server.
"""

from __future__ import annotations

from tiktimer.kit.scripted_faults import ConnectionDropped

from .app import create_emulator_app
from .config import AccountSettings, AccountType, AppConfig, EmulatorConfig, ExchangeShape
from .emulator import Emulator
from .faults import Fault, FaultKind, FaultPhase
from .records import RequestRecord
from .state import ContainerStatus, TokenKind
from .store import MemoryStore, StateStore

__all__ = [
    "AccountSettings",
    "AccountType",
    "AppConfig",
    "ConnectionDropped",
    "ContainerStatus",
    "Emulator",
    "EmulatorConfig",
    "ExchangeShape",
    "Fault",
    "FaultKind",
    "FaultPhase",
    "MemoryStore",
    "RequestRecord",
    "StateStore",
    "TokenKind",
    "create_emulator_app",
]
