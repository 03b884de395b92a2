"""A strict offline YouTube (Google OAuth 2.0, resumable `videos.insert`, `videos.list`).

Only tests and the sandbox wiring import it (an import-linter contract says so).
"""

from .app import create_emulator_app
from .config import CHUNK_MULTIPLE, ChannelConfig, ClientConfig, EmulatorConfig
from .emulator import YouTubeEmulator
from .faults import Fault, FaultKind, FaultPhase
from .store import MemoryStore, StateStore

__all__ = [
    "CHUNK_MULTIPLE",
    "ChannelConfig",
    "ClientConfig",
    "EmulatorConfig",
    "Fault",
    "FaultKind",
    "FaultPhase",
    "MemoryStore",
    "StateStore",
    "YouTubeEmulator",
    "create_emulator_app",
]
